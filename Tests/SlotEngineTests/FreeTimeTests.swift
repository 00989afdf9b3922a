import SlotCore
import SlotEngine
import SlotRules
import Testing

/// Free time = shop hours ∩ staff hours − shop breaks − staff breaks − holidays − time off, with overrides.
@Suite struct FreeTimeTests {
    struct Row: Sendable, CustomStringConvertible {
        var description: String
        var rules: RuleSet
        var staff = "ana"
        /// Free time on Monday 2026-03-09, as local `HH:MM-HH:MM` spans.
        var expected: [String]
    }

    static let monday = "2026-03-09"
    static let mondayHoliday = Holiday(name: "Test Day", rule: .date(Fixture.date(monday)))

    static let rows: [Row] = [
        Row(description: "shop hours alone", rules: Fixture.rules(), expected: ["09:00-17:00"]),
        Row(
            description: "staff hours intersect the shop's",
            rules: Fixture.rules(staff: [Fixture.member("ana", hours: "Mo-Fr 10:00-18:00")]),
            expected: ["10:00-17:00"]),
        Row(
            description: "a shop break is cut out", rules: Fixture.rules(breaks: ["Mo-Fr 12:00-13:00"]),
            expected: ["09:00-12:00", "13:00-17:00"]),
        Row(
            description: "a staff break is cut out",
            rules: Fixture.rules(staff: [Fixture.member("ana", breaks: ["Mo 15:00-15:30"])]),
            expected: ["09:00-15:00", "15:30-17:00"]),
        Row(
            description: "a holiday closes the whole day", rules: Fixture.rules(holidays: [mondayHoliday]), expected: []
        ),
        Row(
            description: "a yearly holiday on another day leaves it open",
            rules: Fixture.rules(holidays: [Holiday(name: "Other", rule: .yearly(month: 3, day: 10))]),
            expected: ["09:00-17:00"]),
        Row(
            description: "time off (inclusive range) closes the day",
            rules: Fixture.rules(staff: [
                Fixture.member("ana", timeOff: [TimeOff(first: Fixture.date("2026-03-05"), last: Fixture.date(monday))])
            ]),
            expected: []),
        Row(
            description: "time off ending the day before leaves it open",
            rules: Fixture.rules(staff: [
                Fixture.member(
                    "ana", timeOff: [TimeOff(first: Fixture.date("2026-03-05"), last: Fixture.date("2026-03-08"))])
            ]),
            expected: ["09:00-17:00"]),
        Row(
            description: "every term together",
            rules: Fixture.rules(
                breaks: ["Mo-Fr 12:00-13:00"],
                staff: [Fixture.member("ana", hours: "Mo-Fr 10:00-18:00", breaks: ["Mo-Fr 15:00-15:30"])]),
            expected: ["10:00-12:00", "13:00-15:00", "15:30-17:00"]),
        Row(
            description: "PH in an expression matches the holidays, which still close the day",
            rules: Fixture.rules(hours: "Mo-Fr 09:00-17:00; PH 10:00-12:00", holidays: [mondayHoliday]),
            expected: []),
        // Overrides.
        Row(
            description: "a shop override replaces the shop hours",
            rules: Fixture.rules(overrides: [
                Override(first: Fixture.date(monday), last: Fixture.date(monday), hours: Fixture.hours("11:00-20:00"))
            ]),
            expected: ["11:00-20:00"]),
        Row(
            description: "a closed shop override closes the day",
            rules: Fixture.rules(overrides: [
                Override(first: Fixture.date("2026-03-08"), last: Fixture.date(monday), hours: nil, note: "inventory")
            ]),
            expected: []),
        Row(
            description: "a shop override opens a holiday",
            rules: Fixture.rules(
                holidays: [mondayHoliday],
                overrides: [
                    Override(
                        first: Fixture.date(monday), last: Fixture.date(monday), hours: Fixture.hours("10:00-14:00"))
                ]),
            expected: ["10:00-14:00"]),
        Row(
            description: "a staff override replaces their hours, still within the shop's",
            rules: Fixture.rules(
                overrides: [
                    Override(
                        first: Fixture.date(monday), last: Fixture.date(monday), hours: Fixture.hours("07:00-12:00"),
                        staff: "ana")
                ],
                staff: [Fixture.member("ana", hours: "Mo-Fr 13:00-18:00")]),
            expected: ["09:00-12:00"]),
        Row(
            description: "a closed staff override closes their day",
            rules: Fixture.rules(overrides: [
                Override(first: Fixture.date(monday), last: Fixture.date(monday), hours: nil, staff: "ana")
            ]),
            expected: []),
        Row(
            description: "a staff override lifts a holiday for them",
            rules: Fixture.rules(
                holidays: [mondayHoliday],
                overrides: [
                    Override(
                        first: Fixture.date(monday), last: Fixture.date(monday), hours: Fixture.hours("10:00-12:00"),
                        staff: "ana")
                ],
                staff: [Fixture.member("ana"), Fixture.member("ben")]),
            expected: ["10:00-12:00"]),
        Row(
            description: "…but not for a colleague",
            rules: Fixture.rules(
                holidays: [mondayHoliday],
                overrides: [
                    Override(
                        first: Fixture.date(monday), last: Fixture.date(monday), hours: Fixture.hours("10:00-12:00"),
                        staff: "ana")
                ],
                staff: [Fixture.member("ana"), Fixture.member("ben")]),
            staff: "ben", expected: []),
        Row(
            description: "an override on another date changes nothing",
            rules: Fixture.rules(overrides: [
                Override(first: Fixture.date("2026-03-10"), last: Fixture.date("2026-03-10"), hours: nil)
            ]),
            expected: ["09:00-17:00"]),
    ]

    @Test(arguments: rows) func composesFreeTime(row: Row) {
        let engine = AvailabilityEngine(rules: row.rules)
        let date = Fixture.date(Self.monday)
        let schedule = engine.schedule(from: date.adding(days: -1), through: date.adding(days: 1))
        let day = IntervalSet(Interval(Fixture.at("2026-03-09T00:00"), Fixture.at("2026-03-10T00:00")))
        let free = schedule.freeTime(staff: row.staff).map { $0.intersection(day) }
        #expect(Fixture.wallSpans(free) == row.expected)
    }

    @Test func spansPastMidnightReachIntoTheNextDay() {
        let rules = Fixture.rules(hours: "Fr 20:00-02:00", staff: [Fixture.member("ana")])
        let engine = AvailabilityEngine(rules: rules)
        // Friday 2026-03-13 20:00 to Saturday 02:00: the last 30-minute start is 01:30 on Saturday.
        let slots = engine.starts("cut", on: "2026-03-13", through: "2026-03-14")
        #expect(Fixture.walls(slots).first == "2026-03-13T20:00")
        #expect(Fixture.walls(slots).last == "2026-03-14T01:30")
        #expect(slots.count == 23)
        // The window filters the start's date only: Saturday alone has the seven starts after midnight.
        #expect(engine.starts("cut", on: "2026-03-14").count == 7)
    }
}
