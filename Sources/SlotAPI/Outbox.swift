/// One outbox job as `GET /v1/outbox` and `GET /v1/outbox/{id}` show it.
public struct OutboxJobInfo: Codable, Hashable, Sendable {
    public var id: Int64
    /// `notify.booking_created`, `notify.send.mail`, `sweep.end_of_day`, `payment.…`.
    public var kind: String
    /// `pending`, `done` or `failed`.
    public var state: String
    /// Attempts so far (a claim counts as one).
    public var attempts: Int
    /// When it is (or was last) due, ISO 8601 in the shop's zone.
    public var due: String
    public var created: String
    /// When it became done or failed.
    public var finished: String?
    /// The booking it is about, if any.
    public var booking: String?
    /// The last attempt's error.
    public var lastError: String?
    /// Why a done job sent nothing, or where it fanned out to.
    public var note: String?
    /// The job's payload as stored.
    public var payload: JSONValue?

    enum CodingKeys: String, CodingKey {
        case id, kind, state, attempts, due, created, finished, booking, note, payload
        case lastError = "last_error"
    }

    public init(
        id: Int64, kind: String, state: String, attempts: Int, due: String, created: String, finished: String?,
        booking: String?, lastError: String?, note: String?, payload: JSONValue?
    ) {
        self.id = id
        self.kind = kind
        self.state = state
        self.attempts = attempts
        self.due = due
        self.created = created
        self.finished = finished
        self.booking = booking
        self.lastError = lastError
        self.note = note
        self.payload = payload
    }
}

/// `GET /v1/outbox`: jobs, newest first, and how many are in each state.
public struct OutboxJobList: Codable, Hashable, Sendable {
    public var jobs: [OutboxJobInfo]
    /// `pending`, `done`, `failed` → count (of all jobs, not only those listed).
    public var counts: [String: Int]

    public init(jobs: [OutboxJobInfo], counts: [String: Int]) {
        self.jobs = jobs
        self.counts = counts
    }
}
