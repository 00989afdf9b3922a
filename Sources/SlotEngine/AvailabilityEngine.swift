import SlotCore
import SlotRules

/// Availability for one rule set: slot search and the one "is this start bookable, and if not why" decision.
///
/// Pure: the current instant and the existing bookings are parameters. Instants are seconds since the epoch.
public struct AvailabilityEngine: Sendable {
    public let rules: RuleSet

    /// An engine answering from `rules`.
    public init(rules: RuleSet) {
        self.rules = rules
    }

    /// The shop's time zone.
    public var timeZone: ShopTimeZone { rules.shop.timeZone }

    /// The grid step (at least one minute).
    var stepMinutes: Int { max(1, rules.shop.slotStepMinutes) }

    /// The offering for a service id (and variant), or the reason it is unknown with a "did you mean".
    public func offering(service id: String, variant: String? = nil) -> Result<ServiceOffering, Reason> {
        let writer = ReasonWriter(zone: timeZone)
        guard let service = rules.service(id) else {
            let suggestion = Suggestion.closest(to: id, among: rules.services.map(\.id))
            return .failure(writer.reason(.unknownService(id: id, suggestion: suggestion)))
        }
        guard let variant else { return .success(ServiceOffering(service)) }
        guard let match = service.variants.first(where: { $0.id == variant }) else {
            let suggestion = Suggestion.closest(to: variant, among: service.variants.map(\.id))
            return .failure(writer.reason(.unknownVariant(service: id, id: variant, suggestion: suggestion)))
        }
        return .success(ServiceOffering(service, variant: match))
    }

    /// The grid starts of the local dates `from` through `through`, as instants.
    public func gridStarts(from: LocalDate, through: LocalDate) -> [Int64] {
        guard from <= through else { return [] }
        return Array(schedule(from: from, through: through).gridStarts(from: from, through: through))
    }

    // MARK: - Slot search

