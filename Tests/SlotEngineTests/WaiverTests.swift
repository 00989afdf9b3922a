import Foundation
import SlotCore
import SlotEngine
import SlotRules
import Testing

/// Walk-ins and forced bookings: `decide` with a waiver sets aside exactly the refusals it covers.
@Suite struct WaiverTests {
    static let rules = ExplainTests.rules
    static let bookings = ExplainTests.bookings

    struct Row: Sendable, CustomStringConvertible {
        var description: String
        var service = "cut"
        var staff: StaffChoice
        var at: String
        /// What the clock says (default: the Monday morning of `ExplainTests`).
        var now: String = "2026-03-09T08:00"
        var walkIn: Set<String>
        var forced: Set<String>
    }

    // Ana: Mo-Fr 10:00-18:00, break 15:00-15:30, time off on the 10th; the shop: Mo-Sa 09:00-18:00, a 12:00-13:00
    // break on weekdays, a holiday on the 11th, closed for inventory on the 13th; minimum notice 60 minutes.
    static let rows: [Row] = [
        Row(
            description: "within the notice, off the grid", staff: .member("ben"), at: "2026-03-09T10:07",
            now: "2026-03-09T10:05", walkIn: [], forced: []),
        Row(
            description: "now", staff: .member("ben"), at: "2026-03-09T10:05", now: "2026-03-09T10:05", walkIn: [],
            forced: []),
        Row(
            description: "in the past", staff: .member("ben"), at: "2026-03-09T10:00", now: "2026-03-09T10:05",
            walkIn: ["too_soon"], forced: ["too_soon"]),
        Row(
            description: "overlapping a booking", staff: .member("ana"), at: "2026-03-09T10:15",
            walkIn: ["overlaps_booking"], forced: ["overlaps_booking"]),
        Row(
            description: "inside a booking's buffer", staff: .member("ana"), at: "2026-03-09T10:35",
            walkIn: ["inside_buffer_of_booking"], forced: ["inside_buffer_of_booking"]),
        Row(
            description: "outside the staff member's hours", staff: .member("ana"), at: "2026-03-09T09:05",
            walkIn: ["outside_staff_hours"], forced: []),
        Row(
            description: "after closing", staff: .member("ben"), at: "2026-03-09T18:10",
            walkIn: ["shop_closed"], forced: []),
        Row(
            description: "in a break", staff: .member("ana"), at: "2026-03-09T15:05", walkIn: ["staff_break"],
            forced: []),
        Row(
            description: "on a holiday", staff: .member("ben"), at: "2026-03-11T10:00", walkIn: ["holiday"],
            forced: []),
        Row(
            description: "on a day closed by an override", staff: .member("ben"), at: "2026-03-13T10:00",
            walkIn: ["closed_by_override"], forced: []),
        Row(
            description: "on time off", staff: .member("ana"), at: "2026-03-10T10:00", walkIn: ["time_off"],
            forced: []),
        Row(
            description: "a resource in use", service: "wash", staff: .member("ana"), at: "2026-03-09T16:15",
            walkIn: ["resource_busy"], forced: ["resource_busy"]),
        Row(
            description: "a daily limit", staff: .member("ben"), at: "2026-03-16T14:00",
            walkIn: ["daily_limit_reached"], forced: ["daily_limit_reached"]),
        Row(
            description: "beyond the horizon", staff: .member("ben"), at: "2026-04-09T10:00",
            walkIn: ["beyond_horizon"], forced: ["beyond_horizon"]),
    ]

    @Test(arguments: rows) func walkInsAndForcedBookingsSetAsideOnlyWhatTheyCover(row: Row) {
        let engine = AvailabilityEngine(rules: Self.rules)
        let offering = Fixture.offering(Self.rules, row.service)
        let start = Fixture.at(row.at)
        let now = Fixture.at(row.now)
        for (waiver, expected) in [(Waiver.walkIn, row.walkIn), (.forced, row.forced)] {
            let decision = engine.decide(
                offering: offering, staff: row.staff, start: start, now: now, bookings: Self.bookings,
                waiving: waiver)
            #expect(Set(decision.reasons.map(\.code)) == expected, "\(waiver)")
            #expect(decision.isBookable == expected.isEmpty, "\(waiver)")
        }
    }

    @Test func withoutAWaiverTheRulesHold() {
        let engine = AvailabilityEngine(rules: Self.rules)
        let decision = engine.decide(
            offering: Fixture.offering(Self.rules, "cut"), staff: .member("ana"), start: Fixture.at("2026-03-09T10:07"),
            now: Fixture.at("2026-03-09T10:05"), bookings: Self.bookings)
        #expect(Set(decision.reasons.map(\.code)) == ["not_on_grid", "too_soon", "overlaps_booking"])
    }

