import Foundation

/// One HTTP/1.1 response: status, headers (names lower-cased) and the decoded body.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// The reason phrase, e.g. `OK`.
    public var reason: String
    /// Header values by lower-cased name; repeated headers joined with `, `.
    public var headers: [String: String]
    /// The body, de-chunked.
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
