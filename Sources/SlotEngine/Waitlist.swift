import SlotCore
import SlotRules

// MARK: - Entries

/// Where a waitlist entry is: `waiting → offered → booked | expired | left`, `waiting → left | expired`. A lapsed
/// or declined offer ends the entry (it never waits again) and passes the start to the next in line.
public enum WaitlistState: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// In line for a start.
    case waiting
    /// Holds an offer: a held booking, until it is accepted, declined or lapses.
    case offered
    /// Accepted an offer: the held booking is confirmed.
    case booked
    /// The offer lapsed, or the range ended without an offer.
    case expired
    /// The customer left the line or declined the offer.
    case left

    /// Whether the entry is still in line (waiting or holding an offer).
    public var isOpen: Bool { self == .waiting || self == .offered }

    public var description: String { rawValue }
}

/// What a waitlist entry asks for: a service (and variant), a staff member or any, local dates from `first`
/// through `last`, and optionally a window of the day (`[fromMinute, toMinute)` of the start's wall time).
public struct WaitlistWish: Hashable, Sendable {
    public var service: String
    public var variant: String?
    public var staff: StaffChoice
    public var first: LocalDate
    public var last: LocalDate
    /// Minute of the day from which a start fits (inclusive); nil: from midnight.
    public var fromMinute: Int?
    /// Minute of the day before which a start fits (exclusive); nil: until midnight.
    public var toMinute: Int?

    public init(
        service: String, variant: String? = nil, staff: StaffChoice, first: LocalDate, last: LocalDate,
        fromMinute: Int? = nil, toMinute: Int? = nil
    ) {
        self.service = service
        self.variant = variant
        self.staff = staff
        self.first = first
        self.last = last
        self.fromMinute = fromMinute
        self.toMinute = toMinute
    }

    /// Whether a start at `minuteOfDay` (wall time) lies in the window.
    public func admits(minuteOfDay: Int) -> Bool {
        minuteOfDay >= (fromMinute ?? 0) && minuteOfDay < (toMinute ?? 24 * 60)
    }

    /// Whether two wishes ask for the same thing at overlapping dates (a customer waits once for it).
    public func overlaps(_ other: WaitlistWish) -> Bool {
        service == other.service && variant == other.variant && staff == other.staff && first <= other.last
            && other.first <= last
    }
}

/// A start offered to an entry: the held booking that keeps it for the customer, and when the offer lapses.
public struct WaitlistOffer: Hashable, Sendable {
    public var booking: String
    public var staff: String
    public var start: Int64
    public var expiresAt: Int64

    public init(booking: String, staff: String, start: Int64, expiresAt: Int64) {
        self.booking = booking
        self.staff = staff
        self.start = start
        self.expiresAt = expiresAt
    }
}

// MARK: - Events and errors

/// What happened to a waitlist entry, as recorded in the event log.
public enum WaitlistEvent: Hashable, Sendable {
    case joined
    case offered(WaitlistOffer)
    /// The offer lapsed unanswered; the start goes to the next in line.
    case offerExpired(WaitlistOffer)
    /// The customer left the line (`reason` `left`) or declined an offer (`declined`).
    case left(reason: String)
    case booked(WaitlistOffer)
    /// The wished dates passed without an offer.
    case closed

    /// The event type in the log (`waitlist.offer_expired`); stable, stored as text.
    public var type: String {
        switch self {
        case .joined: return "waitlist.joined"
        case .offered: return "waitlist.offered"
        case .offerExpired: return "waitlist.offer_expired"
        case .left: return "waitlist.left"
        case .booked: return "waitlist.booked"
        case .closed: return "waitlist.closed"
        }
    }
}

/// An input the entry's state does not allow, as a value.
public struct WaitlistTransitionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var state: WaitlistState
    /// What went wrong and what to do, e.g. `the entry has no offer to accept (it is waiting)`.
    public var message: String

    public init(state: WaitlistState, message: String) {
        self.state = state
        self.message = message
    }

    public var description: String { message }
}

