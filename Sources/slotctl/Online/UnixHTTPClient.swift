import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One HTTP/1.1 response: status, headers (names lower-cased) and the decoded body.
struct HTTPResponse: Sendable {
    var status: Int
    var reason: String
    var headers: [String: String]
    var body: Data

    /// The value of a header, by case-insensitive name.
    func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The body as UTF-8 text (lossy).
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request over the socket failed before an HTTP response arrived.
struct TransportError: Error, CustomStringConvertible, Sendable {
    enum Kind: Sendable, Equatable {
        /// Nothing listens at the path (no file, or a stale socket file).
        case notRunning
        /// The socket exists but this user may not connect to it (file mode/group).
        case permissionDenied
        /// The path is too long for `sockaddr_un`.
        case badPath
        /// The connection broke or the reply was not HTTP.
        case io
        /// No reply within the timeout.
        case timeout
    }

    var kind: Kind
    var path: String
    var detail: String

    var description: String { "\(path): \(detail)" }
}

/// A minimal blocking HTTP/1.1 client over a Unix domain socket: one request per connection
/// (`Connection: close`), `Content-Length` and chunked bodies, and line streaming for NDJSON endpoints.
///
/// slotctl is a short-lived command, so blocking I/O on the main thread is the simplest correct design; it also
/// keeps the client free of NIO and of the daemon's own modules.
struct UnixHTTPClient: Sendable {
    var socketPath: String
    /// Seconds to wait for a reply to an ordinary request; streams wait forever.
    var timeout: Int = 30

    /// Sends one request and reads the whole response.
    func send(
        _ method: String, _ target: String, body: Data? = nil, headers: [String: String] = [:]
    ) throws(TransportError) -> HTTPResponse {
        let connection = try Connection.open(path: socketPath, timeout: timeout)
        defer { connection.close() }
        try connection.write(Self.request(method, target, body: body, headers: headers))
        var reader = ResponseReader(connection: connection)
        let head = try reader.readHead()
        let body = try reader.readBody(head: head, method: method)
        return HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: body)
    }

