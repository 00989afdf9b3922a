import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP/1.1 client over a Unix socket for the tests: one request per connection, Content-Length and
/// chunked bodies, and line streaming. Blocking I/O runs on a thread of its own, never on the cooperative pool
/// the server's handlers share.
struct UnixHTTPClient: Sendable {
    let path: String

    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data

        func header(_ name: String) -> String? { headers[name.lowercased()] }

        /// The body as a JSON object.
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct ClientError: Error, CustomStringConvertible {
        var description: String
    }

    func get(_ target: String) async throws -> Response {
        try await request("GET", target)
    }

    func post(_ target: String, json: String, headers: [String: String] = [:]) async throws -> Response {
        try await request("POST", target, body: Data(json.utf8), headers: headers)
    }

    func request(_ method: String, _ target: String, body: Data? = nil, headers: [String: String] = [:])
        async throws -> Response
    {
        try await onThread { try requestOnThisThread(method, target, body: body, headers: headers) }
    }

    /// The same request, blocking the calling thread: for a thread of the test's own (a stream's reader).
    func requestOnThisThread(_ method: String, _ target: String, body: Data? = nil, headers: [String: String] = [:])
        throws -> Response
    {
        let connection = try Connection(path: path)
        defer { connection.close() }
        try connection.send(Self.head(method, target, body: body, headers: headers) + (body ?? Data()))
        return try connection.readResponse()
    }

    /// Opens a streaming GET and reads its first `count` lines (blank lines skipped), then closes. `afterFirstLine`
    /// runs on the reader's thread once the first line is in, before more is read: a test acts after the stream
    /// has answered, instead of sleeping and hoping it has.
    func lines(
        _ target: String, count: Int, timeout: Double = 10,
        afterFirstLine: (@Sendable () throws -> Void)? = nil
    ) async throws -> (Response, [String]) {
        try await onThread {
            let connection = try Connection(path: path, timeout: timeout)
            defer { connection.close() }
            try connection.send(Self.head("GET", target, body: nil, headers: [:]))
            var response = try connection.readHead()
            var lines: [String] = []
            var pending = Data()
            while lines.count < count {
                guard let chunk = try connection.readChunk() else { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[(newline + 1)...])
                    if !line.isEmpty { lines.append(line) }
                    if lines.count == 1, !line.isEmpty { try afterFirstLine?() }
                }
            }
            response.body = Data(lines.joined(separator: "\n").utf8)
            return (response, lines)
        }
    }

    static func head(_ method: String, _ target: String, body: Data?, headers: [String: String]) -> Data {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        return Data((text + "\r\n").utf8)
    }

    private func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        // A thread of its own: Dispatch's global queues are limited to about one thread a core and, on Linux,
        // also run Swift's cooperative pool, which the server under test needs.
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.start()
        }
    }
}

/// One blocking connection.
final class Connection: @unchecked Sendable {
    let fd: Int32
    private var buffer = Data()

    init(path: String, timeout: Double = 10) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw UnixHTTPClient.ClientError(description: "socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(107).enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw UnixHTTPClient.ClientError(description: "connect(\(path)) failed: errno \(errno)")
        }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { Glibc.close(fd) }

    func send(_ data: Data) throws {
        var offset = 0
        while offset < data.count {
            let sent = data.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, data.count - offset, Int32(MSG_NOSIGNAL))
            }
            // The server may answer early (413) and stop reading: stop sending and read its answer.
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &chunk, chunk.count, 0)
        if count < 0 { throw UnixHTTPClient.ClientError(description: "recv failed or timed out: errno \(errno)") }
        if count == 0 { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    private func readLine() throws -> String {
        while true {
            if let range = buffer.range(of: Data("\r\n".utf8)) {
                let line = String(decoding: buffer[buffer.startIndex..<range.lowerBound], as: UTF8.self)
                buffer = Data(buffer[range.upperBound...])
                return line
            }
            guard try fill() else { throw UnixHTTPClient.ClientError(description: "connection closed mid-line") }
        }
    }

    private func readExactly(_ count: Int) throws -> Data {
        while buffer.count < count {
            guard try fill() else { throw UnixHTTPClient.ClientError(description: "connection closed mid-body") }
        }
        let data = Data(buffer.prefix(count))
        buffer = Data(buffer.dropFirst(count))
        return data
    }

    private var chunked = false
    private var contentLength: Int?

    func readHead() throws -> UnixHTTPClient.Response {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw UnixHTTPClient.ClientError(description: "bad status line '\(statusLine)'")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
        contentLength = headers["content-length"].flatMap(Int.init)
        return UnixHTTPClient.Response(status: status, headers: headers, body: Data())
    }

    /// The next piece of the body; nil at its end.
    func readChunk() throws -> Data? {
        if chunked {
            let sizeLine = try readLine()
            guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                throw UnixHTTPClient.ClientError(description: "bad chunk size '\(sizeLine)'")
            }
            if size == 0 {
                _ = try? readLine()
                return nil
            }
            let data = try readExactly(size)
            _ = try readLine()
            return data
        }
        if let length = contentLength {
            guard length > 0 else { return nil }
            let data = try readExactly(length)
            contentLength = 0
            return data
        }
        if !buffer.isEmpty {
            defer { buffer = Data() }
            return buffer
        }
        return try fill() ? readChunk() : nil
    }

    func readResponse() throws -> UnixHTTPClient.Response {
        var response = try readHead()
        while let chunk = try readChunk() { response.body.append(chunk) }
        return response
    }
}
