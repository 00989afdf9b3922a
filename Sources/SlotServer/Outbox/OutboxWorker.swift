import Foundation
import Logging
import ServiceLifecycle
import SlotEngine
import SlotProviders
import SlotStore
import Synchronization

/// Runs due outbox jobs through their handlers, up to `settings.workers` at once, outside every database
/// transaction.
///
/// A dispatcher claims due jobs while a slot is free: when a write commits (the event bus's publish hook calls
/// `wake()`), at the next due time, and at least every `idleWake`. Each claimed job runs in a lane of its own; a lane
/// records its job's outcome, claims the next job in the same write, and runs it, until nothing is due. The jobs of
/// one budget (a handler's, or a notification provider's: `OutboxJobHandler.budget(for:)`) hold at most
/// `workers − 1` slots (`OutboxSlots`), so a hung provider cannot delay the others.
/// Each call is bounded by `callTimeout`; a temporary failure retries with exponential backoff and full jitter, a
/// permanent one (or the last attempt) parks the job as `failed`. On graceful shutdown it claims nothing new and lets
/// the calls in flight finish (each bounded); on cancellation it stops at once.
final class OutboxWorker: Service, Sendable {
    let store: any OutboxStore
    let handlers: [any OutboxJobHandler]
    let clock: WallClock
    let settings: OutboxSettings
    let logger: Logger
    /// Hands the events a finished job appended (`day.closed`) to the event bus, after their commit.
    let publish: @Sendable ([StoredEvent]) -> Void

    private let signal: WakeSignal
    /// Finishes a claimed job inside its claim when its handler can without a call (a notification's fan-out).
    private let completing: OutboxInlineCompletion

    private struct Shared {
        var slots: OutboxSlots
        /// `runDueJobsNow()` callers waiting for every claimed job to be recorded.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        /// Jobs this daemon's booking writes leased to the worker (`adopt`), with their bookings, not yet taken up.
        var adopted: [(jobs: [OutboxJob], booking: StoredBooking)] = []
    }

    private let shared: Mutex<Shared>

    init(
        store: any OutboxStore, handlers: [any OutboxJobHandler], clock: WallClock, settings: OutboxSettings,
        logger: Logger, publish: @escaping @Sendable ([StoredEvent]) -> Void
    ) {
        self.store = store
        self.handlers = handlers
        self.clock = clock
        self.settings = settings
        self.logger = logger
        self.publish = publish
        signal = WakeSignal(sleep: clock.sleep)
        completing = { job, booking in
            let family = JobFamily(kind: job.kind)
            return handlers.first { $0.family == family }?.completeInClaim(job, booking: booking)
        }
        shared = Mutex(
            Shared(
                slots: OutboxSlots(workers: settings.workers) { kind in
                    // Kinds no handler runs share one budget: each lane records them as failed at once.
                    handlers.first { $0.family == JobFamily(kind: kind) }?.budget(for: kind) ?? ""
                }))
    }

    /// New jobs may be due: claim them soon, beside the calls in flight. Cheap and non-blocking (any caller, any
    /// thread).
    func wake() { signal.signal() }

    /// What a booking's creation leases to this worker in its own write (`OutboxStore.leaseOwnJobs`): its
    /// notification, which the worker finishes at its next claim without looking for it in the store.
    var ownJobLease: OwnJobLease {
        OwnJobLease(seconds: settings.leaseSeconds, takes: NotificationJob.isAboutABooking) {
            [weak self] jobs, booking in self?.adopt(jobs, booking: booking)
        }
    }

    /// Takes jobs leased to this worker by their write, with the booking they are about: the next claim finishes them
    /// first. Cheap and non-blocking. It does not wake the worker: the write's commit does, when the creation's
    /// `booking.created` is published right after. Woken here as well, the worker finished them at once and then,
    /// woken by the commit, claimed blindly once more for nothing (0.92 claims per booking in the bench).
    func adopt(_ jobs: [OutboxJob], booking: StoredBooking) {
        shared.withLock { $0.adopted.append((jobs, booking)) }
    }

