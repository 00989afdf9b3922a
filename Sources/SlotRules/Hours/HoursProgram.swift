import SlotCore

/// An hour expression compiled for fast evaluation: per rule a day filter over precomputed calendar facts and
/// two minute masks (the rule's own day, and what spills past midnight into the next day).
///
/// Evaluation follows opening-hours-py 2.1 (the reference): for each day, rules apply in order, and a rule speaks
/// about a day when it matches the day, or matched the day before and spills past midnight into it. A normal rule
/// that matches the day replaces the day's schedule; one that only spills in replaces it only while the day is
/// still entirely closed. An additional (`, `) rule, and every `off`/`closed` rule, is laid over the schedule.
struct HoursProgram: Sendable {
    static let words = 23  // 23 × 64 bits ≥ 1440 minutes

    struct Rule: Sendable {
        var filter: DayFilter
        /// Laid over the schedule instead of replacing it (`, ` rules and closed rules).
        var overlays: Bool
        var opens: Bool
        var unknown: Bool
        /// Offset into `masks` of this rule's 23-word mask for its own day; the spill mask follows it.
        var maskOffset: Int
        var spills: Bool
    }

    var rules: [Rule]
    /// Minute masks, `2 × words` per rule.
    var masks: [UInt64]
    var usesWeeks: Bool
    var usesHolidays: Bool
    var alwaysOpen: Bool
    /// Whether any rule reaches past midnight.
    var anySpills: Bool

    init(_ syntax: [HoursRule]) {
        var rules: [Rule] = []
        var masks: [UInt64] = []
        var usesWeeks = false
        var usesHolidays = false
        for rule in syntax {
            let filter = DayFilter(rule)
            usesWeeks = usesWeeks || !filter.weeks.isEmpty
            usesHolidays = usesHolidays || filter.publicHoliday
            var today = [UInt64](repeating: 0, count: Self.words)
            var spill = [UInt64](repeating: 0, count: Self.words)
            let spans = rule.spans.isEmpty ? [HoursTimeSpan(start: 0, end: 1440)] : rule.spans
            var spills = false
            for span in spans {
                Self.set(&today, from: span.start, to: min(span.end, 1440))
                if span.end > 1440 {
                    spills = true
                    Self.set(&spill, from: 0, to: span.end - 1440)
                }
            }
            rules.append(
                Rule(
                    filter: filter, overlays: rule.separator == .additional || rule.state == .closed,
                    opens: rule.state == .open, unknown: rule.state == .unknown, maskOffset: masks.count,
                    spills: spills))
            masks += today
            masks += spill
        }
        self.rules = rules
        self.masks = masks
        self.usesWeeks = usesWeeks
        self.usesHolidays = usesHolidays
        self.anySpills = rules.contains { $0.spills }
        // Open at all times: a last replacing rule that opens every day all day, followed only by rules that add.
        var alwaysOpen = false
        for (index, rule) in rules.enumerated() where rule.filter.isEverything && !rule.overlays && rule.opens {
            let full = (0..<Self.words).allSatisfy { word in
                masks[rule.maskOffset + word] == Self.fullDay[word]
            }
            if full && rules[(index + 1)...].allSatisfy({ $0.overlays && $0.opens }) { alwaysOpen = true }
        }
        self.alwaysOpen = alwaysOpen
    }

    private static let fullDay: [UInt64] = {
        var mask = [UInt64](repeating: 0, count: words)
        set(&mask, from: 0, to: 1440)
        return mask
    }()

    private static func set(_ mask: inout [UInt64], from start: Int, to end: Int) {
        guard start < end else { return }
        for minute in start..<end { mask[minute >> 6] |= 1 << UInt64(minute & 63) }
    }

    // MARK: - Evaluation

    /// The open wall minutes inside `window`.
    func openIntervals(in window: Interval, holidays: Set<LocalDate>) -> IntervalSet {
        guard !window.isEmpty else { return IntervalSet() }
        if alwaysOpen { return IntervalSet(window) }
        let firstDay = Int(window.lower.floorDiv(1440))
        let lastDay = Int((window.upper - 1).floorDiv(1440))
        var holidayDays: [Int] = []
        if usesHolidays {
            holidayDays = holidays.map(\.daysSinceEpoch).filter { $0 >= firstDay - 1 && $0 <= lastDay }.sorted()
        }
        var holidayCursor = 0
        var builder = IntervalSetBuilder()
        var calendar = CalendarCursor(day: firstDay - 1, needsWeek: usesWeeks)
        var schedule = [UInt64](repeating: 0, count: 2 * Self.words)  // open minutes, then unknown minutes
        var yesterdayMatches: UInt64 = 0
        let ruleCount = rules.count
        masks.withUnsafeBufferPointer { masks in
            schedule.withUnsafeMutableBufferPointer { schedule in
                for day in (firstDay - 1)...lastDay {
                    while holidayCursor < holidayDays.count && holidayDays[holidayCursor] < day { holidayCursor += 1 }
                    let isHoliday = holidayCursor < holidayDays.count && holidayDays[holidayCursor] == day
                    var todayMatches: UInt64 = 0
                    for index in 0..<ruleCount where rules[index].filter.matches(calendar, holiday: isHoliday) {
                        todayMatches |= 1 << UInt64(index)
                    }
                    if day >= firstDay {
                        let any = evaluateDay(
                            today: todayMatches, yesterday: yesterdayMatches, masks: masks, schedule: schedule)
                        if any {
                            emit(schedule, dayStart: Int64(day) * 1440, window: window, into: &builder)
                        }
                    }
                    yesterdayMatches = todayMatches
                    calendar.advance()
                }
            }
        }
        return builder.build()
    }

