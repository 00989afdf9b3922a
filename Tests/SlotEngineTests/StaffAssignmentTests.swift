import SlotCore
import SlotEngine
import SlotRules
import Testing

/// The `assign` policy: which staff member a booking for "any" gets, in `decide` and in the slot list alike.
@Suite struct StaffAssignmentTests {
    /// A Tuesday; Monday is the day before.
    static let tuesday = "2026-12-08"

    static func shop(_ assign: StaffAssignment, staff: [StaffMember]? = nil) -> RuleSet {
        var rules = Fixture.rules(
            hours: "Mo-Fr 09:00-17:00",
            services: [Fixture.cut, Fixture.service("trim", [Fixture.active(20)]),
                Fixture.service("shave", [Fixture.active(60)])],
            staff: staff ?? [
                Fixture.member("mehmet", services: ["cut", "trim", "shave"]),
                Fixture.member("lena", services: ["cut", "trim", "shave"]),
            ])
        rules.policies.assign = assign
        return rules
    }

    /// Books "any" at each wall time in turn (each booking seen by the next), checking that the slot list names
    /// the same staff member as the decision; returns who got each.
    static func bookAny(_ rules: RuleSet, _ walls: [String], service: String = "cut", bookings: [BookedSpan] = [])
        -> [String]
    {
        let engine = AvailabilityEngine(rules: rules)
        let offering = Fixture.offering(rules, service)
        var bookings = bookings
        var assigned: [String] = []
        for (index, wall) in walls.enumerated() {
            let start = Fixture.at(wall)
            let decision = engine.decide(
                offering: offering, staff: .any, start: start, now: Fixture.longAgo, bookings: bookings)
            guard let slot = decision.slot else {
                Issue.record("\(wall) is not bookable: \(decision.reasons.map(\.code))")
                return assigned
            }
            let listed = engine.starts(service, on: String(wall.prefix(10)), bookings: bookings)
            #expect(listed.first { $0.start == start } == slot, "the slot list and the decision disagree at \(wall)")
            #expect(listed.filter { $0.start == start }.count == 1, "\(wall) is offered once")
            assigned.append(slot.staff)
            bookings.append(BookedSpan(id: "A\(index)", staff: slot.staff, start: start, offering: offering))
        }
        return assigned
    }

    /// 30-minute cuts by `staff` on `date` at each of `times`.
    static func cuts(_ rules: RuleSet, by staff: String, on date: String, at times: [String]) -> [BookedSpan] {
        times.map { Fixture.booking("\(staff)-\($0)", staff, "\(date)T\($0)", Fixture.offering(rules, "cut")) }
    }

    static let fourStarts = ["09:00", "10:00", "11:00", "12:00"].map { "\(tuesday)T\($0)" }

    @Test func balancedIsTheDefault() {
        #expect(Policies().assign == .balanced)
        #expect(Fixture.rules().policies.assign == .balanced)
    }

    @Test func balancedSpreadsFourAnyBookingsTwoAndTwo() {
        let assigned = Self.bookAny(Self.shop(.balanced), Self.fourStarts)
        #expect(assigned == ["mehmet", "lena", "mehmet", "lena"])
    }

    @Test func inOrderKeepsGivingTheFirstFreeStaffMember() {
        let assigned = Self.bookAny(Self.shop(.inOrder), Self.fourStarts)
        #expect(assigned == ["mehmet", "mehmet", "mehmet", "mehmet"])
    }

    @Test func tiesGoInDeclaredOrder() {
        // Declared lena first: with nothing booked, and again with 30 minutes each, she is asked first.
        let staff = [
            Fixture.member("lena", services: ["cut", "trim", "shave"]),
            Fixture.member("mehmet", services: ["cut", "trim", "shave"]),
        ]
        #expect(Self.bookAny(Self.shop(.balanced, staff: staff), ["\(Self.tuesday)T09:00"]) == ["lena"])
        let rules = Self.shop(.balanced, staff: staff)
        let cut = Fixture.offering(rules, "cut")
        let even = [
            Fixture.booking("L", "lena", "\(Self.tuesday)T14:00", cut),
            Fixture.booking("M", "mehmet", "\(Self.tuesday)T15:00", cut),
        ]
        #expect(Self.bookAny(rules, ["\(Self.tuesday)T10:00"], bookings: even) == ["lena"])
    }

