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
        let jobs = try await fetchJobs(
            connection,
            """
            UPDATE outbox SET due_at = \(now + max(1, lease)), attempts = attempts + 1, updated_at = \(now)
            WHERE id IN (
                SELECT id FROM outbox WHERE state = 'pending' AND due_at <= \(now) ORDER BY due_at, id LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            )
            RETURNING \(unescaped: jobColumns)
            """)
        return jobs.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        try await write { connection in
            let finished = try await connection.query(
                """
                UPDATE outbox SET state = 'done', updated_at = \(now), finished_at = \(now), note = \(note),
                    last_error = NULL
                WHERE id = \(id) AND state = 'pending' RETURNING id
                """, logger: queryLogger
            ).collect()
            // Nothing changed: the job was finished already (a second run after a lost lease). Its fan-out was
            // enqueued then; doing it again would duplicate deliveries.
            var appended: [StoredEvent] = []
            let claimed = try await Self.claim(connection, at: now, lease: lease, limit: limit)
            if !finished.isEmpty {
                var batch = WriteBatch()
                if let insert = Self.jobsInsert(jobs.map { ($0.kind, $0.payload, $0.dueAt) }, createdAt: now) {
                    batch.add(insert)
                }
                appended = try await batch.run(on: connection, appending: events.map { ($0.type, now, $0.data) })
            }
            return (appended, claimed)
        }
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

    /// The `INSERT` of `jobs` (ids in their order), for a `WriteBatch`; nil without jobs.
    static func jobsInsert(_ jobs: [(kind: String, payload: Data, dueAt: Int64)], createdAt: Int64) -> SQLFragment? {
        guard !jobs.isEmpty else { return nil }
        let kinds = jobs.map(\.kind)
        let payloads = jobs.map { String(decoding: $0.payload, as: UTF8.self) }
        let dues = jobs.map(\.dueAt)
        return """
            INSERT INTO outbox (kind, payload, due_at, created_at, updated_at)
            SELECT kind, payload, due_at, \(createdAt), \(createdAt)
            FROM unnest(\(kinds)::text[], \(payloads)::json[], \(dues)::int8[]) WITH ORDINALITY
                AS job(kind, payload, due_at, position)
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
            let columns = row.makeRandomAccess()
            var job = OutboxJob(
                id: try columns[0].decode(Int64.self), kind: try columns[1].decode(String.self),
                payload: Data(try columns[2].decode(String.self).utf8), dueAt: try columns[3].decode(Int64.self),
                attempts: try columns[4].decode(Int.self),
                state: OutboxState(rawValue: try columns[5].decode(String.self)) ?? .failed, lastError: try columns[6].decode(String?.self),
                createdAt: try columns[7].decode(Int64.self))
            job.bookingID = try columns[8].decode(String?.self)
            job.updatedAt = try columns[9].decode(Int64?.self)
            job.finishedAt = try columns[10].decode(Int64?.self)
            job.note = try columns[11].decode(String?.self)
            jobs.append(job)
        }
        return jobs
    }
}
