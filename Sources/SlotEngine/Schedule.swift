import SlotCore
import SlotRules

/// Free time compiled from the rules for a range of local dates, as instant interval sets per staff member, with
/// the terms it was made of (so an explanation can name the one that closes a time) and the slot grid.
///
/// Compile it once per rule set and date window; slot searches then do interval arithmetic only.
public struct Schedule: Sendable {
    /// The first and last local date covered.
    public let first: LocalDate
    public let last: LocalDate
    /// The instant of each covered date's local midnight, and of the day after the last (clipped in a gap).
    let dayStarts: [Int64]
    /// Grid starts of the covered dates, ascending.
    let grid: [Int64]
    /// The index in `grid` of each covered date's first start, and `grid.count` after the last date.
    let gridDayIndex: [Int]
    /// Whether each covered date has no offset change (its grid is then its midnight + k × step).
    let steadyDays: [Bool]
    let stepSeconds: Int64
    let shopHours: IntervalSet
    let shopBreaks: IntervalSet
    let shopClosedDays: [Labelled]
    /// In the rules' declared order.
    let staff: [StaffSchedule]

    /// Whether the schedule covers every date from `first` through `last`.
    public func covers(from first: LocalDate, through last: LocalDate) -> Bool {
        self.first <= first && last <= self.last
    }

    /// The free time of a staff member (before bookings), or nil for an unknown id.
    public func freeTime(staff id: String) -> IntervalSet? { staff.first { $0.id == id }?.free }

    /// The instant at which a covered date's local day starts (and the day after the last ends).
    func dayStart(_ date: LocalDate) -> Int64 {
        let index = date.daysSinceEpoch - first.daysSinceEpoch
        return dayStarts[min(max(index, 0), dayStarts.count - 1)]
    }

    /// Grid starts of the dates `from` through `through` (which must be covered).
    func gridStarts(from: LocalDate, through: LocalDate) -> ArraySlice<Int64> {
        let lower = dayStart(from)
        let upper = dayStart(through.adding(days: 1))
        return grid[Schedule.firstIndex(in: grid, notBelow: lower)..<Schedule.firstIndex(in: grid, notBelow: upper)]
    }

    /// The index of the first grid start not below `instant` (`grid.count` when there is none).
    func gridIndex(notBelow instant: Int64) -> Int {
        guard let firstStart = dayStarts.first, let lastStart = dayStarts.last, instant > firstStart else { return 0 }
        guard instant < lastStart else { return grid.count }
        // The day holding the instant: a guess from the elapsed time, corrected for 23- and 25-hour days.
        let days = steadyDays.count
        var day = min(max(Int((instant - firstStart) / 86_400), 0), days - 1)
        while day > 0 && dayStarts[day] > instant { day -= 1 }
        while day + 1 < days && dayStarts[day + 1] <= instant { day += 1 }
        let first = gridDayIndex[day]
        let end = gridDayIndex[day + 1]
        if steadyDays[day] {
            let elapsed = instant - dayStarts[day]
            let steps = (elapsed + stepSeconds - 1) / stepSeconds
            return min(first + Int(steps), end)
        }
        return Schedule.firstIndex(in: grid[first..<end], notBelow: instant)
    }