    /// Every start offered for `offering` on the local dates `from` through `through` (the start's date), sorted.
    ///
    /// Pass a `schedule` compiled earlier to skip compilation; one that does not cover the dates (with a day or
    /// two around them) is ignored. The result equals filtering every grid start with `decide`.
    public func slots(
        for offering: ServiceOffering, staff choice: StaffChoice, from: LocalDate, through: LocalDate, now: Int64,
        bookings: [BookedSpan], schedule compiled: Schedule? = nil
    ) -> [Slot] {
        guard from <= through else { return [] }
        let candidates: [Int]
        switch choice {
        case .any: candidates = Array(rules.staff.indices)
        case .member(let id): candidates = rules.staff.firstIndex { $0.id == id }.map { [$0] } ?? []
        }
        let performing = candidates.filter { rules.staff[$0].performs(offering) }
        // Each staff member's own terms (price and duration) make their own footprint.
        let footprints = performing.map { Footprint(offering.performed(by: rules.staff[$0].id)) }
        let first = from.adding(days: -(footprints.map(\.paddingDays.before).max() ?? 1))
        let last = through.adding(days: footprints.map(\.paddingDays.after).max() ?? 1)
        let schedule =
            compiled.flatMap { $0.covers(from: first, through: last) ? $0 : nil }
            ?? self.schedule(from: first, through: last)

        let grid = schedule.gridStarts(from: from, through: through)
        guard !performing.isEmpty, let gridFirst = grid.first, let gridLast = grid.last else { return [] }

        let notice = noticeWindow(now: now)
        let universe = Interval(max(notice.lower, gridFirst), min(notice.upper, gridLast + 1))
        guard !universe.isEmpty else { return [] }
        // Starts the resources and the services' `available` hours allow, once per distinct set of terms.
        var allowedByTerms: [ServiceOffering: IntervalSet] = [:]
        func allowedStarts(_ terms: ServiceOffering, _ footprint: Footprint) -> IntervalSet {
            if let known = allowedByTerms[terms] { return known }
            var allowed = resourceFeasibleStarts(footprint, bookings: bookings, within: universe)
            if !allowed.isEmpty && !terms.startWindows.isEmpty {
                allowed = allowed.intersection(startWindowStarts(terms.startWindows, within: universe))
            }
            allowedByTerms[terms] = allowed
            return allowed
        }

        // Feasible starts per staff member, as interval sets; grid starts inside them are found by index
        // arithmetic, so the work follows the free time, not the number of grid starts.
        var feasible: [(id: String, starts: IntervalSet, duration: Int64)] = []
        for (position, index) in performing.enumerated() {
            let id = rules.staff[index].id
            let allowed = allowedStarts(offering.performed(by: id), footprints[position])
            guard !allowed.isEmpty else { continue }
            let starts = feasibleStarts(
                footprints[position], staff: index, schedule: schedule, bookings: bookings, within: universe,
                resourcesFree: allowed)
            if !starts.isEmpty { feasible.append((id, starts, footprints[position].duration)) }
        }
        guard !feasible.isEmpty else { return [] }

        /// The grid indices (within the searched dates) of the starts in `interval`.
        func gridRange(_ interval: Interval) -> Range<Int> {
            let lower = min(max(schedule.gridIndex(notBelow: interval.lower), grid.startIndex), grid.endIndex)
            let upper = min(max(schedule.gridIndex(notBelow: interval.upper), lower), grid.endIndex)
            return lower..<upper
        }
        if feasible.count == 1 {
            let (id, starts, duration) = feasible[0]
            let ranges = starts.intervals.map(gridRange)
            var slots: [Slot] = []
            slots.reserveCapacity(ranges.reduce(0) { $0 + $1.count })
            for range in ranges {
                for index in range {
                    slots.append(Slot(start: grid[index], end: grid[index] + duration, staff: id))
                }
            }
            return slots
        }
        // "any": a start goes to the first staff member, in the assign policy's order for its local day, who can
        // take it, so each one gets what is feasible for them and for nobody before them that day.
        let base = grid.startIndex
        var owner = [Int32](repeating: -1, count: grid.count)
        var offered = 0
        let loads = StaffLoads(bookings, zone: timeZone)
        let ids = feasible.map(\.id)
        // `in_order` is the same order every day, so the whole range is one pass.
        let days =
            rules.policies.assign == .inOrder
            ? [from] : (0...(through.daysSinceEpoch - from.daysSinceEpoch)).map { from.adding(days: $0) }
        for (position, date) in days.enumerated() {
            let next = position + 1 < days.count ? days[position + 1] : through.adding(days: 1)
            let span = IntervalSet(Interval(schedule.dayStart(date), schedule.dayStart(next)))
            var earlier = IntervalSet()
            for member in assignmentOrder(ids, on: date, loads: loads) {
                let starts = feasible[member].starts.intersection(span)
                for interval in starts.subtracting(earlier).intervals {
                    let range = gridRange(interval)
                    for index in range { owner[index - base] = Int32(member) }
                    offered += range.count
                }
                earlier = earlier.union(starts)
            }
        }
        var slots: [Slot] = []
        slots.reserveCapacity(offered)
        for (offset, member) in owner.enumerated() where member >= 0 {
            let start = grid[base + offset]
            let (id, _, duration) = feasible[Int(member)]
            slots.append(Slot(start: start, end: start + duration, staff: id))
        }
        return slots
    }

    /// The positions in `ids` (staff ids in declared order) in the order "any" offers them a start on `date`:
    /// as declared under `in_order`; under `balanced` fewest booked minutes that day first, ties as declared.
    func assignmentOrder(_ ids: [String], on date: LocalDate, loads: StaffLoads) -> [Int] {
        switch rules.policies.assign {
        case .inOrder:
            return Array(ids.indices)
        case .balanced:
            let minutes = ids.map { loads.minutes(of: $0, on: date) }
            // A stable order: equal minutes keep their declared positions.
            return ids.indices.sorted { (minutes[$0], $0) < (minutes[$1], $1) }
        }
    }

    /// The instants in which an active booking can change the answer for starts of `offering` on the local dates
    /// `from` through `through`: those days (daily limits count every booking that starts in them), widened before
    /// by the offering's buffer and after by how far its footprint reaches past a start. Bookings busy (with their
    /// own buffers) outside it cannot matter, so a store need not read them.
    public func bookingWindow(for offering: ServiceOffering, from: LocalDate, through: LocalDate) -> Interval {
        // Wide enough for every staff member's own terms.
        let footprints = offering.allTerms.map(Footprint.init)
        let reachBefore = footprints.map { max(0, -($0.busy.first?.lower ?? 0)) }.max() ?? 0
        let reachAfter = footprints.map { max($0.duration, $0.busy.last?.upper ?? 0) }.max() ?? 0
        return Interval(
            timeZone.instant(atWallMinute: from.startWallMinute) - reachBefore,
            timeZone.instant(atWallMinute: through.adding(days: 1).startWallMinute) + reachAfter)
    }