/// What the desk or the customer does to an entry directly (an offer's answers go through its booking).
public enum WaitlistInput: String, Hashable, Sendable, CaseIterable {
    /// The customer leaves the line.
    case leave
    /// The wished dates are over.
    case close
}

/// What a booking change means for the entry whose offer it holds.
public enum WaitlistBookingFollow: Hashable, Sendable {
    /// The entry follows: apply this event.
    case apply(WaitlistEvent)
    /// Nothing changes for the entry (a reschedule of the held booking keeps the offer).
    case unchanged
}

// MARK: - The state machine

/// A waitlist entry's lifecycle as a value: one `mutating func` per input, each returning the event to record or an
/// error. No I/O, no clock: the caller passes `now`.
public struct WaitlistLifecycle: Hashable, Sendable {
    public private(set) var state: WaitlistState
    public private(set) var offer: WaitlistOffer?

    public init(state: WaitlistState, offer: WaitlistOffer? = nil) {
        self.state = state
        self.offer = offer
    }

    /// A new entry: waiting.
    public static func join() -> (WaitlistLifecycle, WaitlistEvent) {
        (WaitlistLifecycle(state: .waiting), .joined)
    }

    /// `waiting → offered`: `offer` holds a start for the customer until `offer.expiresAt`.
    public mutating func makeOffer(
        _ offer: WaitlistOffer, at now: Int64
    ) -> Result<WaitlistEvent, WaitlistTransitionError> {
        guard state == .waiting else {
            return .failure(
                WaitlistTransitionError(state: state, message: "only a waiting entry gets an offer (it is \(state))"))
        }
        guard offer.expiresAt > now, offer.expiresAt <= offer.start else {
            return .failure(
                WaitlistTransitionError(
                    state: state, message: "an offer must lapse after now and no later than its start"))
        }
        state = .offered
        self.offer = offer
        return .success(.offered(offer))
    }

    /// `offered → booked`: the customer took the offer (its held booking was confirmed).
    public mutating func accept() -> Result<WaitlistEvent, WaitlistTransitionError> {
        guard state == .offered, let offer else { return .failure(noOffer("accept")) }
        state = .booked
        return .success(.booked(offer))
    }

    /// `offered → left`: the customer declined the offer (its held booking was cancelled).
    public mutating func decline() -> Result<WaitlistEvent, WaitlistTransitionError> {
        guard state == .offered else { return .failure(noOffer("decline")) }
        state = .left
        return .success(.left(reason: "declined"))
    }

    /// `offered → expired`: the offer's hold lapsed unanswered.
    public mutating func lapse() -> Result<WaitlistEvent, WaitlistTransitionError> {
        guard state == .offered, let offer else { return .failure(noOffer("lapse")) }
        state = .expired
        return .success(.offerExpired(offer))
    }

    /// `waiting → left`: the customer leaves the line. An entry holding an offer declines it instead (its booking
    /// is cancelled, which declines).
    public mutating func leave() -> Result<WaitlistEvent, WaitlistTransitionError> {
        guard state == .waiting else {
            let hint = state == .offered ? " — decline its offer instead" : ""
            return .failure(
                WaitlistTransitionError(state: state, message: "cannot leave an entry that is \(state)\(hint)"))
        }
        state = .left
        return .success(.left(reason: "left"))
    }

    /// `waiting → expired`: the last wished date is over without an offer.
    public mutating func close() -> Result<WaitlistEvent, WaitlistTransitionError> {
        guard state == .waiting else {
            return .failure(
                WaitlistTransitionError(state: state, message: "only a waiting entry closes (it is \(state))"))
        }
        state = .expired
        return .success(.closed)
    }

    /// Applies a direct input.
    public mutating func apply(_ input: WaitlistInput) -> Result<WaitlistEvent, WaitlistTransitionError> {
        switch input {
        case .leave: return leave()
        case .close: return close()
        }
    }