    /// Fills `schedule` with the day's open minutes (and unknown minutes after them); false when nothing is open.
    private func evaluateDay(
        today: UInt64, yesterday: UInt64, masks: UnsafeBufferPointer<UInt64>,
        schedule: UnsafeMutableBufferPointer<UInt64>
    ) -> Bool {
        if today == 0 && (yesterday == 0 || !anySpills) { return false }
        let words = Self.words
        for word in 0..<(2 * words) { schedule[word] = 0 }
        var closedAllDay = true  // no open or unknown minute yet
        for index in 0..<rules.count {
            let rule = rules[index]
            let matchesToday = today & (1 << UInt64(index)) != 0
            let spillsIn = rule.spills && yesterday & (1 << UInt64(index)) != 0
            if !matchesToday && !spillsIn { continue }
            // A normal rule that only spills in gives way to whatever earlier rules opened (or left unknown).
            if !rule.overlays && !matchesToday && !closedAllDay { continue }
            let todayBase = rule.maskOffset
            let spillBase = rule.maskOffset + words
            var any: UInt64 = 0
            for word in 0..<words {
                var bits: UInt64 = matchesToday ? masks[todayBase + word] : 0
                if spillsIn { bits |= masks[spillBase + word] }
                var open = schedule[word]
                var unknown = schedule[words + word]
                if rule.overlays {
                    open &= ~bits
                    unknown &= ~bits
                } else {
                    open = 0
                    unknown = 0
                }
                if rule.opens { open |= bits } else if rule.unknown { unknown |= bits }
                schedule[word] = open
                schedule[words + word] = unknown
                any |= open | unknown
            }
            closedAllDay = any == 0
        }
        return !closedAllDay
    }

    private func emit(
        _ schedule: UnsafeMutableBufferPointer<UInt64>, dayStart: Int64, window: Interval,
        into builder: inout IntervalSetBuilder
    ) {
        var runStart = -1
        for word in 0..<Self.words {
            let bits = schedule[word]
            if runStart < 0 ? bits == 0 : bits == ~0 { continue }
            let base = word << 6
            var offset = 0
            var remaining = bits
            while offset < 64 {
                if runStart < 0 {
                    if remaining == 0 { break }
                    offset += remaining.trailingZeroBitCount
                    runStart = base + offset
                } else {
                    // Bits above the word's end shift in as zeros, so a run reaching the word's end stops there.
                    let ones = (~remaining).trailingZeroBitCount
                    if ones >= 64 - offset { break }
                    offset += ones
                    add(runStart, base + offset, dayStart: dayStart, window: window, into: &builder)
                    runStart = -1
                }
                remaining = bits >> UInt64(offset)
            }
        }
        if runStart >= 0 { add(runStart, 1440, dayStart: dayStart, window: window, into: &builder) }
    }

    private func add(
        _ start: Int, _ end: Int, dayStart: Int64, window: Interval, into builder: inout IntervalSetBuilder
    ) {
        let lower = max(dayStart + Int64(start), window.lower)
        let upper = min(dayStart + Int64(min(end, 1440)), window.upper)
        if lower < upper { builder.add(Interval(lower, upper)) }
    }
}

// MARK: - Calendar facts of a day

/// The calendar facts rules test, advanced one day at a time without Foundation.
struct CalendarCursor {
    var day: Int
    var year: Int
    var month: Int
    var dayOfMonth: Int
    var daysInMonth: Int
    /// Monday = 0.
    var weekday: Int
    var isoWeek: Int
    let needsWeek: Bool

