import SlotCore
import SlotRules

/// An active booking as a rule change judges it: what it takes, what it was booked as, and for whom.
public struct ActiveBooking: Hashable, Sendable {
    /// Who, when and what it occupies (as it was booked, whatever the rules say now).
    public var span: BookedSpan
    /// The service ids in order (one for a plain booking).
    public var services: [String]
    /// The first service's variant, if any.
    public var variant: String?
    /// The customer's name, for people reading the preview.
    public var customer: String
    /// A walk-in's or forced booking's override: the rule checks staff set aside are no conflict.
    public var override: BookingOverride?

    /// A booking of `services` (and `variant`) for `customer`, occupying `span`, made with `override` if any.
    public init(
        span: BookedSpan, services: [String], variant: String?, customer: String, override: BookingOverride? = nil
    ) {
        self.span = span
        self.services = services
        self.variant = variant
        self.customer = customer
        self.override = override
    }
}

// MARK: - Whether the rules still allow a booking

extension Reason {
    /// Whether the reason is about the rules, not about when the booking is judged or what else is booked.
    ///
    /// A booking made weeks ago is naturally "too soon" now, and other bookings were checked when it was made, so
    /// the rule checks of existing bookings leave these out.
    public var isAboutTheRules: Bool {
        switch kind {
        case .tooSoon, .startsInThePast, .beyondHorizon, .notOnGrid, .overlapsBooking, .insideBufferOfBooking,
            .resourceBusy, .dailyBookingLimit, .dailyMinutesLimit:
            return false
        default:
            return true
        }
    }
}

extension AvailabilityEngine {
    /// Why these rules would not allow an existing booking (empty when they would): the one decision for the
    /// booking itself, with no other bookings around it, keeping only the reasons about the rules and leaving out
    /// those the booking's `override` set aside when staff made it.
    ///
    /// Pass a `schedule` covering the booking's date with two days around it to skip compilation.
    public func ruleReasons(
        staff: String, services: [String], variant: String?, start: Int64, now: Int64, schedule: Schedule? = nil,
        override: BookingOverride? = nil
    ) -> [Reason] {
        var parts: [ServiceOffering] = []
        for (index, id) in services.enumerated() {
            switch offering(service: id, variant: index == 0 ? variant : nil) {
            case .success(let offering): parts.append(offering)
            case .failure(let reason): return [reason]
            }
        }
        guard let offering = ServiceOffering.backToBack(parts) else {
            let id = services.joined(separator: "+")
            return [ReasonWriter(zone: timeZone).reason(.unknownService(id: id, suggestion: nil))]
        }
        let decision = decide(
            offering: offering, staff: .member(staff), start: start, now: now, bookings: [], schedule: schedule)
        return decision.reasons.filter { $0.isAboutTheRules && !(override?.setsAside($0) ?? false) }
    }
}

// MARK: - The effect of a rule change

/// What replacing the running rules by a candidate would change: the starts gained and lost per staff member and
/// service over the next days, and the active bookings the candidate would no longer allow, with the reasons.
///
/// Pure: the rules, the bookings and the current instant are parameters.
public struct RulePreview: Sendable {
    /// One offered start of a service with a staff member.
    public struct Start: Hashable, Sendable, Comparable {
        public var staff: String
        public var service: String
        /// The instant (seconds since the epoch).
        public var start: Int64

        public init(staff: String, service: String, start: Int64) {
            self.staff = staff
            self.service = service
            self.start = start
        }

        public static func < (lhs: Start, rhs: Start) -> Bool {
            (lhs.start, lhs.staff, lhs.service) < (rhs.start, rhs.staff, rhs.service)
        }
    }

    /// A booking the running rules allow and the candidate does not, with the candidate's reasons.
    public struct Refused: Hashable, Sendable {
        public var booking: ActiveBooking
        public var reasons: [Reason]
    }

    /// The local dates compared (in the candidate's zone), first and last inclusive.
    public var from: LocalDate
    public var through: LocalDate
    /// Starts the candidate offers and the running rules do not, sorted by start, staff, service.
    public var gained: [Start]
    /// Starts the running rules offer and the candidate does not, sorted likewise.
    public var lost: [Start]
    /// Active bookings from `now` on (whatever their date) that only the candidate refuses, sorted by start.
    public var noLongerAllowed: [Refused]

