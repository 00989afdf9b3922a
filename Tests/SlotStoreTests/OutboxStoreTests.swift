import Foundation
import SlotCore
import SlotEngine
import SlotRules
import Synchronization
import Testing

@testable import SlotStore

/// The outbox operations the worker relies on, against both stores (and SQLite's unsynced bookkeeping).
@Suite("outbox store")
struct OutboxStoreTests {
    static let now = Fixture.now

    static func store() throws -> SQLiteBookingStore { try SQLiteBookingStore(path: TempDirectory().path("o.db")) }

    static func job(
        _ kind: String, due: Int64 = now, booking: String? = nil, finishedNote: String? = nil
    ) -> OutboxEnqueue {
        var object: [String: Any] = ["n": 1]
        if let booking { object["booking"] = booking }
        return OutboxEnqueue(kind: kind, object: object, dueAt: due, finishedNote: finishedNote)
    }

    @Test(
        "a claim leases the job: attempts count up, it is invisible until the lease lapses, then due again",
        arguments: StoreKind.tested)
    func claimLeases(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.enqueueJobs([Self.job("notify.a"), Self.job("notify.b", due: Self.now + 100)], at: Self.now)
        let claimed = try await store.claimDueJobs(at: Self.now, lease: 40, limit: 10)
        #expect(claimed.map(\.kind) == ["notify.a"], "only the due job")
        let job = try #require(claimed.first)
        #expect(job.attempts == 1)
        #expect(job.dueAt == Self.now + 40)
        #expect(job.state == .pending)
        #expect(try await store.claimDueJobs(at: Self.now + 39, lease: 40, limit: 10).isEmpty, "leased")
        // The worker died: after the lease the job is due again (at least once), with its attempt counted.
        let again = try await store.claimDueJobs(at: Self.now + 40, lease: 40, limit: 1)
        #expect(again.map(\.id) == [job.id])
        #expect(again.first?.attempts == 2)
        #expect(try await store.nextOutboxDue() == Self.now + 80)
    }

    @Test(
        "finishing fans out in the same transaction, once: a second finish enqueues nothing",
        arguments: StoreKind.tested)
    func finishFansOutOnce(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.enqueueJobs([Self.job("notify.booking_created", booking: "bk_1")], at: Self.now)
        let job = try #require(try await store.claimDueJobs(at: Self.now, lease: 40, limit: 1).first)
        #expect(job.bookingID == "bk_1", "booking_id is generated from the payload")
        let fanOut = [Self.job("notify.send.mail", booking: "bk_1"), Self.job("notify.send.sms", booking: "bk_1")]
        let events = try await store.finishJob(
            job.id, at: Self.now + 1, note: "sent to mail, sms", enqueue: fanOut,
            events: [OutboxEvent(type: "day.closed", value: ["date": "2027-01-15"])])
        #expect(events.map(\.type) == ["day.closed"])
        #expect(try await store.finishJob(job.id, at: Self.now + 2, note: nil, enqueue: fanOut, events: []).isEmpty)
        let done = try #require(try await store.outboxJob(id: job.id))
        #expect(done.state == .done)
        #expect(done.finishedAt == Self.now + 1)
        #expect(done.note == "sent to mail, sms")
        let pending = try await store.recentOutboxJobs(state: .pending, limit: 10)
        #expect(pending.map(\.kind).sorted() == ["notify.send.mail", "notify.send.sms"], "fanned out once")
        #expect(try await store.outboxCounts() == [.pending: 2, .done: 1, .failed: 0])
        #expect(try await store.latestCursor() == events.first?.cursor)
    }

    /// Completes the fan-out of a booking's `notify.booking_created` into one delivery, from the booking as the
    /// claim's transaction reads it; any other kind, and a fan-out that appends an event, is handed out.
    static let fanOutInClaim: OutboxInlineCompletion = { job, booking in
        switch job.kind {
        case "notify.booking_created":
            guard let id = job.bookingID, let found = try? booking(id) else { return nil }
            return OutboxCompletion(
                note: "sent to log (\(found.customer.name))", enqueue: [Self.job("notify.send.log", booking: id)])
        case "notify.with_event":
            return OutboxCompletion(note: nil, events: [OutboxEvent(type: "day.closed", value: ["date": "x"])])
        default:
            return nil
        }
    }

