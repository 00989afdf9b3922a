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
        let finish = OutboxStep.Finish(id: id, note: note, enqueue: jobs, events: events)
        let step = try await run(OutboxStep(at: now, lease: lease, finishing: finish, claim: limit))
        return (step.appended, step.claimed)
    }

    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        let finish = OutboxStep.Finish(id: id, note: note, enqueue: jobs, events: events)
        return try await claimThen(.laneFinish(finish, at: now, lease: lease, thenClaim: limit)) { first, connection in
            let claim = await self.completeInClaims(
                first, on: connection, limit: limit, lease: lease, at: now, completing: completing)
            return (first.appended, claim.jobs)
        }
    }

    public func claimDueJobs(
        at now: Int64, lease: Int64, limit: Int, seenDue: Bool, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> OutboxClaim {
        guard limit > 0 else { return OutboxClaim(jobs: []) }
        // No look first whether anything is due (`seenDue`): the claim is one statement, as cheap as that look.
        return try await claimThen(.completingClaim(at: now, lease: lease, limit: limit)) { first, connection in
            await self.completeInClaims(
                first, on: connection, limit: limit, lease: lease, at: now, completing: completing)
        }
    }

    public func leaseOwnJobs(_ lease: OwnJobLease?) {
        ownJobs.withLock { $0 = lease }
    }

    public func completeLeasedJobs(
        _ jobs: [OutboxJob], bookings: [String: StoredBooking], at now: Int64, lease: Int64, limit: Int,
        completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> OutboxClaim {
        guard !jobs.isEmpty else { return OutboxClaim(jobs: []) }
        // As if a claim had just taken them with their bookings: the first finish is its own statement with the
        // next claim, and the claim that would have found them is not sent at all.
        let leased = OutboxStep.Result(claimed: jobs, bookings: bookings.mapValues { Optional($0) })
        return try await write(inTransaction: false) { connection in
            await self.completeInClaims(
                leased, on: connection, limit: limit, lease: lease, at: now, completing: completing)
        }
    }

    /// Runs one outbox statement.
    func run(_ step: OutboxStep) async throws(StoreError) -> OutboxStep.Result {
        try await write(inTransaction: false) { connection in try await step.run(on: connection) }
    }

    /// Runs `first` (a statement that claims), then `rest` with its result on the same pooled connection, as one
    /// store operation (one lease, one deadline): a claim and the records of the jobs finished inside it took a lease
    /// each before. Only `first` runs again on a conflict with another writer (`write`): `rest` throws nothing.
    func claimThen<T: Sendable>(
        _ first: OutboxStep, then rest: @escaping @Sendable (OutboxStep.Result, PostgresConnection) async -> T
    ) async throws(StoreError) -> T {
        try await write(inTransaction: false) { connection in
            let result = try await first.run(on: connection)
            return await rest(result, connection)
        }
    }

    /// Finishes each job `first` claimed that `completing` completes, from the bookings read with its claim, and
    /// claims another in its place, until `limit` jobs are left to run, none is due, or `InlineCompletion`'s
    /// `finishLimit` jobs are finished. SQLite does this in the claim's transaction; here each finish is one
    /// statement of its own with the next claim (`OutboxStep`) on `connection`, and a completed job keeps its lease
    /// until then, so no other daemon runs it meanwhile, and a finish that fails leaves it to run again once the lease
    /// lapses (logged; the claim answers with the jobs handed out so far).
    func completeInClaims(
        _ first: OutboxStep.Result, on connection: PostgresConnection, limit: Int, lease: Int64, at now: Int64,
        completing: @escaping OutboxInlineCompletion
    ) async -> OutboxClaim {
        var step = first
        var handedOut: [OutboxJob] = []
        var completed: [(job: OutboxJob, completion: OutboxCompletion)] = []
        var finished = 0
        while true {
            let read = step.bookings
            let booking: (String) throws -> StoredBooking? = { id in
                guard let found = read[id] else {
                    throw StoreError(.database, "booking \(id) was not read with the claim")
                }
                return found
            }
            for job in step.claimed {
                // A completion that appends events is not taken: the job runs in a lane (see the protocol).
                if finished + completed.count < InlineCompletion.finishLimit,
                    let completion = completing(job, booking), completion.events.isEmpty
                {
                    completed.append((job, completion))
                } else {
                    handedOut.append(job)
                }
            }
            guard !completed.isEmpty else {
                guard step.sawNextDue else { return OutboxClaim(jobs: handedOut) }
                return OutboxClaim(jobs: handedOut, nextDue: step.nextDue)
            }
            let (job, completion) = completed.removeFirst()
            finished += 1
            do {
                step = try await OutboxStep.completion(
                    job.id, completion, at: now, lease: lease, thenClaim: limit - handedOut.count
                ).run(on: connection)
            } catch {
                // Jobs claimed and not recorded keep their lease: they run again once it lapses.
                logger.error(
                    "outbox: finishing a job inside its claim failed; it runs again after its lease",
                    metadata: ["job": "\(job.id)", "error": "\(Self.describe(error))"])
                return OutboxClaim(jobs: handedOut)
            }
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
        try await insertJobs(connection, jobs.map(JobRow.init), createdAt: now)
    }

    static func insertJobs(_ connection: PostgresConnection, _ jobs: [PendingJob], createdAt: Int64) async throws {
        try await insertJobs(connection, jobs.map(JobRow.init), createdAt: createdAt)
    }

    static func insertJobs(_ connection: PostgresConnection, _ jobs: [JobRow], createdAt: Int64) async throws {
        guard let insert = jobsInsert(jobs, createdAt: createdAt) else { return }
        var batch = WriteBatch()
        batch.add(insert)
        _ = try await batch.run(on: connection)
    }

    /// A job as `jobsInsert` writes it.
    struct JobRow {
        var kind: String
        var payload: Data
        var dueAt: Int64
        /// `OutboxEnqueue.finishedNote`: the job is written done.
        var finishedNote: String?

        init(_ job: OutboxEnqueue) {
            (kind, payload, dueAt, finishedNote) = (job.kind, job.payload, job.dueAt, job.finishedNote)
        }

        init(_ job: PendingJob) {
            (kind, payload, dueAt, finishedNote) = (job.kind, job.payload, job.dueAt, nil)
        }
    }

    /// The `INSERT` of `jobs` (ids in their order), for a `WriteBatch`, only when `condition` (SQL) holds; nil
    /// without jobs. A job with a finished note is written done (one attempt counted), never claimed or leased.
    /// `claiming`: the first pending jobs due at `createdAt`, up to `room` (SQL) of them, are inserted claimed
    /// (leased until `leaseEnd`, one attempt counted) for the worker whose statement enqueues them (`OutboxStep`).
    /// `leasedUntil`: every job is inserted so (a booking's own jobs, `OwnJobLease`), without the counting
    /// `claiming` needs, as the insert runs inside the staff member's lock.
    static func jobsInsert(
        _ jobs: [JobRow], createdAt: Int64, when condition: String? = nil,
        claiming: (room: SQLFragment, leaseEnd: Int64)? = nil, leasedUntil: Int64? = nil
    ) -> SQLFragment? {
        guard !jobs.isEmpty else { return nil }
        let kinds = jobs.map(\.kind)
        let payloads = jobs.map { String(decoding: $0.payload, as: UTF8.self) }
        let dues = jobs.map(\.dueAt)
        // Text arrays bind no NULLs here: an empty note is a pending job (`OutboxEnqueue` never makes an empty one).
        let notes = jobs.map { $0.finishedNote ?? "" }
        let filter = condition.map { "WHERE " + $0 } ?? ""
        let rows: SQLFragment = """
            (SELECT kind, payload, due_at, NULLIF(note, '') AS note, position
            FROM unnest(\(kinds)::text[], \(payloads)::json[], \(dues)::int8[], \(notes)::text[]) WITH ORDINALITY
                AS job(kind, payload, due_at, note, position)) AS job
            """
        let leased: SQLFragment
        if let claiming {
            leased = """
                job.note IS NULL AND job.due_at <= \(createdAt) AND row_number() OVER (
                    PARTITION BY job.note IS NULL AND job.due_at <= \(createdAt) ORDER BY job.position
                ) <= \(claiming.room)
                """
        } else {
            leased = leasedUntil == nil ? "false" : "job.note IS NULL"
        }
        let leaseEnd = claiming?.leaseEnd ?? leasedUntil ?? 0
        return """
            INSERT INTO outbox (kind, payload, due_at, attempts, state, created_at, updated_at, finished_at, note)
            SELECT kind, payload, CASE WHEN leased THEN \(leaseEnd) ELSE due_at END,
                CASE WHEN leased OR note IS NOT NULL THEN 1 ELSE 0 END,
                CASE WHEN note IS NULL THEN 'pending' ELSE 'done' END, \(createdAt), \(createdAt),
                CASE WHEN note IS NOT NULL THEN \(createdAt) END, note
            FROM (SELECT job.*, \(leased) AS leased FROM \(rows)) AS job
            \(unescaped: filter)
            ORDER BY position
            """
    }

    /// `jobsInsert` for the jobs of a booking plan.
    static func jobsInsert(_ jobs: [PendingJob], createdAt: Int64, leasedUntil: Int64? = nil) -> SQLFragment? {
        jobsInsert(jobs.map(JobRow.init), createdAt: createdAt, leasedUntil: leasedUntil)
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
