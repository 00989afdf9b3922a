import Foundation
import Logging
import ServiceLifecycle
import struct SlotRules.Money
import SlotEngine
import SlotProviders
import SlotStore
import Synchronization
import Testing

@testable import SlotServer

/// A handler double whose calls block until the test releases them; it counts the calls in flight (its own and,
/// through a shared gauge, every handler's) so a test can assert how many ran at once, and lets the test wait for
/// a number of calls to have started instead of sleeping.
final class GatedHandler: OutboxJobHandler {
    let family: JobFamily
    let gauge: InFlightGauge
    private struct State {
        var inFlight = 0
        var maxInFlight = 0
        var started = 0
        var finished = 0
        var open = false
        var gate: [CheckedContinuation<Void, Never>] = []
        var startWaiters: [(count: Int, waiter: CheckedContinuation<Void, Never>)] = []
        var finishWaiters: [(count: Int, waiter: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    /// A handler for `family`; `open` lets its calls through without waiting.
    init(_ family: JobFamily, gauge: InFlightGauge, open: Bool = false) {
        self.family = family
        self.gauge = gauge
        state.withLock { $0.open = open }
    }

    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        gauge.enter()
        let started = state.withLock { state in
            state.inFlight += 1
            state.started += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            return Self.due(&state.startWaiters, reached: state.started)
        }
        for waiter in started { waiter.resume() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let pass = state.withLock { state -> Bool in
                if state.open { return true }
                state.gate.append(continuation)
                return false
            }
            if pass { continuation.resume() }
        }
        gauge.leave()
        let finished = state.withLock { state in
            state.inFlight -= 1
            state.finished += 1
            return Self.due(&state.finishWaiters, reached: state.finished)
        }
        for waiter in finished { waiter.resume() }
        return .done("ran \(job.kind)")
    }

    /// Lets every blocked call through, and every later call at once.
    func release() {
        let gate = state.withLock { state in
            state.open = true
            defer { state.gate = [] }
            return state.gate
        }
        for call in gate { call.resume() }
    }

    /// Returns once `count` calls have started.
    func started(_ count: Int) async { await wait(count, \.started, \.startWaiters) }

    /// Returns once `count` calls have finished.
    func finished(_ count: Int) async { await wait(count, \.finished, \.finishWaiters) }

    var maxInFlight: Int { state.withLock { $0.maxInFlight } }
    var inFlight: Int { state.withLock { $0.inFlight } }

    private func wait(
        _ count: Int, _ counter: KeyPath<State, Int>,
        _ waiters: WritableKeyPath<State, [(count: Int, waiter: CheckedContinuation<Void, Never>)]>
    ) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let reached = state.withLock { state -> Bool in
                if state[keyPath: counter] >= count { return true }
                state[keyPath: waiters].append((count, continuation))
                return false
            }
            if reached { continuation.resume() }
        }
    }

    private static func due(
        _ waiters: inout [(count: Int, waiter: CheckedContinuation<Void, Never>)], reached: Int
    ) -> [CheckedContinuation<Void, Never>] {
        let due = waiters.filter { $0.count <= reached }.map(\.waiter)
        waiters.removeAll { $0.count <= reached }
        return due
    }
}

/// Counts calls in flight across handlers, and the most at once.
final class InFlightGauge: Sendable {
    private let counts = Mutex((now: 0, most: 0))

    func enter() { counts.withLock { $0 = ($0.now + 1, max($0.most, $0.now + 1)) } }
    func leave() { counts.withLock { $0.now -= 1 } }
    var most: Int { counts.withLock { $0.most } }
}

/// A service that fails as it starts, like an HTTP server that cannot bind its socket.
struct FailingService: Service {
    struct CannotBind: Error {}
    func run() async throws { throw CannotBind() }
}

/// Whether `operation` returns within `limit`: a hang fails the test instead of hanging the suite. Callers give a
/// bound for broken code, not a speed check: on a loaded machine a sound wait has taken over 20 s.
func returns(within limit: Duration, _ operation: @escaping @Sendable () async -> Void) async -> Bool {
    let outcome = await CallDeadline.run(limit) { () async throws(ProviderError) in await operation() }
    if case .success = outcome { return true }
    return false
}

