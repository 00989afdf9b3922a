import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The listening sockets systemd passed in (`LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`), starting at fd 3.
public struct SocketActivation: Hashable, Sendable {
    /// One passed descriptor and its name (`FileDescriptorName=`, default the socket unit's name).
    public struct Descriptor: Hashable, Sendable {
        public var fd: Int32
        public var name: String
    }

    /// `SD_LISTEN_FDS_START`: the first passed descriptor.
    public static let firstDescriptor: Int32 = 3
    /// The variables that carry the hand-over; unset once read so children do not inherit them.
    public static let variables = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]

    public var descriptors: [Descriptor]

    /// Reads the hand-over from `environment`: nil when there is none for process `pid`.
    ///
    /// A `LISTEN_PID` naming another process means the variables were inherited, not meant for us, so they are
    /// ignored; malformed values are an error rather than a silent bind of our own.
    public static func parse(environment: [String: String], pid: Int32) throws(StartupError) -> SocketActivation? {
        guard let pidText = environment["LISTEN_PID"], let countText = environment["LISTEN_FDS"] else { return nil }
        guard let owner = Int32(pidText) else {
            throw StartupError("LISTEN_PID='\(pidText)' is not a process id — start slotd from its socket unit")
        }
        guard owner == pid else { return nil }
        guard let count = Int32(countText), count >= 0, count < 1024 else {
            throw StartupError("LISTEN_FDS='\(countText)' is not a descriptor count — start slotd from its socket unit")
        }
        guard count > 0 else { return nil }
        var names = environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false) }
            .map { $0.map(String.init) } ?? []
        if names.count != Int(count) { names = Array(repeating: "unknown", count: Int(count)) }
        return SocketActivation(
            descriptors: (0..<count).map { Descriptor(fd: firstDescriptor + $0, name: names[Int($0)]) })
    }

    /// The descriptor to serve on: the only one, or the one named `slotd` (`FileDescriptorName=slotd`).
    public func serving() throws(StartupError) -> Descriptor {
        if descriptors.count == 1, let only = descriptors.first { return only }
        if let named = descriptors.first(where: { $0.name == "slotd" }) { return named }
        let names = descriptors.map { "\($0.fd) (\($0.name))" }.joined(separator: ", ")
        throw StartupError(
            "systemd passed \(descriptors.count) sockets (\(names)) and slotd serves one — keep one ListenStream= "
                + "in slotd.socket, or name the API socket with FileDescriptorName=slotd")
    }

    /// Takes the hand-over from this process: parses it, unsets the variables, and checks the descriptor is a
    /// listening Unix stream socket. Nil when slotd was not socket-activated.
    static func takeFromProcess() throws(StartupError) -> InheritedSocket? {
        let environment = ProcessInfo.processInfo.environment
        let activation = try parse(environment: environment, pid: getpid())
        for name in variables { unsetenv(name) }
        guard let activation else { return nil }
        return try InheritedSocket(adopting: activation.serving())
    }
}

/// A listening Unix stream socket handed over by systemd, checked before it is served.
public struct InheritedSocket: Hashable, Sendable {
    public var fd: Int32
    public var name: String
    /// The socket's path from `getsockname` (empty for an abstract or unnamed socket).
    public var path: String

    init(adopting descriptor: SocketActivation.Descriptor) throws(StartupError) {
        let fd = descriptor.fd
        let what = "the descriptor \(fd) (\(descriptor.name)) systemd passed"
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw StartupError("\(what) is not open: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw StartupError("\(what) is not a socket — slotd.socket must use ListenStream=")
        }
        guard Self.option(fd, SO_DOMAIN) == AF_UNIX else {
            throw StartupError(
                "\(what) is not a Unix socket — slotd serves on a path (ListenStream=/run/slotd/slotd.sock), "
                    + "where the socket's mode and group decide who may connect")
        }
        guard Self.option(fd, SO_TYPE) == Int32(SOCK_STREAM.rawValue) else {
            throw StartupError("\(what) is not a stream socket — use ListenStream=, not ListenDatagram=")
        }
        guard Self.option(fd, SO_ACCEPTCONN) == 1 else {
            throw StartupError("\(what) is not listening — use Accept=no in slotd.socket")
        }
        // Our own children must not inherit the listening socket.
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        self.fd = fd
        self.name = descriptor.name
        self.path = Self.boundPath(fd)
    }

    private static func option(_ fd: Int32, _ name: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 else { return nil }
        return value
    }

    private static func boundPath(_ fd: Int32) -> String {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return "" }
        return withUnsafeBytes(of: address.sun_path) { raw in
            guard let first = raw.first, first != 0 else { return "" }
            return String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
