import SlotCore
import SlotEngine
import SlotRules
import Testing

/// DST tables: a wall time that does not exist is never offered, a repeated one once (first occurrence), and
/// hours spanning a change are shorter or longer in real time.
@Suite struct DSTTests {
    struct Row: Sendable, CustomStringConvertible {
        var zone: ShopTimeZone
        var hours: String
        var date: String
        var step: Int
        var starts: [String]
        /// Real length of the day's free time.
        var freeHours: Double
        var description: String { "\(zone) \(date) \(hours)" }
    }

    static let rows: [Row] = [
        // Berlin springs forward 2026-03-29 02:00 → 03:00: 02:00 and 02:30 do not exist.
        Row(
            zone: Fixture.berlin, hours: "Su 01:00-04:00", date: "2026-03-29", step: 30,
            starts: [
                "2026-03-29T01:00:00+01:00", "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00",
                "2026-03-29T03:30:00+02:00",
            ], freeHours: 2),
        // Berlin falls back 2026-10-25 03:00 → 02:00: 02:00 and 02:30 are offered once, in summer time.
        Row(
            zone: Fixture.berlin, hours: "Su 01:00-04:00", date: "2026-10-25", step: 30,
            starts: [
                "2026-10-25T01:00:00+02:00", "2026-10-25T01:30:00+02:00", "2026-10-25T02:00:00+02:00",
                "2026-10-25T02:30:00+02:00", "2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00",
            ],
            freeHours: 4),
        Row(
            zone: Fixture.berlin, hours: "Su 00:00-06:00", date: "2026-10-25", step: 60,
            starts: [
                "2026-10-25T00:00:00+02:00", "2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00",
                "2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00", "2026-10-25T05:00:00+01:00",
            ],
            freeHours: 7),
        // New York springs forward 2026-03-08 02:00 → 03:00.
        Row(
            zone: Fixture.newYork, hours: "Su 00:00-06:00", date: "2026-03-08", step: 60,
            starts: [
                "2026-03-08T00:00:00-05:00", "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
                "2026-03-08T04:00:00-04:00", "2026-03-08T05:00:00-04:00",
            ], freeHours: 5),
        // New York falls back 2026-11-01 02:00 → 01:00: 01:30 is offered once, at 01:30 EDT.
        Row(
            zone: Fixture.newYork, hours: "Su 00:00-04:00", date: "2026-11-01", step: 30,
            starts: [
                "2026-11-01T00:00:00-04:00", "2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00",
                "2026-11-01T03:00:00-05:00", "2026-11-01T03:30:00-05:00",
            ], freeHours: 5),
        Row(
            zone: Fixture.newYork, hours: "Su 00:00-06:00", date: "2026-11-01", step: 120,
            starts: ["2026-11-01T00:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T04:00:00-05:00"],
            freeHours: 7),
    ]

    @Test(arguments: rows) func offersEachExistingWallTimeOnce(row: Row) {
        let rules = Fixture.rules(zone: row.zone, hours: row.hours, step: row.step)
        let engine = AvailabilityEngine(rules: rules)
        let date = Fixture.date(row.date)
        let slots = engine.slots(
            for: Fixture.offering(rules, "cut"), staff: .any, from: date, through: date, now: Fixture.longAgo,
            bookings: [])
        #expect(slots.map { row.zone.iso8601(instant: $0.start) } == row.starts)
        let free = engine.schedule(from: date, through: date).freeTime(staff: "ana")
        #expect(free.map { Double($0.measure) / 3600 } == row.freeHours)
        // The grid has no gap times and no second occurrences either.
        let grid = engine.gridStarts(from: date, through: date)
        #expect(Set(grid).count == grid.count)
        #expect(grid.allSatisfy { engine.isOnGrid($0) })
    }

    @Test(arguments: [
        (Fixture.berlin, "2026-03-29T02:30"), (Fixture.berlin, "2026-03-29T02:00"),
        (Fixture.newYork, "2026-03-08T02:30"),
    ])
    func aWallTimeInTheGapIsNeverBookable(zone: ShopTimeZone, wall: String) {
        let rules = Fixture.rules(zone: zone, hours: "24/7", step: 30)
        let decision = AvailabilityEngine(rules: rules).decide(
            offering: Fixture.offering(rules, "cut"), staff: .member("ana"), wallTime: LocalDateTime(iso: wall)!,
            now: Fixture.longAgo, bookings: [])
        #expect(decision.reasons.map(\.code) == ["wall_time_does_not_exist"])
        #expect(decision.reasons.first?.message.contains("does not exist in \(zone.identifier)") == true)
    }

    @Test func theSecondOccurrenceIsNotOnTheGrid() {
        let rules = Fixture.rules(zone: Fixture.newYork, hours: "24/7", step: 30)
        let engine = AvailabilityEngine(rules: rules)
        let second = Fixture.newYork.parseInstant("2026-11-01T01:30:00-05:00")!
        let decision = engine.decide(
            offering: Fixture.offering(rules, "cut"), staff: .member("ana"), start: second, now: Fixture.longAgo,
            bookings: [])
        #expect(
            decision.reasons.map(\.kind) == [
                .notOnGrid(
                    stepMinutes: 30, previous: Fixture.newYork.parseInstant("2026-11-01T01:30:00-04:00"),
                    next: Fixture.newYork.parseInstant("2026-11-01T02:00:00-05:00"))
            ])
        let first = Fixture.newYork.parseInstant("2026-11-01T01:30:00-04:00")!
        #expect(
            engine.decide(
                offering: Fixture.offering(rules, "cut"), staff: .member("ana"), start: first, now: Fixture.longAgo,
                bookings: []
            ).isBookable)
    }

    @Test func anEndMayCarryAnotherOffset() {
        let hour = Fixture.service("cut", [Fixture.active(60)])
        let rules = Fixture.rules(hours: "Su 00:00-06:00", step: 30, services: [hour])
        let slots = AvailabilityEngine(rules: rules).starts("cut", on: "2026-10-25", now: Fixture.longAgo)
        let start = Fixture.berlin.parseInstant("2026-10-25T02:30:00+02:00")!
        let slot = slots.first { $0.start == start }
        #expect(slot.map { Fixture.berlin.iso8601(instant: $0.end) } == "2026-10-25T02:30:00+01:00")
    }

    @Test func aBookingInTheRepeatedHourBlocksRealTime() {
        // An hour booked at 01:30 EST (the second 01:30): the first 01:30 stays free, 02:00 EST does not.
        let rules = Fixture.rules(zone: Fixture.newYork, hours: "24/7", step: 30)
        let booking = BookedSpan(
            id: "R1", staff: "ana", start: Fixture.newYork.parseInstant("2026-11-01T01:30:00-05:00")!,
            segments: [Fixture.active(60)])
        let slots = AvailabilityEngine(rules: rules).starts(
            "cut", on: "2026-11-01", now: Fixture.longAgo, bookings: [booking])
        let isos = slots.map { Fixture.newYork.iso8601(instant: $0.start) }
        #expect(isos.contains("2026-11-01T01:30:00-04:00"))
        #expect(!isos.contains("2026-11-01T02:00:00-05:00"))
        #expect(isos.contains("2026-11-01T02:30:00-05:00"))
    }
}
