import SlotCore
import SlotRules

// MARK: - The one bookability decision

extension AvailabilityEngine {
    /// Whether `start` (an instant) can be booked for `offering`, and if not, every reason why.
    ///
    /// This is the check a booking must pass; `slots` offers exactly the grid starts it accepts.
    /// For `.any` the start goes to a staff member who can take it, chosen by the rules' assign policy
    /// (`balanced`: fewest booked minutes that local day; `in_order`: first in declared order).
    /// A `waiver` (a walk-in, a forced booking) sets the refusals it covers aside; the others still hold.
    public func decide(
        offering: ServiceOffering, staff choice: StaffChoice, start: Int64, now: Int64, bookings: [BookedSpan],
        schedule compiled: Schedule? = nil, waiving waiver: Waiver = .none
    ) -> Decision {
        let writer = ReasonWriter(zone: timeZone)
        let footprints = offering.allTerms.map(Footprint.init)
        let date = timeZone.localDateTime(atInstant: start).date
        let first = date.adding(days: -(footprints.map(\.paddingDays.before).max() ?? 1))
        let last = date.adding(days: footprints.map(\.paddingDays.after).max() ?? 1)
        let schedule =
            compiled.flatMap { $0.covers(from: first, through: last) ? $0 : nil }
            ?? self.schedule(from: first, through: last)

        var shared = sharedReasons(start: start, now: now, schedule: schedule, waiving: waiver)
        // When staff members have terms of their own, what depends on the terms is judged per staff member.
        let uniform = footprints.count == 1
        if uniform {
            shared += termsReasons(offering, footprint: footprints[0], start: start, bookings: bookings)
        }
        let candidates: [Int]
        switch choice {
        case .member(let id):
            guard let index = rules.staff.firstIndex(where: { $0.id == id }) else {
                let suggestion = Suggestion.closest(to: id, among: rules.staff.map(\.id))
                return .notBookable([writer.reason(.unknownStaff(id: id, suggestion: suggestion))] + shared)
            }
            candidates = [index]
        case .any:
            guard !rules.staff.isEmpty else { return .notBookable([writer.reason(.noStaff)] + shared) }
            candidates = Array(rules.staff.indices)
        }
        let ids = candidates.map { rules.staff[$0].id }
        let order =
            candidates.count > 1
            ? assignmentOrder(ids, on: date, loads: StaffLoads(bookings, zone: timeZone)) : Array(ids.indices)
        var own: [[Reason]] = Array(repeating: [], count: candidates.count)
        for position in order {
            let terms = offering.performed(by: ids[position])
            let footprint = Footprint(terms)
            own[position] = staffReasons(
                footprint, offering: offering, staff: candidates[position], start: start, bookings: bookings,
                schedule: schedule)
            if !uniform {
                own[position] += termsReasons(terms, footprint: footprint, start: start, bookings: bookings)
            }
            if waiver != .none { own[position].removeAll { waiver.waives($0.kind) } }
            if own[position].isEmpty && shared.isEmpty {
                return .bookable(Slot(start: start, end: start + footprint.duration, staff: ids[position]))
            }
        }
        // Collected in declared order, whatever order the policy tried them in.
        var reasons: [Reason] = []
        for reason in own.joined() where !reasons.contains(reason) && !shared.contains(reason) {
            reasons.append(reason)
        }
        // Reasons in a stable order: what the request names, the clock and grid, then the staff members' days.
        shared.append(contentsOf: reasons)
        return .notBookable(shared)
    }

    /// Whether the booking `moving`, now with `current`, can move to `start` with `choice`, judged without the
    /// booking itself. With `.any` its current staff member keeps it when free there; otherwise the start goes to
    /// whom a new booking with `.any` would get.
    public func decideMove(
        _ moving: String, from current: String, offering: ServiceOffering, staff choice: StaffChoice, start: Int64,
        now: Int64, bookings: [BookedSpan], schedule: Schedule? = nil
    ) -> Decision {
        let others = bookings.filter { $0.id != moving }
        if choice == .any, rules.staff.contains(where: { $0.id == current }) {
            let staying = decide(
                offering: offering, staff: .member(current), start: start, now: now, bookings: others,
                schedule: schedule)
            if staying.isBookable { return staying }
        }
        return decide(offering: offering, staff: choice, start: start, now: now, bookings: others, schedule: schedule)
    }