    /// What the booking holding this entry's offer went through means for the entry: confirmed accepts, cancelled
    /// declines, expired lapses; a move or a note keeps the offer.
    public mutating func follow(_ event: BookingEvent) -> Result<WaitlistBookingFollow, WaitlistTransitionError> {
        let result: Result<WaitlistEvent, WaitlistTransitionError>
        switch event {
        case .confirmed: result = accept()
        case .cancelled: result = decline()
        case .expired: result = lapse()
        case .created, .rescheduled, .completed, .noShow, .noted: return .success(.unchanged)
        }
        return result.map(WaitlistBookingFollow.apply)
    }

    private func noOffer(_ verb: String) -> WaitlistTransitionError {
        WaitlistTransitionError(state: state, message: "the entry has no offer to \(verb) (it is \(state))")
    }
}

// MARK: - Who is offered what

/// A waiting entry as the matcher sees it: its id, its wish and its place in line (earlier joins first).
public struct WaitingEntry: Hashable, Sendable {
    public var id: String
    public var wish: WaitlistWish
    /// The line's order: smaller first (the store's position, which follows the join order).
    public var position: Int64

    public init(id: String, wish: WaitlistWish, position: Int64) {
        self.id = id
        self.wish = wish
        self.position = position
    }
}

/// What the matcher decides for one entry.
public enum WaitlistDecision: Hashable, Sendable {
    /// Offer this start (and staff member) to the entry, lapsing at `expiresAt`.
    case offer(entry: String, slot: Slot, expiresAt: Int64)
    /// The entry's dates are over: close it.
    case close(entry: String)
}

/// Decides who in line gets a freed start: pure, given the waiting entries, the bookings and the time.
public enum WaitlistMatcher {
    /// How far ahead (days) an entry may wish: the slot search's own bound.
    public static let maxRangeDays = 92

    /// The decisions for `entries` at `now`: every entry whose dates are over closes; then, in line order, the
    /// first entry with a bookable start (the earliest, in its window) gets it, held for `offerHoldMinutes` (but
    /// never past the start). One offer at most: the caller books it, then asks again with the new booking seen,
    /// so one start is never offered to two people. An entry whose service no longer exists waits.
    public static func decide(
        entries: [WaitingEntry], engine: AvailabilityEngine, bookings: [BookedSpan], now: Int64,
        offerHoldMinutes: Int
    ) -> [WaitlistDecision] {
        let zone = engine.timeZone
        let today = zone.localDateTime(atInstant: now).date
        var decisions: [WaitlistDecision] = []
        var offered = false
        for entry in entries.sorted(by: { ($0.position, $0.id) < ($1.position, $1.id) }) {
            if entry.wish.last < today {
                decisions.append(.close(entry: entry.id))
                continue
            }
            guard !offered, let slot = firstStart(for: entry.wish, engine: engine, bookings: bookings, now: now)
            else { continue }
            let expiresAt = min(now + Int64(max(1, offerHoldMinutes)) * 60, slot.start)
            guard expiresAt > now else { continue }
            decisions.append(.offer(entry: entry.id, slot: slot, expiresAt: expiresAt))
            offered = true
        }
        return decisions
    }

    /// The earliest bookable start for `wish` from `now` on, in its window; nil when none (or the service is gone).
    public static func firstStart(
        for wish: WaitlistWish, engine: AvailabilityEngine, bookings: [BookedSpan], now: Int64
    ) -> Slot? {
        guard case .success(let offering) = engine.offering(service: wish.service, variant: wish.variant) else {
            return nil
        }
        let zone = engine.timeZone
        let today = zone.localDateTime(atInstant: now).date
        let first = max(wish.first, today)
        let last = min(wish.last, first.adding(days: maxRangeDays))
        guard first <= last else { return nil }
        let slots = engine.slots(
            for: offering, staff: wish.staff, from: first, through: last, now: now, bookings: bookings)
        return slots.first { wish.admits(minuteOfDay: zone.localDateTime(atInstant: $0.start).minuteOfDay) }
    }
}
