import Foundation
import Logging
import ServiceLifecycle
import SlotProviders
import SlotStore
import Synchronization

/// Runs due outbox jobs through their handlers, a few at a time, outside every database transaction.
///
/// It wakes when a write commits (the event bus's publish hook calls `wake()`), at the next due time, and at least
/// every `idleWake`; it never runs inside a request. Each call is bounded by `callTimeout`; a temporary failure
/// retries with exponential backoff and full jitter, a permanent one (or the last attempt) parks the job as
/// `failed`. On graceful shutdown it claims nothing new and lets the calls in flight finish (each bounded).
final class OutboxWorker: Service, Sendable {
    let store: any OutboxStore
    let handlers: [any OutboxJobHandler]
    let clock: WallClock
    let settings: OutboxSettings
    let logger: Logger
    /// Hands the events a finished job appended (`day.closed`) to the event bus, after their commit.
    let publish: @Sendable ([StoredEvent]) -> Void

    private let signal = WakeSignal()
    private let stopping = Atomic<Bool>(false)
    /// Serialises passes: the service's loop and `runDueJobsNow()` (tests) never race for the same jobs.
    private let passLock = AsyncLock()

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
    }

    /// New jobs may be due: run a pass soon. Cheap and non-blocking (any caller, any thread).
    func wake() { signal.signal() }

    func run() async throws {
        await withGracefulShutdownHandler {
            while !stopping.load(ordering: .relaxed) {
                _ = await pass()
                if stopping.load(ordering: .relaxed) { break }
                // Sleep until the next due job (a retry, a reminder, the sweep) or a new commit, whichever is first.
                await signal.wait(timeout: await nextWait())
            }
        } onGracefulShutdown: { [self] in
            stopping.store(true, ordering: .relaxed)
            signal.signal()
        }
        logger.info("outbox worker stopped")
    }

    /// How long the timer sleeps: until the next pending job is due, at most `idleWake`, at least a second.
    func nextWait() async -> Duration {
        guard let next = try? await store.nextOutboxDue() else { return settings.idleWake }
        let seconds = next - clock.now()
        if seconds <= 0 { return .seconds(1) }
        return min(settings.idleWake, .seconds(seconds))
    }

    /// Runs every job due now (and what they enqueue that is due now) to completion; returns how many ran.
    /// Tests with a manual clock call it instead of sleeping.
    @discardableResult
    func runDueJobsNow() async -> Int {
        var total = 0
        while true {
            let ran = await pass()
            total += ran
            if ran == 0 { return total }
        }
    }

    /// One pass: `workers` lanes, each running one job at a time until none is due. A lane records a finished job
    /// and claims its next one in the same write.
    func pass() async -> Int {
        await passLock.withLock {
            await withTaskGroup(of: Int.self) { group in
                for _ in 0..<max(1, settings.workers) {
                    group.addTask { [self] in
                        var ran = 0
                        var next = stopping.load(ordering: .relaxed) ? nil : await claimOne()
                        while let job = next {
                            ran += 1
                            next = await execute(job)
                        }
                        return ran
                    }
                }
                var total = 0
                for await ran in group { total += ran }
                return total
            }
        }
    }

    /// Claims the next due job, if any (and none while stopping).
    func claimOne() async -> OutboxJob? {
        guard !stopping.load(ordering: .relaxed) else { return nil }
        do {
            return try await store.claimDueJobs(at: clock.now(), lease: settings.leaseSeconds, limit: 1).first
        } catch {
            logger.error("outbox claim failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Runs one claimed job and records its outcome; returns the lane's next job, claimed with the record.
    func execute(_ job: OutboxJob) async -> OutboxJob? {
        guard let handler = handlers.first(where: { job.kind.hasPrefix($0.kindPrefix) }) else {
            let known = handlers.map { $0.kindPrefix + "*" }.joined(separator: ", ")
            await record(
                job, .permanent("no handler for job kind '\(job.kind)' (this slotd runs \(known)); "
                    + "the job was written by another version or by hand"))
            return await claimOne()
        }
        let outcome = await Self.withTimeout(settings.callTimeout) { () async throws(ProviderError) in
            try await handler.run(job)
        }
        switch outcome {
        case .success(let completion):
            do {
                let (events, claimed) = try await store.finishJob(
                    job.id, at: clock.now(), note: completion.note, enqueue: completion.enqueue,
                    events: completion.events, thenClaim: stopping.load(ordering: .relaxed) ? 0 : 1,
                    lease: settings.leaseSeconds)
                if !events.isEmpty { publish(events) }
                return claimed.first
            } catch {
                // The lease still holds the job: it runs again once the lease lapses, and finds its work done.
                logger.error("outbox: recording a finished job failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                return nil
            }
        case .failure(let error):
            await record(job, error)
            return await claimOne()
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

    /// Runs `operation`, giving up after `timeout` with a temporary error. The operation runs in its own task so
    /// a call that ignores cancellation (a blocked socket) cannot hold the worker past the timeout.
    static func withTimeout<T: Sendable>(
        _ timeout: Duration, _ operation: @escaping @Sendable () async throws(ProviderError) -> T
    ) async -> Result<T, ProviderError> {
        let race = TimeoutRace()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, ProviderError>, Never>) in
            let work = Task {
                let result: Result<T, ProviderError>
                do throws(ProviderError) {
                    result = .success(try await operation())
                } catch {
                    result = .failure(error)
                }
                if race.settle() {
                    race.cancelTimer()
                    continuation.resume(returning: result)
                }
            }
            race.setTimer(
                Task {
                    do { try await Task.sleep(for: timeout) } catch { return }
                    if race.settle() {
                        work.cancel()
                        continuation.resume(
                            returning: .failure(
                                .temporary("the call took longer than \(timeout) (outbox.call_timeout)")))
                    }
                })
        }
    }
}

/// Who finished first in `withTimeout`: the call or its timer.
private final class TimeoutRace: Sendable {
    private let settled = Atomic<Bool>(false)
    private let timer = Mutex<Task<Void, Never>?>(nil)

    /// True for the first caller only.
    func settle() -> Bool {
        settled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    func setTimer(_ task: Task<Void, Never>) {
        let cancelNow = timer.withLock { slot -> Bool in
            slot = task
            return settled.load(ordering: .acquiring)
        }
        if cancelNow { task.cancel() }
    }

    func cancelTimer() { timer.withLock { $0 }?.cancel() }
}

/// A wake-up flag a sleeper waits on with a timeout; a signal while nobody waits is kept for the next wait.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the next signal (or at once if one is pending), or after `timeout`.
    func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                do { try await Task.sleep(for: timeout) } catch { return }
                signal()
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
            group.cancelAll()
        }
    }
}

/// A minimal async mutex: one holder at a time, waiters resumed in order.
final class AsyncLock: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func withLock<T: Sendable>(_ body: () async -> T) async -> T {
        await acquire()
        let value = await body()
        release()
        return value
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.locked {
                    state.waiters.append(continuation)
                    return false
                }
                state.locked = true
                return true
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
