import Foundation
import GRDB

extension SQLiteBookingStore: OutboxStore {
    public func claimDueJobs(at now: Int64, lease: Int64, limit: Int) async throws(StoreError) -> [OutboxJob] {
        guard limit > 0 else { return [] }
        // Most passes find nothing (every lane ends with an empty claim): a WAL read answers that without
        // queueing behind the writer.
        guard try await run({ try await self.anyJobDue(at: now) }) else { return [] }
        return try await claimSeenDueJobs(at: now, lease: lease, limit: limit)
    }

    public func claimSeenDueJobs(at now: Int64, lease: Int64, limit: Int) async throws(StoreError) -> [OutboxJob] {
        guard limit > 0 else { return [] }
        return try await run {
            try await self.bookkeepingWrite { db in try Self.claim(db, at: now, lease: lease, limit: limit) }
        }
    }

    /// `FROM outbox` and the filter of a listing by state. Pending and failed jobs are read through their partial
    /// indexes: walking the table by id would first pass every job ever done.
    static func jobsIn(_ state: OutboxState?) -> String {
        switch state {
        case nil: "FROM outbox"
        case .pending: "FROM outbox INDEXED BY outbox_pending_due WHERE state = 'pending'"
        case .failed: "FROM outbox INDEXED BY outbox_failed WHERE state = 'failed'"
        case .done: "FROM outbox WHERE state = 'done'"
        }
    }

    /// The claim (arguments: lease end, now, now, limit).
    static let claimSQL = """
        UPDATE outbox SET due_at = ?, attempts = attempts + 1, updated_at = ?
        WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?)
        RETURNING \(jobColumns)
        """

    /// Claims up to `limit` due jobs. One statement: the claim (lease and attempt count) commits with the selection,
    /// so two workers cannot claim the same job and a crash after the claim leaves it due again at the lease's end.
    static func claim(_ db: Database, at now: Int64, lease: Int64, limit: Int) throws -> [OutboxJob] {
        guard limit > 0 else { return [] }
        return try Row.fetchAll(db.cachedStatement(sql: claimSQL), arguments: [now + max(1, lease), now, now, limit])
            .map(decodeJob).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func claimDueJobs(
        at now: Int64, lease: Int64, limit: Int, seenDue: Bool, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> OutboxClaim {
        guard limit > 0 else { return OutboxClaim(jobs: []) }
        if !seenDue {
            guard try await run({ try await self.anyJobDue(at: now) }) else { return OutboxClaim(jobs: []) }
        }
        return try await run {
            try await self.bookkeepingWrite { db in
                let jobs = try Self.claim(db, at: now, lease: lease, limit: limit, completing: completing)
                return OutboxClaim(jobs: jobs, nextDue: try Self.nextDue(db))
            }
        }
    }

    /// Claims up to `limit` due jobs that `completing` does not complete, finishing those it does in the caller's
    /// transaction (`InlineCompletion`).
    static func claim(
        _ db: Database, at now: Int64, lease: Int64, limit: Int, completing: @escaping OutboxInlineCompletion
    ) throws -> [OutboxJob] {
        try InlineCompletion.claim(
            limit: limit, completing: completing, booking: { id in try fetchBooking(db, id: id) },
            claim: { limit in try claim(db, at: now, lease: lease, limit: limit) },
            finish: { job, completion in
                _ = try finish(db, job.id, at: now, note: completion.note, enqueue: completion.enqueue, events: [])
            })
    }

    /// Whether a pending job is due.
    private func anyJobDue(at now: Int64) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' AND due_at <= ?)"),
                arguments: [now]) ?? false
        }
    }

    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        try await finishAndClaim(
            id, at: now, note: note, enqueue: jobs, events: events, thenClaim: limit, lease: lease, completing: nil)
    }

    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        try await finishAndClaim(
            id, at: now, note: note, enqueue: jobs, events: events, thenClaim: limit, lease: lease,
            completing: completing)
    }

    private func finishAndClaim(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64, completing: OutboxInlineCompletion?
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        let finish: @Sendable (Database) throws -> (events: [StoredEvent], claimed: [OutboxJob]) = { db in
            let appended = try Self.finish(db, id, at: now, note: note, enqueue: jobs, events: events)
            guard limit > 0 else { return (appended, []) }
            guard let completing else { return (appended, try Self.claim(db, at: now, lease: lease, limit: limit)) }
            return (appended, try Self.claim(db, at: now, lease: lease, limit: limit, completing: completing))
        }
        return try await run {
            events.isEmpty ? try await self.bookkeepingWrite(finish) : try await self.write(finish)
        }
    }

    /// Marks a pending job done with its fan-out and events; returns the events with their cursors. A job finished
    /// already (a second run after a lost lease) changes nothing: its fan-out was enqueued then, and doing it again
    /// would duplicate deliveries.
    static func finish(
        _ db: Database, _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue],
        events: [OutboxEvent]
    ) throws -> [StoredEvent] {
        try db.cachedStatement(
            sql: """
                UPDATE outbox SET state = 'done', updated_at = ?, finished_at = ?, note = ?, last_error = NULL
                WHERE id = ? AND state = 'pending'
                """
        ).execute(arguments: [now, now, note, id])
        guard db.changesCount > 0 else { return [] }
        try insertJobs(db, jobs, at: now)
        var appended: [StoredEvent] = []
        for event in events {
            try db.execute(
                sql: "INSERT INTO events (type, at, data) VALUES (?, ?, ?)",
                arguments: [event.type, now, String(decoding: event.data, as: UTF8.self)])
            appended.append(StoredEvent(cursor: db.lastInsertedRowID, type: event.type, at: now, data: event.data))
        }
        return appended
    }

    public func retryJobLater(_ id: Int64, error: String, dueAt: Int64, at now: Int64) async throws(StoreError) {
        try await run {
            try await self.bookkeepingWrite { db in
                try db.execute(
                    sql: """
                        UPDATE outbox SET due_at = ?, last_error = ?, updated_at = ?
                        WHERE id = ? AND state = 'pending'
                        """,
                    arguments: [dueAt, error, now, id])
            }
        }
    }

    public func failJob(_ id: Int64, error: String, at now: Int64) async throws(StoreError) {
        try await run {
            try await self.bookkeepingWrite { db in
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ?, finished_at = ?
                        WHERE id = ? AND state = 'pending'
                        """,
                    arguments: [error, now, now, id])
            }
        }
    }

    public func retryFailedJob(_ id: Int64, at now: Int64) async throws(StoreError) -> OutboxJob {
        try await run {
            try await self.write { db in
                guard let job = try Self.fetchJob(db, id: id) else {
                    throw StoreError(.notFound, "no outbox job with id \(id) — `slotctl outbox` lists them")
                }
                guard job.state == .failed else {
                    throw StoreError(
                        .illegalTransition,
                        "outbox job \(id) is \(job.state.rawValue), not failed: only failed jobs can be retried")
                }
                // Attempts restart so the job gets the full retry schedule again; the last error stays as a clue.
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'pending', due_at = ?, attempts = 0, updated_at = ?,
                            finished_at = NULL
                        WHERE id = ?
                        """,
                    arguments: [now, now, id])
                guard let updated = try Self.fetchJob(db, id: id) else { throw StoreError(.database, "job vanished") }
                return updated
            }
        }
    }

    public func outboxJob(id: Int64) async throws(StoreError) -> OutboxJob? {
        try await run { try await self.read { db in try Self.fetchJob(db, id: id) } }
    }

    public func recentOutboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob] {
        try await run {
            try await self.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT \(Self.jobColumns) " + Self.jobsIn(state) + " ORDER BY id DESC LIMIT ?",
                    arguments: [max(0, limit)]
                ).map(Self.decodeJob)
            }
        }
    }

    public func outboxCounts() async throws(StoreError) -> [OutboxState: Int] {
        try await run {
            try await self.read { db in
                var counts = Dictionary(uniqueKeysWithValues: OutboxState.allCases.map { ($0, 0) })
                for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM outbox GROUP BY state") {
                    if let state = OutboxState(rawValue: row["state"]) { counts[state] = row["n"] }
                }
                return counts
            }
        }
    }

    public func nextOutboxDue() async throws(StoreError) -> Int64? {
        try await run { try await self.read { db in try Self.nextDue(db) } }
    }

    /// The earliest `due_at` of a pending job.
    static func nextDue(_ db: Database) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(due_at) FROM outbox WHERE state = 'pending'"))
    }

    public func enqueueJobs(_ jobs: [OutboxEnqueue], at now: Int64) async throws(StoreError) {
        try await run { try await self.write { db in try Self.insertJobs(db, jobs, at: now) } }
    }

    @discardableResult
    public func ensurePendingJob(_ job: OutboxEnqueue, at now: Int64) async throws(StoreError) -> Bool {
        try await run {
            try await self.write { db in
                let exists = try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = ? AND state = 'pending')",
                    arguments: [job.kind]) ?? false
                if exists { return false }
                try Self.insertJobs(db, [job], at: now)
                return true
            }
        }
    }
}

