import SlotCore
import SlotEngine
import SlotRules
import Testing

/// `RulePreview.compare`: the starts a rule change gains and loses, and the bookings it would refuse.
@Suite struct RulePreviewTests {
    /// Monday 2026-03-09, midnight: a week from here has five working days.
    static let monday = Fixture.at("2026-03-09T00:00")

    static func rules(hours: String = "Mo-Fr 09:00-17:00", anaBreaks: [String] = []) -> RuleSet {
        Fixture.rules(
            hours: hours, step: 30, notice: 0, horizonDays: 60,
            staff: [Fixture.member("ana", breaks: anaBreaks), Fixture.member("ben")])
    }

    static func booking(_ id: String, _ staff: String, _ wall: String, in rules: RuleSet) -> ActiveBooking {
        ActiveBooking(
            span: Fixture.booking(id, staff, wall, Fixture.offering(rules, "cut")), services: ["cut"], variant: nil,
            customer: "Customer \(id)")
    }

    static func compare(_ running: RuleSet, _ candidate: RuleSet, bookings: [ActiveBooking], days: Int = 7)
        -> RulePreview
    {
        RulePreview.compare(
            running: AvailabilityEngine(rules: running), candidate: AvailabilityEngine(rules: candidate),
            bookings: bookings, now: monday, days: days)
    }

    static func walls(_ starts: [RulePreview.Start]) -> [String] {
        starts.map { "\($0.staff) \($0.service) \(Fixture.berlin.localDateTime(atInstant: $0.start))" }
    }

    @Test func aBreakLosesItsStartsAndRefusesTheBookingInsideIt() {
        let running = Self.rules()
        let inside = Self.booking("B1", "ana", "2026-03-09T12:00", in: running)
        let before = Self.booking("B2", "ana", "2026-03-09T11:00", in: running)
        let preview = Self.compare(running, Self.rules(anaBreaks: ["Mo-Fr 12:00-13:00"]), bookings: [inside, before])

        #expect(preview.gained.isEmpty)
        // Monday 12:00 was already taken by B1, so only 12:30 is lost that day; 12:00 and 12:30 on the other four.
        var expected = ["ana cut 2026-03-09T12:30"]
        for day in 10...13 { expected += ["ana cut 2026-03-\(day)T12:00", "ana cut 2026-03-\(day)T12:30"] }
        #expect(Self.walls(preview.lost) == expected)
        #expect(preview.noLongerAllowed.map(\.booking.span.id) == ["B1"])
        #expect(preview.noLongerAllowed.first?.reasons.map(\.code) == ["staff_break"])
        #expect(preview.noLongerAllowed.first?.booking.customer == "Customer B1")
        #expect(preview.from == Fixture.date("2026-03-09"))
        #expect(preview.through == Fixture.date("2026-03-15"))
    }

    /// A booking forced outside hours is no conflict of the hours it was forced past, in the running rules or the
    /// candidate; removing its staff member makes it one.
    @Test func aForcedBookingIsRefusedOnlyForWhatStaffDidNotSetAside() {
        let running = Self.rules()
        var forced = Self.booking("F1", "ana", "2026-03-09T17:30", in: running)
        forced.override = BookingOverride(waiver: .forced, reason: "stays late", waived: ["shop_closed"])
        let shorter = Self.compare(running, Self.rules(hours: "Mo-Fr 09:00-16:00"), bookings: [forced])
        #expect(shorter.noLongerAllowed.isEmpty)
        let withoutAna = Fixture.rules(
            hours: "Mo-Fr 09:00-17:00", step: 30, notice: 0, horizonDays: 60, staff: [Fixture.member("ben")])
        let removed = Self.compare(running, withoutAna, bookings: [forced])
        #expect(removed.noLongerAllowed.map(\.booking.span.id) == ["F1"])
        #expect(removed.noLongerAllowed.first?.reasons.map(\.code) == ["unknown_staff"])
    }

    @Test func longerHoursGainStartsForEveryone() {
        let running = Self.rules()
        let preview = Self.compare(running, Self.rules(hours: "Mo-Fr 09:00-18:00"), bookings: [])
        #expect(preview.lost.isEmpty)
        #expect(preview.noLongerAllowed.isEmpty)
        var expected: [String] = []
        for day in 9...13 {
            for time in ["17:00", "17:30"] {
                for staff in ["ana", "ben"] {
                    expected.append("\(staff) cut 2026-03-\(String(format: "%02d", day))T\(time)")
                }
            }
        }
        #expect(Self.walls(preview.gained) == expected)
    }

    @Test func anUnchangedCandidateChangesNothing() {
        let running = Self.rules(anaBreaks: ["Mo-Fr 12:00-13:00"])
        let bookings = [
            Self.booking("B1", "ana", "2026-03-09T10:00", in: running),
            Self.booking("B2", "ben", "2026-03-10T12:00", in: running),
        ]
        let preview = Self.compare(running, Self.rules(anaBreaks: ["Mo-Fr 12:00-13:00"]), bookings: bookings)
        #expect(preview.gained.isEmpty)
        #expect(preview.lost.isEmpty)
        #expect(preview.noLongerAllowed.isEmpty)
    }

    @Test func aBookingTheRunningRulesAlreadyRefuseIsNotBlamedOnTheChange() {
        // B1 sits in ana's break under both rule sets; the candidate changes only the shop's hours.
        let running = Self.rules(anaBreaks: ["Mo-Fr 12:00-13:00"])
        let stuck = Self.booking("B1", "ana", "2026-03-09T12:00", in: running)
        let preview = Self.compare(
            running, Self.rules(hours: "Mo-Fr 09:00-18:00", anaBreaks: ["Mo-Fr 12:00-13:00"]), bookings: [stuck])
        #expect(preview.noLongerAllowed.isEmpty)
        #expect(!preview.gained.isEmpty)
    }

    @Test func aBookingBeyondTheComparedDaysIsStillChecked() {
        let running = Self.rules()
        let later = Self.booking("B9", "ben", "2026-04-20T12:00", in: running)
        let candidate = Fixture.rules(
            hours: "Mo-Fr 09:00-17:00", step: 30, notice: 0, horizonDays: 60,
            staff: [Fixture.member("ana"), Fixture.member("ben", services: [])])
        let preview = Self.compare(running, candidate, bookings: [later], days: 1)
        #expect(preview.noLongerAllowed.map(\.booking.span.id) == ["B9"])
        #expect(preview.noLongerAllowed.first?.reasons.map(\.code) == ["staff_does_not_perform"])
        // One day compared: ben's Monday starts are all lost, nothing else.
        #expect(preview.lost.count == 16)
        #expect(Set(preview.lost.map(\.staff)) == ["ben"])
    }

    @Test func aStaffMemberOrServiceOnlyOneSideNamesCounts() {
        let running = Self.rules()
        let candidate = Fixture.rules(
            hours: "Mo-Fr 09:00-17:00", step: 30, notice: 0, horizonDays: 60,
            staff: [Fixture.member("ana"), Fixture.member("ben"), Fixture.member("cleo")])
        let preview = Self.compare(running, candidate, bookings: [], days: 1)
        #expect(preview.gained.count == 16)
        #expect(Set(preview.gained.map(\.staff)) == ["cleo"])
        let back = Self.compare(candidate, running, bookings: [], days: 1)
        #expect(back.lost.map(\.start) == preview.gained.map(\.start))
    }
}
