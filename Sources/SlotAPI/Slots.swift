/// A bookable start: ISO 8601 instants with the shop's offset at each, and who would do it.
public struct SlotOffer: Codable, Hashable, Sendable {
    public var start: String
    public var end: String
    public var staff: String

    public init(start: String, end: String, staff: String) {
        self.start = start
        self.end = end
        self.staff = staff
    }
}

/// `GET /v1/slots` (and each line of `watch=true`).
public struct SlotList: Codable, Hashable, Sendable {
    public var service: String
    /// The staff asked for, or `any`.
    public var staff: String
    /// First and last local date, inclusive (`YYYY-MM-DD`).
    public var from: String
    public var to: String
    /// The rules version the answer was computed with.
    public var rulesVersion: String
    public var slots: [SlotOffer]

    enum CodingKeys: String, CodingKey {
        case service, staff, from, to, slots
        case rulesVersion = "rules_version"
    }

    public init(
        service: String, staff: String, from: String, to: String, rulesVersion: String, slots: [SlotOffer]
    ) {
        self.service = service
        self.staff = staff
        self.from = from
        self.to = to
        self.rulesVersion = rulesVersion
        self.slots = slots
    }
}

/// The stable code of a reason a start is not bookable.
public enum ExplainReasonCode: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case unknownService = "unknown_service"
    case unknownVariant = "unknown_variant"
    case unknownStaff = "unknown_staff"
    case noStaff = "no_staff"
    case staffDoesNotPerform = "staff_does_not_perform"
    case wallTimeDoesNotExist = "wall_time_does_not_exist"
    case notOnGrid = "not_on_grid"
    case tooSoon = "too_soon"
    case beyondHorizon = "beyond_horizon"
    case shopClosed = "shop_closed"
    case closedByOverride = "closed_by_override"
    case outsideStaffHours = "outside_staff_hours"
    case serviceNotAvailable = "service_not_available"
    case shopBreak = "shop_break"
    case staffBreak = "staff_break"
    case holiday
    case timeOff = "time_off"
    case overlapsBooking = "overlaps_booking"
    case insideBufferOfBooking = "inside_buffer_of_booking"
    case resourceBusy = "resource_busy"
    case dailyLimitReached = "daily_limit_reached"

    /// The wire spelling (`shop_closed`).
    public var description: String { rawValue }
}

/// One reason a start is not bookable.
public struct ExplainReason: Codable, Hashable, Sendable {
    /// A stable code, e.g. `shop_closed`, `overlaps_booking`, `too_soon`.
    public var code: ExplainReasonCode
    /// Human text, e.g. `overlaps booking bk_1 (10:00–10:30)`.
    public var message: String

    public init(code: ExplainReasonCode, message: String) {
        self.code = code
        self.message = message
    }
}

/// `GET /v1/slots/explain`: whether a start is bookable and every reason why not.
public struct Explanation: Codable, Hashable, Sendable {
    public var service: String
    public var staff: String
    /// The start asked about, ISO 8601 with offset.
    public var at: String
    public var bookable: Bool
    public var reasons: [ExplainReason]
    /// If not bookable: the nearest offered starts for that staff member.
    public var nearest: [SlotOffer]
    /// If bookable: the end, with the chosen staff member's duration.
    public var end: String?
    /// If bookable: the price with the chosen staff member.
    public var price: Price?

    public init(
        service: String, staff: String, at: String, bookable: Bool, reasons: [ExplainReason],
        nearest: [SlotOffer], end: String? = nil, price: Price? = nil
    ) {
        self.end = end
        self.price = price
        self.service = service
        self.staff = staff
        self.at = at
        self.bookable = bookable
        self.reasons = reasons
        self.nearest = nearest
    }
}
