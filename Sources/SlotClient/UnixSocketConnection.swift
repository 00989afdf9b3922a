import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open, connected stream socket to a Unix socket path; every call blocks the calling thread.
///
/// @unchecked Sendable: one request (or one stream) uses it from one thread at a time, handing it between threads
/// only across an `await`, which orders the accesses.
public final class UnixSocketConnection: @unchecked Sendable, CustomStringConvertible {
    private let fd: Int32
    /// The socket path, for error messages.
    public let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// `path`, for error messages.
    public var description: String { path }

    /// Connects to `path`; `timeout` seconds (0: forever) bound every later read.
    public static func open(path: String, timeout: Double) throws(TransportError) -> UnixSocketConnection {
        #if canImport(Glibc)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else {
            throw TransportError(kind: .io, path: path, detail: "cannot create a socket: \(errnoText())")
        }
        let connection = UnixSocketConnection(fd: fd, path: path)
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

    /// Bounds each later read to `seconds`; 0 means wait forever (a live stream may stay quiet for long).
    public func setReceiveTimeout(seconds: Double) {
        let whole = max(0, seconds.rounded(.down))
        var value = timeval(tv_sec: Int(whole), tv_usec: Int((max(0, seconds) - whole) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends all of `data`. When the server stops reading (it answered early, say a 413, and closed), sending
    /// stops quietly so the caller reads that answer instead of failing on a broken pipe.
    public func write(_ data: Data) throws(TransportError) {
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
                let code = errno
                if code == EINTR { continue }
                if code == EPIPE || code == ECONNRESET { return }
                throw TransportError(
                    kind: .io, path: path, detail: "cannot send the request: \(String(cString: strerror(code)))")
            }
            offset += written
        }
    }

    /// Up to `max` bytes; empty at end of stream.
    public func read(max: Int = 65536) throws(TransportError) -> [UInt8] {
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

    /// Closes the socket; a reader blocked on another thread wakes with end of stream.
    public func close() {
        #if canImport(Glibc)
            _ = Glibc.close(fd)
        #else
            _ = Darwin.close(fd)
        #endif
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }
