import SlotCore

/// What a booking made by the shop's staff at the counter may set aside of the rules a customer's booking keeps.
///
/// Never waived: other bookings and their buffers, resources, the booking horizon, daily limits, the services a
/// staff member performs, and wall times that do not exist.
public enum Waiver: String, Hashable, Sendable, CaseIterable, Codable {
    /// Nothing: the rules as they are.
    case none
    /// A walk-in: starts at any minute from the current one on (no minimum notice, no slot grid), still inside
    /// the shop's and the staff member's hours.
    case walkIn = "walk_in"
    /// Forced by staff with a reason: a walk-in that may also lie outside hours, in breaks, on closed days,
    /// holidays and time off.
    case forced

    /// Whether this waiver sets a refusal of `kind` aside.
    public func waives(_ kind: Reason.Kind) -> Bool {
        switch (self, kind) {
        case (.none, _):
            return false
        case (_, .notOnGrid), (_, .tooSoon):
            // A walk-in's own earliest start (the current minute) is checked instead (`startsInThePast`).
            return true
        case (.forced, .shopClosed), (.forced, .closedByOverride), (.forced, .outsideStaffHours),
            (.forced, .shopBreak), (.forced, .staffBreak), (.forced, .holiday), (.forced, .timeOff):
            return true
        default:
            return false
        }
    }

    /// The earliest start this waiver allows at `now`: the notice window's start without one, else the start of
    /// the current minute (a walk-in typed in during its first minute still starts "now").
    func earliestStart(now: Int64, notice: Interval) -> Int64 {
        self == .none ? notice.lower : now - now.floorMod(60)
    }
}

/// A booking made with a waiver, as the booking keeps it and its `booking.created` event records it: what was set
/// aside, who did it, why.
public struct BookingOverride: Hashable, Sendable, Codable {
    /// `walk_in` or `forced` (never `none`).
    public var waiver: Waiver
    /// Why (required for `forced`).
    public var reason: String?
    /// The peer's uid on the socket.
    public var uid: UInt32?
    /// The peer's user name, when the system knows one for the uid.
    public var user: String?
    /// The codes of the rule checks the booking failed when it was made and staff set aside (`shop_closed`,
    /// `staff_break`, …), sorted; nil when not known (a booking made before slotd kept its waiver has only its
    /// event's kind: every check that kind covers counts as set aside).
    public var waived: [String]?

    public init(
        waiver: Waiver, reason: String? = nil, uid: UInt32? = nil, user: String? = nil, waived: [String]? = nil
    ) {
        self.waiver = waiver
        self.reason = reason
        self.uid = uid
        self.user = user
        self.waived = waived
    }

    /// Whether staff set `reason` aside with this override, so it is no conflict with the rules: a forced booking
    /// outside hours does not conflict with the hours it was forced past, but does with a removed staff member.
    public func setsAside(_ reason: Reason) -> Bool {
        guard waiver.waives(reason.kind) else { return false }
        return waived?.contains(reason.code) ?? true
    }

    /// This override with `waived` set to the codes of those of `reasons` (a booking's rule reasons without a
    /// waiver, `AvailabilityEngine.ruleReasons`) that its waiver sets aside.
    public func recording(_ reasons: [Reason]) -> BookingOverride {
        var recorded = self
        recorded.waived = Set(reasons.filter { waiver.waives($0.kind) }.map(\.code)).sorted()
        return recorded
    }

    /// Who, for people: `lena (uid 1000)`, `uid 1000`, or `unknown`.
    public var who: String {
        switch (user, uid) {
        case (let user?, let uid?): return "\(user) (uid \(uid))"
        case (nil, let uid?): return "uid \(uid)"
        case (let user?, nil): return user
        case (nil, nil): return "unknown"
        }
    }

    enum CodingKeys: String, CodingKey {
        case waiver = "kind"
        case reason, uid, user, waived
    }
}
