import Foundation
import PostgresNIO
import SlotStore

/// The outbox shared by several daemons: a claim takes due jobs with `FOR UPDATE SKIP LOCKED`, so two daemons
/// claiming at once take different jobs instead of waiting for each other, and moves each job's `due_at` to the end
/// of its lease in the same statement, so a daemon that dies mid-call leaves the job due again for any other.
extension PostgresBookingStore: OutboxStore {
    static let jobColumns = """
        id, kind, payload::text, due_at, attempts, state, last_error, created_at, booking_id, updated_at,
        finished_at, note
        """

    public func claimDueJobs(at now: Int64, lease: Int64, limit: Int) async throws(StoreError) -> [OutboxJob] {
        guard limit > 0 else { return [] }
        // One statement, atomic on its own: no BEGIN and COMMIT round trips around it.
        return try await write(inTransaction: false) { connection in
            try await Self.claim(connection, at: now, lease: lease, limit: limit)
        }
    }

    static func claim(_ connection: PostgresConnection, at now: Int64, lease: Int64, limit: Int) async throws
        -> [OutboxJob]
    {
        guard limit > 0 else { return [] }
        var query = PostgresQuery.StringInterpolation(literalCapacity: 512, interpolationCount: 4)
        try claimStatement(at: now, lease: lease, limit: limit).append(to: &query)
        return inClaimOrder(try await fetchJobs(connection, PostgresQuery(stringInterpolation: query)))
    }

    /// The `UPDATE … RETURNING` that claims up to `limit` due jobs (not job `excluding`) for a lease.
    static func claimStatement(at now: Int64, lease: Int64, limit: Int, excluding: Int64? = nil) -> SQLFragment {
        """
        UPDATE outbox SET due_at = \(now + max(1, lease)), attempts = attempts + 1, updated_at = \(now)
        WHERE id IN (
            SELECT id FROM outbox WHERE state = 'pending' AND due_at <= \(now) AND id IS DISTINCT FROM \(excluding)
            ORDER BY due_at, id LIMIT \(max(0, limit))
            FOR UPDATE SKIP LOCKED
        )
        RETURNING \(unescaped: jobColumns)
        """
    }

    /// Claimed jobs in the order they are run: oldest first.
    static func inClaimOrder(_ jobs: [OutboxJob]) -> [OutboxJob] {
        jobs.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        // One statement, atomic on its own (no BEGIN and COMMIT round trips): the job is marked done, the slot's next
        // job claimed and, only when this run is the one that finished the job, its fan-out enqueued and its events
        // appended. A job finished already (a second run after a lost lease) changes nothing: its fan-out was
        // enqueued then, and doing it again would duplicate deliveries.
        let rows: [WriteBatch.EventRow] = events.map { ($0.type, now, $0.data) }
        let enqueued = jobs.map { ($0.kind, $0.payload, $0.dueAt) }
        return try await write(inTransaction: false) { connection in
            var sql = PostgresQuery.StringInterpolation(literalCapacity: 2_048, interpolationCount: 32)
            let statement = Self.finishStatement(
                id, at: now, note: note, enqueue: enqueued, events: rows, thenClaim: limit, lease: lease)
            try statement.append(to: &sql)
            var cursor: Int64?
            var claimed: [OutboxJob] = []
            let results = try await connection.query(PostgresQuery(stringInterpolation: sql), logger: queryLogger)
            for try await row in results {
                let columns = row.makeRandomAccess()
                cursor = try columns[0].decode(Int64?.self)
                if try columns[2].decode(Int64?.self) != nil { claimed.append(try Self.decodeJob(columns, from: 2)) }
            }
            return (cursor.map { WriteBatch.stored(rows, head: $0) } ?? [], Self.inClaimOrder(claimed))
        }
    }

