/// Why a request over the socket failed before an HTTP response arrived.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure, for callers that answer each differently (slotctl's exit codes).
    public enum Kind: Sendable, Equatable {
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

    public var kind: Kind
    /// The socket path.
    public var path: String
    /// What went wrong, for a person.
    public var detail: String

    /// `path: detail`.
    public var description: String { "\(path): \(detail)" }
}
