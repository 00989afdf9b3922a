import Foundation

/// A small HTTP/1.1 client over a Unix domain socket, shared by slotctl and the daemon's tests: one request per
/// connection (`Connection: close`), `Content-Length` and chunked bodies, and line streaming for NDJSON endpoints.
///
/// Its methods block the calling thread, which suits a synchronous program (slotctl). Async callers use the
/// `async` variants (`UnixHTTPClient+Async.swift`), which block a thread of their own instead of one of Swift's
/// cooperative pool.
public struct UnixHTTPClient: Sendable {
    /// The daemon's socket.
    public var socketPath: String
    /// Seconds to wait for each read of an ordinary request's reply; streams opened by `stream` wait forever.
    public var timeout: Double
    /// Headers sent with every request (slotctl names itself and asks for JSON).
    public var defaultHeaders: [String: String]

    /// A client of the socket at `socketPath`.
    public init(socketPath: String, timeout: Double = 30, defaultHeaders: [String: String] = [:]) {
        self.socketPath = socketPath
        self.timeout = timeout
        self.defaultHeaders = defaultHeaders
    }

    /// Sends one request and reads the whole response, blocking the calling thread.
    public func send(
        _ method: String, _ target: String, body: Data? = nil, headers: [String: String] = [:]
    ) throws(TransportError) -> HTTPResponse {
        let connection = try UnixSocketConnection.open(path: socketPath, timeout: timeout)
        defer { connection.close() }
        try connection.write(requestBytes(method, target, body: body, headers: headers))
        var reader = ResponseReader(connection: connection)
        let head = try reader.readHead()
        let body = try reader.readBody(head: head, method: method)
        return HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: body)
    }

    /// Sends a request whose answer is a stream of lines (NDJSON), blocking the calling thread: calls `onHead` once
    /// with the response head (and, when it is not a 2xx, the whole body), then `onLine` for each non-empty line
    /// until it returns false or the server ends the stream. Reads wait forever: a live stream may stay quiet
    /// for long stretches (heartbeats arrive only when idle for a while).
    public func stream(
        _ method: String, _ target: String, headers: [String: String] = [:],
        onHead: (HTTPResponse) -> Bool, onLine: (String) -> Bool
    ) throws(TransportError) {
        let connection = try UnixSocketConnection.open(path: socketPath, timeout: timeout)
        defer { connection.close() }
        try connection.write(requestBytes(method, target, body: nil, headers: headers))
        var reader = ResponseReader(connection: connection)
        let head = try reader.readHead()
        guard (200..<300).contains(head.status) else {
            let body = try reader.readBody(head: head, method: method)
            _ = onHead(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: body))
            return
        }
        guard onHead(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers)) else { return }
        connection.setReceiveTimeout(seconds: 0)
        var lines = BodyLines(reader: reader, head: head)
        while let line = try lines.next(), onLine(line) {}
    }

    /// Opens a GET whose body is a stream of lines and reads its head, blocking the calling thread; each read of
    /// the stream waits at most `timeout` seconds.
    public func openLines(_ target: String, timeout: Double? = nil) throws(TransportError) -> LineStream {
        let connection = try UnixSocketConnection.open(path: socketPath, timeout: timeout ?? self.timeout)
        do {
            try connection.write(requestBytes("GET", target, body: nil, headers: [:]))
            var reader = ResponseReader(connection: connection)
            let head = try reader.readHead()
            let response = HTTPResponse(status: head.status, reason: head.reason, headers: head.headers)
            return LineStream(connection: connection, head: response, lines: BodyLines(reader: reader, head: head))
        } catch {
            connection.close()
            throw error
        }
    }

    /// The bytes of a request: head, then body. A body without a `Content-Type` header is sent as JSON.
    public func requestBytes(_ method: String, _ target: String, body: Data?, headers: [String: String]) -> Data {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        let all = defaultHeaders.merging(headers) { _, given in given }
        for (name, value) in all.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if let body {
            if all.keys.contains(where: { $0.lowercased() == "content-type" }) == false {
                head += "Content-Type: application/json\r\n"
            }
            head += "Content-Length: \(body.count)\r\n"
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        var data = Data(head.utf8)
        if let body { data.append(body) }
        return data
    }
}

/// A streaming response kept open across steps of a caller: read a line, act, read the next.
///
/// @unchecked Sendable: the caller reads it from one thread at a time (the async `next` awaits each read).
public final class LineStream: @unchecked Sendable {
    private let connection: UnixSocketConnection
    private var lines: BodyLines
    /// The response's status and headers (no body).
    public let head: HTTPResponse

    init(connection: UnixSocketConnection, head: HTTPResponse, lines: BodyLines) {
        self.connection = connection
        self.head = head
        self.lines = lines
    }

    /// The next non-empty line, blocking the calling thread; nil when the server ended the stream.
    public func nextOnThisThread() throws(TransportError) -> String? {
        try lines.next()
    }

    /// Closes the connection.
    public func close() { connection.close() }
}