/// The outbox worker with handler doubles over a real SQLite store: concurrency, fairness, cancellation.
@Suite("outbox worker lanes")
struct OutboxWorkerTests {
    static let now: Int64 = 1_893_999_600
    let store: SQLiteBookingStore
    let gauge = InFlightGauge()

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteBookingStore(path: directory.appendingPathComponent("slotd.sqlite").path)
    }

    func worker(_ handlers: [any OutboxJobHandler], workers: Int) -> OutboxWorker {
        var settings = OutboxSettings()
        settings.workers = workers
        settings.idleWake = .seconds(3_600)
        return OutboxWorker(
            store: store, handlers: handlers, clock: WallClock { Self.now }, settings: settings,
            logger: Logger(label: "test"), publish: { _ in })
    }

    func enqueue(_ kind: String, count: Int = 1) async throws {
        let jobs = (0..<count).map { _ in OutboxEnqueue(kind: kind, payload: Data("{}".utf8), dueAt: Self.now) }
        try await store.enqueueJobs(jobs, at: Self.now)
    }

    @Test("a cancelled service group stops the worker: the daemon exits when the HTTP server cannot bind")
    func cancellationStopsTheWorker() async throws {
        let worker = worker([], workers: 2)
        let services: [any Service] = [worker, FailingService()]
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, logger: Logger(label: "test")))
        let stopped = await returns(within: .seconds(120)) {
            do {
                try await group.run()
                Issue.record("the group ran on although a service failed")
            } catch {
                #expect(error is FailingService.CannotBind)
            }
        }
        #expect(stopped, "the worker ignored the group's cancellation and held the daemon")
    }

    @Test("with workers: 4, four calls run at once; one handler's jobs take at most three slots")
    func callsRunInParallelUpToWorkers() async throws {
        let notify = GatedHandler(.notification, gauge: gauge)
        let payment = GatedHandler(.payment, gauge: gauge)
        let worker = worker([notify, payment], workers: 4)
        try await enqueue("notify.send.hook", count: 6)
        try await enqueue("payment.create_deposit", count: 3)
        let run = Task { await worker.runDueJobsNow() }
        let busy = await returns(within: .seconds(120)) {
            await notify.started(3)
            await payment.started(1)
        }
        #expect(busy, "three notifications and a payment should be in flight together")
        #expect(notify.inFlight == 3)
        #expect(payment.inFlight == 1)
        notify.release()
        payment.release()
        let ran = await run.value
        #expect(ran == 9)
        #expect(gauge.most == 4, "never more than `workers` calls at once")
        #expect(notify.maxInFlight == 3, "one handler keeps a slot free for the others")
        let counts = try await store.outboxCounts()
        #expect(counts[.done] == 9)
        #expect(counts[.pending] == 0)
    }

    @Test("a payment job completes while a notification call is stuck; a commit's wake starts it")
    func stuckNotificationDoesNotDelayPayments() async throws {
        let notify = GatedHandler(.notification, gauge: gauge)
        let payment = GatedHandler(.payment, gauge: gauge, open: true)
        let worker = worker([notify, payment], workers: 2)
        try await enqueue("notify.send.hook", count: 3)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [worker], logger: Logger(label: "test")))
        let service = Task { try await group.run() }
        worker.wake()
        let notifying = await returns(within: .seconds(120)) { await notify.started(1) }
        #expect(notifying)

        try await enqueue("payment.create_deposit")
        worker.wake()  // What the event bus does after a booking's commit.
        let paid = await returns(within: .seconds(120)) { await payment.finished(1) }
        #expect(paid, "the deposit waited for the stuck notification")
        #expect(notify.inFlight == 1, "the notification is still stuck")
        #expect(notify.maxInFlight == 1, "with workers: 2 one notification slot, one for the rest")

        notify.release()
        let drained = await returns(within: .seconds(120)) { await notify.finished(3) }
        #expect(drained)
        // A graceful stop lets the last calls' records commit (a cancellation would abandon them to their lease).
        await group.triggerGracefulShutdown()
        let stopped = await returns(within: .seconds(120)) { _ = try? await service.value }
        #expect(stopped)
        #expect(try await store.outboxCounts()[.done] == 4)
    }

    @Test("jobs a booking's write leased to the worker run at its next claim; the store has none due")
    func adoptedJobsRun() async throws {
        let notify = GatedHandler(.notification, gauge: gauge, open: true)
        let worker = worker([notify], workers: 2)
        try await enqueue("notify.send.hook", count: 2)
        // Leased as a booking's write leases them (`OwnJobLease`): not due in the store until the lease lapses.
        let leased = try await store.claimDueJobs(at: Self.now, lease: 600, limit: 2)
        #expect(leased.count == 2)
        #expect(await worker.runDueJobsNow() == 0, "the store has nothing due")
        let start = Self.now + 86_400
        let booking = StoredBooking(
            id: "bk_adopted", status: .confirmed, staffID: "alice", services: ["haircut"], variant: nil, start: start,
            end: start + 1_800, footprint: BookingFootprint(segments: []),
            price: Money(minorUnits: 2_000, currency: "EUR"), deposit: nil, customerID: "cu_1",
            customer: CustomerInfo(name: "Ann"), notes: "", holdExpiresAt: nil, createdAt: Self.now,
            updatedAt: Self.now, cancellation: nil)
        worker.adopt(leased, booking: booking)
        #expect(await worker.runDueJobsNow() == 2, "both ran: one in the claim's slot, the other after it")
        #expect(try await store.outboxCounts()[.done] == 2)
        #expect(await worker.runDueJobsNow() == 0, "each ran once")
    }

    @Test("graceful shutdown claims nothing new and lets the call in flight finish")
    func gracefulShutdownFinishesInFlightCalls() async throws {
        let notify = GatedHandler(.notification, gauge: gauge)
        let worker = worker([notify], workers: 2)
        try await enqueue("notify.send.hook", count: 3)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [worker], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        worker.wake()
        #expect(await returns(within: .seconds(120)) { await notify.started(1) })
        await group.triggerGracefulShutdown()
        // The trigger returns before the worker's shutdown handler runs: release the call only once the worker has
        // stopped, or the waiting job may take the freed slot first (seen under load).
        #expect(
            await returns(within: .seconds(120)) {
                while !worker.isStopping { try? await Task.sleep(for: .milliseconds(5)) }
            })
        notify.release()
        #expect(await returns(within: .seconds(120)) { _ = try? await running.value })
        #expect(notify.maxInFlight == 1)
        let counts = try await store.outboxCounts()
        #expect(counts[.done] == 1, "the call in flight was recorded")
        #expect(counts[.pending] == 2, "nothing new was claimed")
    }
}

