import SlotCore

/// A staff member's hours as a cycle of weeks anchored at a date: "every other Saturday" counted from the anchor,
/// not from ISO week numbers (whose parity breaks at a 53-week year).
///
/// Week 1 of the cycle is the seven days from `start`, week 2 the seven after, and so on; after the last week the
/// cycle begins again, and it runs backwards before `start` the same way. Each day takes the hours its week's
/// expression gives that day (the part of a span past midnight belongs to the next day, as in every expression).
public struct Rotation: Sendable, Hashable {
    /// The first day of the cycle's first week; a "week" runs from this date's weekday.
    public var start: LocalDate
    /// One hour expression per week of the cycle, in order.
    public var weeks: [HoursExpression]

    public init(start: LocalDate, weeks: [HoursExpression]) {
        self.start = start
        self.weeks = weeks
    }

    /// The position (0-based) in `weeks` of the week that holds `date`.
    public func weekIndex(of date: LocalDate) -> Int {
        guard !weeks.isEmpty else { return 0 }
        let week = Int64(date.daysSinceEpoch - start.daysSinceEpoch).floorDiv(7)
        return Int(week.floorMod(Int64(weeks.count)))
    }

    /// The open wall-time intervals inside `window`: each cycle week evaluated with its own expression and clipped
    /// to that week. `PH` matches the dates in `holidays`.
    public func openIntervals(in window: Interval, holidays: Set<LocalDate>) -> IntervalSet {
        guard !weeks.isEmpty, !window.isEmpty else { return IntervalSet() }
        let firstDate = LocalDateTime(wallMinute: window.lower).date
        // The first day of the cycle week holding the window's start.
        let offset = Int64(firstDate.daysSinceEpoch - start.daysSinceEpoch).floorMod(7)
        var weekStart = firstDate.adding(days: -Int(offset))
        var builder = IntervalSetBuilder()
        while weekStart.startWallMinute < window.upper {
            let weekEnd = weekStart.adding(days: 7)
            let span = Interval(
                max(window.lower, weekStart.startWallMinute), min(window.upper, weekEnd.startWallMinute))
            for interval in weeks[weekIndex(of: weekStart)].openIntervals(in: span, holidays: holidays).intervals {
                builder.add(interval)
            }
            weekStart = weekEnd
        }
        return builder.build()
    }

}
