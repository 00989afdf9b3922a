import Foundation
import PostgresNIO
import SlotStore

/// A piece of SQL with its values, written like a `PostgresQuery` (`"… WHERE id = \(id)"`), that can be appended
/// to a larger statement: its values are bound when it is appended, so their `$n` numbers fit that statement.
struct SQLFragment: ExpressibleByStringInterpolation {
    fileprivate var parts: [(inout PostgresQuery.StringInterpolation) throws -> Void] = []

    init(stringLiteral value: String) { parts = [{ $0.appendLiteral(value) }] }

    init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

    /// Appends the SQL and binds the values to `query`.
    func append(to query: inout PostgresQuery.StringInterpolation) throws {
        for part in parts { try part(&query) }
    }

    /// This fragment followed by `other`.
    static func + (fragment: SQLFragment, other: SQLFragment) -> SQLFragment {
        var joined = fragment
        joined.parts += other.parts
        return joined
    }

    /// The fragments with `separator` between them.
    static func joined(_ fragments: [SQLFragment], separator: String) -> SQLFragment {
        var joined: SQLFragment = ""
        for (index, fragment) in fragments.enumerated() {
            if index > 0 { joined.parts.append { $0.appendLiteral(separator) } }
            joined.parts += fragment.parts
        }
        return joined
    }

    struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var parts: [(inout PostgresQuery.StringInterpolation) throws -> Void] = []

        init(literalCapacity: Int, interpolationCount: Int) {}

        mutating func appendLiteral(_ literal: String) { parts.append { $0.appendLiteral(literal) } }

        mutating func appendInterpolation<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value) {
            parts.append { try $0.appendInterpolation(value) }
        }

        mutating func appendInterpolation<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value?) {
            parts.append { try $0.appendInterpolation(value) }
        }

        /// SQL text of the program's own (never a value from outside).
        mutating func appendInterpolation(unescaped text: String) { parts.append { $0.appendLiteral(text) } }

        mutating func appendInterpolation(_ fragment: SQLFragment) { parts += fragment.parts }
    }
}

/// The writes of one transaction sent as one statement, so they cost one round trip instead of one each: every
/// write is a data-modifying CTE, and the event log's append (when there are events) comes after them.
///
/// This matters most inside a booking's transaction, which holds its staff member's advisory lock (see
/// `PostgresBookingStore`): each round trip there is time every other writer for that staff member waits.
/// The CTEs of one statement share a snapshot and none reads another's rows, which none of these writes needs;
/// PostgreSQL still checks every constraint (the exclusion constraint and unique keys per row, foreign keys at the
/// end of the statement), so a violation aborts the whole statement as it aborted the separate statements before.
/// The log's head is updated only once every other write has run (its `UPDATE` waits on their row counts), so its
/// row lock, which orders all appending transactions (see `PostgresBookingStore+Events`), is held from the end of
/// the statement to the commit, as when the append was the transaction's last statement.
struct WriteBatch {
    /// An event to append, in its row form.
    typealias EventRow = (type: String, at: Int64, data: Data)

    private var writes: [SQLFragment] = []
    /// Whether the transaction enqueues outbox jobs: told to the other daemons with its events (`EventLogNotice`),
    /// so their outbox workers look for work only then.
    private(set) var enqueuesJobs: Bool

    /// Leases the jobs `addJobs(_:createdAt:)` adds that `takes` and that are due at once to this daemon's outbox
    /// worker until `until` (`OwnJobLease`); nil: none.
    var leasing: (takes: @Sendable (String) -> Bool, until: Int64)?
    /// The jobs leased with their creation time, in the order they were added, and the writes that insert them.
    private var leased: [(job: PendingJob, createdAt: Int64)] = []
    private var leasingWrites: [Int] = []

    /// An empty batch; `enqueuesJobs` for one whose transaction enqueued jobs in statements of its own.
    init(enqueuesJobs: Bool = false) { self.enqueuesJobs = enqueuesJobs }

    var isEmpty: Bool { writes.isEmpty }

    /// Adds one `INSERT`, `UPDATE` or `DELETE` (without `RETURNING`).
    mutating func add(_ write: SQLFragment) { writes.append(write) }

    /// Adds the `INSERT` of outbox jobs (`jobsInsert`; nil: none).
    mutating func addJobs(_ insert: SQLFragment?) {
        guard let insert else { return }
        writes.append(insert)
        enqueuesJobs = true
    }

    /// Adds the `INSERT` of a plan's `jobs`; those `leasing` takes in a write of their own, inserted leased.
    mutating func addJobs(_ jobs: [PendingJob], createdAt: Int64) {
        guard let leasing else { return addJobs(PostgresBookingStore.jobsInsert(jobs, createdAt: createdAt)) }
        let leases = { (job: PendingJob) in job.dueAt <= createdAt && leasing.takes(job.kind) }
        let mine = jobs.filter(leases)
        if !mine.isEmpty {
            leasingWrites.append(writes.count)
            leased += mine.map { ($0, createdAt) }
            addJobs(PostgresBookingStore.jobsInsert(mine, createdAt: createdAt, leasedUntil: leasing.until))
        }
        addJobs(PostgresBookingStore.jobsInsert(jobs.filter { !leases($0) }, createdAt: createdAt))
    }

    /// `run(on:appending:)` for events planned by the store's planners.
    func run(on connection: PostgresConnection, appending events: [PendingEvent]) async throws -> [StoredEvent] {
        try await run(on: connection, appending: events.map { ($0.type, $0.at, $0.data) })
    }

