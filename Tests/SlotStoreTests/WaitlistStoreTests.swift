import Foundation
import SlotCore
import SlotEngine
import SlotRules
import Testing

@testable import SlotStore

/// The waitlist (issue 14) on the three stores: the line, offers as held bookings, and their answers.
struct WaitlistStoreTests {
    static let date = LocalDate(iso: "2027-01-15")!

    static func entry(
        _ name: String, email: String? = nil, phone: String? = nil, service: String = "haircut",
        staff: StaffChoice = .any, first: LocalDate = date, last: LocalDate = date
    ) -> NewWaitlistEntry {
        NewWaitlistEntry(
            wish: WaitlistWish(service: service, staff: staff, first: first, last: last),
            customer: CustomerInfo(name: name, email: email ?? "\(name.lowercased())@example.com", phone: phone))
    }

    /// The held booking that offers the day's first start to a customer, until `expiresAt`.
    static func offerBooking(_ name: String, expiresAt: Int64 = Fixture.now + 1_800) -> NewBooking {
        var booking = Fixture.booking(customer: name, email: "\(name.lowercased())@example.com", phone: nil)
        booking.deposit = nil
        booking.holdExpiresAt = expiresAt
        return booking
    }

    static func offer(
        _ store: any SlotStorage, _ id: String, _ booking: NewBooking, at now: Int64 = Fixture.now
    ) async throws -> WaitlistOfferOutcome<String> {
        try await store.offerWaitlistEntry(
            id, booking: booking, at: now, check: Fixture.noOverlap(booking.times, staff: booking.staffID))
    }

    static func offered(
        _ store: any SlotStorage, _ id: String, _ booking: NewBooking
    ) async throws -> (WaitlistChange, StoredBooking) {
        guard case .offered(let change, let held) = try await offer(store, id, booking) else {
            Issue.record("the offer to \(id) was refused")
            throw StoreError(.constraintViolation, "refused")
        }
        return (change, held)
    }

    /// The jobs about booking `id` (their payload names it).
    static func jobs(_ store: any SlotStorage, about id: String) async throws -> [OutboxJob] {
        try await store.outboxJobs(state: nil, limit: 100).filter { $0.object["booking"] as? String == id }
    }

    static func pendingKinds(_ store: any SlotStorage) async throws -> [String] {
        try await store.outboxJobs(state: .pending, limit: 100).map(\.kind)
    }

    // MARK: - The line

    @Test(arguments: StoreKind.tested)
    func customersJoinInOrderAndLeave(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let anna = try await store.joinWaitlist(Self.entry("Anna"), at: Fixture.now)
        let ben = try await store.joinWaitlist(Self.entry("Ben", staff: .member("ana")), at: Fixture.now + 1)
        #expect(anna.entry.state == .waiting)
        #expect(anna.entry.position < ben.entry.position)
        #expect(anna.events.map(\.type) == ["waitlist.joined"])
        #expect(try await Self.pendingKinds(store).filter { $0 == "waitlist.match" }.count == 2, "a join looks too")

        let line = try await store.waitlistEntries(WaitlistQuery(states: [.waiting]))
        #expect(line.map(\.id) == [anna.entry.id, ben.entry.id])
        #expect(try await store.waitlistEntries(WaitlistQuery(staff: "ana")).map(\.id) == [ben.entry.id])
        #expect(try await store.waitlistEntries(WaitlistQuery(staff: "any")).map(\.id) == [anna.entry.id])
        let otherDay = Self.date.adding(days: 1)
        #expect(try await store.waitlistEntries(WaitlistQuery(date: otherDay)).isEmpty)
        #expect(try await store.waitlistEntry(id: ben.entry.id) == ben.entry)

        let left = try await store.changeWaitlistEntry(anna.entry.id, .leave, at: Fixture.now + 2)
        #expect(left.entry.state == .left)
        #expect(left.events.map(\.type) == ["waitlist.left"])
        #expect(left.events.first?.object["reason"] as? String == "left")
        let again = await storeError { () throws(StoreError) in
            _ = try await store.changeWaitlistEntry(anna.entry.id, .leave, at: Fixture.now + 3)
        }
        #expect(again?.code == .illegalTransition)
        let missing = await storeError { () throws(StoreError) in
            _ = try await store.changeWaitlistEntry("wl_nope", .leave, at: Fixture.now + 3)
        }
        #expect(missing?.code == .notFound)
    }

    @Test(arguments: StoreKind.tested)
    func aCustomerWaitsOnceForOneThing(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let first = try await store.joinWaitlist(Self.entry("Anna"), at: Fixture.now)
        let twice = await storeError { () throws(StoreError) in
            _ = try await store.joinWaitlist(Self.entry("Anna", email: "ANNA@example.com"), at: Fixture.now)
        }
        #expect(twice?.code == .alreadyWaiting)
        #expect(twice?.message.contains(first.entry.id) == true)
        // Another service, or other dates, is another wish.
        _ = try await store.joinWaitlist(Self.entry("Anna", service: "shave"), at: Fixture.now)
        let later = Self.date.adding(days: 3)
        _ = try await store.joinWaitlist(Self.entry("Anna", first: later, last: later), at: Fixture.now)
        // Once she left, she may join again.
        _ = try await store.changeWaitlistEntry(first.entry.id, .leave, at: Fixture.now)
        _ = try await store.joinWaitlist(Self.entry("Anna"), at: Fixture.now)
        #expect(try await store.waitlistEntries(WaitlistQuery(states: [.waiting])).count == 3)
    }