    init(day: Int, needsWeek: Bool) {
        self.day = day
        self.needsWeek = needsWeek
        let date = LocalDate(daysSinceEpoch: day)
        let parts = date.parts
        year = parts.year
        month = parts.month
        dayOfMonth = parts.day
        daysInMonth = LocalDate.daysIn(month: parts.month, year: parts.year)
        weekday = date.weekday.rawValue
        isoWeek = needsWeek ? date.isoWeek.week : 0
    }

    mutating func advance() {
        day += 1
        weekday = weekday == 6 ? 0 : weekday + 1
        if dayOfMonth < daysInMonth {
            dayOfMonth += 1
        } else {
            dayOfMonth = 1
            if month == 12 {
                month = 1
                year += 1
            } else {
                month += 1
            }
            daysInMonth = LocalDate.daysIn(month: month, year: year)
        }
        if needsWeek && weekday == 0 {
            isoWeek = LocalDate(daysSinceEpoch: day).isoWeek.week
        }
    }
}

/// Which days a rule applies to, compiled from its year, date, week and weekday selectors.
struct DayFilter: Sendable {
    /// Inclusive ranges of keys: `month × 32 + day` (yearless) or `year × 512 + month × 32 + day`.
    struct KeyRange: Sendable {
        var lower: Int
        var upper: Int
        var withYear: Bool
        /// A yearless range that applies in this year only (`2025 Dec-Jan`: Jan and Dec of 2025, as the reference).
        var onlyYear: Int?
    }

    var years: [ClosedRange<Int>]
    var dates: [KeyRange]
    var weeks: [HoursWeekRange]
    /// nil: every weekday.
    var weekdayMask: UInt8?
    var nth: [HoursWeekdaySelector.Nth]
    var publicHoliday: Bool

    var isEverything: Bool { years.isEmpty && dates.isEmpty && weeks.isEmpty && weekdayMask == nil }

    init(_ rule: HoursRule) {
        years = rule.years
        weeks = rule.weeks
        dates = rule.dates.map(DayFilter.keyRange)
        if let selector = rule.weekdays {
            nth = selector.nth
            publicHoliday = selector.publicHoliday
            if selector.plainMask == 0x7F && selector.nth.isEmpty {
                weekdayMask = nil  // Mo-Su: every day, holidays included
                publicHoliday = false
            } else {
                weekdayMask = selector.plainMask
            }
        } else {
            nth = []
            publicHoliday = false
            weekdayMask = nil
        }
    }

    static func keyRange(_ range: HoursDateRange) -> KeyRange {
        let start = range.start
        let end = range.end
        let startDay = start.day ?? 1
        let endDay = end.day ?? 31
        if let startYear = start.year, start.day == nil {
            return KeyRange(
                lower: start.month * 32 + 1, upper: end.month * 32 + 31, withYear: false, onlyYear: startYear)
        }
        if let startYear = start.year {
            var endYear = end.year ?? startYear
            if end.year == nil && (end.month, endDay) < (start.month, startDay) { endYear += 1 }
            return KeyRange(
                lower: startYear * 512 + start.month * 32 + startDay, upper: endYear * 512 + end.month * 32 + endDay,
                withYear: true, onlyYear: nil)
        }
        return KeyRange(
            lower: start.month * 32 + startDay, upper: end.month * 32 + endDay, withYear: false, onlyYear: nil)
    }

    @inline(__always)
    func matches(_ day: CalendarCursor, holiday: Bool) -> Bool {
        if !years.isEmpty && !years.contains(where: { $0.contains(day.year) }) { return false }
        if !dates.isEmpty {
            let key = day.month * 32 + day.dayOfMonth
            let yearKey = day.year * 512 + key
            var found = false
            for range in dates {
                if let year = range.onlyYear, year != day.year { continue }
                if range.withYear {
                    if range.lower <= yearKey && yearKey <= range.upper {
                        found = true
                        break
                    }
                } else if range.lower <= range.upper {
                    if range.lower <= key && key <= range.upper {
                        found = true
                        break
                    }
                } else if key >= range.lower || key <= range.upper {
                    found = true
                    break
                }
            }
            if !found { return false }
        }
        if !weeks.isEmpty {
            let week = day.isoWeek
            if !weeks.contains(where: { week >= $0.first && week <= $0.last && (week - $0.first) % $0.step == 0 }) {
                return false
            }
        }
        guard let mask = weekdayMask else { return true }
        if mask & (1 << UInt8(day.weekday)) != 0 { return true }
        if publicHoliday && holiday { return true }
        for item in nth where item.weekday == day.weekday {
            let fromStart = (day.dayOfMonth - 1) / 7 + 1
            let fromEnd = (day.daysInMonth - day.dayOfMonth) / 7 + 1
            if item.fromStart & (1 << UInt8(fromStart)) != 0 || item.fromEnd & (1 << UInt8(fromEnd)) != 0 {
                return true
            }
        }
        return false
    }
}
