import Foundation
import SlotAPI
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

/// An active future booking that the rules in force would not allow any more, and why.
public struct RuleConflict: Sendable {
    public var booking: StoredBooking
    /// Stable code and human text, from the engine's decision.
    public var reasons: [ExplainReason]
    public var rulesVersion: String

    /// The data of its `booking.conflicts_rules` event (times in epoch seconds, like every booking event).
    var eventData: Data {
        StoreJSON.encode(
            BookingConflictsRulesEventData(
                booking: booking.id, status: booking.status.rawValue, staff: booking.staffID,
                services: booking.services, start: booking.start, end: booking.end, rulesVersion: rulesVersion,
                reasons: reasons))
    }
}

/// Checks bookings against the rules in force.
///
/// Computed on demand against the current rules rather than stored, so the list is always true: a booking leaves it
/// when the rules change back or the booking is moved or cancelled.
public enum RuleConflicts {
    /// Every held or confirmed booking starting at or after `now` that `rules` no longer allow.
    public static func find(in store: any BookingStore, rules: LoadedRules, now: Int64) async throws
        -> [RuleConflict]
    {
        let active = try await store.bookings(
            matching: BookingQuery(from: now, statuses: [.held, .confirmed], limit: 100_000))
        return active.compactMap { booking in
            let reasons = check(booking, rules: rules, now: now)
            return reasons.isEmpty ? nil : RuleConflict(booking: booking, reasons: reasons, rulesVersion: rules.version)
        }
    }

    /// Why `rules` would not allow `booking` (empty when they would): the engine's decision for the booking itself,
    /// with no other bookings around it, less the checks staff set aside when they made it (its override).
    static func check(_ booking: StoredBooking, rules: LoadedRules, now: Int64) -> [ExplainReason] {
        rules.engine.ruleReasons(
            staff: booking.staffID, services: booking.services, variant: booking.variant, start: booking.start,
            now: now, schedule: rules.schedule(around: booking.start).schedule,
            override: booking.override
        ).map(ExplainReason.init)
    }
}
