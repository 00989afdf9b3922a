import Foundation
import SlotCore
import Testing

@Suite struct LocalDateTests {
    @Test func civilArithmeticMatchesFoundationForFourCenturies() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        // Every 13th day from 1900 to 2300 (covers leap centuries and every weekday and month).
        for days in stride(from: -25_567, to: 120_000, by: 13) {
            let date = LocalDate(daysSinceEpoch: days)
            let reference = calendar.dateComponents(
                [.year, .month, .day, .weekday, .weekOfYear, .yearForWeekOfYear],
                from: Date(timeIntervalSince1970: Double(days) * 86_400))
            #expect(date.year == reference.year && date.month == reference.month && date.day == reference.day)
            #expect((date.weekday.rawValue + 1) % 7 + 1 == reference.weekday)
            #expect(LocalDate(year: date.year, month: date.month, day: date.day) == date)
            #expect(LocalDate(iso: date.description) == date)
        }
    }

    @Test func isoWeeksMatchFoundation() {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for days in stride(from: 18_000, to: 25_000, by: 3) {
            let date = LocalDate(daysSinceEpoch: days)
            let reference = calendar.dateComponents(
                [.weekOfYear, .yearForWeekOfYear], from: Date(timeIntervalSince1970: Double(days) * 86_400))
            #expect(date.isoWeek.week == reference.weekOfYear && date.isoWeek.year == reference.yearForWeekOfYear)
        }
    }

    @Test(arguments: [
        ("2026-02-29", false), ("2024-02-29", true), ("2026-13-01", false), ("2026-00-10", false),
        ("2026-4-01", false), ("2026-04-31", false), ("2026-04-30", true), ("abcd-ef-gh", false), ("", false),
    ])
    func parsesOnlyRealDates(text: String, valid: Bool) {
        #expect((LocalDate(iso: text) != nil) == valid)
    }

    @Test(arguments: [(2024, "2024-03-31"), (2025, "2025-04-20"), (2026, "2026-04-05"), (2027, "2027-03-28"),
                      (2038, "2038-04-25"), (2000, "2000-04-23")])
    func easterSunday(year: Int, expected: String) {
        #expect(LocalDate.easter(year: year).description == expected)
    }

    @Test func localDateTimeParsingAndFormatting() {
        #expect(LocalDateTime(iso: "2026-12-24T09:30")?.description == "2026-12-24T09:30")
        #expect(LocalDateTime(iso: "2026-12-24 09:30")?.minuteOfDay == 570)
        #expect(LocalDateTime(iso: "2026-12-24")?.minuteOfDay == 0)
        #expect(LocalDateTime(iso: "2026-12-24T24:00") == nil)
        #expect(LocalDateTime(iso: "2026-12-24T09:60") == nil)
        #expect(LocalDateTime(wallMinute: -1).description == "1969-12-31T23:59")
    }

    @Test func weekdayAbbreviations() {
        #expect(Weekday(abbreviation: "Mo") == .monday)
        #expect(Weekday(abbreviation: "Su") == .sunday)
        #expect(Weekday(abbreviation: "Tue") == nil)
        #expect(LocalDate(iso: "2026-11-25")?.weekday == .wednesday)
    }

    @Test func minutesFormatting() {
        #expect(Minutes.format(90) == "1h30m")
        #expect(Minutes.format(2880) == "2d")
        #expect(Minutes.format(0) == "0m")
        #expect(Minutes.format(1441) == "1d1m")
    }

    /// Waits as people read them ("37656 s to go" was the desk's complaint), rounded up to whole minutes.
    @Test(arguments: [
        (Int64(37656), "10 hours 28 minutes"), (60, "1 minute"), (1, "1 minute"), (0, "no time"), (3600, "1 hour"),
        (90_000, "1 day 1 hour"), (7260, "2 hours 1 minute"),
    ])
    func spelledWaits(seconds: Int64, text: String) {
        #expect(Minutes.spelled(seconds: seconds) == text)
    }
}