    /// `finishJob`'s statement: its rows are the log's new head (NULL: nothing appended), the notification, and a
    /// claimed job's `jobColumns` (NULL: none claimed).
    static func finishStatement(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [(kind: String, payload: Data, dueAt: Int64)],
        events rows: [WriteBatch.EventRow], thenClaim limit: Int, lease: Int64
    ) -> SQLFragment {
        let finishedNow = "EXISTS (SELECT 1 FROM finished)"
        var statement: SQLFragment = """
            WITH finished AS (
                UPDATE outbox SET state = 'done', updated_at = \(now), finished_at = \(now), note = \(note),
                    last_error = NULL
                WHERE id = \(id) AND state = 'pending' RETURNING id
            ), claimed AS (
            """
        statement = statement + claimStatement(at: now, lease: lease, limit: limit, excluding: id) + ")"
        var writes: [String] = []
        if let fanOut = jobsInsert(jobs, createdAt: now, when: finishedNow) {
            statement = statement + ", fan_out AS (" + fanOut + " RETURNING 1)"
            writes.append("fan_out")
        }
        var head: SQLFragment = "SELECT NULL::int8 AS last_cursor, NULL::void AS notified"
        if !rows.isEmpty {
            statement = statement + ", " + WriteBatch.appending(rows, after: writes, condition: finishedNow)
            head = "SELECT last_cursor, "
                + WriteBatch.notification(head: "last_cursor", count: rows.count, enqueuesJobs: !writes.isEmpty)
                + " AS notified FROM head"
        }
        // One row per claimed job (or one with none), each with the log's new head (or none) and its notification.
        return statement + " SELECT h.last_cursor, h.notified, c.* FROM (" + head
            + ") AS h RIGHT JOIN (SELECT 1) AS one ON true LEFT JOIN claimed c ON true"
    }

    public func retryJobLater(_ id: Int64, error: String, dueAt: Int64, at now: Int64) async throws(StoreError) {
        try await write(inTransaction: false) { connection in
            try await connection.query(
                """
                UPDATE outbox SET due_at = \(dueAt), last_error = \(error), updated_at = \(now)
                WHERE id = \(id) AND state = 'pending'
                """, logger: queryLogger)
        }
    }

    public func failJob(_ id: Int64, error: String, at now: Int64) async throws(StoreError) {
        try await write(inTransaction: false) { connection in
            try await connection.query(
                """
                UPDATE outbox SET state = 'failed', last_error = \(error), updated_at = \(now), finished_at = \(now)
                WHERE id = \(id) AND state = 'pending'
                """, logger: queryLogger)
        }
    }

    public func retryFailedJob(_ id: Int64, at now: Int64) async throws(StoreError) -> OutboxJob {
        try await write { connection in
            guard let job = try await Self.fetchJobs(
                connection, "SELECT \(unescaped: Self.jobColumns) FROM outbox WHERE id = \(id) FOR UPDATE"
            ).first else {
                throw StoreError(.notFound, "no outbox job with id \(id) — `slotctl outbox` lists them")
            }
            guard job.state == .failed else {
                throw StoreError(
                    .illegalTransition,
                    "outbox job \(id) is \(job.state.rawValue), not failed: only failed jobs can be retried")
            }
            // Attempts restart so the job gets the full retry schedule again; the last error stays as a clue.
            guard let updated = try await Self.fetchJobs(
                connection,
                """
                UPDATE outbox SET state = 'pending', due_at = \(now), attempts = 0, updated_at = \(now),
                    finished_at = NULL
                WHERE id = \(id) RETURNING \(unescaped: Self.jobColumns)
                """
            ).first else { throw StoreError(.database, "outbox job \(id) vanished") }
            return updated
        }
    }

    public func outboxJob(id: Int64) async throws(StoreError) -> OutboxJob? {
        try await read { connection in
            try await Self.fetchJobs(connection, "SELECT \(unescaped: Self.jobColumns) FROM outbox WHERE id = \(id)")
                .first
        }
    }

