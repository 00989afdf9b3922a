import Foundation
import SlotAPI
import SlotClient

/// The daemon's API as slotctl uses it: requests over the socket, problems turned into `OnlineFailure`s.
struct SlotdClient: Sendable {
    var http: UnixHTTPClient

    init(socketPath: String) {
        // slotctl is synchronous: the client's blocking calls run on the main thread, with no pool to starve.
        http = UnixHTTPClient(
            socketPath: socketPath, defaultHeaders: ["User-Agent": "slotctl", "Accept": "application/json"])
    }

    /// Sends a request; returns the 2xx body, or throws the problem.
    func raw(
        _ method: String, _ path: String, query: [(String, String?)] = [], body: Data? = nil,
        headers: [String: String] = [:]
    ) throws(OnlineFailure) -> Data {
        let response: HTTPResponse
        do {
            response = try http.send(method, Self.target(path, query), body: body, headers: headers)
        } catch {
            throw .transport(error)
        }
        guard (200..<300).contains(response.status) else { throw Self.failure(from: response) }
        return response.body
    }

    /// Sends a request and decodes the 2xx body; `raw` is the body as received (for `--json`).
    func call<Answer: Decodable>(
        _ method: String, _ path: String, query: [(String, String?)] = [], body: Data? = nil,
        headers: [String: String] = [:], as type: Answer.Type
    ) throws(OnlineFailure) -> (value: Answer, raw: Data) {
        let data = try raw(method, path, query: query, body: body, headers: headers)
        return (try Self.decode(type, data), data)
    }

    /// Opens an NDJSON stream; `onLine` gets each line until it returns false or the daemon ends the stream.
    func stream(
        _ path: String, query: [(String, String?)] = [], onLine: (String) -> Bool
    ) throws(OnlineFailure) {
        var failure: OnlineFailure?
        do {
            try http.stream(
                "GET", Self.target(path, query),
                onHead: { head in
                    if !(200..<300).contains(head.status) {
                        failure = Self.failure(from: head)
                        return false
                    }
                    return true
                },
                onLine: onLine)
        } catch {
            throw .transport(error)
        }
        if let failure { throw failure }
    }

    static func decode<Answer: Decodable>(_ type: Answer.Type, _ data: Data) throws(OnlineFailure) -> Answer {
        do {
            return try JSONCoding.decoder.decode(type, from: data)
        } catch {
            throw .unexpected(status: 200, body: "cannot read the answer as \(Answer.self): \(error)")
        }
    }

    static func encode<Body: Encodable>(_ body: Body) -> Data {
        // Encoding plain wire structs of strings cannot fail; an empty body would be rejected by the daemon anyway.
        (try? JSONCoding.encoder.encode(body)) ?? Data()
    }

    static func failure(from response: HTTPResponse) -> OnlineFailure {
        if let problem = try? JSONCoding.decoder.decode(Problem.self, from: response.body) {
            return .problem(problem, raw: response.body)
        }
        return .unexpected(status: response.status, body: response.text)
    }

    /// `path?name=value&…`, percent-encoding values and leaving out nil ones.
    static func target(_ path: String, _ query: [(String, String?)]) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~:"))
        let pairs = query.compactMap { name, value -> String? in
            guard let value else { return nil }
            return "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    /// Percent-encodes one path segment (a booking id typed by a person).
    static func segment(_ text: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
