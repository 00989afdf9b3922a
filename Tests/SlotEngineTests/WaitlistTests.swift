import SlotCore
import SlotEngine
import SlotRules
import Testing

/// The waitlist: who in line is offered a freed start, for how long, and how an entry's life goes.
@Suite struct WaitlistTests {
    /// A Tuesday with two starts for a 30-minute cut (09:00 and 09:30) with one barber.
    static let tuesday = "2026-12-08"
    static let rules = Fixture.rules(hours: "Mo-Fr 09:00-10:00", step: 30)
    static let engine = AvailabilityEngine(rules: rules)
    static let cut = Fixture.offering(rules, "cut")
    /// The Monday before, at noon: both Tuesday starts are ahead.
    static let now = Fixture.at("2026-12-07T12:00")

    static func wish(
        staff: StaffChoice = .any, first: String = tuesday, last: String = tuesday, from: Int? = nil, to: Int? = nil
    ) -> WaitlistWish {
        WaitlistWish(
            service: "cut", staff: staff, first: Fixture.date(first), last: Fixture.date(last), fromMinute: from,
            toMinute: to)
    }

    static func booked(_ walls: [String]) -> [BookedSpan] {
        walls.map { Fixture.booking($0, "ana", "\(tuesday)T\($0)", cut) }
    }

    static func decide(_ entries: [WaitingEntry], bookings: [BookedSpan], now: Int64 = now, hold: Int = 30)
        -> [WaitlistDecision]
    {
        WaitlistMatcher.decide(entries: entries, engine: engine, bookings: bookings, now: now, offerHoldMinutes: hold)
    }

    static let line = [
        WaitingEntry(id: "second", wish: wish(), position: 2), WaitingEntry(id: "first", wish: wish(), position: 1),
    ]

    // MARK: - The matcher

    @Test func nobodyIsOfferedWhileEveryStartIsTaken() {
        #expect(Self.decide(Self.line, bookings: Self.booked(["09:00", "09:30"])).isEmpty)
    }

    @Test func theFirstInLineGetsTheFreedStartHeldForTheOfferTime() {
        let decisions = Self.decide(Self.line, bookings: Self.booked(["09:00"]))
        let slot = Slot(
            start: Fixture.at("\(Self.tuesday)T09:30"), end: Fixture.at("\(Self.tuesday)T10:00"), staff: "ana")
        #expect(decisions == [.offer(entry: "first", slot: slot, expiresAt: Self.now + 30 * 60)])
    }

    @Test func anOfferedStartIsNotOfferedToTheNextAsWell() {
        // The first's offer is a held booking: seen by the next decision, it leaves nothing for the second.
        var bookings = Self.booked(["09:00"])
        guard case .offer(_, let slot, _) = Self.decide(Self.line, bookings: bookings).first else {
            Issue.record("no offer")
            return
        }
        bookings.append(BookedSpan(id: "held", staff: slot.staff, start: slot.start, offering: Self.cut))
        let rest = Self.line.filter { $0.id != "first" }
        #expect(Self.decide(rest, bookings: bookings).isEmpty)
    }

    @Test func oneDecisionOffersOneStartEvenWhenSeveralAreFree() {
        let offers = Self.decide(Self.line, bookings: []).filter {
            if case .offer = $0 { return true } else { return false }
        }
        #expect(offers.count == 1)
        if case .offer(let entry, let slot, _) = offers.first {
            #expect(entry == "first")
            #expect(slot.start == Fixture.at("\(Self.tuesday)T09:00"), "the earliest start")
        }
    }