    public func recentOutboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob] {
        try await jobs(state: state, limit: limit, newestFirst: true)
    }

    func jobs(state: OutboxState?, limit: Int, newestFirst: Bool) async throws(StoreError) -> [OutboxJob] {
        let order = newestFirst ? "DESC" : ""
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.jobColumns) FROM outbox WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
            ORDER BY id \(unescaped: order) LIMIT \(max(0, limit))
            """
        return try await read { connection in try await Self.fetchJobs(connection, query) }
    }

    public func outboxCounts() async throws(StoreError) -> [OutboxState: Int] {
        let counted = try await countsByState("SELECT state, count(*)::int8 FROM outbox GROUP BY state")
        var counts = Dictionary(uniqueKeysWithValues: OutboxState.allCases.map { ($0, 0) })
        for (state, count) in counted { if let state = OutboxState(rawValue: state) { counts[state] = count } }
        return counts
    }

    public func nextOutboxDue() async throws(StoreError) -> Int64? {
        try await read { connection in
            try await Self.single(connection, "SELECT min(due_at) FROM outbox WHERE state = 'pending'")
        }
    }

    public func enqueueJobs(_ jobs: [OutboxEnqueue], at now: Int64) async throws(StoreError) {
        try await write(inTransaction: false) { connection in try await Self.insertJobs(connection, jobs, at: now) }
    }

    @discardableResult
    public func ensurePendingJob(_ job: OutboxEnqueue, at now: Int64) async throws(StoreError) -> Bool {
        try await write { connection in
            // One pending job of a kind across daemons: the kind's advisory lock orders two daemons ensuring it.
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(\("slotd job " + job.kind), 0))", logger: queryLogger)
            let exists: Bool? = try await Self.single(
                connection, "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = \(job.kind) AND state = 'pending')")
            if exists == true { return false }
            try await Self.insertJobs(connection, [job], at: now)
            return true
        }
    }

    // MARK: - Rows

    static func insertJobs(_ connection: PostgresConnection, _ jobs: [OutboxEnqueue], at now: Int64) async throws {
        try await insertJobs(connection, jobs.map { ($0.kind, $0.payload, $0.dueAt) }, createdAt: now)
    }

    static func insertJobs(_ connection: PostgresConnection, _ jobs: [PendingJob], createdAt: Int64) async throws {
        try await insertJobs(connection, jobs.map { ($0.kind, $0.payload, $0.dueAt) }, createdAt: createdAt)
    }

    static func insertJobs(
        _ connection: PostgresConnection, _ jobs: [(kind: String, payload: Data, dueAt: Int64)], createdAt: Int64
    ) async throws {
        guard let insert = jobsInsert(jobs, createdAt: createdAt) else { return }
        var batch = WriteBatch()
        batch.add(insert)
        _ = try await batch.run(on: connection)
    }

    /// The `INSERT` of `jobs` (ids in their order), for a `WriteBatch`, only when `condition` (SQL) holds; nil
    /// without jobs.
    static func jobsInsert(
        _ jobs: [(kind: String, payload: Data, dueAt: Int64)], createdAt: Int64, when condition: String? = nil
    ) -> SQLFragment? {
        guard !jobs.isEmpty else { return nil }
        let kinds = jobs.map(\.kind)
        let payloads = jobs.map { String(decoding: $0.payload, as: UTF8.self) }
        let dues = jobs.map(\.dueAt)
        return """
            INSERT INTO outbox (kind, payload, due_at, created_at, updated_at)
            SELECT kind, payload, due_at, \(createdAt), \(createdAt)
            FROM unnest(\(kinds)::text[], \(payloads)::json[], \(dues)::int8[]) WITH ORDINALITY
                AS job(kind, payload, due_at, position)
            \(unescaped: condition.map { "WHERE " + $0 } ?? "")
            ORDER BY position
            """
    }

    /// `jobsInsert` for the jobs of a booking plan.
    static func jobsInsert(_ jobs: [PendingJob], createdAt: Int64) -> SQLFragment? {
        jobsInsert(jobs.map { ($0.kind, $0.payload, $0.dueAt) }, createdAt: createdAt)
    }

    static func fetchJobs(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [OutboxJob] {
        var jobs: [OutboxJob] = []
        for try await row in try await connection.query(query, logger: queryLogger) {
            jobs.append(try decodeJob(row.makeRandomAccess()))
        }
        return jobs
    }

    /// A job from `jobColumns`, the first of them at `offset`.
    static func decodeJob(_ columns: PostgresRandomAccessRow, from offset: Int = 0) throws -> OutboxJob {
        func column(_ index: Int) -> PostgresCell { columns[offset + index] }
        var job = OutboxJob(
            id: try column(0).decode(Int64.self), kind: try column(1).decode(String.self),
            payload: Data(try column(2).decode(String.self).utf8), dueAt: try column(3).decode(Int64.self),
            attempts: try column(4).decode(Int.self),
            state: OutboxState(rawValue: try column(5).decode(String.self)) ?? .failed,
            lastError: try column(6).decode(String?.self), createdAt: try column(7).decode(Int64.self))
        job.bookingID = try column(8).decode(String?.self)
        job.updatedAt = try column(9).decode(Int64?.self)
        job.finishedAt = try column(10).decode(Int64?.self)
        job.note = try column(11).decode(String?.self)
        return job
    }
}
