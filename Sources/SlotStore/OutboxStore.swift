import Foundation
import SlotCore
import SlotEngine

/// What the outbox worker needs of the store: claim due jobs under a lease, record each outcome, and let an
/// operator see and retry failed jobs.
///
/// At least once: a claimed job stays `pending` with its `due_at` moved to the end of the lease, so if the worker
/// dies mid-call the job is due again once the lease lapses. Handlers make a second run harmless (idempotency keys,
/// stable message ids).
public protocol OutboxStore: Sendable {
    /// Claims up to `limit` pending jobs due at `now` (oldest due first): in one statement each job's `due_at`
    /// moves to `now + lease` and its `attempts` increments. Returns the claimed jobs as they are after the claim.
    func claimDueJobs(at now: Int64, lease: Int64, limit: Int) async throws(StoreError) -> [OutboxJob]

    /// `claimDueJobs` for a caller that has just seen a job due (`nextOutboxDue`): a store that first reads whether
    /// anything is due, so that a claim finding nothing costs no write, skips that read here.
    func claimSeenDueJobs(at now: Int64, lease: Int64, limit: Int) async throws(StoreError) -> [OutboxJob]

    /// Marks a job `done` and, in the same transaction, enqueues `jobs` and appends `events` (fan-out, the next
    /// sweep). Returns the appended events with their cursors, to publish after commit.
    @discardableResult
    func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent]
    ) async throws(StoreError) -> [StoredEvent]

    /// `finishJob`, then claims up to `limit` due jobs as `claimDueJobs` does, in the same transaction: a busy
    /// worker records one job and takes the next (often the deliveries the first fanned out to) in one write.
    func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob])

    /// `claimDueJobs` (`claimSeenDueJobs` when `seenDue`) that, in the claim's own transaction, finishes each
    /// claimed job `completing` completes (recorded as `finishJob` records it) and claims again in its place: a
    /// notification's fan-out then costs no transaction of its own. Returns the claimed jobs left to run, and the
    /// next due time as the transaction saw it after claiming, where the store looks there.
    func claimDueJobs(
        at now: Int64, lease: Int64, limit: Int, seenDue: Bool, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> OutboxClaim

    /// `finishJob(…thenClaim:lease:)` whose claim finishes what `completing` completes, as in
    /// `claimDueJobs(…completing:)`.
    func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob])

    /// From now on, a booking's creation leases its own jobs that `lease` takes (due at once) to this daemon's outbox
    /// worker in the write itself and hands them to `lease.handOff` after the commit, so the worker finishes them
    /// without a claim first; nil stops it. A store that cannot leases nothing (the default): the worker claims.
    func leaseOwnJobs(_ lease: OwnJobLease?)

    /// Finishes, as `claimDueJobs(…completing:)` finishes what it claimed, what `completing` completes of `jobs`
    /// (leased to this worker by their write: `leaseOwnJobs`), from `bookings` as the write left them, claiming up to
    /// `limit` due jobs in their place; returns the jobs left to run (the leased ones it did not finish among them).
    func completeLeasedJobs(
        _ jobs: [OutboxJob], bookings: [String: StoredBooking], at now: Int64, lease: Int64, limit: Int,
        completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> OutboxClaim

    /// Leaves a job `pending`, due again at `dueAt`, with the error of this attempt.
    func retryJobLater(_ id: Int64, error: String, dueAt: Int64, at now: Int64) async throws(StoreError)

    /// Parks a job as `failed` with its last error (after the attempt limit, or a permanent error).
    func failJob(_ id: Int64, error: String, at now: Int64) async throws(StoreError)

    /// Puts a `failed` job back to `pending`, due at `now`, with its attempts reset; an operator's retry. Throws
    /// `notFound` for an unknown id and `illegalTransition` unless the job is `failed`.
    func retryFailedJob(_ id: Int64, at now: Int64) async throws(StoreError) -> OutboxJob

    /// One job, or nil.
    func outboxJob(id: Int64) async throws(StoreError) -> OutboxJob?

    /// Jobs in a state (or all), newest first, at most `limit`.
    func recentOutboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob]

    /// How many jobs are in each state (every state present, zero when empty).
    func outboxCounts() async throws(StoreError) -> [OutboxState: Int]

    /// The earliest `due_at` of a pending job, so the worker knows when to wake.
    func nextOutboxDue() async throws(StoreError) -> Int64?

    /// Enqueues jobs outside a booking write (the first sweep, tests).
    func enqueueJobs(_ jobs: [OutboxEnqueue], at now: Int64) async throws(StoreError)

    /// Enqueues `job` unless a pending job of its kind exists; returns whether it enqueued (one pending sweep).
    @discardableResult
    func ensurePendingJob(_ job: OutboxEnqueue, at now: Int64) async throws(StoreError) -> Bool
}

extension OutboxStore {
    /// `claimDueJobs`: what a store does unless it checks before claiming.
    public func claimSeenDueJobs(at now: Int64, lease: Int64, limit: Int) async throws(StoreError) -> [OutboxJob] {
        try await claimDueJobs(at: now, lease: lease, limit: limit)
    }

