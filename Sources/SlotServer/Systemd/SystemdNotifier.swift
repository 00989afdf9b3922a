import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One sd_notify datagram: `KEY=value` lines, in the order systemd should read them.
public struct SystemdNotification: Hashable, Sendable {
    /// The `KEY=value` lines.
    public var lines: [String]

    public init(lines: [String]) { self.lines = lines }

    /// `READY=1`: startup (or a reload) is complete; with a `STATUS=` for `systemctl status`.
    public static func ready(status: String) -> SystemdNotification {
        SystemdNotification(lines: ["READY=1", statusLine(status)])
    }

    /// `RELOADING=1` with the `MONOTONIC_USEC=` systemd needs to match it to the `ExecReload=` it is waiting for.
    public static func reloading(monotonicMicroseconds: UInt64, status: String) -> SystemdNotification {
        SystemdNotification(lines: ["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds)", statusLine(status)])
    }

    /// `STOPPING=1`: shutdown has begun.
    public static func stopping(status: String) -> SystemdNotification {
        SystemdNotification(lines: ["STOPPING=1", statusLine(status)])
    }

    /// `WATCHDOG=1`: the daemon is alive (sent only after a liveness probe answered).
    public static let watchdog = SystemdNotification(lines: ["WATCHDOG=1"])

    /// Only a `STATUS=` line.
    public static func status(_ text: String) -> SystemdNotification {
        SystemdNotification(lines: [statusLine(text)])
    }

    /// The datagram as sent: one `KEY=value` a line, newline-terminated (what `systemd-notify` sends).
    public var payload: String { lines.map { $0 + "\n" }.joined() }

    /// A `STATUS=` line: one line (systemd shows only that), control characters folded, at most 200 characters.
    static func statusLine(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var folded = String(
            String.UnicodeScalarView(
                lines.joined(separator: "; ").unicodeScalars.map {
                    $0.properties.generalCategory == .control ? " " : $0
                }))
        if folded.count > 200 { folded = String(folded.prefix(199)) + "…" }
        return "STATUS=" + folded
    }
}

/// Where `$NOTIFY_SOCKET` points: a filesystem path or an abstract-namespace name (`@name`).
public enum NotifySocketAddress: Hashable, Sendable {
    case path(String)
    case abstract(String)

    /// Parses `$NOTIFY_SOCKET`; nil when it is unset, empty or a kind slotd does not speak (e.g. `vsock:`).
    public init?(environmentValue value: String?) {
        guard let value, !value.isEmpty else { return nil }
        if value.hasPrefix("/") {
            self = .path(value)
        } else if value.hasPrefix("@"), value.utf8.count > 1 {
            self = .abstract(String(value.dropFirst()))
        } else {
            return nil
        }
    }

    /// `sun_path` bytes (a leading NUL for the abstract namespace) and the address length to pass to `sendto`.
    func socketAddress() -> (address: sockaddr_un, length: socklen_t)? {
        let bytes: [UInt8]
        switch self {
        case .path(let path): bytes = Array(path.utf8) + [0]
        case .abstract(let name): bytes = [0] + Array(name.utf8)
        }
        var address = sockaddr_un()
        guard bytes.count <= MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path).map { $0 + bytes.count } ?? 0
        return (address, socklen_t(length))
    }
}

/// Tells systemd about the daemon's state over `$NOTIFY_SOCKET` (sd_notify without libsystemd).
///
/// A no-op when the variable is absent, so the daemon behaves the same outside systemd.
public final class SystemdNotifier: Sendable {
    /// The notify socket, or nil when not running under a `Type=notify` service.
    public let address: NotifySocketAddress?

    public init(address: NotifySocketAddress?) { self.address = address }

    /// A notifier for `$NOTIFY_SOCKET` in `environment`.
    public convenience init(environment: [String: String]) {
        self.init(address: NotifySocketAddress(environmentValue: environment["NOTIFY_SOCKET"]))
    }

    /// The process's notifier, from the environment it started with.
    public static let process = SystemdNotifier(environment: ProcessInfo.processInfo.environment)

    /// Whether messages go anywhere.
    public var isEnabled: Bool { address != nil }

    /// Sends one datagram; returns false (without throwing: systemd's state is advisory) when it could not be sent.
    @discardableResult
    public func send(_ notification: SystemdNotification) -> Bool {
        guard let address, let (socketAddress, length) = address.socketAddress() else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let payload = Array(notification.payload.utf8)
        var target = socketAddress
        let sent = payload.withUnsafeBytes { buffer in
            withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent == payload.count
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock `MONOTONIC_USEC=` is measured on.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

/// The watchdog systemd asks for: `$WATCHDOG_USEC` (and `$WATCHDOG_PID`, when set, naming this process).
public enum SystemdWatchdog {
    /// How often to ping (half of `WATCHDOG_USEC`), or nil when no watchdog is asked of this process.
    public static func pingInterval(environment: [String: String], pid: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty {
            guard Int32(owner) == pid else { return nil }
        }
        return .microseconds(Int64(clamping: usec / 2))
    }
}