    /// Sends a request whose answer is a stream of lines (NDJSON): calls `onHead` once with the response head
    /// (and, when it is not a 2xx, the whole body), then `onLine` for each line until it returns false or the
    /// server ends the stream.
    func stream(
        _ method: String, _ target: String, headers: [String: String] = [:],
        onHead: (HTTPResponse) -> Bool, onLine: (String) -> Bool
    ) throws(TransportError) {
        let connection = try Connection.open(path: socketPath, timeout: timeout)
        defer { connection.close() }
        try connection.write(Self.request(method, target, body: nil, headers: headers))
        var reader = ResponseReader(connection: connection)
        let head = try reader.readHead()
        guard (200..<300).contains(head.status) else {
            let body = try reader.readBody(head: head, method: method)
            _ = onHead(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: body))
            return
        }
        guard onHead(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: Data()))
        else { return }
        // A live stream may stay quiet for long stretches (heartbeats arrive only when idle for a while).
        connection.setReceiveTimeout(seconds: 0)
        try reader.readLines(head: head, onLine: onLine)
    }

    static func request(_ method: String, _ target: String, body: Data?, headers: [String: String]) -> Data {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        head += "User-Agent: slotctl\r\nAccept: application/json\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if let body {
            if headers.keys.contains(where: { $0.lowercased() == "content-type" }) == false {
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

// MARK: - Socket

/// An open, connected stream socket.
final class Connection: @unchecked Sendable {
    // @unchecked: used from one thread only, for the life of one request.
    private let fd: Int32
    private let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    static func open(path: String, timeout: Int) throws(TransportError) -> Connection {
        #if canImport(Glibc)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else {
            throw TransportError(kind: .io, path: path, detail: "cannot create a socket: \(errnoText())")
        }
        let connection = Connection(fd: fd, path: path)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard bytes.count < capacity, !bytes.isEmpty else {
            connection.close()
            throw TransportError(
                kind: .badPath, path: path, detail: "socket path is empty or longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            raw[bytes.count] = 0
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        if result != 0 {
            let code = errno
            connection.close()
            switch code {
            case ENOENT, ECONNREFUSED, ENOTDIR:
                throw TransportError(kind: .notRunning, path: path, detail: String(cString: strerror(code)))
            case EACCES, EPERM:
                throw TransportError(kind: .permissionDenied, path: path, detail: String(cString: strerror(code)))
            default:
                throw TransportError(
                    kind: .io, path: path, detail: "cannot connect: \(String(cString: strerror(code)))")
            }
        }
        connection.setReceiveTimeout(seconds: timeout)
        #if canImport(Darwin)
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
        return connection
    }

    /// 0 means wait forever.
    func setReceiveTimeout(seconds: Int) {
        var value = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func write(_ data: Data) throws(TransportError) {
        var offset = 0
        while offset < data.count {
            let written = data.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                #if canImport(Glibc)
                    return Glibc.send(fd, base + offset, data.count - offset, Int32(MSG_NOSIGNAL))
                #else
                    return Darwin.send(fd, base + offset, data.count - offset, 0)
                #endif
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw TransportError(kind: .io, path: path, detail: "cannot send the request: \(errnoText())")
            }
            offset += written
        }
    }

    /// Up to `max` bytes; empty at end of stream.
    func read(max: Int = 65536) throws(TransportError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
            if count >= 0 { return Array(buffer[0..<count]) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                throw TransportError(kind: .timeout, path: path, detail: "slotd did not answer in time")
            }
            throw TransportError(kind: .io, path: path, detail: "connection lost: \(String(cString: strerror(code)))")
        }
    }

    func close() {
        #if canImport(Glibc)
            _ = Glibc.close(fd)
        #else
            _ = Darwin.close(fd)
        #endif
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

// MARK: - Response parsing

struct ResponseHead: Sendable {
    var status: Int
    var reason: String
    var headers: [String: String]
}

/// Buffered reading of one HTTP/1.1 response from a connection.
struct ResponseReader {
    let connection: Connection
    private var buffer: [UInt8] = []
    private var position = 0
    private var ended = false
    /// A guard against a server that never ends a header or a chunk-size line.
    private let maxLine = 64 * 1024

    init(connection: Connection) { self.connection = connection }

    private mutating func fill() throws(TransportError) -> Bool {
        if ended { return false }
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
        }
        let bytes = try connection.read()
        if bytes.isEmpty {
            ended = true
            return false
        }
        buffer.append(contentsOf: bytes)
        return true
    }

    /// One line without its CRLF (or LF); nil at end of stream.
    private mutating func readLine() throws(TransportError) -> String? {
        // Bytes after `position` already searched; relative, because `fill` may compact the buffer.
        var scanned = 0
        while true {
            if let newline = buffer[(position + scanned)...].firstIndex(of: 10) {
                var end = newline
                if end > position && buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[position..<end], as: UTF8.self)
                position = newline + 1
                return line
            }
            scanned = buffer.count - position
            if scanned > maxLine {
                throw TransportError(kind: .io, path: connection.description, detail: "a line of the reply is too long")
            }
            guard try fill() else {
                if position < buffer.count {
                    let line = String(decoding: buffer[position...], as: UTF8.self)
                    position = buffer.count
                    return line
                }
                return nil
            }
        }
    }

    private mutating func readExactly(_ count: Int) throws(TransportError) -> [UInt8] {
        while buffer.count - position < count {
            guard try fill() else {
                throw TransportError(kind: .io, path: connection.description, detail: "the reply ended early")
            }
        }
        let bytes = Array(buffer[position..<(position + count)])
        position += count
        return bytes
    }

    private mutating func readToEnd() throws(TransportError) -> [UInt8] {
        while try fill() {}
        let bytes = Array(buffer[position...])
        position = buffer.count
        return bytes
    }

    mutating func readHead() throws(TransportError) -> ResponseHead {
        guard let statusLine = try readLine() else {
            throw TransportError(
                kind: .io, path: connection.description, detail: "slotd closed the connection without a reply")
        }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw TransportError(
                kind: .io, path: connection.description, detail: "not an HTTP reply: \(statusLine.prefix(80))")
        }
        var headers: [String: String] = [:]
        while let line = try readLine(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return ResponseHead(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers)
    }

    mutating func readBody(head: ResponseHead, method: String) throws(TransportError) -> Data {
        if method == "HEAD" || head.status == 204 || head.status == 304 || (100..<200).contains(head.status) {
            return Data()
        }
        if head.headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var body: [UInt8] = []
            while let chunk = try readChunk() { body += chunk }
            return Data(body)
        }
        if let length = head.headers["content-length"].flatMap({ Int($0) }) {
            return Data(try readExactly(length))
        }
        return Data(try readToEnd())
    }

    /// The next chunk's bytes; nil after the last (zero-size) chunk and its trailers.
    private mutating func readChunk() throws(TransportError) -> [UInt8]? {
        guard let sizeLine = try readLine() else {
            throw TransportError(
                kind: .io, path: connection.description, detail: "the reply ended inside a chunked body")
        }
        let hex = sizeLine.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        guard let size = Int(hex.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
            throw TransportError(
                kind: .io, path: connection.description, detail: "bad chunk size '\(sizeLine.prefix(20))'")
        }
        if size == 0 {
            while let trailer = try readLine(), !trailer.isEmpty {}
            return nil
        }
        let bytes = try readExactly(size)
        _ = try readLine()  // the CRLF after the chunk data
        return bytes
    }

    /// Splits the body into lines as it arrives; ends when `onLine` returns false or the body ends.
    mutating func readLines(head: ResponseHead, onLine: (String) -> Bool) throws(TransportError) {
        var pending: [UInt8] = []
        func emit(_ bytes: inout [UInt8]) -> Bool {
            while let newline = bytes.firstIndex(of: 10) {
                var end = newline
                if end > 0 && bytes[end - 1] == 13 { end -= 1 }
                let line = String(decoding: bytes[0..<end], as: UTF8.self)
                bytes.removeSubrange(0...newline)
                if !line.isEmpty && !onLine(line) { return false }
            }
            return true
        }
        let chunked = head.headers["transfer-encoding"]?.lowercased().contains("chunked") == true
        if chunked {
            while let chunk = try readChunk() {
                pending += chunk
                if !emit(&pending) { return }
            }
        } else {
            // Either Content-Length or read-until-close; both end the same way for a line stream.
            var remaining = head.headers["content-length"].flatMap { Int($0) } ?? Int.max
            if position < buffer.count {
                let take = min(remaining, buffer.count - position)
                pending += buffer[position..<(position + take)]
                position += take
                remaining -= take
            }
            if !emit(&pending) { return }
            while remaining > 0 {
                let bytes = try connection.read()
                if bytes.isEmpty { break }
                let take = min(remaining, bytes.count)
                pending += bytes[0..<take]
                remaining -= take
                if !emit(&pending) { return }
            }
        }
        if !pending.isEmpty { _ = onLine(String(decoding: pending, as: UTF8.self)) }
    }
}

extension Connection: CustomStringConvertible {
    var description: String { path }
}