    /// `[now + min_notice, now + horizon]`, both inclusive, as a half-open interval of instants.
    func noticeWindow(now: Int64) -> Interval {
        Interval(now + Int64(rules.shop.minNoticeMinutes) * 60, now + Int64(rules.shop.horizonMinutes) * 60 + 1)
    }

    /// Starts in `universe` at which each service of an offering starts inside its `available` hours.
    func startWindowStarts(_ windows: [StartWindow], within universe: Interval) -> IntervalSet {
        var result = IntervalSet(universe)
        for window in windows {
            let offset = Int64(window.offsetMinutes) * 60
            // Local dates around the universe, shifted by the part's offset; a day each side for zone offsets.
            let firstDate = timeZone.localDateTime(atInstant: universe.lower + offset).date.adding(days: -1)
            let lastDate = timeZone.localDateTime(atInstant: universe.upper + offset).date.adding(days: 1)
            let wall = Interval(firstDate.startWallMinute, lastDate.adding(days: 1).startWallMinute)
            let holidays = rules.holidayDates(from: firstDate.adding(days: -7), through: lastDate)
            let open = timeZone.instants(ofWall: window.hours.openIntervals(in: wall, holidays: holidays))
            result = result.intersection(open.shifted(by: -offset))
            if result.isEmpty { break }
        }
        return result
    }

    /// Starts in `universe` at which `[t, t + duration)` finds enough units of every resource the footprint needs.
    func resourceFeasibleStarts(_ footprint: Footprint, bookings: [BookedSpan], within universe: Interval)
        -> IntervalSet
    {
        var result = IntervalSet(universe)
        guard footprint.duration > 0 else { return result }
        let reach = Interval(universe.lower, universe.upper + footprint.duration)
        for need in footprint.resources {
            let capacity = rules.resource(need.resource)?.count ?? 0
            if need.count > capacity { return IntervalSet() }
            let usage = ResourceUsage(resource: need.resource, bookings: bookings, within: reach)
            // A start is blocked when its span touches a time with more than capacity − need units in use.
            var blocked = IntervalSetBuilder()
            for busy in usage.spans(above: capacity - need.count) {
                blocked.add(Interval(busy.lower - footprint.duration + 1, busy.upper))
            }
            result = result.subtracting(blocked.build())
            if result.isEmpty { break }
        }
        return result
    }

    /// Starts in `universe` at which the staff member can take the footprint: every busy part inside their free
    /// time minus their other bookings (widened by buffers), resources free, daily limits not reached.
    func feasibleStarts(
        _ footprint: Footprint, staff index: Int, schedule: Schedule, bookings: [BookedSpan], within universe: Interval,
        resourcesFree: IntervalSet
    ) -> IntervalSet {
        let member = rules.staff[index]
        // A limit no day can meet (a longer service, or no bookings at all) closes every day.
        if let limit = member.maxMinutesPerDay, footprint.durationMinutes > limit { return IntervalSet() }
        if let limit = member.maxBookingsPerDay, limit <= 0 { return IntervalSet() }
        let reach = Interval(
            universe.lower - footprint.bufferBefore,
            universe.upper + max(footprint.duration, footprint.busy.last?.upper ?? 0))
        let limited = member.hasDailyLimit
        var taken = IntervalSetBuilder()
        var own: [BookedSpan] = []
        for booking in bookings where booking.staff == member.id {
            if limited { own.append(booking) }
            for part in booking.footprint.busy {
                let busy = part.shifted(by: booking.start)
                if busy.overlaps(reach) { taken.add(busy) }
            }
        }
        let available = schedule.staff[index].free.clamped(to: reach).subtracting(taken.build())
        var starts = resourcesFree
        for part in footprint.busy {
            // [t + lower, t + upper) ⊆ [a, b)  ⇔  a − lower ≤ t ≤ b − upper.
            var fits = IntervalSetBuilder()
            for free in available.intervals where free.length >= part.length {
                fits.add(Interval(free.lower - part.lower, free.upper - part.upper + 1))
            }
            starts = starts.intersection(fits.build())
            if starts.isEmpty { return starts }
        }
        if limited {
            var full = IntervalSetBuilder()
            let load = DailyLoad(own, zone: timeZone)
            for (date, day) in load.days
            where dailyLimitReasons(member, load: day, footprint: footprint).isEmpty == false {
                if schedule.covers(from: date, through: date) {
                    full.add(Interval(schedule.dayStart(date), schedule.dayStart(date.adding(days: 1))))
                }
            }
            starts = starts.subtracting(full.build())
        }
        return starts
    }

