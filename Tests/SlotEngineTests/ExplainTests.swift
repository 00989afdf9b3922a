import SlotCore
import SlotEngine
import SlotRules
import Testing

/// `decide` explains every reason a start is not offered.
@Suite struct ExplainTests {
    static let rules: RuleSet = {
        let cut = Fixture.service("cut", [Fixture.active(30)], after: 10)
        let wash = Fixture.service("wash", [Fixture.active(30)], resources: [ResourceNeed(resource: "basin")])
        let color = Fixture.service("color", [Fixture.active(20), Fixture.processing(30), Fixture.active(15)])
        return Fixture.rules(
            hours: "Mo-Sa 09:00-18:00", step: 15, notice: 60, horizonDays: 30, breaks: ["Mo-Fr 12:00-13:00"],
            holidays: [Holiday(name: "Founders' Day", rule: .date(Fixture.date("2026-03-11")))],
            overrides: [
                Override(
                    first: Fixture.date("2026-03-13"), last: Fixture.date("2026-03-13"), hours: nil, note: "inventory"),
                Override(
                    first: Fixture.date("2026-03-12"), last: Fixture.date("2026-03-12"), hours: nil, staff: "ben",
                    note: "course"),
            ],
            services: [cut, wash, color], resources: [Resource(id: "basin", name: "Wash basin", count: 1)],
            staff: [
                Fixture.member(
                    "ana", hours: "Mo-Fr 10:00-18:00", breaks: ["Mo-Fr 15:00-15:30"], services: ["cut", "wash"],
                    timeOff: [
                        TimeOff(first: Fixture.date("2026-03-10"), last: Fixture.date("2026-03-10"), note: "dentist")
                    ]),
                Fixture.member("ben", services: ["cut", "wash", "color"], maxBookings: 3),
            ])
    }()

    static let bookings: [BookedSpan] = [
        Fixture.booking("B1", "ana", "2026-03-09T10:00", Fixture.offering(rules, "cut")),
        Fixture.booking("W1", "ben", "2026-03-09T16:00", Fixture.offering(rules, "wash")),
        Fixture.booking("D1", "ben", "2026-03-16T09:00", Fixture.offering(rules, "cut")),
        Fixture.booking("D2", "ben", "2026-03-16T10:00", Fixture.offering(rules, "cut")),
        Fixture.booking("D3", "ben", "2026-03-16T11:00", Fixture.offering(rules, "cut")),
    ]

    static let now = Fixture.at("2026-03-09T08:00")

    struct Row: Sendable, CustomStringConvertible {
        var description: String
        var service = "cut"
        var staff: StaffChoice
        var at: String
        var codes: Set<String>
        /// Text the explanation must contain.
        var mentions: String = ""
    }

    static let rows: [Row] = [
        Row(description: "bookable", staff: .member("ana"), at: "2026-03-09T11:00", codes: []),
        Row(
            description: "outside the staff member's hours", staff: .member("ana"), at: "2026-03-09T09:00",
            codes: ["outside_staff_hours"]),
        Row(
            description: "too soon and closed", staff: .member("ana"), at: "2026-03-09T08:45",
            codes: ["too_soon", "shop_closed", "outside_staff_hours"], mentions: "2026-03-09T09:00:00+01:00"),
        Row(description: "shop break", staff: .member("ben"), at: "2026-03-09T12:00", codes: ["shop_break"]),
        Row(
            description: "a cut ending in the break (its buffer too)", staff: .member("ben"), at: "2026-03-09T11:30",
            codes: ["shop_break"]),
        Row(description: "staff break", staff: .member("ana"), at: "2026-03-09T15:15", codes: ["staff_break"]),
        Row(
            description: "holiday", staff: .member("ben"), at: "2026-03-11T10:00", codes: ["holiday"],
            mentions: "Founders' Day"),
        Row(
            description: "time off", staff: .member("ana"), at: "2026-03-10T10:00", codes: ["time_off"],
            mentions: "dentist"),
        Row(
            description: "shop closed by override", staff: .member("ben"), at: "2026-03-13T10:00",
            codes: ["closed_by_override"], mentions: "inventory"),
        Row(
            description: "staff closed by override", staff: .member("ben"), at: "2026-03-12T10:00",
            codes: ["closed_by_override"], mentions: "course"),
        Row(
            description: "overlaps a booking", staff: .member("ana"), at: "2026-03-09T10:15",
            codes: ["overlaps_booking"], mentions: "B1"),
        Row(
            description: "inside a booking's buffer", staff: .member("ana"), at: "2026-03-09T10:30",
            codes: ["inside_buffer_of_booking"], mentions: "B1"),
        Row(
            description: "its own buffer runs into a booking", staff: .member("ana"), at: "2026-03-09T09:30",
            codes: ["outside_staff_hours", "overlaps_booking"]),
        Row(
            description: "resource busy", service: "wash", staff: .member("ana"), at: "2026-03-09T16:15",
            codes: ["resource_busy"], mentions: "in use 1 of 1"),
        Row(
            description: "daily limit", staff: .member("ben"), at: "2026-03-16T14:00", codes: ["daily_limit_reached"],
            mentions: "3 of 3"),
        Row(
            description: "not on the grid", staff: .member("ana"), at: "2026-03-09T11:07", codes: ["not_on_grid"],
            mentions: "2026-03-09T11:00:00+01:00, 2026-03-09T11:15:00+01:00"),
        Row(
            description: "beyond the horizon", staff: .member("ben"), at: "2026-04-09T10:00",
            codes: ["beyond_horizon"]),
        Row(
            description: "does not perform", service: "color", staff: .member("ana"), at: "2026-03-09T10:45",
            codes: ["staff_does_not_perform"]),
        Row(
            description: "unknown staff", staff: .member("bne"), at: "2026-03-09T11:00", codes: ["unknown_staff"],
            mentions: "did you mean 'ben'"),
        Row(description: "any: the first one who can", staff: .any, at: "2026-03-09T10:00", codes: []),
        Row(
            description: "any: reasons of everyone, shared ones once", staff: .any, at: "2026-03-09T12:00",
            codes: ["shop_break"]),
        Row(description: "any: nobody", staff: .any, at: "2026-03-10T12:00", codes: ["time_off", "shop_break"]),
    ]

