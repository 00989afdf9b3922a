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

/// One reason a start is not bookable.
public struct ExplainReason: Codable, Hashable, Sendable {
    /// A stable code, e.g. `shop_closed`, `overlaps_booking`, `too_soon`.
    public var code: String
    /// Human text, e.g. `overlaps booking bk_1 (10:00–10:30)`.
    public var message: String

    public init(code: String, message: String) {
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

    public init(
        service: String, staff: String, at: String, bookable: Bool, reasons: [ExplainReason],
        nearest: [SlotOffer]
    ) {
        self.service = service
        self.staff = staff
        self.at = at
        self.bookable = bookable
        self.reasons = reasons
        self.nearest = nearest
    }
}