// MARK: - Rows

extension SQLiteBookingStore {
    static let jobColumns = """
        id, kind, payload, due_at, attempts, state, last_error, created_at, booking_id, updated_at, finished_at, note
        """

    static func fetchJob(_ db: Database, id: Int64) throws -> OutboxJob? {
        try Row.fetchOne(db, sql: "SELECT \(jobColumns) FROM outbox WHERE id = ?", arguments: [id]).map(decodeJob)
    }

    static func insertJobs(_ db: Database, _ jobs: [OutboxEnqueue], at now: Int64) throws {
        for job in jobs {
            // A job enqueued finished (`finishedNote`) is written done, one attempt counted; the others pending.
            let done = job.finishedNote != nil
            try db.cachedStatement(
                sql: """
                    INSERT INTO outbox (kind, payload, due_at, attempts, state, created_at, updated_at, finished_at,
                        note)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                job.kind, String(decoding: job.payload, as: UTF8.self), job.dueAt, done ? 1 : 0,
                done ? "done" : "pending", now, now, done ? now : nil, job.finishedNote,
            ])
        }
    }

    /// A row of `jobColumns`, read by position (they are always selected in that order): a lookup by name folds
    /// case on every access.
    static func decodeJob(_ row: Row) -> OutboxJob {
        var job = OutboxJob(
            id: row[0], kind: row[1], payload: Data((row[2] as String).utf8), dueAt: row[3], attempts: row[4],
            state: OutboxState(rawValue: row[5]) ?? .failed, lastError: row[6], createdAt: row[7])
        job.bookingID = row[8]
        job.updatedAt = row[9]
        job.finishedAt = row[10]
        job.note = row[11]
        return job
    }
}
