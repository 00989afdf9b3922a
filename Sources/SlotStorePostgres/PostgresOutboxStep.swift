import Foundation
import PostgresNIO
import SlotStore

/// One write of the outbox worker's as one statement, atomic on its own (no `BEGIN` and `COMMIT` round trips):
/// finishes a job (its fan-out enqueued and its events appended only when this run is the one that finished it: a
/// job finished already, a second run after a lost lease, changes nothing), claims up to `claim` due jobs with
/// `FOR UPDATE SKIP LOCKED`, and can return the claimed jobs' bookings and the next due time with them.
///
/// The fan-out's pending jobs that are due at once are inserted already claimed by this worker, as many as the claim
/// has room for after the due jobs that were waiting (those go first, as a claim takes the oldest first): a
/// statement sees the table as it was when it started, so a claim in it could not see the rows it inserts. A
/// notification's fan-out and its delivery's claim are then one statement (a delivery made at the fan-out, through a
/// provider that makes no call, is inserted done instead).
struct OutboxStep {
    /// The job a step records as done, with what it leads to.
    struct Finish {
        var id: Int64
        var note: String?
        var enqueue: [OutboxEnqueue]
        var events: [OutboxEvent]
    }

    /// What a step returns.
    struct Result: Sendable {
        /// The events the finish appended, with their cursors (to publish after the commit).
        var appended: [StoredEvent] = []
        /// The jobs claimed (leased to this worker), oldest first.
        var claimed: [OutboxJob] = []
        /// The bookings of the claimed jobs that name one (`readsBookings`), as the statement read them; a nil
        /// value: the booking does not exist.
        var bookings: [String: StoredBooking?] = [:]
        /// Whether the step read `nextDue` (`readsNextDue`).
        var sawNextDue = false
        /// The earliest `due_at` of a pending job after the step, the claimed ones included (their lease's end).
        var nextDue: Int64?
    }

    var now: Int64
    var lease: Int64
    var finish: Finish?
    /// How many due jobs to claim, at most.
    var claim: Int
    /// Whether the claimed jobs' bookings come back with them, for a completion inside the claim.
    var readsBookings = false
    /// Whether the step returns when the next pending job is due after it.
    var readsNextDue = false

    init(at now: Int64, lease: Int64, finishing finish: Finish? = nil, claim: Int) {
        self.now = now
        self.lease = lease
        self.finish = finish
        self.claim = max(0, claim)
    }

    /// The claim of `claimDueJobs(…completing:)`: with the claimed jobs' bookings and the next due time.
    static func completingClaim(at now: Int64, lease: Int64, limit: Int) -> OutboxStep {
        var step = OutboxStep(at: now, lease: lease, claim: limit)
        step.readsBookings = true
        step.readsNextDue = true
        return step
    }

    /// The record of job `id` completed inside a claim (`completion` has no events), with the claim in its place.
    /// It reads the next due time even for a caller that does not need it: one shape, prepared (`FanOutStep`).
    static func completion(
        _ id: Int64, _ completion: OutboxCompletion, at now: Int64, lease: Int64, thenClaim limit: Int
    ) -> OutboxStep {
        let finish = Finish(id: id, note: completion.note, enqueue: completion.enqueue, events: [])
        var step = OutboxStep(at: now, lease: lease, finishing: finish, claim: limit)
        step.readsBookings = true
        step.readsNextDue = true
        return step
    }

    /// A lane's record of its job, with the lane's next claim (`finishJob(…completing:)`).
    static func laneFinish(_ finish: Finish, at now: Int64, lease: Int64, thenClaim limit: Int) -> OutboxStep {
        var step = OutboxStep(at: now, lease: lease, finishing: finish, claim: limit)
        step.readsBookings = true
        return step
    }

    private var events: [WriteBatch.EventRow] { (finish?.events ?? []).map { ($0.type, now, $0.data) } }