    @Test(arguments: StoreKind.tested)
    func anEntryWithoutAContactIsRefused(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        var entry = Self.entry("Anna")
        entry.customer.email = nil
        let error = await storeError { () throws(StoreError) in _ = try await store.joinWaitlist(entry, at: 0) }
        #expect(error?.code == .constraintViolation)
        #expect(try await store.waitlistEntries(WaitlistQuery()).isEmpty)
    }

    // MARK: - Offers

    @Test(arguments: StoreKind.tested)
    func aCancellationAsksTheWaitlistAndTheOfferIsAHeldBookingAcceptedByConfirming(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let taken = try await Fixture.book(store, Fixture.booking(customer: "Zoe", email: "zoe@example.com"))
        let anna = try await store.joinWaitlist(Self.entry("Anna"), at: Fixture.now)
        let ben = try await store.joinWaitlist(Self.entry("Ben"), at: Fixture.now)
        let before = try await store.outboxJobs(state: nil, limit: 100).count

        _ = try await store.cancel(taken.id, at: Fixture.now + 10, policy: Policies())
        let jobs = try await store.outboxJobs(state: nil, limit: 100).dropFirst(before)
        #expect(jobs.map(\.kind).contains("waitlist.match"), "the freed time is offered: \(jobs.map(\.kind))")

        let (change, held) = try await Self.offered(store, anna.entry.id, Self.offerBooking("Anna"))
        #expect(held.status == .held)
        #expect(change.entry.state == .offered)
        #expect(change.entry.offer?.booking == held.id)
        #expect(change.entry.offer?.expiresAt == Fixture.now + 1_800)
        #expect(change.events.map(\.type) == ["booking.created", "waitlist.offered"])
        #expect(try await store.waitlistEntries(WaitlistQuery(offerBooking: held.id)).map(\.id) == [anna.entry.id])
        #expect(
            try await store.waitlistEntries(WaitlistQuery(states: [.offered], offerBooking: held.id)).map(\.id)
                == [anna.entry.id])
        #expect(try await store.waitlistEntries(WaitlistQuery(states: [.waiting], offerBooking: held.id)).isEmpty)
        #expect(try await store.waitlistEntries(WaitlistQuery(offerBooking: taken.id)).isEmpty, "it offers nothing")
        let heldJobs = try await Self.jobs(store, about: held.id)
        #expect(heldJobs.map(\.kind).contains("notify.waitlist_offered"))
        #expect(!heldJobs.map(\.kind).contains("notify.booking_created"), "the offer is the message")

        // The start is held: offering it to Ben as well is refused, and he stays waiting.
        guard case .rejected = try await Self.offer(store, ben.entry.id, Self.offerBooking("Ben")) else {
            Issue.record("one start was offered to two people")
            return
        }
        #expect(try await store.waitlistEntry(id: ben.entry.id)?.state == .waiting)
        // Offering Anna a second start while she holds one is refused.
        var another = Self.offerBooking("Anna")
        another.times = Fixture.times(Fixture.day + 3_600)
        let twice = await storeError { () throws(StoreError) in
            _ = try await store.offerWaitlistEntry(anna.entry.id, booking: another,
                at: Fixture.now, check: { _ in String?.none })
        }
        #expect(twice?.code == .illegalTransition)

        let accepted = try await store.confirm(held.id, at: Fixture.now + 60)
        #expect(accepted.events.map(\.type) == ["booking.confirmed", "waitlist.booked"])
        #expect(try await store.waitlistEntry(id: anna.entry.id)?.state == .booked)
        let active = try await store.bookings(matching: BookingQuery(statuses: [.held, .confirmed]))
        #expect(active.map(\.id) == [held.id], "the start is booked once")
    }

    @Test(arguments: StoreKind.tested)
    func aLapsedOfferExpiresTheEntryQuietlyAndAsksForTheNext(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let anna = try await store.joinWaitlist(Self.entry("Anna"), at: Fixture.now)
        _ = try await store.joinWaitlist(Self.entry("Ben"), at: Fixture.now)
        let (_, held) = try await Self.offered(store, anna.entry.id, Self.offerBooking("Anna"))

        let lapsed = try await store.expireHolds(at: Fixture.now + 1_800)
        #expect(lapsed.flatMap(\.events).map(\.type) == ["booking.expired", "waitlist.offer_expired"])
        let entry = try await store.waitlistEntry(id: anna.entry.id)
        #expect(entry?.state == .expired)
        #expect(entry?.offer?.booking == held.id, "the lapsed offer stays on the record")
        let kinds = try await Self.jobs(store, about: held.id).map(\.kind)
        #expect(!kinds.contains("notify.booking_expired"))
        #expect(kinds.contains("waitlist.match"), "Ben is still waiting: the start goes round again")
    }

    @Test(arguments: StoreKind.tested)
    func cancellingAnOfferDeclinesIt(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let anna = try await store.joinWaitlist(Self.entry("Anna"), at: Fixture.now)
        let (_, held) = try await Self.offered(store, anna.entry.id, Self.offerBooking("Anna"))
        let leave = await storeError { () throws(StoreError) in
            _ = try await store.changeWaitlistEntry(anna.entry.id, .leave, at: Fixture.now)
        }
        #expect(leave?.message.contains("decline") == true)

        let declined = try await store.cancel(held.id, at: Fixture.now + 60, policy: Policies(), reason: "declined")
        #expect(declined.events.map(\.type) == ["booking.cancelled", "waitlist.left"])
        #expect(declined.events.last?.object["reason"] as? String == "declined")
        #expect(try await store.waitlistEntry(id: anna.entry.id)?.state == .left)
        let kinds = try await Self.jobs(store, about: held.id).map(\.kind)
        #expect(!kinds.contains("notify.booking_cancelled"))
        #expect(!kinds.contains("waitlist.match"), "no one else waits")
    }
}