    @Test(
        "a claim finishes in its own transaction what the worker completes there and claims in its place",
        arguments: StoreKind.tested)
    func claimCompletesInline(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Fixture.book(store, Fixture.booking(customer: "Kim"))
        let claim = try await Self.claim(store, limit: 1, completing: Self.fanOutInClaim)
        let claimed = claim.jobs
        #expect(claimed.map(\.kind) == ["notify.send.log"], "the delivery the fan-out enqueued, claimed")
        #expect(claim.sawNextDue && claim.nextDue == Self.now + 40, "nothing else due: the delivery's lease is next")
        #expect(claimed.first?.bookingID == booking.id)
        #expect(claimed.first?.attempts == 1)
        let fanOut = try #require(
            try await store.recentOutboxJobs(state: nil, limit: 10).first { $0.kind == "notify.booking_created" })
        #expect(fanOut.state == .done)
        #expect(fanOut.attempts == 1, "claimed once, like a fan-out run in a lane")
        #expect(fanOut.note == "sent to log (Kim)", "the completion read the booking in the claim")
        #expect(try await store.outboxCounts() == [.pending: 1, .done: 1, .failed: 0])

        // A completion that appends an event is not taken: the job is handed out as claimed, still pending.
        try await store.enqueueJobs([Self.job("notify.with_event")], at: Self.now)
        let (_, next) = try await store.finishJob(
            claimed[0].id, at: Self.now, note: nil, enqueue: [], events: [], thenClaim: 1, lease: 40,
            completing: Self.fanOutInClaim)
        #expect(next.map(\.kind) == ["notify.with_event"])
        #expect(try await store.outboxJob(id: next[0].id)?.state == .pending)
        #expect(try await store.events(after: 0, typePrefix: "day.", limit: 10).isEmpty, "its event not appended")
    }

    @Test(
        "a booking's notification, leased to the worker by its own write, is finished without a claim or due later",
        arguments: StoreKind.tested)
    func ownJobsLeasedInTheWrite(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let handedOff = HandedOff()
        store.leaseOwnJobs(
            OwnJobLease(seconds: 40, takes: { $0 == "notify.booking_created" }) { jobs, booking in
                handedOff.add(jobs, booking)
            })
        var new = Fixture.booking(customer: "Kim")
        new.times.reminderMinutesBefore = [120]
        let booking = try await Fixture.book(store, new)
        let reminder = try #require(try await Self.reminders(store).first, "a reminder is written, not leased")
        guard kind == .postgres else {
            // The other stores lease nothing: the worker claims the notification as before.
            #expect(handedOff.all.isEmpty)
            let claim = try await Self.claim(store, limit: 1, completing: Self.fanOutInClaim)
            #expect(claim.jobs.map(\.kind) == ["notify.send.log"])
            return
        }
        let (leased, about) = try #require(handedOff.all.first)
        #expect(handedOff.all.count == 1)
        #expect(leased.map(\.kind) == ["notify.booking_created"], "the due notification only, not the reminder")
        #expect(about.id == booking.id)
        let job = try #require(leased.first)
        #expect(job.attempts == 1 && job.dueAt == Self.now + 40 && job.bookingID == booking.id)
        #expect(try await store.outboxJob(id: job.id) == job, "handed over as written")
        #expect(try await store.claimDueJobs(at: Self.now, lease: 40, limit: 10).isEmpty, "leased: nothing due")
        #expect(try await store.nextOutboxDue() == min(reminder.dueAt, Self.now + 40))

        let claim = try await store.completeLeasedJobs(
            leased, bookings: [about.id: about], at: Self.now, lease: 40, limit: 1, completing: Self.fanOutInClaim)
        #expect(claim.jobs.map(\.kind) == ["notify.send.log"], "the fan-out's delivery, claimed in its place")
        #expect(claim.jobs.first?.attempts == 1)
        let done = try #require(try await store.outboxJob(id: job.id))
        #expect(done.state == .done && done.note == "sent to log (Kim)" && done.attempts == 1)

        // A daemon that dies before finishing its own job leaves it to any worker once the lease lapses.
        let second = try await Fixture.book(store, Fixture.booking(at: 120, customer: "Lou"))
        let orphan = try #require(handedOff.all.last?.jobs.first)
        #expect(handedOff.all.last?.booking.id == second.id)
        #expect(try await store.claimDueJobs(at: Self.now + 39, lease: 40, limit: 10).map(\.id) == [], "still leased")
        let again = try await store.claimDueJobs(at: Self.now + 40, lease: 40, limit: 10)
        let delivery = try #require(claim.jobs.first)
        #expect(Set(again.map(\.id)) == [orphan.id, delivery.id], "the orphan, and the delivery never recorded")
        #expect(again.first { $0.id == orphan.id }?.attempts == 2)

        // Stopped: a booking's jobs are written due, for any worker to claim.
        store.leaseOwnJobs(nil)
        _ = try await Fixture.book(store, Fixture.booking(at: 240, customer: "Max"))
        #expect(handedOff.all.count == 2)
        let claimed = try await store.claimDueJobs(at: Self.now, lease: 40, limit: 10)
        #expect(claimed.map(\.kind) == ["notify.booking_created"])
    }

    /// What `OwnJobLease.handOff` received, in order.
    final class HandedOff: Sendable {
        private let received = Mutex<[(jobs: [OutboxJob], booking: StoredBooking)]>([])
        var all: [(jobs: [OutboxJob], booking: StoredBooking)] { received.withLock { $0 } }
        func add(_ jobs: [OutboxJob], _ booking: StoredBooking) { received.withLock { $0.append((jobs, booking)) } }
    }

    /// `claimDueJobs(…completing:)` at `now`, with a 40-second lease.
    static func claim(
        _ store: any SlotStorage, limit: Int, seenDue: Bool = true, completing: @escaping OutboxInlineCompletion
    ) async throws -> OutboxClaim {
        try await store.claimDueJobs(at: now, lease: 40, limit: limit, seenDue: seenDue, completing: completing)
    }

    /// Completes a booking's fan-out into two deliveries (mail, then sms).
    static let twoDeliveries: OutboxInlineCompletion = { job, booking in
        guard job.kind == "notify.booking_created", let id = job.bookingID, (try? booking(id)) != nil else {
            return nil
        }
        return OutboxCompletion(
            note: "sent to mail, sms",
            enqueue: [Self.job("notify.send.mail", booking: id), Self.job("notify.send.sms", booking: id)])
    }

    @Test(
        "a fan-out finished in a claim: the claim's room goes to the due jobs that waited, then to its deliveries",
        arguments: StoreKind.tested)
    func claimRoomAfterFanOut(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        // Room for both deliveries: the claim hands both out, leased.
        let first = try await Fixture.book(store, Fixture.booking(customer: "Kim"))
        let both = try await Self.claim(store, limit: 2, completing: Self.twoDeliveries)
        #expect(both.jobs.map(\.kind) == ["notify.send.mail", "notify.send.sms"])
        #expect(both.jobs.allSatisfy { $0.attempts == 1 && $0.dueAt == Self.now + 40 && $0.bookingID == first.id })
        #expect(both.sawNextDue && both.nextDue == Self.now + 40, "nothing else pending: the leases end next")
        #expect(try await store.claimDueJobs(at: Self.now, lease: 40, limit: 5).isEmpty, "both are leased")

        // Jobs that were due before the deliveries take the room first; the deliveries wait, due.
        let second = try await Fixture.book(store, Fixture.booking(at: 120, customer: "Lou"))
        try await store.enqueueJobs([Self.job("notify.send.x"), Self.job("notify.send.y")], at: Self.now)
        let waited = try await Self.claim(store, limit: 2, completing: Self.twoDeliveries)
        #expect(waited.jobs.map(\.kind) == ["notify.send.x", "notify.send.y"])
        #expect(waited.sawNextDue && waited.nextDue == Self.now, "the second booking's deliveries are due")
        let next = try await Self.claim(store, limit: 1, seenDue: false, completing: Self.twoDeliveries)
        #expect(next.jobs.map(\.kind) == ["notify.send.mail"])
        #expect(next.jobs.first?.bookingID == second.id)
        #expect(next.sawNextDue && next.nextDue == Self.now, "its sms is still due")
        let pending = try await store.recentOutboxJobs(state: .pending, limit: 20)
        #expect(pending.count == 6, "four deliveries and x, y; the fan-outs are done")
        #expect(try await store.outboxCounts() == [.pending: 6, .done: 2, .failed: 0])
    }

    /// Completes a booking's fan-out into a delivery made there (log, written done) and one to run (mail).
    static let oneSentAtFanOut: OutboxInlineCompletion = { job, booking in
        guard job.kind == "notify.booking_created", let id = job.bookingID, (try? booking(id)) != nil else {
            return nil
        }
        let sent = Self.job("notify.send.log", booking: id, finishedNote: "sent at the fan-out")
        return OutboxCompletion(note: "sent to log, mail", enqueue: [sent, Self.job("notify.send.mail", booking: id)])
    }

    @Test(
        "a job enqueued finished is written done with its payload and one attempt, and is never claimed",
        arguments: StoreKind.tested)
    func finishedJobsAreNeverClaimed(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Fixture.book(store, Fixture.booking(customer: "Kim"))
        // Inside a claim: room for two, but only the mail delivery is handed out.
        let claim = try await Self.claim(store, limit: 2, completing: Self.oneSentAtFanOut)
        #expect(claim.jobs.map(\.kind) == ["notify.send.mail"])
        #expect(claim.sawNextDue && claim.nextDue == Self.now + 40, "the done delivery is not due: the lease is next")
        let jobs = try await store.recentOutboxJobs(state: nil, limit: 10)
        let sent = try #require(jobs.first { $0.kind == "notify.send.log" })
        #expect(sent.state == .done && sent.attempts == 1 && sent.note == "sent at the fan-out")
        #expect(sent.finishedAt == Self.now && sent.bookingID == booking.id)
        #expect(String(decoding: sent.payload, as: UTF8.self).contains("\"booking\""), "its payload kept")
        #expect(try await store.outboxCounts() == [.pending: 1, .done: 2, .failed: 0])

        // From a lane's finish and from an enqueue: done at once, nothing to claim.
        try await store.enqueueJobs([Self.job("notify.booking_reminder", booking: booking.id)], at: Self.now)
        let due = try await store.claimDueJobs(at: Self.now + 41, lease: 40, limit: 2)
        #expect(due.map(\.kind).sorted() == ["notify.booking_reminder", "notify.send.mail"])
        let lane = try #require(due.first { $0.kind == "notify.booking_reminder" })
        let made = Self.job("notify.send.log", booking: booking.id, finishedNote: "")
        _ = try await store.finishJob(
            lane.id, at: Self.now + 42, note: nil, enqueue: [made], events: [], thenClaim: 2, lease: 40)
        try await store.enqueueJobs([Self.job("notify.send.log", finishedNote: "sent")], at: Self.now + 42)
        let done = try await store.recentOutboxJobs(state: .done, limit: 10).filter { $0.kind == "notify.send.log" }
        #expect(done.map(\.note) == ["sent", "done", "sent at the fan-out"], "an empty note is written as done")
        let later = try await store.claimDueJobs(at: Self.now + 1_000, lease: 40, limit: 10)
        #expect(later.map(\.kind) == ["notify.send.mail"], "the mail delivery, its lease lapsed; nothing done")
        #expect(try await store.nextOutboxDue() == Self.now + 1_040)
    }

    @Test(
        "a retry keeps the job pending with its error; failing parks it; only a failed job can be retried",
        arguments: StoreKind.tested)
    func retryAndFail(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.enqueueJobs([Self.job("notify.send.mail")], at: Self.now)
        var job = try #require(try await store.claimDueJobs(at: Self.now, lease: 40, limit: 1).first)
        await #expect(throws: StoreError.self) { try await store.retryFailedJob(job.id, at: Self.now) }
        try await store.retryJobLater(job.id, error: "HTTP 503", dueAt: Self.now + 7, at: Self.now)
        job = try #require(try await store.outboxJob(id: job.id))
        #expect(job.state == .pending && job.dueAt == Self.now + 7 && job.lastError == "HTTP 503")
        #expect(try await store.claimDueJobs(at: Self.now + 6, lease: 40, limit: 1).isEmpty)
        job = try #require(try await store.claimDueJobs(at: Self.now + 7, lease: 40, limit: 1).first)
        #expect(job.attempts == 2)
        try await store.failJob(job.id, error: "HTTP 400", at: Self.now + 8)
        job = try #require(try await store.outboxJob(id: job.id))
        #expect(job.state == .failed && job.lastError == "HTTP 400" && job.finishedAt == Self.now + 8)
        #expect(try await store.claimDueJobs(at: Self.now + 999, lease: 40, limit: 1).isEmpty, "failed stays put")
        #expect(try await store.recentOutboxJobs(state: .failed, limit: 5).map(\.id) == [job.id])

        let retried = try await store.retryFailedJob(job.id, at: Self.now + 100)
        #expect(retried.state == .pending && retried.attempts == 0 && retried.dueAt == Self.now + 100)
        #expect(retried.finishedAt == nil)
        do {
            _ = try await store.retryFailedJob(job.id, at: Self.now + 101)
            Issue.record("a pending job cannot be retried")
        } catch {
            #expect(error.code == .illegalTransition)
        }
        do {
            _ = try await store.retryFailedJob(424_242, at: Self.now)
            Issue.record("an unknown job cannot be retried")
        } catch {
            #expect(error.code == .notFound)
        }
    }

    @Test("the outbox's bookkeeping commits unsynced; the next write (a booking) is synced again, even after an error")
    func bookkeepingIsUnsyncedBookingsStaySynced() async throws {
        let store = try Self.store()
        let inside = try await store.bookkeepingWrite { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(inside == 1, "NORMAL inside a bookkeeping write")
        #expect(try await store.synchronousSetting() == 2, "FULL again after it")
        await #expect(throws: (any Error).self) {
            try await store.bookkeepingWrite { db in try db.execute(sql: "INSERT INTO no_such_table VALUES (1)") }
        }
        #expect(try await store.synchronousSetting() == 2, "FULL again after a failed one")
        try await store.enqueueJobs([Self.job("notify.a")], at: Self.now)
        let job = try #require(try await store.claimDueJobs(at: Self.now, lease: 40, limit: 1).first)
        try await store.finishJob(job.id, at: Self.now, note: nil, enqueue: [Self.job("notify.b")], events: [])
        #expect(try await store.synchronousSetting() == 2)
        let normal = try SQLiteBookingStore(path: try TempDirectory().path("n.db"), synchronous: .normal)
        #expect(try await normal.bookkeepingWrite { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)
        #expect(try await normal.synchronousSetting() == 1, "a store set to NORMAL stays NORMAL")
    }

    @Test("ensurePendingJob keeps exactly one pending job of a kind", arguments: StoreKind.tested)
    func onePendingSweep(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.ensurePendingJob(Self.job("sweep.end_of_day", due: Self.now + 50), at: Self.now))
        #expect(try await !store.ensurePendingJob(Self.job("sweep.end_of_day", due: Self.now + 60), at: Self.now))
        #expect(try await store.recentOutboxJobs(state: .pending, limit: 10).count == 1)
    }

    @Test("claims from concurrent workers never hand out one job twice", arguments: StoreKind.tested)
    func concurrentClaims(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.enqueueJobs((0..<40).map { _ in Self.job("notify.x") }, at: Self.now)
        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var mine: [Int64] = []
                    while let job = try await store.claimDueJobs(at: Self.now, lease: 40, limit: 1).first {
                        mine.append(job.id)
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let jobs = try await store.recentOutboxJobs(state: nil, limit: 100)
        #expect(jobs.allSatisfy { $0.attempts == 1 }, "each job claimed exactly once")
        #expect(ids.count == 40 && Set(ids).count == 40)
    }

    // MARK: - Reminders, written with the booking

    static func reminders(_ store: any SlotStorage) async throws -> [OutboxJob] {
        try await store.recentOutboxJobs(state: .pending, limit: 100).filter { $0.kind == "notify.booking_reminder" }
            .sorted { $0.dueAt < $1.dueAt }
    }

    @Test(
        "a booking created confirmed gets a reminder per offset still ahead, due at start minus the offset",
        arguments: StoreKind.tested)
    func remindersOnCreate(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        var new = Fixture.booking()
        new.times.reminderMinutesBefore = [120, 1440, 20_000]  // 20 000 min before is already past
        let booking = try await Fixture.book(store, new)
        let jobs = try await Self.reminders(store)
        #expect(jobs.map(\.dueAt) == [booking.start - 1440 * 60, booking.start - 120 * 60])
        #expect(jobs.allSatisfy { $0.bookingID == booking.id })
        #expect(jobs.first?.object["start"] as? Int64 == booking.start)
        #expect(jobs.first?.createdAt == Fixture.now, "created now, not at its due time")
    }

    @Test(
        "a held booking gets reminders only once confirmed; a reschedule adds ones for the new time",
        arguments: StoreKind.tested)
    func remindersOnConfirmAndReschedule(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        var new = Fixture.booking(hold: Fixture.now + 900)
        new.times.reminderMinutesBefore = [1440]
        let held = try await Fixture.book(store, new)
        #expect(try await Self.reminders(store).isEmpty, "no reminder for a hold")
        _ = try await store.transition(
            held.id, .confirm, at: Fixture.now + 60, policy: Policies(remindersMinutesBefore: [1440]), reason: "")
        #expect(try await Self.reminders(store).map(\.dueAt) == [held.start - 86_400])

        var times = Fixture.times(held.start + 3_600)
        times.reminderMinutesBefore = [1440]
        let moved = try #require(
            try await store.reschedule(held.id, to: times, at: Fixture.now + 120) { _ in nil as String? }.outcome)
        let jobs = try await Self.reminders(store)
        #expect(jobs.map(\.dueAt) == [held.start - 86_400, moved.booking.start - 86_400])
        #expect(jobs.last?.object["start"] as? Int64 == moved.booking.start)
    }
}