    @Test(arguments: rows) func explainsEveryReason(row: Row) {
        let engine = AvailabilityEngine(rules: Self.rules)
        let decision = engine.decide(
            offering: Fixture.offering(Self.rules, row.service), staff: row.staff,
            wallTime: LocalDateTime(iso: row.at)!, now: Self.now, bookings: Self.bookings)
        #expect(Set(decision.reasons.map(\.code)) == row.codes)
        #expect(decision.reasons.count == Set(decision.reasons).count)
        #expect(decision.isBookable == row.codes.isEmpty)
        if !row.mentions.isEmpty {
            #expect(decision.reasons.map(\.message).joined(separator: "; ").contains(row.mentions))
        }
    }

    /// A lunch for Tuesday to Saturday in a shop that closes at 13:00 on Saturdays and on a short Christmas Eve:
    /// the rules load with a warning, and the break does not apply where the shop is closed anyway.
    @Test func aBreakOutsideTheHoursDoesNotApplyThere() {
        let rules = Fixture.rules(
            hours: "Tu-Fr 09:00-18:00; Sa 09:00-13:00", step: 15, notice: 0, horizonDays: 400,
            breaks: ["Tu-Sa 13:00-13:45"],
            overrides: [
                Override(first: Fixture.date("2026-12-24"), last: Fixture.date("2026-12-24"),
                    hours: Fixture.hours("09:00-13:00"), note: "Christmas Eve")
            ],
            services: [Fixture.cut],
            staff: [Fixture.member("ana", breaks: ["Tu-Sa 13:00-13:45"], services: ["cut"])])
        let engine = AvailabilityEngine(rules: rules)
        let now = Fixture.at("2026-03-01T08:00")
        #expect(engine.codes("cut", staff: .member("ana"), at: "2026-03-07T13:00", now: now) == ["shop_closed"])
        #expect(engine.codes("cut", staff: .member("ana"), at: "2026-12-24T13:00", now: now) == ["shop_closed"])
        #expect(
            Set(engine.codes("cut", staff: .member("ana"), at: "2026-03-10T13:00", now: now))
                == ["shop_break", "staff_break"])
        // Saturday morning is bookable up to the closing time, as without the break.
        #expect(engine.starts("cut", on: "2026-03-07", now: now).last?.start == Fixture.at("2026-03-07T12:30"))
    }

    @Test func anyNamesWhoTakesIt() {
        let engine = AvailabilityEngine(rules: Self.rules)
        let offering = Fixture.offering(Self.rules, "cut")
        let ten = Fixture.at("2026-03-09T10:00")
        // Ana has B1 at 10:00, so Ben takes it; at 11:00 both have 30 minutes booked that day (B1, W1), so Ana,
        // declared first, does.
        #expect(
            engine.decide(offering: offering, staff: .any, start: ten, now: Self.now, bookings: Self.bookings).slot
                == Slot(start: ten, end: ten + 1800, staff: "ben"))
        let eleven = Fixture.at("2026-03-09T11:00")
        #expect(
            engine.decide(offering: offering, staff: .any, start: eleven, now: Self.now, bookings: Self.bookings)
                .slot?.staff == "ana")
    }

    @Test func reasonsAboutAStaffMemberNameThem() {
        let engine = AvailabilityEngine(rules: Self.rules)
        let decision = engine.decide(
            offering: Fixture.offering(Self.rules, "cut"), staff: .any,
            wallTime: LocalDateTime(iso: "2026-03-10T12:00")!,
            now: Self.now, bookings: Self.bookings)
        #expect(decision.reasons.first { $0.code == "time_off" }?.staff == "ana")
        #expect(decision.reasons.first { $0.code == "time_off" }?.description == "ana: time off (dentist)")
    }

    @Test func nearestSlotsSurroundTheStart() {
        let engine = AvailabilityEngine(rules: Self.rules)
        let nearest = engine.nearestSlots(
            for: Fixture.offering(Self.rules, "cut"), staff: .member("ana"), around: Fixture.at("2026-03-09T10:15"),
            now: Self.now, bookings: Self.bookings, limit: 3)
        // 10:00-10:40 is taken by B1 (with its buffer); 09:xx is outside Ana's hours.
        #expect(Fixture.walls(nearest) == ["2026-03-09T10:45", "2026-03-09T11:00", "2026-03-09T11:15"])
    }
}
