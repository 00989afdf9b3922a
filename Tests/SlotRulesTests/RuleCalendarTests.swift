import SlotCore
import Testing

@testable import SlotRules

@Suite("Holiday calendars (.ics)")
struct RuleCalendarTests {
    static func calendar(_ events: String) -> String {
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + events.replacingAll("\n", with: "\r\n") + "END:VCALENDAR\r\n"
    }

    static func day(_ text: String) -> LocalDate { LocalDate(iso: text)! }

    @Test(
        "all-day events become holidays",
        arguments: [
            (
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nSUMMARY:Eve\nEND:VEVENT\n",
                [Holiday(name: "Eve", rule: .date(day("2026-12-24")))]
            ),
            (
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261227\nSUMMARY:Xmas\nEND:VEVENT\n",
                [Holiday(name: "Xmas", rule: .range(day("2026-12-24"), day("2026-12-26")))]
            ),
            (
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261225\nDTEND;VALUE=DATE:20261226\nRRULE:FREQ=YEARLY\n"
                    + "SUMMARY:Christmas\nEND:VEVENT\n",
                [Holiday(name: "Christmas", rule: .yearly(month: 12, day: 25))]
            ),
            (
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260301\nRRULE:FREQ=YEARLY;COUNT=2\nSUMMARY:Fair\nEND:VEVENT\n",
                [
                    Holiday(name: "Fair", rule: .date(day("2026-03-01"))),
                    Holiday(name: "Fair", rule: .date(day("2027-03-01"))),
                ]
            ),
            (
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260301\nRRULE:FREQ=YEARLY;UNTIL=20290101;INTERVAL=2\n"
                    + "SUMMARY:Fair\nEND:VEVENT\n",
                [
                    Holiday(name: "Fair", rule: .date(day("2026-03-01"))),
                    Holiday(name: "Fair", rule: .date(day("2028-03-01"))),
                ]
            ),
            (
                "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nSUMMARY:Long\n  name that\n  was folded\nEND:VEVENT\n",
                [Holiday(name: "Long name that was folded", rule: .date(day("2026-12-24")))]
            ),
        ])
    func importsAllDayEvents(events: String, expected: [Holiday]) {
        let result = HolidayCalendar.parse(Self.calendar(events))
        #expect(result.problems.isEmpty)
        #expect(result.holidays == expected)
    }

    @Test("a timed event is skipped with a warning")
    func timedEventWarns() {
        let result = HolidayCalendar.parse(
            Self.calendar("BEGIN:VEVENT\nDTSTART:20260310T090000Z\nSUMMARY:Meeting\nEND:VEVENT\n"))
        #expect(result.holidays.isEmpty)
        #expect(result.problems.map(\.severity) == [.warning])
        #expect(result.problems.first?.line == 4)
    }

    @Test(
        "malformed calendars are errors on the offending line",
        arguments: [
            ("Date,Name\n2026-12-24,Eve\n", 1),
            ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\n", 3),
            ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n", 2),
            ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261301\nEND:VEVENT\nEND:VCALENDAR\n", 3),
            (
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261224\n"
                    + "END:VEVENT\nEND:VCALENDAR\n", 4
            ),
            (
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nRRULE:FREQ=WEEKLY\n"
                    + "END:VEVENT\nEND:VCALENDAR\n", 4
            ),
            ("", 1),
        ])
    func malformedIsAnError(text: String, line: Int) {
        let result = HolidayCalendar.parse(text)
        let errors = result.problems.filter { $0.severity == .error }
        #expect(!errors.isEmpty)
        #expect(errors.first?.line == line)
    }
}