    /// The default number of days compared.
    public static let defaultDays = 28

    /// Compares `running` with `candidate` for the `days` local dates from `now`'s, against `bookings`.
    ///
    /// Offered starts are each rule set's slot lists (bookings taken into account, as customers would see them)
    /// for every staff member and service either rule set names, compared as sorted lists. A booking counts
    /// once it starts at or after `now`; one the running rules already refuse is not reported (the change does not
    /// cause it).
    public static func compare(
        running: AvailabilityEngine, candidate: AvailabilityEngine, bookings: [ActiveBooking], now: Int64,
        days: Int = defaultDays
    ) -> RulePreview {
        let zone = candidate.timeZone
        let from = zone.localDateTime(atInstant: now).date
        let through = from.adding(days: max(1, days) - 1)
        let upcoming = bookings.filter { $0.span.start >= now }.sorted { $0.span.start < $1.span.start }
        // One schedule per rule set covers every date asked about, so no decision or search compiles its own.
        let lastBooked = upcoming.last.map { zone.localDateTime(atInstant: $0.span.start).date } ?? through
        let first = from.adding(days: -3)
        let last = max(through, lastBooked).adding(days: 3)
        let before = running.schedule(from: first, through: last)
        let after = candidate.schedule(from: first, through: last)
        let spans = upcoming.map(\.span)

        var gained: [Start] = []
        var lost: [Start] = []
        for staff in union(running.rules.staff.map(\.id), candidate.rules.staff.map(\.id)) {
            for service in union(running.rules.services.map(\.id), candidate.rules.services.map(\.id)) {
                let old = running.offeredStarts(
                    staff: staff, service: service, from: from, through: through, now: now, bookings: spans,
                    schedule: before)
                let new = candidate.offeredStarts(
                    staff: staff, service: service, from: from, through: through, now: now, bookings: spans,
                    schedule: after)
                let (added, removed) = difference(old, new)
                gained += added.map { Start(staff: staff, service: service, start: $0) }
                lost += removed.map { Start(staff: staff, service: service, start: $0) }
            }
        }

        var refused: [Refused] = []
        for booking in upcoming {
            let span = booking.span
            let reasons = candidate.ruleReasons(
                staff: span.staff, services: booking.services, variant: booking.variant, start: span.start, now: now,
                schedule: after, override: booking.override)
            guard !reasons.isEmpty else { continue }
            let allowedNow = running.ruleReasons(
                staff: span.staff, services: booking.services, variant: booking.variant, start: span.start, now: now,
                schedule: before, override: booking.override
            ).isEmpty
            if allowedNow { refused.append(Refused(booking: booking, reasons: reasons)) }
        }
        return RulePreview(
            from: from, through: through, gained: gained.sorted(), lost: lost.sorted(), noLongerAllowed: refused)
    }

    /// The ids of `first` in order, then those only in `second`.
    static func union(_ first: [String], _ second: [String]) -> [String] {
        var seen = Set(first)
        return first + second.filter { seen.insert($0).inserted }
    }

    /// What `new` adds to and removes from `old`; both sorted ascending without repeats (one merge pass).
    static func difference(_ old: [Int64], _ new: [Int64]) -> (added: [Int64], removed: [Int64]) {
        var added: [Int64] = []
        var removed: [Int64] = []
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if j == new.count || (i < old.count && old[i] < new[j]) {
                removed.append(old[i])
                i += 1
            } else if i == old.count || new[j] < old[i] {
                added.append(new[j])
                j += 1
            } else {
                i += 1
                j += 1
            }
        }
        return (added, removed)
    }
}

extension AvailabilityEngine {
    /// The starts offered to `staff` for `service` on the dates `from` through `through`, ascending; none when
    /// these rules do not know the staff member or the service, or the staff member does not perform it.
    func offeredStarts(
        staff: String, service: String, from: LocalDate, through: LocalDate, now: Int64, bookings: [BookedSpan],
        schedule: Schedule
    ) -> [Int64] {
        guard case .success(let offering) = offering(service: service),
            rules.staff.contains(where: { $0.id == staff })
        else { return [] }
        return slots(
            for: offering, staff: .member(staff), from: from, through: through, now: now, bookings: bookings,
            schedule: schedule
        ).map(\.start)
    }
}