/// The worker's parts on their own: the slot state machine, the wake-up flag, the call deadline.
@Suite("outbox worker parts")
struct OutboxWorkerPartTests {
    static func job(_ id: Int64, _ kind: String) -> OutboxJob {
        OutboxJob(
            id: id, kind: kind, payload: Data("{}".utf8), dueAt: 0, attempts: 1, state: .pending, lastError: nil,
            createdAt: 0)
    }

    static func slots(workers: Int) -> SlotsDriver {
        SlotsDriver(OutboxSlots(workers: workers) { kind in kind.hasPrefix("notify.") ? "notify." : "payment." })
    }

    @Test("slots: one family takes all but one slot; its next job waits and takes the first slot it may")
    func slotsKeepOneForTheOthers() {
        let slots = Self.slots(workers: 3)
        #expect(slots.familyShare == 2)
        for id in 1...2 {
            #expect(slots.reserveClaim())
            #expect(slots.admit(Self.job(Int64(id), "notify.hook")) == .run(Self.job(Int64(id), "notify.hook")))
        }
        // The third slot is free, but not for a third notification: it waits, and the slot claims again.
        #expect(slots.reserveClaim())
        #expect(slots.admit(Self.job(3, "notify.hook")) == .claim)
        #expect(slots.waiting.map(\.job.id) == [3])
        #expect(slots.admit(Self.job(4, "payment.deposit")) == .run(Self.job(4, "payment.deposit")))
        #expect(!slots.reserveClaim(), "all three slots are taken")
        // A notification is recorded alone: its slot takes the waiting one rather than claiming.
        #expect(!slots.claimsWithRecord(), "a waiting job comes before a new claim")
        #expect(slots.finish(Self.job(1, "notify.hook"), .alone) == .run(Self.job(3, "notify.hook")))
        #expect(slots.claimsWithRecord())
        // Recorded with a claim that found nothing due: the slot frees.
        #expect(slots.finish(Self.job(4, "payment.deposit"), .withClaim(nil)) == .idle)
        #expect(slots.finish(Self.job(2, "notify.hook"), .withClaim(nil)) == .idle)
        #expect(slots.finish(Self.job(3, "notify.hook"), .alone) == .claim, "a free slot claims again")
        #expect(slots.admit(nil) == .idle)
        #expect(slots.isIdle)
    }

