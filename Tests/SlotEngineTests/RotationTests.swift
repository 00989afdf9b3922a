import SlotCore
import SlotEngine
import SlotRules
import Testing

/// Staff hours as a cycle of weeks anchored at a date (issue 14): counted from the anchor, not ISO week parity.
@Suite struct RotationTests {
    /// Lena works every other Saturday from Saturday 2026-11-07.
    static let everyOtherSaturday = Rotation(
        start: Fixture.date("2026-11-07"), weeks: [Fixture.hours("Sa 09:00-14:00"), Fixture.hours("off")])

    static func shop(lena: StaffMember) -> RuleSet {
        Fixture.rules(hours: "Mo-Sa 09:00-18:00", step: 60, staff: [lena])
    }

    static let rotatingLena = StaffMember(id: "lena", name: "Lena", services: ["cut"], rotation: everyOtherSaturday)

    @Test(
        "every other Saturday alternates across a 53-week year",
        arguments: [("2026-12-19", true), ("2026-12-26", false), ("2027-01-02", true), ("2027-01-09", false),
            ("2027-01-16", true)])
    func alternatesAcrossTheYearEnd(date: String, works: Bool) {
        let engine = AvailabilityEngine(rules: Self.shop(lena: Self.rotatingLena))
        let starts = Fixture.walls(engine.starts("cut", staff: .member("lena"), on: date)).map { $0.suffix(5) }
        #expect(starts == (works ? ["09:00", "10:00", "11:00", "12:00", "13:00"] : []))
    }

    @Test("ISO week parity gives two Saturdays in a row at 2027-01-02 and 01-09: why rotations exist")
    func isoWeekParityBreaksAtA53WeekYear() {
        let lena = Fixture.member("lena", hours: "week 01-53/2 Sa 09:00-14:00")
        let engine = AvailabilityEngine(rules: Self.shop(lena: lena))
        let working = ["2026-12-26", "2027-01-02", "2027-01-09"].map {
            !engine.starts("cut", staff: .member("lena"), on: $0).isEmpty
        }
        #expect(working == [false, true, true])
    }

    @Test(
        "weeks count from the anchor, forwards and backwards",
        arguments: [("2026-11-07", 0), ("2026-11-13", 0), ("2026-11-14", 1), ("2026-11-21", 0), ("2026-11-06", 1),
            ("2026-10-31", 1), ("2026-10-30", 0), ("2027-11-06", 0), ("2027-11-13", 1)])
    func weekIndex(date: String, index: Int) {
        #expect(Self.everyOtherSaturday.weekIndex(of: Fixture.date(date)) == index)
    }

    @Test("a three-week cycle gives each week its own hours, and the booking check agrees with the slot list")
    func threeWeekCycle() {
        let rotation = Rotation(
            start: Fixture.date("2026-03-02"),
            weeks: [Fixture.hours("Mo-Fr 09:00-12:00"), Fixture.hours("Mo-Fr 13:00-17:00"), Fixture.hours("off")])
        let ana = StaffMember(id: "ana", name: "Ana", services: ["cut"], rotation: rotation)
        let engine = AvailabilityEngine(rules: Fixture.rules(step: 60, staff: [ana]))
        let firsts = ["2026-03-04", "2026-03-11", "2026-03-18", "2026-03-25"].map {
            Fixture.walls(engine.starts("cut", on: $0)).first.map { String($0.suffix(5)) } ?? "none"
        }
        #expect(firsts == ["09:00", "13:00", "none", "09:00"])
        #expect(engine.codes("cut", staff: .member("ana"), at: "2026-03-18T09:00") == ["outside_staff_hours"])
        #expect(engine.codes("cut", staff: .member("ana"), at: "2026-03-11T13:00").isEmpty)
    }

    @Test("each day takes its cycle week's expression, also for the part of a span past midnight")
    func spanPastMidnightBelongsToTheDayItFallsOn() {
        // Weeks run Monday to Sunday from the anchor. Monday 03-09 is in week 2 ("Su off"): Sunday night's early
        // hours are not open. Monday 03-16 is in week 1 again, whose expression opens its early hours.
        let rotation = Rotation(
            start: Fixture.date("2026-03-02"), weeks: [Fixture.hours("Su 22:00-02:00"), Fixture.hours("Su off")])
        func wall(_ text: String) -> Int64 { LocalDateTime(iso: text)!.wallMinute }
        let window = Interval(wall("2026-03-08T00:00"), wall("2026-03-17T00:00"))
        let open = rotation.openIntervals(in: window, holidays: [])
        #expect(
            open.intervals == [
                Interval(wall("2026-03-08T22:00"), wall("2026-03-09T00:00")),
                Interval(wall("2026-03-16T00:00"), wall("2026-03-16T02:00")),
            ])
    }
}