    /// The statement. Its rows: the next due time (or NULL), the log's new head (NULL: nothing appended), the
    /// notification, whether the job was claimed from the queue (NULL: no job claimed; false: a fan-out's job), the
    /// job's `jobColumns`, and with `readsBookings` its booking's `bookingColumns` (NULLs: none).
    var statement: SQLFragment {
        typealias Store = PostgresBookingStore
        let finishedNow = "EXISTS (SELECT 1 FROM finished)"
        var ctes: [SQLFragment] = []
        var writes: [String] = []
        var jobs: SQLFragment = "SELECT true AS queued, c.* FROM claimed c"
        if let finish {
            ctes.append(
                """
                finished AS (
                    UPDATE outbox SET state = 'done', updated_at = \(now), finished_at = \(now), note = \(finish.note),
                        last_error = NULL
                    WHERE id = \(finish.id) AND state = 'pending' RETURNING id
                )
                """)
        }
        ctes.append(
            "claimed AS (" + Store.claimStatement(at: now, lease: lease, limit: claim, excluding: finish?.id) + ")")
        let fanOut = Store.jobsInsert(
            (finish?.enqueue ?? []).map(Store.JobRow.init), createdAt: now, when: finishedNow,
            claiming: (room: "\(claim) - (SELECT count(*) FROM claimed)", leaseEnd: now + max(1, lease)))
        if let fanOut {
            ctes.append("fan_out AS (" + fanOut + " RETURNING \(unescaped: Store.jobColumns))")
            writes.append("fan_out")
            jobs = jobs + " UNION ALL SELECT false, f.* FROM fan_out f WHERE f.state = 'pending' AND f.attempts > 0"
        }
        var head: SQLFragment = "SELECT NULL::int8 AS last_cursor, NULL::void AS notified"
        if !events.isEmpty {
            ctes.append(WriteBatch.appending(events, after: writes, condition: finishedNow))
            head = "SELECT last_cursor, "
                + WriteBatch.notification(head: "last_cursor", count: events.count, enqueuesJobs: !writes.isEmpty)
                + " AS notified FROM head"
        }
        let nextDue: SQLFragment = readsNextDue ? nextDueExpression(fanOut: fanOut != nil) : "NULL::int8"
        var select: SQLFragment = " SELECT (" + nextDue + ") AS next_due, h.last_cursor, h.notified, j.*"
        var from: SQLFragment = " FROM (SELECT 1) AS one LEFT JOIN (" + head + ") AS h ON true LEFT JOIN (" + jobs
            + ") AS j ON true"
        if readsBookings {
            select = select + ", \(unescaped: Store.bookingColumns)"
            // A lookup by primary key per job, never a join the planner may choose to hash: these statements run
            // prepared, and a generic plan made while the table was small scanned the whole of it on every run as
            // it grew (a daemon started on an empty database; `LIMIT 1` keeps the subquery from being flattened).
            from = from + " LEFT JOIN LATERAL (SELECT * FROM bookings WHERE j.queued AND id = j.booking_id LIMIT 1)"
                + " AS b ON true"
        }
        return "WITH " + SQLFragment.joined(ctes, separator: ", ") + select + from
    }

    /// The earliest due time of a pending job once the statement has run. The statement sees the table as it was
    /// when it started: the claimed jobs are counted at their lease's end, the finished one not at all, the
    /// fan-out's pending jobs as inserted. A due job the claim left although it had room was locked by another
    /// daemon's claim at that moment, which leases it: it counts as due a second later, not now, so the worker does
    /// not spin on it.
    private func nextDueExpression(fanOut: Bool) -> SQLFragment {
        let waiting: SQLFragment = """
            SELECT CASE WHEN (SELECT count(*) FROM claimed) < \(claim) THEN greatest(o.due_at, \(now + 1))
                ELSE o.due_at END
            FROM outbox o
            WHERE o.state = 'pending' AND o.id NOT IN (SELECT id FROM claimed) AND o.id IS DISTINCT FROM \(finish?.id)
            ORDER BY o.due_at LIMIT 1
            """
        let inserted: SQLFragment = fanOut ? ", (SELECT min(due_at) FROM fan_out WHERE state = 'pending')" : ""
        return "SELECT least((" + waiting + "), (SELECT min(due_at) FROM claimed)" + inserted + ")"
    }

    /// The statement with its values.
    var query: PostgresQuery {
        get throws {
            var sql = PostgresQuery.StringInterpolation(literalCapacity: 4_096, interpolationCount: 32)
            try statement.append(to: &sql)
            return PostgresQuery(stringInterpolation: sql)
        }
    }