    @Test func balancedCountsMinutesNotBookings() {
        // Mehmet: one 60-minute shave; Lena: two 20-minute trims (40 minutes) — Lena has fewer minutes.
        let rules = Self.shop(.balanced)
        let booked = [
            Fixture.booking("M", "mehmet", "\(Self.tuesday)T15:00", Fixture.offering(rules, "shave")),
            Fixture.booking("L1", "lena", "\(Self.tuesday)T15:00", Fixture.offering(rules, "trim")),
            Fixture.booking("L2", "lena", "\(Self.tuesday)T15:30", Fixture.offering(rules, "trim")),
        ]
        #expect(Self.bookAny(rules, ["\(Self.tuesday)T09:00"], bookings: booked) == ["lena"])
    }

    @Test func balancedCountsOnlyTheStartsLocalDay() {
        // Monday's full day for Mehmet does not count on Tuesday: both have 0 minutes there, so the declared order.
        let rules = Self.shop(.balanced)
        let monday = Self.cuts(rules, by: "mehmet", on: "2026-12-07", at: ["09:00", "10:00", "11:00"])
        #expect(Self.bookAny(rules, ["\(Self.tuesday)T09:00"], bookings: monday) == ["mehmet"])
        #expect(Self.bookAny(rules, ["2026-12-07T14:00"], bookings: monday) == ["lena"])
    }

    @Test func aStaffMemberBusyAtTheStartIsNeverChosen() {
        // Lena has fewer minutes (60 against 90) but her 10:00 cut covers 10:00 and 10:15, and a 10:45 cut would
        // run into her 11:00 one; so those go to Mehmet, and the free 11:30 goes to her.
        let rules = Self.shop(.balanced)
        let cut = Fixture.offering(rules, "cut")
        let booked =
            Self.cuts(rules, by: "mehmet", on: Self.tuesday, at: ["13:00", "14:00", "15:00"])
            + Self.cuts(rules, by: "lena", on: Self.tuesday, at: ["10:00", "11:00"])
        let engine = AvailabilityEngine(rules: rules)
        for time in ["10:00", "10:15", "10:45"] {
            let decision = engine.decide(
                offering: cut, staff: .any, start: Fixture.at("\(Self.tuesday)T\(time)"), now: Fixture.longAgo,
                bookings: booked)
            #expect(decision.slot?.staff == "mehmet", "\(time)")
        }
        #expect(Self.bookAny(rules, ["\(Self.tuesday)T11:30"], bookings: booked) == ["lena"])
        // Who is busy at a start is never offered it in the list either.
        let listed = engine.starts("cut", on: Self.tuesday, bookings: booked)
        for slot in listed {
            let own = booked.filter { $0.staff == slot.staff }
            #expect(!own.contains { $0.span.overlaps(Interval(slot.start, slot.end)) }, "\(slot)")
        }
    }

    @Test func aStaffMemberWhoDoesNotPerformTheServiceIsNeverChosen() {
        // Ana has nothing booked but does not cut.
        let staff = [
            Fixture.member("ana", services: ["shave"]),
            Fixture.member("mehmet", services: ["cut", "shave"]),
            Fixture.member("lena", services: ["cut", "shave"]),
        ]
        let assigned = Self.bookAny(Self.shop(.balanced, staff: staff), Self.fourStarts)
        #expect(assigned == ["mehmet", "lena", "mehmet", "lena"])
    }

    @Test(arguments: StaffAssignment.allCases) func nobodyFreeGivesTheSameReasonsUnderBothPolicies(
        assign: StaffAssignment
    ) {
        let rules = Self.shop(assign)
        let cut = Fixture.offering(rules, "cut")
        let booked = [
            Fixture.booking("M", "mehmet", "\(Self.tuesday)T10:00", cut),
            Fixture.booking("L", "lena", "\(Self.tuesday)T10:00", cut),
            Fixture.booking("L2", "lena", "\(Self.tuesday)T09:00", cut),
        ]
        let engine = AvailabilityEngine(rules: rules)
        let decision = engine.decide(
            offering: cut, staff: .any, start: Fixture.at("\(Self.tuesday)T10:00"), now: Fixture.longAgo,
            bookings: booked)
        #expect(decision.reasons.map(\.code) == ["overlaps_booking", "overlaps_booking"])
        #expect(decision.reasons.map(\.staff) == ["mehmet", "lena"])
    }
}
