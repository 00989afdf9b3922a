import SlotCore

/// The answer of the one bookability check: bookable (with the staff member) or every reason why not.
public enum Decision: Hashable, Sendable {
    case bookable(Slot)
    case notBookable([Reason])

    /// Whether the start can be booked.
    public var isBookable: Bool {
        if case .bookable = self { return true }
        return false
    }

    /// Why not (empty when bookable).
    public var reasons: [Reason] {
        if case .notBookable(let reasons) = self { return reasons }
        return []
    }

    /// The slot when bookable.
    public var slot: Slot? {
        if case .bookable(let slot) = self { return slot }
        return nil
    }
}

/// One reason a start is not offered, as a value with a stable code and human text.
public struct Reason: Hashable, Sendable, Error, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case unknownService(id: String, suggestion: String?)
        case unknownVariant(service: String, id: String, suggestion: String?)
        case unknownStaff(id: String, suggestion: String?)
        case noStaff
        case staffDoesNotPerform(services: [String])
        /// The wall time falls in a spring-forward gap; it was judged at the instant the gap ends.
        case wallTimeDoesNotExist(wall: LocalDateTime, gapEnd: Int64)
        /// Not a grid start; the grid starts right before and after it.
        case notOnGrid(stepMinutes: Int, previous: Int64?, next: Int64?)
        case tooSoon(earliest: Int64)
        /// A walk-in's start before the current minute (code `too_soon`: the same refusal without the notice).
        case startsInThePast(_ earliest: Int64)
        case beyondHorizon(latest: Int64)
        case shopClosed
        case closedByOverride(note: String)
        case outsideStaffHours
        /// A service starts outside its `available` hours.
        case serviceNotAvailable(service: String, hours: String)
        case shopBreak
        case staffBreak
        case holiday(name: String)
        case timeOff(note: String)
        case overlapsBooking(id: String)
        case insideBufferOfBooking(id: String)
        case resourceBusy(resource: String, inUse: Int, capacity: Int, needed: Int)
        case dailyBookingLimit(booked: Int, limit: Int)
        case dailyMinutesLimit(bookedMinutes: Int, limit: Int)
    }

    public var kind: Kind
    /// The staff member the reason is about; nil for reasons about the shop, the clock or the grid.
    public var staff: String?
    /// The zone instants in the text are shown in.
    public var zone: ShopTimeZone

    public init(_ kind: Kind, staff: String? = nil, zone: ShopTimeZone) {
        self.kind = kind
        self.staff = staff
        self.zone = zone
    }

    /// What a person reads, e.g. `during a break of the shop` (made on demand: deciding stays cheap).
    public var message: String { ReasonWriter(zone: zone).message(kind) }

    /// A stable snake_case code, e.g. `shop_closed`.
    public var code: String {
        switch kind {
        case .unknownService: return "unknown_service"
        case .unknownVariant: return "unknown_variant"
        case .unknownStaff: return "unknown_staff"
        case .noStaff: return "no_staff"
        case .staffDoesNotPerform: return "staff_does_not_perform"
        case .wallTimeDoesNotExist: return "wall_time_does_not_exist"
        case .notOnGrid: return "not_on_grid"
        case .tooSoon, .startsInThePast: return "too_soon"
        case .beyondHorizon: return "beyond_horizon"
        case .shopClosed: return "shop_closed"
        case .closedByOverride: return "closed_by_override"
        case .outsideStaffHours: return "outside_staff_hours"
        case .serviceNotAvailable: return "service_not_available"
        case .shopBreak: return "shop_break"
        case .staffBreak: return "staff_break"
        case .holiday: return "holiday"
        case .timeOff: return "time_off"
        case .overlapsBooking: return "overlaps_booking"
        case .insideBufferOfBooking: return "inside_buffer_of_booking"
        case .resourceBusy: return "resource_busy"
        case .dailyBookingLimit, .dailyMinutesLimit: return "daily_limit_reached"
        }
    }

    public var description: String { staff.map { "\($0): \(message)" } ?? message }
}

/// The text of each reason, with instants shown in the shop's zone.
struct ReasonWriter {
    let zone: ShopTimeZone

    func time(_ instant: Int64) -> String { zone.iso8601(instant: instant) }

    func reason(_ kind: Reason.Kind, staff: String? = nil) -> Reason {
        Reason(kind, staff: staff, zone: zone)
    }

    func message(_ kind: Reason.Kind) -> String {
        func didYouMean(_ suggestion: String?) -> String { suggestion.map { " (did you mean '\($0)'?)" } ?? "" }
        switch kind {
        case .unknownService(let id, let suggestion):
            return "unknown service '\(id)'\(didYouMean(suggestion))"
        case .unknownVariant(let service, let id, let suggestion):
            return "service '\(service)' has no variant '\(id)'\(didYouMean(suggestion))"
        case .unknownStaff(let id, let suggestion):
            return "unknown staff member '\(id)'\(didYouMean(suggestion))"
        case .noStaff:
            return "the rules name no staff member"
        case .staffDoesNotPerform(let services):
            return "does not perform \(services.map { "'\($0)'" }.joined(separator: ", "))"
        case .wallTimeDoesNotExist(let wall, let gapEnd):
            return "\(wall) does not exist in \(zone.identifier) (the clocks spring forward; the gap ends at "
                + "\(time(gapEnd)))"
        case .notOnGrid(let step, let previous, let next):
            let nearest = [previous, next].compactMap { $0 }.map(time)
            return "not on the \(step)-minute slot grid"
                + (nearest.isEmpty ? "" : "; nearest grid starts: " + nearest.joined(separator: ", "))
        case .tooSoon(let earliest):
            return "too soon: the minimum notice allows starts from \(time(earliest))"
        case .startsInThePast(let earliest):
            return "in the past: a walk-in starts at \(time(earliest)) or later"
        case .beyondHorizon(let latest):
            return "beyond the booking horizon: starts up to \(time(latest)) can be booked"
        case .shopClosed:
            return "the shop is closed then (not in its hours)"
        case .closedByOverride(let note):
            return "closed by an override" + (note.isEmpty ? "" : " (\(note))")
        case .outsideStaffHours:
            return "outside the staff member's hours"
        case .serviceNotAvailable(let service, let hours):
            return "service '\(service)' is offered only at \(hours)"
        case .shopBreak:
            return "during a break of the shop"
        case .staffBreak:
            return "during the staff member's break"
        case .holiday(let name):
            return "holiday: \(name)"
        case .timeOff(let note):
            return "time off" + (note.isEmpty ? "" : " (\(note))")
        case .overlapsBooking(let id):
            return "overlaps booking \(id)"
        case .insideBufferOfBooking(let id):
            return "inside the buffer of booking \(id)"
        case .resourceBusy(let resource, let inUse, let capacity, let needed):
            return "resource \(resource) busy (in use \(inUse) of \(capacity), needs \(needed))"
        case .dailyBookingLimit(let booked, let limit):
            return "daily limit reached: \(booked) of \(limit) bookings that day"
        case .dailyMinutesLimit(let booked, let limit):
            return "daily limit reached: \(Minutes.format(booked)) of \(Minutes.format(limit)) booked that day"
        }
    }
}