    @Test("slots: a job claimed again while held (its lease lapsed) is dropped; waiting is bounded")
    func slotsDropDuplicatesAndBoundWaiting() {
        let slots = Self.slots(workers: 2)
        #expect(slots.reserveClaim())
        #expect(slots.admit(Self.job(1, "notify.hook")) == .run(Self.job(1, "notify.hook")))
        #expect(slots.reserveClaim())
        #expect(slots.admit(Self.job(1, "notify.hook")) == .claim, "the second copy is dropped")
        #expect(slots.waiting.isEmpty)
        var next = slots.admit(Self.job(2, "notify.hook"))
        var id: Int64 = 3
        while next == .claim {
            next = slots.admit(Self.job(id, "notify.hook"))
            id += 1
        }
        #expect(next == .idle)
        #expect(slots.waiting.count == slots.waitingLimit)
        #expect(!slots.reserveClaim())
    }

    @Test("slots: stopping claims nothing, lets waiting jobs go, and lets running ones finish")
    func slotsStop() {
        let slots = Self.slots(workers: 2)
        #expect(slots.reserveClaim())
        #expect(slots.admit(Self.job(1, "notify.hook")) == .run(Self.job(1, "notify.hook")))
        #expect(slots.reserveClaim())
        #expect(slots.admit(Self.job(2, "notify.hook")) == .claim)
        #expect(slots.stop().map(\.id) == [2])
        #expect(!slots.claimsWithRecord())
        #expect(slots.admit(nil) == .idle)
        #expect(!slots.reserveClaim())
        #expect(slots.finish(Self.job(1, "notify.hook"), .alone) == .idle)
        #expect(slots.isIdle)
    }

    @Test("slots: a claim that hands out several jobs runs the first; the others wait for a slot, each once")
    func slotsAdmitSeveral() {
        let slots = Self.slots(workers: 2)
        #expect(slots.reserveClaim())
        let (first, second) = (Self.job(1, "notify.hook"), Self.job(2, "payment.x"))
        #expect(slots.admit([first, second, first]) == .run(first))
        #expect(slots.waiting.map(\.job.id) == [2], "the copy of a job already held is dropped")
        #expect(slots.finish(first, .alone) == .run(second), "the freed slot takes the waiting job")
        #expect(slots.finish(second, .alone) == .claim)
        #expect(slots.admit([OutboxJob]()) == .idle)
        #expect(slots.isIdle)
    }

    @Test("slots: one worker runs every family in turn")
    func slotsWithOneWorker() {
        let slots = Self.slots(workers: 1)
        #expect(slots.familyShare == 1)
        #expect(slots.reserveClaim())
        #expect(slots.admit(Self.job(1, "notify.hook")) == .run(Self.job(1, "notify.hook")))
        #expect(!slots.reserveClaim())
    }

    @Test("wake signal: a signal wakes the sleeper, or is kept for the next wait")
    func wakeSignalKeepsAndWakes() async {
        let signal = WakeSignal()
        signal.signal()
        #expect(await returns(within: .seconds(120)) { await signal.wait(timeout: .seconds(3_600)) }, "kept")
        let sleeper = Task { await signal.wait(timeout: .seconds(3_600)) }
        // Signalled before or after the sleeper starts waiting: either way it wakes.
        signal.signal()
        #expect(await returns(within: .seconds(120)) { _ = await sleeper.value })
    }

    @Test("wake signal: the wait ends at its timeout and when its task is cancelled")
    func wakeSignalTimeoutAndCancellation() async {
        let signal = WakeSignal()
        #expect(await returns(within: .seconds(120)) { await signal.wait(timeout: .milliseconds(10)) })
        let sleeper = Task { await signal.wait(timeout: .seconds(3_600)) }
        sleeper.cancel()
        #expect(await returns(within: .seconds(120)) { _ = await sleeper.value })
    }

