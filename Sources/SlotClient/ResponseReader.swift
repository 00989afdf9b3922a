import Foundation

/// The status line and headers of a response.
struct ResponseHead: Sendable {
    var status: Int
    var reason: String
    var headers: [String: String]
}

/// Buffered reading of one HTTP/1.1 response from a connection.
struct ResponseReader {
    let connection: UnixSocketConnection
    private var buffer: [UInt8] = []
    private var position = 0
    private var ended = false
    /// A guard against a server that never ends a header or a chunk-size line.
    private let maxLine = 64 * 1024

    init(connection: UnixSocketConnection) { self.connection = connection }

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
    mutating func readChunk() throws(TransportError) -> [UInt8]? {
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

    /// Up to `limit` bytes of what follows, buffered first; empty at end of stream.
    mutating func readSome(limit: Int) throws(TransportError) -> [UInt8] {
        if position == buffer.count {
            guard try fill() else { return [] }
        }
        let take = min(limit, buffer.count - position)
        let bytes = Array(buffer[position..<(position + take)])
        position += take
        return bytes
    }
}

/// The lines of a response body, read one at a time as they arrive (NDJSON streams); blank lines are skipped.
struct BodyLines {
    private var reader: ResponseReader
    private let chunked: Bool
    /// Bytes of a `Content-Length` body still to read; `Int.max` when the body runs until the server closes.
    private var remaining: Int
    private var pending: [UInt8] = []
    private var ended = false

    init(reader: ResponseReader, head: ResponseHead) {
        self.reader = reader
        chunked = head.headers["transfer-encoding"]?.lowercased().contains("chunked") == true
        remaining = head.headers["content-length"].flatMap { Int($0) } ?? Int.max
    }

    /// The next non-empty line without its line end; nil when the body has ended.
    mutating func next() throws(TransportError) -> String? {
        while true {
            if let newline = pending.firstIndex(of: 10) {
                var end = newline
                if end > 0 && pending[end - 1] == 13 { end -= 1 }
                let line = String(decoding: pending[0..<end], as: UTF8.self)
                pending.removeSubrange(0...newline)
                if line.isEmpty { continue }
                return line
            }
            if ended {
                // A last line without a line end.
                guard !pending.isEmpty else { return nil }
                defer { pending.removeAll() }
                return String(decoding: pending, as: UTF8.self)
            }
            try readMore()
        }
    }

    private mutating func readMore() throws(TransportError) {
        if chunked {
            if let chunk = try reader.readChunk() { pending += chunk } else { ended = true }
            return
        }
        guard remaining > 0 else {
            ended = true
            return
        }
        let bytes = try reader.readSome(limit: remaining)
        if bytes.isEmpty {
            ended = true
            return
        }
        if remaining != Int.max { remaining -= bytes.count }
        pending += bytes
    }
}
