import SlotCore
import SlotEngine
import SlotRules
import Testing

/// A staff member's own price and duration for a service, and services offered only at some hours (issue 14).
@Suite struct ServiceTermsTests {
    /// Ana takes 30 minutes for 20.00; Mehmet, the senior barber, takes 20 minutes and charges 30.00.
    static func rules(available: String? = nil) -> RuleSet {
        var cut = Fixture.cut
        cut.staffTerms = ["mehmet": StaffTerms(price: Fixture.money(3000), durationMinutes: 20)]
        cut.available = available.map(Fixture.hours)
        return Fixture.rules(
            hours: "Mo-Sa 09:00-17:00", step: 10, services: [cut],
            staff: [Fixture.member("ana", hours: "Mo-Fr 09:00-10:00"), Fixture.member("mehmet")])
    }

    @Test("the offering as a staff member performs it has their price and length; others keep the service's")
    func performedByStaff() {
        let offering = Fixture.offering(Self.rules(), "cut")
        #expect(offering.performed(by: "mehmet").price == Fixture.money(3000))
        #expect(offering.performed(by: "mehmet").durationMinutes == 20)
        #expect(offering.performed(by: "ana").price == Fixture.money(2000))
        #expect(offering.performed(by: "ana").durationMinutes == 30)
    }

    /// A cut with two variants; Mehmet takes 40 minutes for long hair at 45.00 and short hair as the variant says.
    static func variantRules() -> RuleSet {
        let short = ServiceVariant(
            id: "short", name: "Short", segments: [Fixture.active(30)], price: Fixture.money(2000))
        let long = ServiceVariant(
            id: "long", name: "Long", segments: [Fixture.active(60)], price: Fixture.money(3500))
        var cut = Fixture.service("cut", [Fixture.active(30)], variants: [short, long])
        cut.staffTerms = [
            "mehmet": StaffTerms(variants: ["long": StaffTerms(price: Fixture.money(4500), durationMinutes: 40)])
        ]
        return Fixture.rules(
            hours: "Mo-Sa 09:00-17:00", step: 10, services: [cut],
            staff: [Fixture.member("ana"), Fixture.member("mehmet")])
    }

