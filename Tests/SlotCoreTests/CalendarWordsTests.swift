import SlotCore
import Testing

/// The words a person at the counter types for a day and a time, read against the shop's today (a Saturday).
@Suite struct CalendarWordsTests {
    static let saturday = LocalDate(iso: "2026-12-05")!

    @Test(arguments: [
        ("today", "2026-12-05"), ("Tomorrow", "2026-12-06"), ("2026-12-24", "2026-12-24"),
        ("tue", "2026-12-08"), ("Tuesday", "2026-12-08"), ("tu", "2026-12-08"), ("sat", "2026-12-12"),
        ("Sunday", "2026-12-06"), ("fri", "2026-12-11"), (" mon ", "2026-12-07"),
    ])
    func datesInWords(text: String, date: String) {
        #expect(CalendarWords.date(text, today: Self.saturday) == LocalDate(iso: date))
    }

    @Test(arguments: ["", "yesterday", "tuesdays", "2026-13-01", "12/08", "next tue"])
    func notDates(text: String) {
        #expect(CalendarWords.date(text, today: Self.saturday) == nil)
    }

    @Test(arguments: [
        ("10:00", "2026-12-05T10:00"), ("9:30", "2026-12-05T09:30"), ("tomorrow 10:00", "2026-12-06T10:00"),
        ("tue 10:15", "2026-12-08T10:15"), ("Tuesday 18:45", "2026-12-08T18:45"),
        ("2026-12-24 09:00", "2026-12-24T09:00"), ("2026-12-24T09:00", "2026-12-24T09:00"),
        ("todayT23:59", "2026-12-05T23:59"),
    ])
    func timesInWords(text: String, wall: String) {
        #expect(CalendarWords.wallTime(text, today: Self.saturday) == LocalDateTime(iso: wall))
    }

    @Test(arguments: [
        "24:00", "10", "10:5", "tue", "tue 25:00", "2026-12-24T09:00:00+01:00", "tomorow 10:00", "10:00 tue",
    ])
    func notWallTimes(text: String) {
        #expect(CalendarWords.wallTime(text, today: Self.saturday) == nil)
    }

    @Test func spokenTimes() {
        let tuesday = LocalDateTime(iso: "2026-12-08T10:00")!
        #expect(CalendarWords.spoken(tuesday, currentYear: 2026) == "Tue 8 Dec 10:00")
        #expect(CalendarWords.spoken(tuesday, currentYear: 2025) == "Tue 8 Dec 2026 10:00")
        #expect(CalendarWords.spoken(LocalDate(iso: "2027-01-01")!, currentYear: 2026) == "Fri 1 Jan 2027")
        #expect(CalendarWords.clock(65) == "01:05")
    }
}