    /// `finishJob` claiming nothing after it: what a store does unless it has a cheaper way.
    @discardableResult
    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent]
    ) async throws(StoreError) -> [StoredEvent] {
        try await finishJob(id, at: now, note: note, enqueue: jobs, events: events, thenClaim: 0, lease: 0).events
    }

    /// A claim that completes nothing itself (every claimed job runs in a lane): what a store does unless it can
    /// read a booking inside its claim.
    public func claimDueJobs(
        at now: Int64, lease: Int64, limit: Int, seenDue: Bool, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> OutboxClaim {
        OutboxClaim(
            jobs: seenDue
                ? try await claimSeenDueJobs(at: now, lease: lease, limit: limit)
                : try await claimDueJobs(at: now, lease: lease, limit: limit))
    }

    /// Leases nothing: every job is claimed.
    public func leaseOwnJobs(_ lease: OwnJobLease?) {}

    /// Hands every leased job out as claimed (a store that leases none is never asked).
    public func completeLeasedJobs(
        _ jobs: [OutboxJob], bookings: [String: StoredBooking], at now: Int64, lease: Int64, limit: Int,
        completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> OutboxClaim {
        OutboxClaim(jobs: jobs)
    }

    /// `finishJob(…thenClaim:lease:)`, completing nothing in its claim.
    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        try await finishJob(id, at: now, note: note, enqueue: jobs, events: events, thenClaim: limit, lease: lease)
    }
}

/// The jobs a claim hands out, and what its transaction saw of the rest.
public struct OutboxClaim: Sendable {
    /// The jobs left to run.
    public var jobs: [OutboxJob]
    /// Whether the store read `nextDue` in the claim's transaction; when false the caller knows nothing of it.
    public var sawNextDue: Bool
    /// The earliest `due_at` of a pending job after the claim, claimed ones included (their lease's end); nil:
    /// none is pending.
    public var nextDue: Int64?

    /// A claim that did not look at the jobs left.
    public init(jobs: [OutboxJob]) {
        self.jobs = jobs
        sawNextDue = false
        nextDue = nil
    }

    /// A claim that saw the next due time.
    public init(jobs: [OutboxJob], nextDue: Int64?) {
        self.jobs = jobs
        sawNextDue = true
        self.nextDue = nextDue
    }
}

/// What finishing a job records, in the one transaction that marks it done: a note for `slotctl outbox show`, the
/// jobs it fans out to and the events it appends (published after commit).
public struct OutboxCompletion: Sendable {
    public var note: String?
    public var enqueue: [OutboxEnqueue] = []
    public var events: [OutboxEvent] = []

    public init(note: String?, enqueue: [OutboxEnqueue] = [], events: [OutboxEvent] = []) {
        self.note = note
        self.enqueue = enqueue
        self.events = events
    }

    /// Done, nothing more to record.
    public static let done = OutboxCompletion(note: nil)

    /// Done, with a note saying what happened (or why nothing did).
    public static func done(_ note: String) -> OutboxCompletion { OutboxCompletion(note: note) }
}

/// Decides, inside a claim's transaction, whether a claimed job is finished there: given the job and a read of a
/// booking in that transaction, its completion, or nil to hand the job out as claimed. The outbox worker passes
/// its handlers' decision; the store records what it returns. A completion with events is not taken (the job is
/// handed out): events are written by a fully synchronous commit, a claim's is not.
public typealias OutboxInlineCompletion =
    @Sendable (OutboxJob, _ booking: (String) throws -> StoredBooking?) -> OutboxCompletion?

/// The claim of `claimDueJobs(…completing:)`, over a store's own claim, booking read and finish, all inside one
/// transaction: each claimed job that `completing` completes is finished and another claimed in its place, up to
/// `limit` jobs left to run and at most `finishLimit` finished (a backlog of fan-outs is finished in a few writes,
/// none of which holds the writer long).
public enum InlineCompletion {
    /// The most jobs one claim finishes itself (PostgreSQL's claim keeps to it too).
    public static let finishLimit = 32

    static func claim(
        limit: Int, completing: @escaping OutboxInlineCompletion, booking: (String) throws -> StoredBooking?,
        claim: (Int) throws -> [OutboxJob], finish: (OutboxJob, OutboxCompletion) throws -> Void
    ) rethrows -> [OutboxJob] {
        var claimed: [OutboxJob] = []
        var finished = 0
        while claimed.count < limit && finished < finishLimit {
            var finishedNow = 0
            for job in try claim(limit - claimed.count) {
                if let completion = completing(job, booking), completion.events.isEmpty {
                    try finish(job, completion)
                    finishedNow += 1
                } else {
                    claimed.append(job)
                }
            }
            finished += finishedNow
            if finishedNow == 0 { break }
        }
        return claimed
    }
}