    @Test func anEntryWhoseWindowDoesNotFitIsPassedOver() {
        // The first wants 09:00-09:15 only, which is taken; the second takes any time and gets 09:30.
        let entries = [
            WaitingEntry(id: "early", wish: Self.wish(from: 9 * 60, to: 9 * 60 + 15), position: 1),
            WaitingEntry(id: "any-time", wish: Self.wish(), position: 2),
        ]
        let decisions = Self.decide(entries, bookings: Self.booked(["09:00"]))
        #expect(decisions.count == 1)
        if case .offer(let entry, _, _) = decisions.first { #expect(entry == "any-time") }
    }

    @Test func anEntryForAnotherBarberIsPassedOver() {
        let entries = [WaitingEntry(id: "wants-lena", wish: Self.wish(staff: .member("lena")), position: 1)]
        #expect(Self.decide(entries, bookings: []).isEmpty)
    }

    @Test func anOfferNeverOutlastsItsStart() {
        // Ten minutes before 09:30, a 30-minute offer would end after the start: it ends at the start.
        let now = Fixture.at("\(Self.tuesday)T09:20")
        let decisions = Self.decide(Self.line, bookings: Self.booked(["09:00"]), now: now)
        if case .offer(_, let slot, let expiresAt) = decisions.first {
            #expect(expiresAt == slot.start)
        } else {
            Issue.record("no offer: \(decisions)")
        }
    }

    @Test func anEntryWhoseDatesArePastCloses() {
        let entries = [WaitingEntry(id: "old", wish: Self.wish(first: "2026-12-01", last: "2026-12-02"), position: 1)]
        #expect(Self.decide(entries, bookings: []) == [.close(entry: "old")])
    }

    @Test func anEntryForAServiceNoLongerOfferedWaits() {
        var wish = Self.wish()
        wish.service = "perm"
        #expect(Self.decide([WaitingEntry(id: "perm", wish: wish, position: 1)], bookings: []).isEmpty)
    }

    @Test func wishesOverlapOnlyForTheSameThingAtSharedDates() {
        let base = Self.wish(first: "2026-12-08", last: "2026-12-10")
        #expect(base.overlaps(Self.wish(first: "2026-12-10", last: "2026-12-12")))
        #expect(!base.overlaps(Self.wish(first: "2026-12-11", last: "2026-12-12")))
        #expect(!base.overlaps(Self.wish(staff: .member("ana"), first: "2026-12-08", last: "2026-12-10")))
    }

    // MARK: - The lifecycle

    static let offer = WaitlistOffer(booking: "bk_1", staff: "ana", start: 10_000, expiresAt: 2_000)

    @Test func anOfferIsAcceptedDeclinedOrLapses() throws {
        var entry = WaitlistLifecycle.join().0
        #expect(entry.state == .waiting)
        #expect(try entry.makeOffer(Self.offer, at: 1_000).get() == .offered(Self.offer))
        #expect(entry.state == .offered)

        var accepted = entry
        #expect(try accepted.follow(.confirmed).get() == .apply(.booked(Self.offer)))
        #expect(accepted.state == .booked)

        var declined = entry
        let terms = CancellationTerms(minutesBeforeStart: 10, isLate: false, fee: nil, reason: "")
        #expect(try declined.follow(.cancelled(terms)).get() == .apply(.left(reason: "declined")))
        #expect(declined.state == .left)

        var lapsed = entry
        #expect(try lapsed.follow(.expired).get() == .apply(.offerExpired(Self.offer)))
        #expect(lapsed.state == .expired)

        var moved = entry
        let span = Interval(10_000, 11_800)
        #expect(try moved.follow(.rescheduled(from: span, to: span)).get() == .unchanged)
        #expect(moved.state == .offered)
    }

    @Test(arguments: [WaitlistState.offered, .booked, .expired, .left])
    func onlyAWaitingEntryGetsAnOffer(state: WaitlistState) {
        var entry = WaitlistLifecycle(state: state, offer: state == .waiting ? nil : Self.offer)
        #expect(throws: WaitlistTransitionError.self) { try entry.makeOffer(Self.offer, at: 1_000).get() }
        #expect(entry.state == state)
    }

    @Test(arguments: [WaitlistState.waiting, .booked, .expired, .left])
    func onlyAnOfferedEntryAcceptsDeclinesOrLapses(state: WaitlistState) {
        let entry = WaitlistLifecycle(state: state, offer: state == .waiting ? nil : Self.offer)
        var copy = entry
        #expect(throws: WaitlistTransitionError.self) { try copy.accept().get() }
        #expect(throws: WaitlistTransitionError.self) { try copy.decline().get() }
        #expect(throws: WaitlistTransitionError.self) { try copy.lapse().get() }
        #expect(copy == entry)
    }

    @Test func onlyAWaitingEntryLeavesOrCloses() throws {
        var waiting = WaitlistLifecycle(state: .waiting)
        #expect(try waiting.leave().get() == .left(reason: "left"))
        var closing = WaitlistLifecycle(state: .waiting)
        #expect(try closing.close().get() == .closed)
        #expect(closing.state == .expired)
        var offered = WaitlistLifecycle(state: .offered, offer: Self.offer)
        let error = offered.leave()
        guard case .failure(let refusal) = error else {
            Issue.record("an offered entry left")
            return
        }
        #expect(refusal.message.contains("decline its offer"))
    }

    @Test func anOfferMustLapseBetweenNowAndItsStart() {
        var entry = WaitlistLifecycle(state: .waiting)
        var late = Self.offer
        late.expiresAt = late.start + 1
        #expect(throws: WaitlistTransitionError.self) { try entry.makeOffer(late, at: 1_000).get() }
        #expect(throws: WaitlistTransitionError.self) { try entry.makeOffer(Self.offer, at: 2_000).get() }
        #expect(entry.state == .waiting)
    }

    @Test func eventTypesAreTheStoredNames() {
        let types = [
            WaitlistEvent.joined, .offered(Self.offer), .offerExpired(Self.offer), .left(reason: "left"),
            .booked(Self.offer), .closed,
        ].map(\.type)
        #expect(
            types == [
                "waitlist.joined", "waitlist.offered", "waitlist.offer_expired", "waitlist.left", "waitlist.booked",
                "waitlist.closed",
            ])
    }

    @Test func theOfferHoldIsAPolicyDefaultingToThirtyMinutes() {
        #expect(Policies().waitlistOfferHoldMinutes == 30)
    }
}