    /// The adopted jobs (`adopt`) finished in the place of a claim, with what that claim took; nil when none waits.
    /// On a failure the jobs run again once their lease lapses, as claimed jobs would.
    func completeAdopted() async -> OutboxClaim? {
        let adopted = shared.withLock { shared in
            defer { shared.adopted.removeAll() }
            return shared.adopted
        }
        guard !adopted.isEmpty else { return nil }
        let bookings = Dictionary(adopted.map { ($0.booking.id, $0.booking) }) { _, newer in newer }
        let jobs = adopted.flatMap(\.jobs)
        do {
            return try await store.completeLeasedJobs(
                jobs, bookings: bookings, at: clock.now(), lease: settings.leaseSeconds, limit: 1,
                completing: completing)
        } catch {
            logger.error(
                "outbox: finishing this daemon's own jobs failed; they run again after their lease",
                metadata: ["jobs": "\(jobs.map(\.id))", "error": "\(error)"])
            return OutboxClaim(jobs: [])
        }
    }

    func run() async throws {
        if settings.workers == 0 {
            let warning =
                "outbox: workers is 0, so this daemon runs no outbox jobs (messages, deposits, hold expiry, the "
                + "sweep): another daemon on the same store must, or set `outbox: workers:` to 1 or more"
            logger.warning("\(warning)")
            // Cancellation (the service group failing) ends the wait as well as a graceful shutdown does.
            try? await gracefulShutdown()
            return
        }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { lanes in
                // Woken by a commit (which enqueued jobs due now, as a booking's does): claim without looking first.
                var committed = false
                while !Task.isCancelled {
                    let seen = await claimForFreeSlots(afterCommit: committed) { job in
                        lanes.addTask { _ = await self.runLane(from: job) }
                    }
                    if isStopping { break }
                    // Sleep until the next due job (a retry, a reminder, the sweep), a new commit, or cancellation.
                    let wakeAt = await nextWake(seen: seen)
                    committed = await signal.wait(sleeping: { [clock] in try await clock.sleep(untilSecond: wakeAt) })
                    if isStopping { break }
                }
                // Cancelled (the service group is failing): lanes record what their cancelled calls return and
                // claim nothing more.
                if Task.isCancelled { _ = updateSlots { $0.stop() } }
            }
        } onGracefulShutdown: { [self] in
            // Bookings made while the daemon stops leave their jobs to be claimed: nothing here takes them up.
            store.leaseOwnJobs(nil)
            let dropped = updateSlots { $0.stop() } + shared.withLock { $0.adopted.flatMap(\.jobs) }
            if !dropped.isEmpty {
                logger.info(
                    "outbox: jobs claimed and not run yet run again once their lease lapses, here or on another daemon",
                    metadata: ["jobs": "\(dropped.map(\.id))"])
            }
            signal.signal()
        }
        logger.info("outbox worker stopped")
    }

    /// Whether a graceful shutdown (or cancellation) reached the worker: it claims and starts nothing more.
    var isStopping: Bool { shared.withLock { $0.slots.stopping } }

    /// When the timer wakes (an instant on the daemon's clock): when the next pending job is due, at most
    /// `idleWake` from now, at least a second from now (a due job that a pass could not claim is not spun on).
    /// `seen` is what the pass's last look at the store found, if it ended finding nothing due; else it reads.
    func nextWake(seen: NextDue? = nil) async -> Int64 {
        let now = clock.now()
        let idle = now + max(1, settings.idleWake.components.seconds)
        let found: Int64?
        if let seen { found = seen.at } else { found = try? await store.nextOutboxDue() }
        guard let next = found else { return idle }
        return min(idle, max(now + 1, next))
    }

    /// The earliest due time of a pending job (nil: none is pending), as a claim found it.
    struct NextDue {
        var at: Int64?
    }

    /// Runs every job due now (and what they enqueue that is due now) to completion, beside the service's own lanes,
    /// and returns once no job is in flight; returns how many ran in its lanes. Tests with a manual clock call it
    /// instead of sleeping.
    @discardableResult
    func runDueJobsNow() async -> Int {
        var total = 0
        while true {
            let ran = await withTaskGroup(of: Int.self) { lanes in
                await claimForFreeSlots { job in lanes.addTask { await self.runLane(from: job) } }
                return await lanes.reduce(0, +)
            }
            // Lanes the service started may still be recording jobs (and claiming what those enqueued).
            await untilIdle()
            total += ran
            if ran == 0 { return total }
        }
    }

    // MARK: - Lanes

    /// Claims due jobs while slots are free, handing each to `startLane` as soon as it is claimed. Returns the next
    /// due time its last claim saw when that claim found nothing due (for `nextWake`), else nil. `afterCommit`:
    /// a commit just enqueued jobs due now, so the first claim skips looking whether any is due.
    @discardableResult
    func claimForFreeSlots(afterCommit: Bool = false, startLane: (OutboxJob) -> Void) async -> NextDue? {
        var next: OutboxSlots.Next = updateSlots { $0.reserveClaim() ? .claim : .idle }
        var seen: NextDue?
        var trustDue = afterCommit
        // The next due time the last claim's own transaction saw after claiming, where the store looks there.
        var sawAfterClaim: NextDue?
        while true {
            switch next {
            case .run(let job):
                startLane(job)
                next = updateSlots { $0.reserveClaim() ? .claim : .idle }
            case .claim:
                var claimed: [OutboxJob] = []
                var due: NextDue?
                if let adopted = await completeAdopted() {
                    // This daemon's own jobs, leased by their write, come first: finished with a claim of the rest.
                    (claimed, sawAfterClaim) = Self.handedOut(adopted)
                } else if let saw = sawAfterClaim, (saw.at ?? .max) > clock.now() {
                    // That claim saw no other job due: another look would find none (a later commit signals).
                    seen = saw
                    next = updateSlots { $0.admit(nil) }
                    continue
                } else if trustDue || sawAfterClaim != nil {
                    // After a commit's wake, or when the last claim saw a job due, claim without looking first.
                    (claimed, sawAfterClaim) = await claimSeenDue()
                } else {
                    (claimed, due, sawAfterClaim) = await claimIfDue()
                }
                trustDue = false
                seen = claimed.isEmpty ? (due ?? sawAfterClaim) : nil
                // A claim that finished every job it took itself (fan-outs) and saw more due claims again at once.
                let moreDue = claimed.isEmpty && (sawAfterClaim?.at).map { $0 <= clock.now() } == true
                next = updateSlots { slots in
                    let admitted = slots.admit(claimed)
                    return moreDue && admitted == .idle && slots.reserveClaim() ? .claim : admitted
                }
            case .idle:
                return seen
            }
        }
    }

    /// Claims the next due job when the store's next due time says one is due. One read answers both "is anything
    /// due?" and, when nothing is, "when to wake?": a dispatcher's pass read each separately, one hop to the store's
    /// reader and back more per booking.
    func claimIfDue() async -> (claimed: [OutboxJob], seen: NextDue?, sawAfterClaim: NextDue?) {
        let due: Int64?
        do { due = try await store.nextOutboxDue() } catch {
            logger.error("outbox claim failed", metadata: ["error": "\(error)"])
            return ([], nil, nil)
        }
        guard let due, due <= clock.now() else { return ([], NextDue(at: due), nil) }
        let (claimed, saw) = await claimSeenDue()
        return (claimed, nil, saw)
    }

    /// Claims the next due job without first looking whether one is due; with the next due time the claim's
    /// transaction saw, where the store looks there.
    func claimSeenDue() async -> (claimed: [OutboxJob], sawAfterClaim: NextDue?) {
        do {
            return Self.handedOut(
                try await store.claimDueJobs(
                    at: clock.now(), lease: settings.leaseSeconds, limit: 1, seenDue: true, completing: completing))
        } catch {
            logger.error("outbox claim failed", metadata: ["error": "\(error)"])
            return ([], nil)
        }
    }

    /// The jobs a claim hands out, and the next due time its transaction saw (where the store looks there).
    static func handedOut(_ claim: OutboxClaim) -> (claimed: [OutboxJob], sawAfterClaim: NextDue?) {
        (claim.jobs, claim.sawNextDue ? NextDue(at: claim.nextDue) : nil)
    }

    /// Runs `first` and every job its slot goes on to (claimed with a record, waiting, or claimed alone) until the
    /// slot frees; returns how many ran.
    func runLane(from first: OutboxJob) async -> Int {
        var job = first
        var ran = 0
        while true {
            ran += 1
            var next = await execute(job)
            while case .claim = next {
                let claimed = await claimOne()
                next = updateSlots { $0.admit(claimed) }
            }
            guard case .run(let following) = next else { return ran }
            job = following
        }
    }

    /// Claims the next job: this daemon's own leased ones first (`adopt`), else the next due one, if any.
    func claimOne() async -> [OutboxJob] {
        if let adopted = await completeAdopted() { return adopted.jobs }
        do {
            return try await store.claimDueJobs(
                at: clock.now(), lease: settings.leaseSeconds, limit: 1, seenDue: false, completing: completing
            ).jobs
        } catch {
            logger.error("outbox claim failed", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Runs one claimed job and records its outcome (with the claim of the slot's next job, when the slot may take
    /// one); returns what the slot does next.
    func execute(_ job: OutboxJob) async -> OutboxSlots.Next {
        let family = JobFamily(kind: job.kind)
        guard let handler = handlers.first(where: { $0.family == family }) else {
            let known = handlers.map { $0.family.kindPrefix + "*" }.joined(separator: ", ")
            await record(
                job, .permanent("no handler for job kind '\(job.kind)' (this slotd runs \(known)); "
                    + "the job was written by another version or by hand"))
            return updateSlots { $0.finish(job, .alone) }
        }
        let outcome = await CallDeadline.run(settings.callTimeout) { () async throws(ProviderError) in
            try await handler.run(job)
        }
        switch outcome {
        case .success(let completion):
            // Adopted jobs come before the store's: the slot takes them up next instead of claiming with the record.
            let claimNext = shared.withLock { $0.slots.claimsWithRecord() && $0.adopted.isEmpty }
            do {
                let (events, claimed) = try await store.finishJob(
                    job.id, at: clock.now(), note: completion.note, enqueue: completion.enqueue,
                    events: completion.events, thenClaim: claimNext ? 1 : 0, lease: settings.leaseSeconds,
                    completing: completing)
                if !events.isEmpty { publish(events) }
                return updateSlots { $0.finish(job, claimNext ? .withClaim(claimed.first) : .alone) }
            } catch {
                // The lease still holds the job: it runs again once the lease lapses, and finds its work done.
                logger.error(
                    "outbox: recording a finished job failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                return updateSlots { $0.finish(job, .alone) }
            }
        case .failure(let error):
            await record(job, error)
            return updateSlots { $0.finish(job, .alone) }
        }
    }

    /// Retries later with backoff, or parks the job as failed.
    func record(_ job: OutboxJob, _ error: ProviderError) async {
        let now = clock.now()
        let metadata: Logger.Metadata = [
            "job": "\(job.id)", "kind": "\(job.kind)", "attempt": "\(job.attempts)", "error": "\(error.message)",
        ]
        do {
            if error.kind != .temporary || job.attempts >= settings.maxAttempts {
                let why = error.kind == .temporary ? " (gave up after \(job.attempts) attempts)" : ""
                try await store.failJob(job.id, error: error.message + why, at: now)
                logger.error("outbox job failed; `slotctl outbox retry \(job.id)` runs it again", metadata: metadata)
            } else {
                var generator = SystemRandomNumberGenerator()
                let delay = OutboxBackoff.delay(
                    attempt: job.attempts, initial: settings.initialBackoffSeconds,
                    maximum: settings.maxBackoffSeconds, using: &generator)
                try await store.retryJobLater(job.id, error: error.message, dueAt: now + delay, at: now)
                logger.warning("outbox job will retry in \(delay) s", metadata: metadata)
            }
        } catch {
            // The lease still holds the job: it runs again once the lease lapses.
            logger.error("outbox: recording a failure failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }


    // MARK: - Slots

    /// Changes the slots under the lock; wakes `runDueJobsNow()` callers when the change leaves them idle.
    private func updateSlots<T>(_ change: (inout OutboxSlots) -> T) -> T {
        let (value, idleWaiters) = shared.withLock { shared -> (T, [CheckedContinuation<Void, Never>]) in
            let value = change(&shared.slots)
            guard shared.slots.isIdle else { return (value, []) }
            defer { shared.idleWaiters = [] }
            return (value, shared.idleWaiters)
        }
        for waiter in idleWaiters { waiter.resume() }
        return value
    }

    /// Returns once every claimed job is recorded (at once if none is).
    private func untilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = shared.withLock { shared -> Bool in
                if shared.slots.isIdle { return true }
                shared.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }
}