    /// A walk-in may start at the current minute (typed in during it), not before.
    @Test func aWalkInInThePastSaysFromWhen() {
        let engine = AvailabilityEngine(rules: Self.rules)
        let now = Fixture.at("2026-03-09T10:05") + 30
        func decide(_ at: String) -> Decision {
            engine.decide(
                offering: Fixture.offering(Self.rules, "cut"), staff: .member("ben"), start: Fixture.at(at), now: now,
                bookings: [], waiving: .walkIn)
        }
        #expect(decide("2026-03-09T10:05").isBookable)
        #expect(
            decide("2026-03-09T10:04").reasons.map(\.message)
                == ["in the past: a walk-in starts at 2026-03-09T10:05:00+01:00 or later"])
    }

    /// "Any" for a walk-in goes to someone free now, by the assign policy, skipping the one who is busy.
    @Test func aWalkInForAnyGoesToWhoeverIsFree() {
        let engine = AvailabilityEngine(rules: Self.rules)
        let start = Fixture.at("2026-03-09T10:10")
        let decision = engine.decide(
            offering: Fixture.offering(Self.rules, "cut"), staff: .any, start: start,
            now: Fixture.at("2026-03-09T10:10"), bookings: Self.bookings, waiving: .walkIn)
        #expect(decision.slot == Slot(start: start, end: start + 1800, staff: "ben"))
    }

    @Test func onlyTheForcedWaiverSetsHoursAside() {
        for kind: Reason.Kind in [.shopClosed, .outsideStaffHours, .shopBreak, .holiday(name: "X"), .timeOff(note: "")] {
            #expect(!Waiver.none.waives(kind))
            #expect(!Waiver.walkIn.waives(kind))
            #expect(Waiver.forced.waives(kind))
        }
        for kind: Reason.Kind in [.overlapsBooking(id: "B1"), .insideBufferOfBooking(id: "B1"), .noStaff] {
            #expect(!Waiver.forced.waives(kind))
        }
    }

    // MARK: - The override kept with the booking

    /// Why the rules of `rules` refuse an existing booking of a cut by `staff` at `at`, less what `override` set
    /// aside.
    static func ruleCodes(
        _ rules: RuleSet = rules, staff: String, at: String, override: BookingOverride? = nil
    ) -> [String] {
        AvailabilityEngine(rules: rules).ruleReasons(
            staff: staff, services: ["cut"], variant: nil, start: Fixture.at(at), now: Fixture.at("2026-03-09T08:00"),
            override: override
        ).map(\.code)
    }

    /// A forced booking records the checks it failed; they are no conflict afterwards, while the rest still are.
    @Test func aForcedBookingConflictsOnlyWithWhatStaffDidNotSetAside() {
        let engine = AvailabilityEngine(rules: Self.rules)
        let forced = BookingOverride(waiver: .forced, reason: "regular, stays late", uid: 1000, user: "lena")
        // Ana at 09:05 (before her hours) and Ben at 18:10 (after closing).
        let early = forced.recording(
            engine.ruleReasons(
                staff: "ana", services: ["cut"], variant: nil, start: Fixture.at("2026-03-09T09:05"),
                now: Fixture.at("2026-03-09T08:00")))
        #expect(early.waived == ["outside_staff_hours"])
        #expect(Self.ruleCodes(staff: "ana", at: "2026-03-09T09:05") == ["outside_staff_hours"])
        #expect(Self.ruleCodes(staff: "ana", at: "2026-03-09T09:05", override: early).isEmpty)
        let late = forced.recording(
            engine.ruleReasons(
                staff: "ben", services: ["cut"], variant: nil, start: Fixture.at("2026-03-09T18:10"),
                now: Fixture.at("2026-03-09T08:00")))
        #expect(late.waived == ["shop_closed"])
        #expect(Self.ruleCodes(staff: "ben", at: "2026-03-09T18:10", override: late).isEmpty)

        // Ben leaves the shop: the forced booking now conflicts, with the reason staff never set aside.
        var withoutBen = Self.rules
        withoutBen.staff.removeAll { $0.id == "ben" }
        #expect(Self.ruleCodes(withoutBen, staff: "ben", at: "2026-03-09T18:10", override: late) == ["unknown_staff"])
        // Ana's forced 09:05 did not set her break aside: were it in one, that would be a conflict.
        #expect(Self.ruleCodes(staff: "ana", at: "2026-03-09T15:05", override: early) == ["staff_break"])
        // A walk-in sets no hours aside at all: refused hours are a conflict.
        let walkIn = BookingOverride(waiver: .walkIn).recording([])
        #expect(walkIn.waived == [])
        #expect(Self.ruleCodes(staff: "ben", at: "2026-03-09T18:10", override: walkIn) == ["shop_closed"])
    }

    /// A booking forced before slotd kept the checks (its event has only the kind) counts every check its kind
    /// covers as set aside.
    @Test func anOverrideWithoutItsChecksSetsAsideWhatItsKindCovers() {
        let legacy = BookingOverride(waiver: .forced, reason: "old", waived: nil)
        #expect(Self.ruleCodes(staff: "ana", at: "2026-03-09T15:05", override: legacy).isEmpty)
        #expect(Self.ruleCodes(staff: "ana", at: "2026-03-10T10:00", override: legacy).isEmpty)
        #expect(Self.ruleCodes(staff: "zoe", at: "2026-03-09T15:05", override: legacy) == ["unknown_staff"])
        let legacyWalkIn = BookingOverride(waiver: .walkIn)
        #expect(Self.ruleCodes(staff: "ana", at: "2026-03-09T15:05", override: legacyWalkIn) == ["staff_break"])
    }

    /// The override travels in the booking's JSON (store column and event) with the checks it set aside.
    @Test func theOverrideKeepsItsChecksInJSON() throws {
        let override = BookingOverride(
            waiver: .forced, reason: "late", uid: 1000, user: "lena", waived: ["shop_closed", "staff_break"])
        let data = try StableJSON.encoder.encode(override)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""kind":"forced""#) && text.contains(#""waived":["shop_closed","staff_break"]"#))
        #expect(try StableJSON.decoder.decode(BookingOverride.self, from: data) == override)
        let old = #"{"kind":"walk_in","uid":0}"#
        #expect(try StableJSON.decoder.decode(BookingOverride.self, from: Data(old.utf8)).waived == nil)
    }

    @Test func theOverrideSaysWho() {
        #expect(BookingOverride(waiver: .forced, reason: "regular", uid: 1000, user: "lena").who == "lena (uid 1000)")
        #expect(BookingOverride(waiver: .walkIn, uid: 1000).who == "uid 1000")
    }
}
