import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A reason the daemon cannot start, with what to do about it.
public struct StartupError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    /// The configuration is wrong (exit 78, EX_CONFIG) rather than the environment.
    public var isConfigurationError: Bool

    public init(_ description: String, isConfigurationError: Bool = false) {
        self.description = description
        self.isConfigurationError = isConfigurationError
    }
}

/// Preparing the socket path: its directory, a stale file from a crashed daemon, another daemon still on it.
enum UnixSocketPath {
    /// `sun_path` holds 108 bytes including the terminating NUL.
    static let maxLength = 107

    /// Makes `path` ready to bind: creates its directory, removes a stale socket, refuses a live one.
    static func prepare(_ path: String) throws(StartupError) {
        guard path.utf8.count <= maxLength else {
            throw StartupError("socket path \(path) is longer than \(maxLength) bytes — choose a shorter --socket")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw StartupError("cannot create the socket's directory \(directory): \(error.localizedDescription)")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw StartupError("\(path) exists and is not a socket — remove it or choose another --socket")
        }
        if isListening(path) {
            throw StartupError(
                "another slotd is already listening on \(path) — stop it first or choose another --socket")
        }
        // Nobody answers: a stale socket left by a daemon that did not shut down cleanly.
        guard unlink(path) == 0 || errno == ENOENT else {
            throw StartupError("cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func isListening(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.prefix(maxLength).enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }

    /// Gives the socket file its group (the mode was set at bind time through the umask).
    static func setGroup(_ path: String, group: String) throws(StartupError) {
        guard let gid = ConfigurationFile.gid(of: group) else {
            throw StartupError("unknown socket group '\(group)'")
        }
        guard chown(path, uid_t.max, gid) == 0 else {
            throw StartupError("cannot give \(path) the group \(group): \(String(cString: strerror(errno)))")
        }
    }
}
