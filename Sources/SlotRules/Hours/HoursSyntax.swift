/// The syntax tree of an hour expression: rules of selectors, each rule normal (`;`) or additional (`, `).
struct HoursRule: Sendable, Hashable {
    enum Separator: Sendable, Hashable {
        /// The first rule, or a rule after `;`: it replaces what earlier rules said about the days it matches.
        case normal
        /// A rule after `, `: it adds to what earlier rules said.
        case additional
    }

    enum State: String, Sendable, Hashable {
        case open, closed, unknown
    }

    var separator: Separator = .normal
    /// Year ranges (inclusive); empty means every year.
    var years: [ClosedRange<Int>] = []
    /// Month and date ranges; empty means every date.
    var dates: [HoursDateRange] = []
    /// ISO week ranges; empty means every week.
    var weeks: [HoursWeekRange] = []
    /// Weekday items and `PH`; nil means every day.
    var weekdays: HoursWeekdaySelector?
    /// Time spans in minutes from the day's midnight; empty means the whole day.
    var spans: [HoursTimeSpan] = []
    var state: State = .open
    var comment: String?
    /// Whether the rule is `24/7`.
    var isTwentyFourSeven = false
    /// 1-based column where the rule starts.
    var column: Int = 1
    /// 1-based column just after the rule's last character.
    var endColumn: Int = 1

    /// Whether two rules select the same days (same years, dates, weeks and weekdays).
    func selectsSameDays(as other: HoursRule) -> Bool {
        years == other.years && dates == other.dates && weeks == other.weeks && weekdays == other.weekdays
            && isTwentyFourSeven == other.isTwentyFourSeven
    }
}

/// A month or date range, optionally tied to years (`Dec`, `Jun-Aug`, `Dec 24-26`, `2026 Dec 24-2027 Jan 02`).
struct HoursDateRange: Sendable, Hashable {
    struct Point: Sendable, Hashable {
        var year: Int?
        var month: Int
        /// nil for a whole month (start: day 1, end: last day).
        var day: Int?
    }

    var start: Point
    var end: Point
}

/// `week 01-53/2`: ISO weeks from `first` through `last`, every `step`-th.
struct HoursWeekRange: Sendable, Hashable {
    var first: Int
    var last: Int
    var step: Int
}

/// The weekday part of a rule: weekdays, nth weekdays of the month, and public holidays.
struct HoursWeekdaySelector: Sendable, Hashable {
    /// Bit `i` set: weekday `i` (Monday = 0) matches every week.
    var plainMask: UInt8 = 0
    /// `Su[1]`, `Mo[-1]`, `Sa[2,4]`.
    var nth: [Nth] = []
    /// Whether `PH` is listed.
    var publicHoliday = false

    struct Nth: Sendable, Hashable {
        var weekday: Int
        /// Bit `k` set (1–5): the k-th such weekday of the month.
        var fromStart: UInt8
        /// Bit `k` set (1–5): the k-th last such weekday of the month.
        var fromEnd: UInt8
    }
}

/// A time span `[start, end)` in minutes from the day's midnight; `end` may pass 24:00 (up to 48:00).
struct HoursTimeSpan: Sendable, Hashable {
    var start: Int
    var end: Int
}
