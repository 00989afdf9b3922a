/// The version of the wire contract and the names every client and the server share.
public enum APIVersion {
    /// The API version this module describes; `GET /_ping` sends it in the `API-Version` header.
    public static let current = "1"
    /// The path prefix of every versioned route.
    public static let pathPrefix = "/v1"
    /// The response header that names the API version.
    public static let header = "API-Version"
    /// The request header that makes a `POST` idempotent.
    public static let idempotencyKeyHeader = "Idempotency-Key"
    /// The media type of errors (RFC 9457).
    public static let problemMediaType = "application/problem+json"
    /// The media type of event and slot-watch streams: one JSON document a line.
    public static let ndjsonMediaType = "application/x-ndjson"
    /// The largest request body the daemon accepts, in bytes; larger bodies get `413`.
    public static let maxBodyBytes = 1 << 20
}
