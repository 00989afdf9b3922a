import Foundation
import SlotClient

// The tests' shorthands over the shared client (SlotClient): JSON posts and a loosely typed look at a body.
extension UnixHTTPClient {
    /// A test's own failure while talking to the daemon (an unexpected answer inside a stream's callback).
    struct ClientError: Error, CustomStringConvertible {
        var description: String
    }

    /// A GET, on a thread of its own.
    func get(_ target: String) async throws -> HTTPResponse {
        try await request("GET", target)
    }

    /// A POST of JSON text, on a thread of its own.
    func post(_ target: String, json: String, headers: [String: String] = [:]) async throws -> HTTPResponse {
        try await request("POST", target, body: Data(json.utf8), headers: headers)
    }
}

extension HTTPResponse {
    /// The body as a JSON object; empty when it is not one.
    var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
}