    /// Runs the statement on `connection`: prepared when it is one of the worker's frequent shapes
    /// (`PreparedOutboxStep`), else as an unnamed statement.
    func run(on connection: PostgresConnection) async throws -> Result {
        let query = try query
        switch query.sql {
        case ClaimStep.sql:
            return try await decode(connection.execute(ClaimStep(binds: query.binds), logger: queryLogger))
        case FanOutStep.sql:
            return try await decode(connection.execute(FanOutStep(binds: query.binds), logger: queryLogger))
        case FinishStep.sql:
            return try await decode(connection.execute(FinishStep(binds: query.binds), logger: queryLogger))
        default:
            return try await decode(connection.query(query, logger: queryLogger))
        }
    }

    /// The statement's rows, read.
    private func decode(_ rows: some AsyncSequence<PostgresRow, any Error>) async throws -> Result {
        var result = Result()
        result.sawNextDue = readsNextDue
        var head: Int64?
        let jobOffset = 4
        let bookingOffset = jobOffset + 12
        for try await row in rows {
            let columns = row.makeRandomAccess()
            result.nextDue = try columns[0].decode(Int64?.self)
            head = try columns[1].decode(Int64?.self)
            guard let queued = try columns[3].decode(Bool?.self) else { continue }
            let job = try PostgresBookingStore.decodeJob(columns, from: jobOffset)
            result.claimed.append(job)
            if readsBookings, queued, let id = job.bookingID {
                let found = try columns[bookingOffset].decode(String?.self) == nil
                    ? nil : try PostgresBookingStore.decodeBooking(columns, from: bookingOffset)
                result.bookings.updateValue(found, forKey: id)
            }
        }
        result.claimed = PostgresBookingStore.inClaimOrder(result.claimed)
        result.appended = head.map { WriteBatch.stored(events, head: $0) } ?? []
        return result
    }

    /// The SQL of steps shaped like `step` (their values are all bound, so the text depends on the shape only).
    static func sql(shapedLike step: OutboxStep) -> String {
        // The shapes below bind only plain values, which cannot fail to encode.
        (try? step.query.sql) ?? ""
    }
}

// MARK: - Prepared shapes

/// The outbox worker's frequent steps as prepared statements, which PostgreSQL parses and plans once per connection
/// instead of on every run: planning these statements of several CTEs took longer than running them
/// (pg_stat_statements' `total_plan_time`, README "Running on PostgreSQL"). `OutboxStep.run` picks one by the
/// step's SQL text, so a step of another shape can never run under a wrong one.
protocol PreparedOutboxStep: PostgresPreparedStatement where Row == PostgresRow {
    var binds: PostgresBindings { get }
}

extension PreparedOutboxStep {
    func makeBindings() -> PostgresBindings { binds }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// A claim that completes jobs itself (`OutboxStep.completingClaim`).
struct ClaimStep: PreparedOutboxStep {
    static let name = "slotd_outbox_claim"
    static let sql = OutboxStep.sql(shapedLike: .completingClaim(at: 0, lease: 1, limit: 1))
    let binds: PostgresBindings
}

/// A job completed inside a claim, recorded with its fan-out and the next claim (`OutboxStep.completion`).
struct FanOutStep: PreparedOutboxStep {
    static let name = "slotd_outbox_fan_out"
    static let sql = OutboxStep.sql(
        shapedLike: .completion(
            0, OutboxCompletion(note: nil, enqueue: [OutboxEnqueue(kind: "k", payload: Data("{}".utf8), dueAt: 0)]),
            at: 0, lease: 1, thenClaim: 1))
    let binds: PostgresBindings
}

/// A job run in a lane (a delivery), recorded with the lane's next claim (`OutboxStep.laneFinish`).
struct FinishStep: PreparedOutboxStep {
    static let name = "slotd_outbox_finish"
    static let sql = OutboxStep.sql(
        shapedLike: .laneFinish(
            OutboxStep.Finish(id: 0, note: nil, enqueue: [], events: []), at: 0, lease: 1, thenClaim: 1))
    let binds: PostgresBindings
}