    @Test("wake signal: a wait says whether a signal ended it (the worker then claims without looking first)")
    func wakeSignalSaysWhy() async {
        // A sleep that is over at once: the timeout ends every wait that no signal ends first.
        let signal = WakeSignal(sleep: { _ in })
        signal.signal()
        #expect(await signal.wait(timeout: .seconds(3_600)), "a kept signal")
        #expect(await signal.wait(timeout: .seconds(3_600)) == false, "the timeout")
        let patient = WakeSignal()
        let sleeper = Task { await patient.wait(timeout: .seconds(3_600)) }
        patient.signal()
        #expect(await sleeper.value, "a signal before or while it sleeps")
        let cancelled = Task { await patient.wait(timeout: .seconds(3_600)) }
        cancelled.cancel()
        #expect(await cancelled.value == false, "cancellation")
    }

    @Test("call deadline: the call's result in time; a temporary error past it, even if the call ignores cancellation")
    func callDeadline() async {
        let fast = await CallDeadline.run(.seconds(3_600)) { () async throws(ProviderError) in 42 }
        #expect(fast == .success(42))
        let refused = await CallDeadline.run(.seconds(3_600)) { () async throws(ProviderError) -> Int in
            throw .permanent("no")
        }
        #expect(refused == .failure(.permanent("no")))
        let gate = GatedHandler(.sweep, gauge: InFlightGauge())  // Never released: a call that ignores cancellation.
        let slow = await CallDeadline.run(.milliseconds(50)) { () async throws(ProviderError) in
            try await gate.run(OutboxWorkerPartTests.job(1, "x.y"))
        }
        guard case .failure(let error) = slow else {
            Issue.record("the stuck call returned \(slow)")
            return
        }
        #expect(error.kind == .temporary)
        #expect(error.message.contains("outbox.call_timeout"))
        gate.release()
    }

    @Test("call deadline: a cancelled caller returns at once")
    func callDeadlineCancelled() async {
        let gate = GatedHandler(.sweep, gauge: InFlightGauge())
        let caller = Task {
            await CallDeadline.run(.seconds(3_600)) { () async throws(ProviderError) in
                try await gate.run(OutboxWorkerPartTests.job(1, "x.y"))
            }
        }
        await gate.started(1)
        caller.cancel()
        let returned = await returns(within: .seconds(120)) { _ = await caller.value }
        #expect(returned)
        if returned, case .success = await caller.value { Issue.record("the cancelled call succeeded") }
        gate.release()
    }
}

/// The slots in a reference, so a test can call their mutating functions inside `#expect`.
final class SlotsDriver {
    var slots: OutboxSlots

    init(_ slots: OutboxSlots) { self.slots = slots }

    func reserveClaim() -> Bool { slots.reserveClaim() }
    func admit(_ job: OutboxJob?) -> OutboxSlots.Next { slots.admit(job) }
    func admit(_ jobs: [OutboxJob]) -> OutboxSlots.Next { slots.admit(jobs) }
    func finish(_ job: OutboxJob, _ record: OutboxSlots.Record) -> OutboxSlots.Next { slots.finish(job, record) }
    func stop() -> [OutboxJob] { slots.stop() }
    func claimsWithRecord() -> Bool { slots.claimsWithRecord() }
    var waiting: [(family: String, job: OutboxJob)] { slots.waiting }
    var waitingLimit: Int { slots.waitingLimit }
    var familyShare: Int { slots.familyShare }
    var isIdle: Bool { slots.isIdle }
}

@Suite("outbox budgets")
struct OutboxBudgetTests {
    @Test("each notification provider's deliveries are a budget; fan-out and reminders share another", arguments: [
        ("notify.send.hook", "notify.send.hook"), ("notify.send.mail", "notify.send.mail"),
        ("notify.booking_created", "notify."), ("notify.booking_reminder", "notify."),
    ])
    func notificationBudgets(kind: String, budget: String) {
        #expect(NotificationHandler.budget(for: kind) == budget)
    }
}