    /// Runs the writes and appends `events` to the log after them, in one statement; returns the events appended.
    func run(on connection: PostgresConnection, appending events: [EventRow] = []) async throws -> [StoredEvent] {
        try await runLeasing(on: connection, appending: events).events
    }

    /// `run(on:appending:)` that also returns the jobs it leased (`leasing`), as written, oldest first.
    func runLeasing(on connection: PostgresConnection, appending events: [EventRow]) async throws
        -> (events: [StoredEvent], leased: [OutboxJob])
    {
        guard !writes.isEmpty || !events.isEmpty else { return ([], []) }
        var query = PostgresQuery.StringInterpolation(literalCapacity: 1_024, interpolationCount: 64)
        let names = writes.indices.map { "w\($0)" }
        for (index, write) in writes.enumerated() {
            query.appendLiteral(index == 0 ? "WITH " : ", ")
            query.appendLiteral("\(names[index]) AS (")
            try write.append(to: &query)
            query.appendLiteral(leasingWrites.contains(index) ? " RETURNING id, booking_id)" : " RETURNING 1)")
        }
        var columns: [String] = []
        if !leasingWrites.isEmpty {
            let rows = leasingWrites.map { "SELECT id, booking_id FROM \(names[$0])" }.joined(separator: " UNION ALL ")
            columns = [
                "(SELECT array_agg(id ORDER BY id) FROM (\(rows)) AS leased)",
                "(SELECT array_agg(coalesce(booking_id, '') ORDER BY id) FROM (\(rows)) AS leased)",
            ]
        }
        guard !events.isEmpty else {
            query.appendLiteral(" SELECT 1")
            for column in columns { query.appendLiteral(", " + column) }
            let rows = try await connection.query(PostgresQuery(stringInterpolation: query), logger: queryLogger)
                .collect()
            return ([], try leasedJobs(rows.first?.makeRandomAccess(), from: 1))
        }
        query.appendLiteral(writes.isEmpty ? "WITH " : ", ")
        var append: SQLFragment = Self.appending(events, after: names) + " SELECT last_cursor, "
            + Self.notification(head: "last_cursor", count: events.count, enqueuesJobs: enqueuesJobs)
        for column in columns { append = append + ", \(unescaped: column)" }
        try (append + " FROM head").append(to: &query)
        let rows = try await connection.query(PostgresQuery(stringInterpolation: query), logger: queryLogger)
            .collect()
        let row = rows.first?.makeRandomAccess()
        guard let head = try row?[0].decode(Int64.self) else {
            throw StoreError(.database, "the event log's head row is missing")
        }
        return (Self.stored(events, head: head), try leasedJobs(row, from: 2))
    }

    /// The leased jobs as inserted, from the ids and booking ids in `row`'s columns `offset` and `offset + 1`.
    private func leasedJobs(_ row: PostgresRandomAccessRow?, from offset: Int) throws -> [OutboxJob] {
        guard let leasing, !leasingWrites.isEmpty else { return [] }
        guard let row, let ids = try row[offset].decode([Int64]?.self),
            let bookings = try row[offset + 1].decode([String]?.self), ids.count == leased.count,
            bookings.count == leased.count
        else { throw StoreError(.database, "the leased jobs' ids did not come back with their write") }
        return leased.indices.map { index in
            let (job, createdAt) = leased[index]
            var leasedJob = OutboxJob(
                id: ids[index], kind: job.kind, payload: job.payload, dueAt: leasing.until, attempts: 1,
                state: .pending, lastError: nil, createdAt: createdAt)
            leasedJob.bookingID = bookings[index].isEmpty ? nil : bookings[index]
            leasedJob.updatedAt = createdAt
            return leasedJob
        }
    }

    /// The CTEs `head` and `appended` that append `events` to the log: `head` moves the log's head once the CTEs
    /// named `after` have run (its `UPDATE` waits on their row counts) and only when `condition` (SQL) holds, and
    /// `appended` writes the rows under the cursors it hands out.
    static func appending(_ events: [EventRow], after names: [String], condition: String? = nil) -> SQLFragment {
        let count = Int64(events.count)
        let conditions = (condition.map { [$0] } ?? [])
            + (names.isEmpty ? [] : [names.map { "(SELECT count(*) FROM \($0))" }.joined(separator: " + ") + " >= 0"])
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return """
            head AS (
                UPDATE event_log_head SET last_cursor = last_cursor + \(count)\(unescaped: filter)
                RETURNING last_cursor
            ), appended AS (
                INSERT INTO events (cursor, type, at, data)
                SELECT head.last_cursor - \(count) + event.position, event.type, event.at, event.data
                FROM head, unnest(\(events.map { $0.type })::text[], \(events.map { $0.at })::int8[],
                    \(events.map { String(decoding: $0.data, as: UTF8.self) })::json[])
                    WITH ORDINALITY AS event(type, at, data, position)
            )
            """
    }

    /// The `pg_notify` of an append of `count` events whose new head is the SQL expression `head`: its payload is an
    /// `EventLogNotice`'s, the writer being the connection's `application_name` (the store's `writer`).
    static func notification(head: String, count: Int, enqueuesJobs: Bool) -> SQLFragment {
        let middle = " \(count) \(enqueuesJobs ? 1 : 0) "
        return """
            pg_notify(\(PostgresBookingStore.eventChannel),
                \(unescaped: head)::text || \(middle) || current_setting('application_name'))
            """
    }

    /// `events` as appended under cursors up to `head`.
    static func stored(_ events: [EventRow], head: Int64) -> [StoredEvent] {
        let first = head - Int64(events.count) + 1
        return events.enumerated().map { index, event in
            StoredEvent(cursor: first + Int64(index), type: event.type, at: event.at, data: event.data)
        }
    }
}
