import Foundation
import SlotCore
import SlotEngine
import SlotRules
import Testing

@testable import SlotStore

/// The behaviour every `BookingStore` shares, run against the memory twin and the SQLite file alike.
struct BookingStoreTests {
    // MARK: - Create, get, list

    @Test(arguments: StoreKind.tested)
    func aCreatedBookingCanBeReadBackAndListed(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Fixture.book(store, Fixture.booking())
        #expect(booking.id.hasPrefix("bk_") && booking.id.count == 19)
        #expect(booking.status == .confirmed)
        #expect(booking.customerID.hasPrefix("cu_"))

        let read = try #require(try await store.booking(id: booking.id))
        #expect(read == booking)
        #expect(read.footprint == Fixture.haircut)
        #expect(read.busy == Interval(Fixture.day, Fixture.day + 40 * 60))
        #expect(try await store.booking(id: "bk_missing") == nil)

        let other = try await Fixture.book(store, Fixture.booking(staff: "bo", at: 120, email: "lee@example.com"))
        #expect(try await store.bookings(matching: BookingQuery()).map(\.id) == [booking.id, other.id])
        #expect(try await store.bookings(matching: BookingQuery(staffID: "bo")).map(\.id) == [other.id])
        let morning = BookingQuery(from: Fixture.day, to: Fixture.day + 3_600)
        #expect(try await store.bookings(matching: morning).map(\.id) == [booking.id])
        #expect(try await store.bookings(matching: BookingQuery(statuses: [.held])).isEmpty)
        #expect(try await store.bookings(matching: BookingQuery(limit: 1)).count == 1)

        let active = try await store.bookedSpans(
            SpanQuery(window: Interval(Fixture.day + 35 * 60, Fixture.day + 36 * 60)))
        #expect(active.map(\.id) == [booking.id], "the buffer after counts as busy")
        #expect(active.first == read.bookedSpan, "a span is the booking as availability sees it")
        let everything = Interval(0, .max / 2)
        #expect(try await store.bookedSpans(SpanQuery(window: everything, staff: ["bo"])).map(\.id) == [other.id])
        #expect(try await store.bookedSpans(SpanQuery(window: everything, staff: [])).isEmpty)
        #expect(
            try await store.bookedSpans(SpanQuery(window: everything, staff: ["ana", "bo"])).map(\.id)
                == [booking.id, other.id])
    }

    @Test(arguments: StoreKind.tested)
    func aCustomerWithTheSameEmailIsOneCustomer(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let first = try await Fixture.book(store, Fixture.booking())
        let second = try await Fixture.book(store, Fixture.booking(at: 60, customer: "Kim Park"))
        let third = try await Fixture.book(store, Fixture.booking(at: 120, email: nil, phone: "+4930999"))
        #expect(first.customerID == second.customerID)
        #expect(third.customerID != first.customerID)
    }

    @Test(arguments: StoreKind.tested)
    func creationAppendsAnEventAndEnqueuesANotification(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let creation = try await Fixture.create(store, Fixture.booking(hold: Fixture.day - 3_600))
        let booking = try #require(creation.booking)
        #expect(booking.status == .held)
        let event = try #require(creation.events.first)
        #expect(creation.events.count == 1)
        #expect(event.type == "booking.created")
        #expect(event.object["booking"] as? String == booking.id)
        #expect(event.object["status"] as? String == "held")
        #expect(event.object["hold_expires_at"] as? Int == Int(Fixture.day - 3_600))
        #expect(try await store.events(after: 0, typePrefix: nil, limit: 10) == creation.events)
        let jobs = try await store.outboxJobs(state: .pending, limit: 10)
        #expect(jobs.map(\.kind) == ["notify.booking_created", "payment.create_deposit", "booking.expire_hold"])
        #expect(String(decoding: jobs[0].payload, as: UTF8.self) == #"{"booking":"\#(booking.id)"}"#)
        // The hold's timer is a durable job due at its expiry.
        #expect(jobs[2].dueAt == Fixture.day - 3_600)
    }

    // MARK: - The check

    @Test(arguments: StoreKind.tested)
    func theCheckRejectsAnOverlapAndNothingIsWritten(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let first = try await Fixture.book(store, Fixture.booking())
        let cursor = try await store.latestCursor()

        // 30 minutes later is inside the first booking's 10-minute buffer.
        let second = try await Fixture.create(store, Fixture.booking(at: 30))
        guard case .rejected(let why) = second else {
            Issue.record("expected a rejection, got \(second)")
            return
        }
        #expect(why == "overlaps \(first.id)")
        #expect(try await store.latestCursor() == cursor)
        #expect(try await store.bookings(matching: BookingQuery()).count == 1)
        #expect(try await store.outboxJobs(state: nil, limit: 10).count == 1)

        // Right after the buffer is free; another staff member at the same time with another resource too.
        #expect(try await Fixture.create(store, Fixture.booking(at: 40)).booking != nil)
        #expect(try await Fixture.create(store, Fixture.booking(staff: "bo", footprint: Fixture.wash)).booking != nil)

        // A shared resource conflicts across staff members.
        let chair = try await Fixture.book(store, Fixture.booking(staff: "ca", at: 240, footprint: Fixture.chairCut))
        let contested = try await Fixture.create(
            store, Fixture.booking(staff: "di", at: 250, footprint: Fixture.chairCut))
        guard case .rejected(let reason) = contested else {
            Issue.record("a shared chair was booked twice")
            return
        }
        #expect(reason == "overlaps \(chair.id)")
    }

    @Test(arguments: StoreKind.tested)
    func theCheckSeesSameStaffAndSharedResourcesInTheWindowOnly(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let ana = try await Fixture.book(store, Fixture.booking(staff: "ana"))
        let boChair = try await Fixture.book(store, Fixture.booking(staff: "bo", footprint: Fixture.chairCut))
        let caWash = try await Fixture.book(store, Fixture.booking(staff: "ca", footprint: Fixture.wash))
        let anaLater = try await Fixture.book(store, Fixture.booking(staff: "ana", at: 300))
        let cancelled = try await Fixture.book(store, Fixture.booking(staff: "ana", at: 60))
        _ = try await store.cancel(cancelled.id, at: Fixture.now, policy: Policies())

        let new = Fixture.booking(staff: "ana", at: 0, footprint: Fixture.chairCut)
        let seen = Captured()
        let result = try await store.createBooking(new, at: Fixture.now, idempotency: nil) { conflicting in
            seen.set(conflicting.map(\.id))
            return "refused"
        }
        #expect(result.booking == nil)
        #expect(Set(seen.value) == [ana.id, boChair.id], "not \(caWash.id) (other staff, other resource)")

        // A wider window (the whole day) shows the later booking as well.
        var wide = new
        wide.times.conflictWindow = Interval(Fixture.day - 8 * 3_600, Fixture.day + 16 * 3_600)
        _ = try await store.createBooking(wide, at: Fixture.now, idempotency: nil) { conflicting in
            seen.set(conflicting.map(\.id))
            return "refused"
        }
        #expect(Set(seen.value) == [ana.id, boChair.id, anaLater.id])
    }

    @Test(arguments: StoreKind.tested)
    func invalidInputIsAnErrorValue(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        var empty = Fixture.booking()
        empty.times.end = empty.times.start
        var nameless = Fixture.booking()
        nameless.customer.name = "  "
        var noServices = Fixture.booking()
        noServices.services = []
        var lateHold = Fixture.booking(hold: Fixture.day + 60)
        lateHold.holdExpiresAt = Fixture.day + 60
        for bad in [empty, nameless, noServices, lateHold] {
            let error = await storeError { () async throws(StoreError) in
                _ = try await store.createBooking(bad, at: Fixture.now, idempotency: nil) { _ in nil as String? }
            }
            #expect(error?.code == .constraintViolation, "\(bad)")
        }
        #expect(try await store.bookings(matching: BookingQuery()).isEmpty)
        #expect(try await store.latestCursor() == 0)
    }

    // MARK: - Idempotency

    static func idempotency(_ key: String, fingerprint: String = "POST /v1/bookings abc") -> IdempotencyRequest {
        IdempotencyRequest(key: key, fingerprint: fingerprint) { booking in
            IdempotentResponse(status: 201, body: Data(#"{"id":"\#(booking.id)"}"#.utf8))
        }
    }

    @Test(arguments: StoreKind.tested)
    func theSameKeyTwiceBooksOnceAndReturnsTheFirstAnswer(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let new = Fixture.booking()
        let first = try await store.createBooking(
            new, at: Fixture.now, idempotency: Self.idempotency("k1"), check: Fixture.noOverlap(new.times))
        guard case .created(let booking, _, let response?) = first else {
            Issue.record("expected a creation with a stored response, got \(first)")
            return
        }
        let again = try await store.createBooking(
            new, at: Fixture.now + 5, idempotency: Self.idempotency("k1"), check: Fixture.noOverlap(new.times))
        guard case .replayed(let record) = again else {
            Issue.record("expected a replay, got \(again)")
            return
        }
        #expect(record.response == response)
        #expect(record.bookingID == booking.id)
        #expect(record.createdAt == Fixture.now)
        #expect(try await store.bookings(matching: BookingQuery()).count == 1)
        #expect(try await store.latestCursor() == 1)
        #expect(try await store.idempotencyRecord(key: "k1") == record)

        let reused = await storeError { () async throws(StoreError) in
            _ = try await store.createBooking(
                new, at: Fixture.now, idempotency: Self.idempotency("k1", fingerprint: "other body"),
                check: Fixture.noOverlap(new.times))
        }
        #expect(reused?.code == .idempotencyKeyReused)
        #expect(try await store.bookings(matching: BookingQuery()).count == 1)
    }

    @Test(arguments: StoreKind.tested)
    func aRejectedRequestIsNotRemembered(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let new = Fixture.booking()
        let refused = try await store.createBooking(new, at: Fixture.now, idempotency: Self.idempotency("k2")) { _ in
            "busy"
        }
        #expect(refused.booking == nil)
        #expect(try await store.idempotencyRecord(key: "k2") == nil)
        let retried = try await store.createBooking(
            new, at: Fixture.now, idempotency: Self.idempotency("k2"), check: Fixture.noOverlap(new.times))
        #expect(retried.booking != nil)
    }

    // MARK: - Transitions

    @Test(arguments: StoreKind.tested)
    func everyTransitionAppendsItsEventWithAMonotonicCursor(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let held = try await Fixture.book(store, Fixture.booking(hold: Fixture.day - 3_600))
        let plain = try await Fixture.book(store, Fixture.booking(staff: "bo", email: "b@example.com", phone: nil))
        let third = try await Fixture.book(store, Fixture.booking(staff: "ca", email: "c@example.com", phone: nil))

        var outcomes: [TransitionOutcome] = []
        outcomes.append(try await store.confirm(held.id, at: Fixture.now + 1))
        outcomes.append(try await store.complete(held.id, at: Fixture.day + 1_800))
        outcomes.append(try await store.markNoShow(plain.id, at: Fixture.day + 600))
        outcomes.append(try await store.cancel(third.id, at: Fixture.day - 600, policy: Self.latePolicy, reason: "ill"))

        #expect(outcomes.map(\.booking.status) == [.confirmed, .completed, .noShow, .cancelled])
        #expect(
            outcomes.flatMap(\.events).map(\.type) == [
                "booking.confirmed", "booking.completed", "booking.no_show", "booking.cancelled",
            ])
        let all = try await store.events(after: 0, typePrefix: nil, limit: 100)
        #expect(all.count == 7)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.cursor < $1.cursor })
        #expect(Array(all.suffix(4)) == outcomes.flatMap(\.events))
        #expect(try await store.latestCursor() == all.last?.cursor)

        // Persisted, not only returned.
        #expect(try await store.booking(id: held.id)?.status == .completed)
        #expect(try await store.booking(id: held.id)?.holdExpiresAt == nil)
        let cancelled = try #require(try await store.booking(id: third.id))
        #expect(cancelled.cancellation?.isLate == true)
        #expect(cancelled.cancellation?.fee == Money(minorUnits: 1_000, currency: "EUR"))
        #expect(cancelled.cancellation?.reason == "ill")
        let cancelEvent = try #require(outcomes.last?.events.first)
        #expect(cancelEvent.object["late"] as? Bool == true)
        #expect(cancelEvent.object["fee_applies"] as? Bool == true)
        #expect((cancelEvent.object["fee"] as? [String: Any])?["amount"] as? Int == 1_000)
        #expect(cancelEvent.object["minutes_before_start"] as? Int == 10)
        let kinds = try await store.outboxJobs(state: .pending, limit: 100).map(\.kind)
        #expect(kinds.contains("payment.charge_fee"))
        #expect(kinds.contains("notify.booking_cancelled"))
    }

    static let latePolicy = Policies(
        cancellationWindowMinutes: 60, cancellationFee: .amount(Money(minorUnits: 1_000, currency: "EUR")))

    @Test(arguments: StoreKind.tested)
    func illegalTransitionsAreRefusedAndChangeNothing(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Fixture.book(store, Fixture.booking())
        _ = try await store.cancel(booking.id, at: Fixture.now, policy: Policies())
        let cursor = try await store.latestCursor()

        let error = await storeError { () async throws(StoreError) in
            _ = try await store.complete(booking.id, at: Fixture.day + 3_600)
        }
        #expect(error?.code == .illegalTransition)
        #expect(error?.message == "cannot complete a cancelled booking")
        #expect(error?.transition?.state == .cancelled)
        let reschedule = await storeError { () async throws(StoreError) in
            _ = try await store.reschedule(booking.id, to: Fixture.times(Fixture.day), at: Fixture.now) { _ in
                nil as String?
            }
        }
        #expect(reschedule?.code == .illegalTransition)
        #expect(try await store.latestCursor() == cursor)
        #expect(try await store.booking(id: booking.id)?.status == .cancelled)

        let missing = await storeError { () async throws(StoreError) in
            _ = try await store.confirm("bk_nope", at: Fixture.now)
        }
        #expect(missing?.code == .notFound)
    }

    @Test(arguments: StoreKind.tested)
    func notesChangeInAnyStateWithAnEventAndANewRevision(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Fixture.book(store, Fixture.booking())
        let jobs = try await store.outboxJobs(state: nil, limit: 100)
        let noted = try await store.setNotes(booking.code, to: "likes it short\nno wax", at: Fixture.now + 5)
        #expect(noted.booking.notes == "likes it short\nno wax")
        #expect(noted.booking.revision == booking.revision + 1, "a calendar's SEQUENCE rises")
        #expect(noted.booking.updatedAt == Fixture.now + 5)
        #expect(noted.booking.status == .confirmed && noted.booking.span == booking.span)
        #expect(noted.events.map(\.type) == ["booking.noted"])
        let event = try #require(noted.events.first)
        #expect(event.object["booking"] as? String == booking.id)
        #expect(event.object["status"] as? String == "confirmed")
        #expect(event.object["notes"] == nil, "the log keeps no text the shop wrote")
        #expect(try await store.booking(id: booking.id) == noted.booking, "persisted, not only returned")
        #expect(try await store.outboxJobs(state: nil, limit: 100) == jobs, "a note sends nothing")

        // The same notes again write nothing.
        let cursor = try await store.latestCursor()
        let again = try await store.setNotes(booking.id, to: "likes it short\nno wax", at: Fixture.now + 6)
        #expect(again.events.isEmpty && again.booking == noted.booking)
        #expect(try await store.latestCursor() == cursor)

        // A cancelled booking takes a note too; an empty one removes it.
        _ = try await store.cancel(booking.id, at: Fixture.now + 7, policy: Policies())
        let cleared = try await store.setNotes(booking.id, to: "", at: Fixture.now + 8)
        #expect(cleared.booking.notes == "" && cleared.booking.status == .cancelled)
        #expect(cleared.booking.revision == noted.booking.revision + 2)
        #expect(try await store.booking(id: booking.id)?.notes == "")

        let missing = await storeError { () async throws(StoreError) in
            _ = try await store.setNotes("bk_nope", to: "x", at: Fixture.now)
        }
        #expect(missing?.code == .notFound)
    }

    @Test(arguments: StoreKind.tested)
    func rescheduleRechecksAtTheNewTimeIgnoringItself(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let moving = try await Fixture.book(store, Fixture.booking())
        let blocker = try await Fixture.book(store, Fixture.booking(at: 120))

        // 20 minutes later overlaps only its own old time: allowed.
        let nearby = Fixture.times(Fixture.day + 20 * 60)
        let moved = try await store.reschedule(moving.id, to: nearby, at: Fixture.now, check: Fixture.noOverlap(nearby))
        let outcome = try #require(moved.outcome)
        #expect(outcome.booking.start == nearby.start && outcome.booking.status == .confirmed)
        let event = try #require(outcome.events.first)
        #expect(event.type == "booking.rescheduled")
        #expect((event.object["from"] as? [String: Any])?["start"] as? Int == Int(Fixture.day))
        #expect((event.object["to"] as? [String: Any])?["start"] as? Int == Int(nearby.start))

        // Onto the blocker: refused, nothing changes.
        let taken = Fixture.times(Fixture.day + 120 * 60)
        let refused = try await store.reschedule(moving.id, to: taken, at: Fixture.now, check: Fixture.noOverlap(taken))
        guard case .rejected(let why) = refused else {
            Issue.record("expected a rejection")
            return
        }
        #expect(why == "overlaps \(blocker.id)")
        #expect(try await store.booking(id: moving.id)?.start == nearby.start)
        #expect(try await store.latestCursor() == 3)
    }

    /// A walk-in's or forced booking's override is kept with the booking (a later rule check must know what staff
    /// set aside), recorded in its event, confirmed and cancelled along with it, and dropped by a reschedule (the
    /// new times pass the rules in full).
    @Test(arguments: StoreKind.tested)
    func aForcedBookingKeepsItsOverrideUntilItIsMoved(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        var new = Fixture.booking()
        let override = BookingOverride(
            waiver: .forced, reason: "regular, stays late", uid: 1000, user: "lena",
            waived: ["outside_staff_hours", "shop_closed"])
        new.override = override
        let creation = try await Fixture.create(store, new)
        let booking = try #require(creation.booking)
        #expect(booking.override == override)
        #expect(try await store.booking(id: booking.id)?.override == override)
        #expect(try await store.bookings(matching: BookingQuery()).first?.override == override)
        let recorded = try #require(creation.events.first?.object["override"] as? [String: Any])
        #expect(recorded["kind"] as? String == "forced")
        #expect(recorded["waived"] as? [String] == ["outside_staff_hours", "shop_closed"])
        _ = try await store.cancel(booking.id, at: Fixture.now, policy: Policies())
        #expect(try await store.booking(id: booking.id)?.override == override, "a transition keeps it")

        let plain = try await Fixture.book(store, Fixture.booking(at: 120))
        #expect(plain.override == nil)
        #expect(try await store.booking(id: plain.id)?.override == nil)

        var walkIn = Fixture.booking(at: 240)
        walkIn.override = BookingOverride(waiver: .walkIn, uid: 0, waived: [])
        let walked = try await Fixture.book(store, walkIn)
        let later = Fixture.times(Fixture.day + 300 * 60)
        let moved = try await store.reschedule(walked.id, to: later, at: Fixture.now, check: Fixture.noOverlap(later))
        #expect(try #require(moved.outcome).booking.override == nil)
        #expect(try await store.booking(id: walked.id)?.override == nil)
    }

    @Test(arguments: StoreKind.tested)
    func rescheduleMovesToAnotherStaffMemberCheckingTheirBookings(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let moving = try await Fixture.book(store, Fixture.booking())
        let bosBooking = try await Fixture.book(store, Fixture.booking(staff: "bo", at: 120))
        // Ana is free at 120 minutes, but the move to bo's booked time is checked against bo's bookings.
        let taken = Fixture.times(Fixture.day + 120 * 60)
        let refused = try await store.reschedule(
            moving.id, to: taken, staff: "bo", at: Fixture.now, check: Fixture.noOverlap(taken, staff: "bo"))
        guard case .rejected(let why) = refused else {
            Issue.record("expected a rejection, got \(refused)")
            return
        }
        #expect(why == "overlaps \(bosBooking.id)")
        #expect(try await store.booking(id: moving.id)?.staffID == "ana")

        let free = Fixture.times(Fixture.day + 60 * 60)
        let moved = try await store.reschedule(
            moving.id, to: free, staff: "bo", at: Fixture.now, check: Fixture.noOverlap(free, staff: "bo"))
        let outcome = try #require(moved.outcome)
        #expect(outcome.booking.staffID == "bo" && outcome.booking.start == free.start)
        let stored = try #require(try await store.booking(id: moving.id))
        #expect(stored.staffID == "bo" && stored.start == free.start)
        let event = try #require(outcome.events.first)
        #expect(event.type == "booking.rescheduled")
        #expect(event.object["staff"] as? String == "bo")
        #expect(event.object["from_staff"] as? String == "ana")
        #expect(event.object["to_staff"] as? String == "bo")
        #expect((event.object["from"] as? [String: Any])?["start"] as? Int == Int(Fixture.day))
        // Availability now sees the booking as bo's.
        let spans = try await store.bookedSpans(SpanQuery(window: Interval(0, .max / 2), staff: ["ana"]))
        #expect(spans.isEmpty)

        // Without a staff member the booking keeps bo, and the event says so.
        let later = Fixture.times(Fixture.day + 180 * 60)
        let keeping = try await store.reschedule(
            moving.id, to: later, at: Fixture.now, check: Fixture.noOverlap(later, staff: "bo"))
        let kept = try #require(keeping.outcome)
        #expect(kept.booking.staffID == "bo")
        #expect(kept.events.first?.object["from_staff"] as? String == "bo")
        #expect(kept.events.first?.object["to_staff"] as? String == "bo")
    }

    @Test(arguments: StoreKind.tested)
    func concurrentMovesOfTwoBookingsIntoOneSlotMoveOnlyOne(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let first = try await Fixture.book(store, Fixture.booking())
        let second = try await Fixture.book(store, Fixture.booking(staff: "bo"))
        let target = Fixture.times(Fixture.day + 240 * 60)
        let moved = try await withThrowingTaskGroup(of: Bool.self) { group in
            for booking in [first, second] {
                group.addTask {
                    let outcome = try await store.reschedule(
                        booking.id, to: target, staff: "cy", at: Fixture.now,
                        check: Fixture.noOverlap(target, staff: "cy"))
                    return outcome.outcome != nil
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(moved == 1)
        let atTarget = try await store.bookings(matching: BookingQuery(staffID: "cy"))
        #expect(atTarget.count == 1 && atTarget.first?.start == target.start)
    }

    @Test(arguments: StoreKind.tested)
    func eventsFilterByTypePrefixAndLimit(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        for index in 0..<5 {
            let booking = try await Fixture.book(store, Fixture.booking(at: Int64(index) * 60))
            if index.isMultiple(of: 2) { _ = try await store.cancel(booking.id, at: Fixture.now, policy: Policies()) }
        }
        let cancelled = try await store.events(after: 0, typePrefix: "booking.cancel", limit: 100)
        #expect(cancelled.count == 3)
        #expect(cancelled.allSatisfy { $0.type == "booking.cancelled" })
        let page = try await store.events(after: 2, typePrefix: "booking.", limit: 3)
        #expect(page.map(\.cursor) == [3, 4, 5])
        #expect(try await store.events(after: 8, typePrefix: nil, limit: 100).isEmpty)
        #expect(try await store.events(after: 0, typePrefix: "booking_", limit: 100).isEmpty, "_ is no wildcard")
    }

    // MARK: - Holds

    @Test(arguments: StoreKind.tested)
    func holdsExpireWhenDueAndFreeTheSlot(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let expiry = Fixture.now + 15 * 60
        let hold = try await Fixture.book(store, Fixture.booking(hold: expiry))
        let laterHold = try await Fixture.book(store, Fixture.booking(staff: "bo", hold: expiry + 60, email: nil))

        #expect(try await store.expireHolds(at: expiry - 1).isEmpty)
        let expired = try await store.expireHolds(at: expiry)
        #expect(expired.map(\.booking.id) == [hold.id])
        #expect(expired.first?.booking.status == .expired)
        #expect(expired.flatMap(\.events).map(\.type) == ["booking.expired"])
        #expect(try await store.booking(id: laterHold.id)?.status == .held)
        #expect(try await store.expireHolds(at: expiry).isEmpty, "expiring twice does nothing")

        // The slot is free again.
        #expect(try await Fixture.create(store, Fixture.booking()).booking != nil)
    }

    // MARK: - Races

    @Test(arguments: StoreKind.tested)
    func concurrentCreatesForOneSlotBookExactlyOnce(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<50 {
                group.addTask {
                    let new = Fixture.booking(email: "c\(index)@example.com")
                    return try await Fixture.create(store, new).booking != nil
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(results.count == 50)
        #expect(try await store.bookings(matching: BookingQuery()).count == 1)
        #expect(try await store.latestCursor() == 1)
    }
}

/// A value set from inside a `@Sendable` check closure.
final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String] = []

    func set(_ value: [String]) { lock.withLock { ids = value } }
    var value: [String] { lock.withLock { ids } }
}