    /// The index of the first element not below `value` in an ascending collection (its end when none is).
    static func firstIndex<C: RandomAccessCollection<Int64>>(in array: C, notBelow value: Int64) -> C.Index
    where C.Index == Int {
        var low = array.startIndex
        var high = array.endIndex
        while low < high {
            let mid = (low + high) / 2
            if array[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// A span of instants with a name for explanations (a holiday's name, a time-off note).
struct Labelled: Sendable {
    var span: Interval
    var label: String
}

/// One staff member's compiled terms and the free time they make.
struct StaffSchedule: Sendable {
    let id: String
    /// Their own hours after overrides; nil when they follow the shop's hours.
    let hours: IntervalSet?
    let breaks: IntervalSet
    let closedDays: [Labelled]
    /// Holidays that close them (those not lifted by an override).
    let holidays: [Labelled]
    let timeOff: [Labelled]
    /// Shop hours ∩ own hours − shop breaks − own breaks − holidays − time off.
    let free: IntervalSet
}

// MARK: - Compilation

extension AvailabilityEngine {
    /// Compiles free time and the slot grid for the local dates `first` through `last`.
    public func schedule(from first: LocalDate, through last: LocalDate) -> Schedule {
        let last = max(first, last)
        let zone = rules.shop.timeZone
        let days = (0...(last.daysSinceEpoch - first.daysSinceEpoch)).map { first.adding(days: $0) }
        let dayStarts = (days + [last.adding(days: 1)]).map { zone.instant(atWallMinute: $0.startWallMinute) }
        func wallDay(_ date: LocalDate) -> Interval {
            Interval(date.startWallMinute, date.adding(days: 1).startWallMinute)
        }
        func instantDay(_ date: LocalDate) -> Interval {
            let index = date.daysSinceEpoch - first.daysSinceEpoch
            return Interval(dayStarts[index], dayStarts[index + 1])
        }
        // The offset of each day without a transition, so most wall times convert without a zone lookup.
        let steadyOffsets: [Int64?] = days.indices.map { index in
            let start = dayStarts[index]
            let end = dayStarts[index + 1]
            // No transition that day (zones never change twice within one day and back).
            guard end - start == 86_400, zone.offset(atInstant: start) == zone.offset(atInstant: end - 1) else {
                return nil
            }
            return days[index].startWallMinute * 60 - start
        }
        func instant(_ wallMinute: Int64) -> Int64 {
            let index = Int(wallMinute.floorDiv(1440)) - first.daysSinceEpoch
            if index >= 0 && index < steadyOffsets.count, let offset = steadyOffsets[index] {
                return wallMinute * 60 - offset
            }
            return zone.instant(atWallMinute: wallMinute)
        }
        /// `ShopTimeZone.instants(ofWall:)`, faster: each `[a, b)` becomes `[f(a), f(b))`, empty ones dropped.
        func instants(_ wall: IntervalSet) -> IntervalSet {
            var builder = IntervalSetBuilder()
            for interval in wall.intervals { builder.add(Interval(instant(interval.lower), instant(interval.upper))) }
            return builder.build()
        }
        let wallWindow = Interval(first.startWallMinute, last.adding(days: 1).startWallMinute)
        // Expressions look at days before the window too (spans past midnight), so `PH` must know those.
        let holidayDates = rules.holidayDates(from: first.adding(days: -7), through: last.adding(days: 1))
        var holidayNames: [LocalDate: [String]] = [:]
        for holiday in rules.holidays {
            for date in holiday.dates(from: first, through: last) {
                holidayNames[date, default: []].append(holiday.name)
            }
        }

        /// Replaces the hours of each date an override covers by the override's hours (none when closed); where a
        /// dated and a yearly override both cover a date, the dated one.
        func applying(
            _ overrides: [Override], to base: IntervalSet, covered: inout Set<LocalDate>,
            closed: inout [Labelled]
        ) -> IntervalSet {
            var result = base
            guard !overrides.isEmpty else { return result }
            for date in days {
                guard let override = Override.effective(overrides, on: date) else { continue }
                let day = wallDay(date)
                result = result.subtracting(IntervalSet(day))
                if let hours = override.hours {
                    result = result.union(hours.openIntervals(in: day, holidays: holidayDates))
                } else {
                    closed.append(Labelled(span: instantDay(date), label: override.note))
                }
                covered.insert(date)
            }
            return result
        }

        func union(_ expressions: [HoursExpression]) -> IntervalSet {
            expressions.reduce(IntervalSet()) { $0.union($1.openIntervals(in: wallWindow, holidays: holidayDates)) }
        }

        var shopCovered = Set<LocalDate>()
        var shopClosed: [Labelled] = []
        let shopWall = applying(
            rules.overrides.filter { $0.staff == nil },
            to: rules.hours.openIntervals(in: wallWindow, holidays: holidayDates),
            covered: &shopCovered, closed: &shopClosed)
        let shopHours = instants(shopWall)
        // A break applies only inside the hours: outside them (a Saturday that closes before lunch, a short
        // override day) it is no reason a start is refused.
        let shopBreaks = instants(union(rules.breaks)).intersection(shopHours)
        let base = shopHours.subtracting(shopBreaks)

        var staffSchedules: [StaffSchedule] = []
        for member in rules.staff {
            var covered = shopCovered
            var closed: [Labelled] = []
            let overrides = rules.overrides.filter { $0.staff == member.id }
            var hours: IntervalSet?
            if member.hasOwnHours || !overrides.isEmpty {
                // Without hours of their own they follow the shop; an override then sets their hours that day.
                let own = member.ownHours(in: wallWindow, holidays: holidayDates) ?? IntervalSet(wallWindow)
                hours = instants(applying(overrides, to: own, covered: &covered, closed: &closed))
            }
            let breaks = instants(union(member.breaks)).intersection(hours.map(shopHours.intersection) ?? shopHours)
            // An override covering a date lifts a holiday closure for whom it applies to.
            let holidays = days.compactMap { date -> Labelled? in
                guard let names = holidayNames[date], !covered.contains(date) else { return nil }
                return Labelled(span: instantDay(date), label: names.joined(separator: ", "))
            }
            let timeOff = days.compactMap { date -> Labelled? in
                guard let off = member.timeOff.first(where: { $0.covers(date) }) else { return nil }
                return Labelled(span: instantDay(date), label: off.note)
            }
            var free = hours.map { base.intersection($0) } ?? base
            free = free.subtracting(breaks)
            var closedBuilder = IntervalSetBuilder()
            for day in holidays { closedBuilder.add(day.span) }
            for day in timeOff { closedBuilder.add(day.span) }
            free = free.subtracting(closedBuilder.build())
            staffSchedules.append(
                StaffSchedule(
                    id: member.id, hours: hours, breaks: breaks, closedDays: closed, holidays: holidays,
                    timeOff: timeOff, free: free))
        }

        let grid = gridStarts(days: days, dayStarts: dayStarts, steadyOffsets: steadyOffsets)
        return Schedule(
            first: first, last: last, dayStarts: dayStarts, grid: grid.starts, gridDayIndex: grid.dayIndex,
            steadyDays: steadyOffsets.map { $0 != nil }, stepSeconds: Int64(stepMinutes) * 60, shopHours: shopHours,
            shopBreaks: shopBreaks, shopClosedDays: shopClosed, staff: staffSchedules)
    }

    /// Local midnight + k × step of each day, as instants: nonexistent wall times left out, repeated ones once.
    private func gridStarts(
        days: [LocalDate], dayStarts: [Int64], steadyOffsets: [Int64?]
    ) -> (starts: [Int64], dayIndex: [Int]) {
        let step = Int64(stepMinutes)
        var grid: [Int64] = []
        var dayIndex: [Int] = []
        grid.reserveCapacity(days.count * Int((1440 + step - 1) / step))
        for (index, date) in days.enumerated() {
            dayIndex.append(grid.count)
            let start = dayStarts[index]
            let steady = steadyOffsets[index] != nil
            var minute: Int64 = 0
            while minute < 1440 {
                if steady {
                    grid.append(start + minute * 60)
                } else if let instant = gridInstant(wallMinute: date.startWallMinute + minute) {
                    grid.append(instant)
                }
                minute += step
            }
        }
        return (grid, dayIndex + [grid.count])
    }

    /// The instant a grid wall time is offered at: its only or first occurrence; nil when it does not exist.
    func gridInstant(wallMinute: Int64) -> Int64? {
        switch rules.shop.timeZone.resolve(wallMinute: wallMinute) {
        case .unique(let instant), .repeated(first: let instant, second: _): return instant
        case .skipped: return nil
        }
    }
}