    /// Why a staff member's day is full for the footprint (nothing when it is not).
    func dailyLimitReasons(_ member: StaffMember, load: DailyLoad.Day, footprint: Footprint) -> [Reason.Kind] {
        var kinds: [Reason.Kind] = []
        if let limit = member.maxBookingsPerDay, load.count >= limit {
            kinds.append(.dailyBookingLimit(booked: load.count, limit: limit))
        }
        if let limit = member.maxMinutesPerDay, load.minutes + footprint.durationMinutes > limit {
            kinds.append(.dailyMinutesLimit(bookedMinutes: load.minutes, limit: limit))
        }
        return kinds
    }
}

extension StaffMember {
    /// Whether a daily limit (`max_bookings`, `max_hours`) applies: only then do a day's other bookings of this
    /// staff member matter to a start that does not overlap them.
    public var hasDailyLimit: Bool { maxBookingsPerDay != nil || maxMinutesPerDay != nil }
}

/// How many units of one resource bookings use over time: each booking holds its resources for its span (start to
/// end, without buffers). Availability reads it for the bookings in the way; the admin page's occupancy shows it.
public struct ResourceUsage: Sendable {
    /// Maximal spans of constant, non-zero usage, ascending.
    public let levels: [(span: Interval, units: Int)]

    /// The usage of `resource` by those of `bookings` that overlap `reach`.
    public init(resource: String, bookings: [BookedSpan], within reach: Interval) {
        var events: [(at: Int64, delta: Int)] = []
        for booking in bookings {
            let span = booking.span
            guard span.overlaps(reach) else { continue }
            for need in booking.footprint.resources where need.resource == resource {
                events.append((span.lower, need.count))
                events.append((span.upper, -need.count))
            }
        }
        events.sort { $0.at < $1.at }
        var levels: [(span: Interval, units: Int)] = []
        var units = 0
        var index = 0
        while index < events.count {
            let at = events[index].at
            while index < events.count && events[index].at == at {
                units += events[index].delta
                index += 1
            }
            if index < events.count && units > 0 { levels.append((Interval(at, events[index].at), units)) }
        }
        self.levels = levels
    }

    /// Spans where more than `units` are in use.
    func spans(above units: Int) -> [Interval] { levels.filter { $0.units > units }.map(\.span) }

    /// The most units in use at once within `span`.
    func peak(in span: Interval) -> Int {
        levels.reduce(0) { $1.span.overlaps(span) ? max($0, $1.units) : $0 }
    }
}

/// Every staff member's bookings per local date of their start, for the `balanced` assign policy.
struct StaffLoads {
    let byStaff: [String: DailyLoad]

    init(_ bookings: [BookedSpan], zone: ShopTimeZone) {
        byStaff = Dictionary(grouping: bookings, by: \.staff).mapValues { DailyLoad($0, zone: zone) }
    }

    /// Booked minutes (without buffers) of bookings by `staff` that start on `date`.
    func minutes(of staff: String, on date: LocalDate) -> Int { byStaff[staff]?.days[date]?.minutes ?? 0 }
}

/// A staff member's bookings per local date of their start: how many, and how many minutes.
struct DailyLoad {
    struct Day {
        var count = 0
        var minutes = 0
    }

    let days: [LocalDate: Day]

    init(_ bookings: [BookedSpan], zone: ShopTimeZone) {
        var days: [LocalDate: Day] = [:]
        for booking in bookings {
            let date = zone.localDateTime(atInstant: booking.start).date
            days[date, default: Day()].count += 1
            days[date, default: Day()].minutes += booking.durationMinutes
        }
        self.days = days
    }
}
