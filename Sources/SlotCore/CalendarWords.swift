import Foundation

/// Dates and times as people at a counter type and read them: `today`, `tomorrow`, `tue`, `Tuesday`, `10:00`
/// in, `Tue 8 Dec 10:00` out. The shop's today is a parameter, so reading them does no I/O and needs no clock.
public enum CalendarWords {
    /// The words `date(_:today:)` understands besides `YYYY-MM-DD`, for help and error texts.
    public static let dateHelp = "YYYY-MM-DD, today, tomorrow or a weekday (tue, Tuesday)"

    /// The words `wallTime(_:today:)` understands besides an ISO 8601 instant, for help and error texts.
    public static let timeHelp = "HH:MM (today), a day and a time (tomorrow 10:00, tue 10:00) or YYYY-MM-DDTHH:MM"

    /// A date from `YYYY-MM-DD`, `today`, `tomorrow`, or a weekday name or abbreviation (`tu`, `tue`, `Tuesday`:
    /// the next such day after today, so a weekday is never in the past; today is `today`); nil for anything else.
    public static func date(_ text: String, today: LocalDate) -> LocalDate? {
        let word = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let date = LocalDate(iso: word) { return date }
        switch word {
        case "today": return today
        case "tomorrow": return today.adding(days: 1)
        default: break
        }
        guard let weekday = weekday(named: word) else { return nil }
        let ahead = (weekday.rawValue - today.weekday.rawValue + 6) % 7 + 1
        return today.adding(days: ahead)
    }

    /// A wall time from `HH:MM` or `H:MM` (today), a day in `date`'s words and a time (`tomorrow 10:00`,
    /// `tue 9:30`, `2026-12-08 10:00`), or `YYYY-MM-DDTHH:MM`; nil for anything else (an instant with an offset
    /// is not a wall time).
    public static func wallTime(_ text: String, today: LocalDate) -> LocalDateTime? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let wall = LocalDateTime(iso: trimmed) { return wall }
        if let minute = minuteOfDay(trimmed) { return LocalDateTime(date: today, minuteOfDay: minute) }
        let separators: [Character] = [" ", "T", "t"]
        guard let split = trimmed.lastIndex(where: { separators.contains($0) }) else { return nil }
        let dayText = String(trimmed[..<split])
        guard let minute = minuteOfDay(String(trimmed[trimmed.index(after: split)...])),
            let date = date(dayText, today: today)
        else { return nil }
        return LocalDateTime(date: date, minuteOfDay: minute)
    }

    /// `Tue 8 Dec`, with the year when it is not `currentYear` (`Tue 8 Dec 2027`).
    public static func spoken(_ date: LocalDate, currentYear: Int? = nil) -> String {
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let (year, month, day) = date.parts
        let text = "\(names[date.weekday.rawValue]) \(day) \(months[month - 1])"
        return currentYear == nil || currentYear == year ? text : "\(text) \(year)"
    }

    /// `Tue 8 Dec 10:00`, with the year when it is not `currentYear`.
    public static func spoken(_ time: LocalDateTime, currentYear: Int? = nil) -> String {
        "\(spoken(time.date, currentYear: currentYear)) \(clock(time.minuteOfDay))"
    }

    /// `09:05` from a minute of the day.
    public static func clock(_ minuteOfDay: Int) -> String {
        let hours = minuteOfDay / 60
        let minutes = minuteOfDay % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }

    /// The minute of the day of `HH:MM` or `H:MM` (00:00 to 23:59).
    static func minuteOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<24).contains(hours), (0..<60).contains(minutes)
        else { return nil }
        return hours * 60 + minutes
    }

    static func weekday(named word: String) -> Weekday? {
        let names: [[String]] = [
            ["mo", "mon", "monday"], ["tu", "tue", "tues", "tuesday"], ["we", "wed", "wednesday"],
            ["th", "thu", "thur", "thurs", "thursday"], ["fr", "fri", "friday"], ["sa", "sat", "saturday"],
            ["su", "sun", "sunday"],
        ]
        return names.firstIndex { $0.contains(word) }.flatMap(Weekday.init(rawValue:))
    }
}