    /// Like `decide(…start:…)` for a wall time in the shop's zone: a repeated time means its first occurrence;
    /// a time in a spring-forward gap is never bookable (it is judged at the gap's end for the other reasons).
    public func decide(
        offering: ServiceOffering, staff choice: StaffChoice, wallTime: LocalDateTime, now: Int64,
        bookings: [BookedSpan], schedule: Schedule? = nil
    ) -> Decision {
        switch timeZone.resolve(wallMinute: wallTime.wallMinute) {
        case .unique(let instant), .repeated(first: let instant, second: _):
            return decide(
                offering: offering, staff: choice, start: instant, now: now, bookings: bookings, schedule: schedule)
        case .skipped(let gapEnd):
            let atGapEnd = decide(
                offering: offering, staff: choice, start: gapEnd, now: now, bookings: bookings, schedule: schedule)
            let gap = ReasonWriter(zone: timeZone).reason(.wallTimeDoesNotExist(wall: wallTime, gapEnd: gapEnd))
            return .notBookable([gap] + atGapEnd.reasons.filter { $0.code != "not_on_grid" })
        }
    }

    /// The offered starts nearest to `start` (up to `limit`, within `days` days of its date), sorted by start.
    public func nearestSlots(
        for offering: ServiceOffering, staff choice: StaffChoice, around start: Int64, now: Int64,
        bookings: [BookedSpan], limit: Int = 4, days: Int = 14
    ) -> [Slot] {
        let date = timeZone.localDateTime(atInstant: start).date
        let found = slots(
            for: offering, staff: choice, from: date.adding(days: -days), through: date.adding(days: days), now: now,
            bookings: bookings)
        let nearest = found.sorted { abs($0.start - start) < abs($1.start - start) }.prefix(max(0, limit))
        return nearest.sorted { $0.start < $1.start }
    }

    /// Whether `instant` is a grid start: local midnight + k × step, and the only or first occurrence of that time.
    public func isOnGrid(_ instant: Int64) -> Bool {
        guard instant.floorMod(60) == 0 else { return false }
        let wall = timeZone.wallMinute(atInstant: instant)
        return wall.floorMod(1440) % Int64(stepMinutes) == 0 && gridInstant(wallMinute: wall) == instant
    }

    // MARK: - Reasons

    /// Reasons that hold whoever does the work: the grid and the notice window (or a waiver's earliest start).
    func sharedReasons(start: Int64, now: Int64, schedule: Schedule, waiving waiver: Waiver = .none) -> [Reason] {
        let writer = ReasonWriter(zone: timeZone)
        var reasons: [Reason] = []
        if waiver == .none && !isOnGrid(start) {
            let index = Schedule.firstIndex(in: schedule.grid, notBelow: start)
            let previous = index > 0 ? schedule.grid[index - 1] : nil
            let next = index < schedule.grid.count ? schedule.grid[index] : nil
            reasons.append(writer.reason(.notOnGrid(stepMinutes: stepMinutes, previous: previous, next: next)))
        }
        let window = noticeWindow(now: now)
        let earliest = waiver.earliestStart(now: now, notice: window)
        if start < earliest {
            reasons.append(writer.reason(waiver == .none ? .tooSoon(earliest: earliest) : .startsInThePast(earliest)))
        }
        if start >= window.upper { reasons.append(writer.reason(.beyondHorizon(latest: window.upper - 1))) }
        return reasons
    }

