import SlotCore
import SlotEngine
import SlotRules
import Testing

/// Yearly overrides (`Dec 24` every year) and their precedence: a dated override wins on its dates (issue 14).
@Suite struct YearlyOverrideTests {
    static let christmasEve = Override(
        yearlyFrom: (12, 24), through: (12, 24), hours: Fixture.hours("09:00-13:00"), note: "Christmas Eve")!
    static let thisYearShorter = Override(
        first: Fixture.date("2026-12-24"), last: Fixture.date("2026-12-24"), hours: Fixture.hours("10:00-12:00"))

    /// Free time of ana on a date, as local spans.
    static func free(_ rules: RuleSet, on date: String, staff: String = "ana") -> [String] {
        let day = Fixture.date(date)
        let schedule = AvailabilityEngine(rules: rules).schedule(
            from: day.adding(days: -1), through: day.adding(days: 1))
        let span = IntervalSet(Interval(Fixture.at("\(date)T00:00"), Fixture.at("\(day.adding(days: 1))T00:00")))
        return Fixture.wallSpans(schedule.freeTime(staff: staff)?.intersection(span))
    }

    @Test(
        "a yearly override applies every year, a dated one wins on its own date, in whatever order they are written",
        arguments: [
            ("2025-12-24", ["09:00-13:00"]), ("2026-12-24", ["10:00-12:00"]), ("2027-12-24", ["09:00-13:00"]),
            ("2026-12-23", ["09:00-17:00"]),
        ])
    func datedBeatsYearly(date: String, expected: [String]) {
        let hours = "Mo-Su 09:00-17:00"
        for overrides in [[Self.christmasEve, Self.thisYearShorter], [Self.thisYearShorter, Self.christmasEve]] {
            #expect(Self.free(Fixture.rules(hours: hours, overrides: overrides), on: date) == expected)
        }
    }

    @Test("a yearly range closes each of its days every year, and a staff member's yearly override is theirs alone")
    func yearlyRangeAndStaff() {
        let closed = Override(yearlyFrom: (12, 27), through: (12, 30), hours: nil, note: "between the years")!
        let anaLate = Override(yearlyFrom: (3, 9), through: (3, 9), hours: Fixture.hours("13:00-20:00"), staff: "ana")!
        let rules = Fixture.rules(
            hours: "Mo-Su 09:00-17:00", overrides: [closed, anaLate],
            staff: [Fixture.member("ana"), Fixture.member("ben")])
        #expect(Self.free(rules, on: "2027-12-27").isEmpty)
        #expect(Self.free(rules, on: "2027-12-30").isEmpty)
        #expect(Self.free(rules, on: "2027-12-31") == ["09:00-17:00"])
        #expect(Self.free(rules, on: "2027-03-09") == ["13:00-17:00"])
        #expect(Self.free(rules, on: "2027-03-09", staff: "ben") == ["09:00-17:00"])
        let engine = AvailabilityEngine(rules: rules)
        #expect(engine.codes("cut", staff: .member("ana"), at: "2026-12-28T10:00") == ["closed_by_override"])
    }

    @Test("Feb 29 applies in leap years only", arguments: [("2028-02-29", true), ("2027-02-28", false)])
    func leapDay(date: String, applies: Bool) {
        let leap = Override(yearlyFrom: (2, 29), through: (2, 29), hours: nil)!
        #expect(leap.dates(from: Fixture.date("2027-01-01"), through: Fixture.date("2028-12-31"))
            == [Fixture.date("2028-02-29")])
        let rules = Fixture.rules(hours: "Mo-Su 09:00-17:00", overrides: [leap])
        #expect(Self.free(rules, on: date).isEmpty == applies)
    }
}