/// What a booking's creation leases to the daemon's own outbox worker (`OutboxStore.leaseOwnJobs`): its jobs due at
/// once of the kinds `takes` are written claimed for `seconds`, as a claim would leave them, and handed over after
/// the commit with the booking as written. A daemon that dies before finishing them leaves them to any worker once
/// the lease lapses, as with a claim.
public struct OwnJobLease: Sendable {
    /// How long the lease lasts (the worker's claim lease).
    public var seconds: Int64
    /// Whether the worker takes a job of this kind (one it finishes in a claim).
    public var takes: @Sendable (String) -> Bool
    /// Receives the leased jobs, oldest first, and the booking they are about, after the commit.
    public var handOff: @Sendable ([OutboxJob], StoredBooking) -> Void

    public init(
        seconds: Int64, takes: @escaping @Sendable (String) -> Bool,
        handOff: @escaping @Sendable ([OutboxJob], StoredBooking) -> Void
    ) {
        self.seconds = seconds
        self.takes = takes
        self.handOff = handOff
    }
}

/// A job to enqueue from outside a booking's plan, in its row form.
public struct OutboxEnqueue: Hashable, Sendable {
    public var kind: String
    /// A JSON object.
    public var payload: Data
    public var dueAt: Int64
    /// The note of a job whose work was done with the write that enqueues it (a delivery through a provider that
    /// makes no call): it is recorded `done` at once, one attempt counted, and never claimed. Nil: a pending job.
    public private(set) var finishedNote: String?

    /// A row as it is stored; tests and the outbox worker's own tests write kinds no handler knows.
    public init(kind: String, payload: Data, dueAt: Int64, finishedNote: String? = nil) {
        self.kind = kind
        self.payload = payload
        self.dueAt = dueAt
        // A store may keep "no note" and "pending" apart by the note's emptiness (PostgreSQL binds them as text).
        self.finishedNote = finishedNote.map { $0.isEmpty ? "done" : $0 }
    }

    /// A job, due at `dueAt`; `finishedNote`: its work is done already (see the property).
    public init(_ job: Job, dueAt: Int64, finishedNote: String? = nil) {
        self.init(kind: job.kind, payload: StoreJSON.encode(job.payload), dueAt: dueAt, finishedNote: finishedNote)
    }
}

/// An event a finished job appends to the log (`day.closed`).
public struct OutboxEvent: Hashable, Sendable {
    public var type: String
    /// A JSON object.
    public var data: Data

    public init(type: String, data: Data) {
        self.type = type
        self.data = data
    }

    /// An event whose data is a typed value, e.g. `DayClosedEvent`.
    public init(type: String, value: some Encodable) {
        self.init(type: type, data: StoreJSON.encode(value))
    }
}

extension OutboxJob {
    /// The stored row read back as a typed job; throws for a kind this version does not know or a payload that
    /// does not fit its kind.
    public var job: Job {
        get throws(JobDecodingError) { try Job(kind: kind, payloads: StoreJSON.PayloadDecoder(data: payload)) }
    }
}

// MARK: - Reminders

extension BookingPlanner {
    /// Reminder jobs for a booking that has just become confirmed at its times (created confirmed, confirmed from
    /// held, or rescheduled while confirmed): one per offset still in the future. The payload carries the start it
    /// was made for, so a reminder for a moved booking finds out and sends nothing.
    static func reminderJobs(
        _ booking: StoredBooking, _ actions: [BookingAction], at now: Int64, minutesBefore: [Int]
    ) -> [PendingJob] {
        guard booking.status == .confirmed, !minutesBefore.isEmpty else { return [] }
        switch BookingAction.event(in: actions) {
        case .created, .confirmed, .rescheduled: break
        default: return []
        }
        return Set(minutesBefore).sorted(by: >).compactMap { minutes in
            let due = booking.start - Int64(minutes) * 60
            guard minutes > 0, due > now else { return nil }
            let reminder = ReminderPayload(booking: booking.id, start: booking.start, minutesBefore: minutes)
            return PendingJob(.notification(.reminder(reminder)), dueAt: due)
        }
    }
}

// MARK: - Schema

extension StoreSchema {
    // `booking_id` is generated from the payload, so every writer of outbox rows (the booking plan, fan-out,
    // plugins) fills it without knowing the column; adding a VIRTUAL generated column needs no table rebuild.
    static let v2OutboxWorker = """
        ALTER TABLE outbox ADD COLUMN booking_id TEXT
            GENERATED ALWAYS AS (json_extract(payload, '$.booking')) VIRTUAL;
        ALTER TABLE outbox ADD COLUMN updated_at INTEGER;
        ALTER TABLE outbox ADD COLUMN finished_at INTEGER;
        ALTER TABLE outbox ADD COLUMN note TEXT;
        CREATE INDEX outbox_state ON outbox(state, id);
        CREATE INDEX outbox_booking ON outbox(booking_id);
        CREATE INDEX outbox_kind_pending ON outbox(kind) WHERE state = 'pending';
        """
}