    @Test("a staff member's own terms for a variant apply to that variant only, with them only")
    func termsPerVariant() {
        let rules = Self.variantRules()
        let long = Fixture.offering(rules, "cut", variant: "long")
        #expect(long.performed(by: "mehmet").price == Fixture.money(4500))
        #expect(long.performed(by: "mehmet").durationMinutes == 40)
        #expect(long.performed(by: "ana").price == Fixture.money(3500))
        #expect(long.performed(by: "ana").durationMinutes == 60)
        let short = Fixture.offering(rules, "cut", variant: "short")
        #expect(short.performed(by: "mehmet") == short, "no terms of his own for short hair")
        #expect(short.performed(by: "mehmet").durationMinutes == 30)

        // His long-hair slots last 40 minutes, so 16:20 is his last start; Ana's last is 16:00.
        let engine = AvailabilityEngine(rules: rules)
        let mehmet = engine.slots(
            for: long, staff: .member("mehmet"), from: Fixture.date("2026-03-09"), through: Fixture.date("2026-03-09"),
            now: Fixture.longAgo, bookings: [])
        #expect(Fixture.walls(mehmet).last == "2026-03-09T16:20")
        #expect(mehmet.allSatisfy { $0.end - $0.start == 2400 })
        let ana = engine.slots(
            for: long, staff: .member("ana"), from: Fixture.date("2026-03-09"), through: Fixture.date("2026-03-09"),
            now: Fixture.longAgo, bookings: [])
        #expect(Fixture.walls(ana).last == "2026-03-09T16:00")
        // "Any" at 16:20 can only be Mehmet, with his length.
        let decision = engine.decide(
            offering: long, staff: .any, start: Fixture.at("2026-03-09T16:20"), now: Fixture.longAgo, bookings: [])
        #expect(decision.slot == Slot(start: Fixture.at("2026-03-09T16:20"), end: Fixture.at("2026-03-09T17:00"),
            staff: "mehmet"))
    }

    @Test("each staff member's slots end after their own duration, and fit their own free time")
    func slotsUseEachStaffMembersDuration() {
        let engine = AvailabilityEngine(rules: Self.rules())
        let ana = engine.starts("cut", staff: .member("ana"), on: "2026-03-09")
        let mehmet = engine.starts("cut", staff: .member("mehmet"), on: "2026-03-09")
        // Ana's hour holds starts up to 09:30 for 30 minutes; Mehmet's day to 16:40 for 20 minutes.
        #expect(Fixture.walls(ana).last == "2026-03-09T09:30")
        #expect(ana.allSatisfy { $0.end - $0.start == 1800 })
        #expect(Fixture.walls(mehmet).last == "2026-03-09T16:40")
        #expect(mehmet.allSatisfy { $0.end - $0.start == 1200 })
        let decision = engine.decide(
            offering: Fixture.offering(engine.rules, "cut"), staff: .member("mehmet"),
            start: Fixture.at("2026-03-09T16:40"), now: Fixture.longAgo, bookings: [])
        #expect(decision.slot?.end == Fixture.at("2026-03-09T17:00"))
    }

    @Test("a booking with the shorter duration leaves the time after it free")
    func shorterBookingFreesTime() {
        let engine = AvailabilityEngine(rules: Self.rules())
        let offering = Fixture.offering(engine.rules, "cut")
        let booked = Fixture.booking("b1", "mehmet", "2026-03-09T11:00", offering.performed(by: "mehmet"))
        #expect(engine.codes("cut", staff: .member("mehmet"), at: "2026-03-09T11:20", bookings: [booked]).isEmpty)
        #expect(
            engine.codes("cut", staff: .member("mehmet"), at: "2026-03-09T11:10", bookings: [booked])
                == ["overlaps_booking"])
    }

    @Test("a start outside the service's available hours is not offered and is refused with the reason")
    func availableHoursLimitStarts() {
        let engine = AvailabilityEngine(rules: Self.rules(available: "Sa 09:00-12:00"))
        #expect(engine.starts("cut", on: "2026-03-09").isEmpty)
        let saturday = Fixture.walls(engine.starts("cut", staff: .member("mehmet"), on: "2026-03-14"))
        #expect(saturday.first == "2026-03-14T09:00" && saturday.last == "2026-03-14T11:50")
        let refused = engine.decide(
            offering: Fixture.offering(engine.rules, "cut"), staff: .member("mehmet"),
            start: Fixture.at("2026-03-14T12:00"), now: Fixture.longAgo, bookings: [])
        #expect(refused.reasons.map(\.code) == ["service_not_available"])
        #expect(refused.reasons.first?.message == "service 'cut' is offered only at Sa 09:00-12:00")
    }

    @Test("back to back, the second service's start must lie in its own available hours")
    func availableHoursOfALaterService() {
        var rules = Self.rules()
        var wash = Fixture.service("wash", [Fixture.active(30)])
        wash.available = Fixture.hours("Mo-Sa 09:00-10:00")
        rules.services.append(wash)
        rules.staff[1].services.append("wash")
        let engine = AvailabilityEngine(rules: rules)
        guard
            let combined = ServiceOffering.backToBack([
                Fixture.offering(rules, "cut"), Fixture.offering(rules, "wash"),
            ])
        else { Issue.record("no combined offering"); return }
        // Mehmet's cut takes 20 minutes, so the wash starts at most 09:50 when the cut starts at 09:30.
        let starts = engine.slots(
            for: combined, staff: .member("mehmet"), from: Fixture.date("2026-03-09"),
            through: Fixture.date("2026-03-09"), now: Fixture.longAgo, bookings: [])
        #expect(Fixture.walls(starts).map { $0.suffix(5) } == ["09:00", "09:10", "09:20", "09:30"])
        #expect(starts.allSatisfy { $0.end - $0.start == 50 * 60 })
    }
}
