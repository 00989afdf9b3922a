import Foundation

/// One HTTP/1.1 response: status, headers (names lower-cased) and the decoded body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: [String: String]
    public var body: Data

    /// A response from its parts; header names are expected lower-cased.
    public init(status: Int, reason: String = "", headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The body as UTF-8 text (lossy).
    public var text: String { String(decoding: body, as: UTF8.self) }
}

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
    public var path: String
    public var detail: String

    /// A failure of `kind` talking to the socket at `path`.
    public init(kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    /// `path: detail`.
    public var description: String { "\(path): \(detail)" }
}