    /// Reasons that depend on the offering's terms (its length, its services' `available` hours): resources and
    /// start windows.
    func termsReasons(_ terms: ServiceOffering, footprint: Footprint, start: Int64, bookings: [BookedSpan])
        -> [Reason]
    {
        let writer = ReasonWriter(zone: timeZone)
        var reasons: [Reason] = []
        for window in terms.startWindows
        where startWindowStarts([window], within: Interval(start, start + 1)).isEmpty {
            reasons.append(writer.reason(.serviceNotAvailable(service: window.service, hours: window.hours.text)))
        }
        if footprint.duration > 0 {
            let span = Interval(start, start + footprint.duration)
            for need in footprint.resources {
                let capacity = rules.resource(need.resource)?.count ?? 0
                let peak = ResourceUsage(resource: need.resource, bookings: bookings, within: span).peak(in: span)
                if peak + need.count > capacity {
                    reasons.append(
                        writer.reason(
                            .resourceBusy(resource: need.resource, inUse: peak, capacity: capacity, needed: need.count))
                    )
                }
            }
        }
        return reasons
    }

    /// Reasons about one staff member: the services they perform, their free time, bookings and daily limits.
    func staffReasons(
        _ footprint: Footprint, offering: ServiceOffering, staff index: Int, start: Int64, bookings: [BookedSpan],
        schedule: Schedule
    ) -> [Reason] {
        let writer = ReasonWriter(zone: timeZone)
        let member = rules.staff[index]
        let compiled = schedule.staff[index]
        var reasons: [Reason] = []
        func add(_ kind: Reason.Kind, aboutStaff: Bool) {
            let reason = writer.reason(kind, staff: aboutStaff ? member.id : nil)
            if !reasons.contains(reason) { reasons.append(reason) }
        }

        let missing = offering.serviceIDs.filter { !member.services.contains($0) }
        if !missing.isEmpty { add(.staffDoesNotPerform(services: missing), aboutStaff: true) }

        // The times the staff member would be busy; each must lie in their free time.
        let parts = IntervalSet(footprint.busy.map { $0.shifted(by: start) })
        let holidays = IntervalSet(compiled.holidays.map(\.span))
        let outsideShop = parts.subtracting(schedule.shopHours)
        if !outsideShop.isEmpty {
            for closed in schedule.shopClosedDays where outsideShop.overlaps(closed.span) {
                add(.closedByOverride(note: closed.label), aboutStaff: false)
            }
            let closedDays = IntervalSet(schedule.shopClosedDays.map(\.span))
            if !outsideShop.subtracting(closedDays).subtracting(holidays).isEmpty {
                add(.shopClosed, aboutStaff: false)
            }
        }
        if let hours = compiled.hours {
            let outsideOwn = parts.subtracting(hours)
            if !outsideOwn.isEmpty {
                for closed in compiled.closedDays where outsideOwn.overlaps(closed.span) {
                    add(.closedByOverride(note: closed.label), aboutStaff: true)
                }
                let closedDays = IntervalSet(compiled.closedDays.map(\.span))
                if !outsideOwn.subtracting(closedDays).subtracting(holidays).isEmpty {
                    add(.outsideStaffHours, aboutStaff: true)
                }
            }
        }
        if parts.intervals.contains(where: { schedule.shopBreaks.overlaps($0) }) { add(.shopBreak, aboutStaff: false) }
        if parts.intervals.contains(where: { compiled.breaks.overlaps($0) }) { add(.staffBreak, aboutStaff: true) }
        for holiday in compiled.holidays where parts.overlaps(holiday.span) {
            add(.holiday(name: holiday.label), aboutStaff: false)
        }
        for off in compiled.timeOff where parts.overlaps(off.span) { add(.timeOff(note: off.label), aboutStaff: true) }

        var own: [BookedSpan] = []
        for booking in bookings where booking.staff == member.id {
            own.append(booking)
            let active = IntervalSet(booking.footprint.active.map { $0.shifted(by: booking.start) })
            if !parts.intersection(active).isEmpty {
                add(.overlapsBooking(id: booking.id), aboutStaff: true)
            } else if !parts.intersection(booking.staffBusy).isEmpty {
                add(.insideBufferOfBooking(id: booking.id), aboutStaff: true)
            }
        }
        let date = timeZone.localDateTime(atInstant: start).date
        let day = DailyLoad(own, zone: timeZone).days[date] ?? DailyLoad.Day()
        for kind in dailyLimitReasons(member, load: day, footprint: footprint) { add(kind, aboutStaff: true) }
        return reasons
    }
}
