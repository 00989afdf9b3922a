/// One line of `GET /v1/events`: a durable event, or a `heartbeat` / `overflow` control line.
///
/// Durable events have types like `booking.created`, `booking.confirmed`, `booking.cancelled`,
/// `booking.rescheduled`, `booking.completed`, `booking.no_show`, `booking.expired`, `booking.noted`. Control lines
/// carry the cursor of the last event sent on this stream, so a client always resumes with `since=<cursor of the
/// last line read>`.
public struct EventLine: Codable, Hashable, Sendable {
    /// Monotonically increasing position in the durable event log.
    public var cursor: Int64
    public var type: String
    /// When it happened, ISO 8601 UTC.
    public var at: String
    public var data: JSONValue

    public init(cursor: Int64, type: String, at: String, data: JSONValue) {
        self.cursor = cursor
        self.type = type
        self.at = at
        self.data = data
    }

    /// The type of the idle keep-alive line.
    public static let heartbeatType = "heartbeat"
    /// The type of the last line sent to a subscriber that fell too far behind; the stream then closes.
    public static let overflowType = "overflow"

    /// Whether this line is a control line rather than a durable event.
    public var isControl: Bool { type == Self.heartbeatType || type == Self.overflowType }
}
