import SlotCore
import SlotEngine
import SlotRules
import Testing

/// Slot search: the grid, notice and horizon, buffers, processing time, resources, variants, combinations,
/// daily limits and "any".
@Suite struct SlotSearchTests {
    static let monday = "2026-03-09"

    // MARK: - Grid

    struct GridRow: Sendable, CustomStringConvertible {
        var step: Int
        var hours: String
        /// First and last start on Monday, and how many.
        var first: String
        var last: String
        var count: Int
        var description: String { "step \(step) in \(hours)" }
    }

    @Test(arguments: [
        GridRow(step: 15, hours: "Mo 09:00-10:00", first: "09:00", last: "09:30", count: 3),
        GridRow(step: 20, hours: "Mo 09:10-10:30", first: "09:20", last: "10:00", count: 3),
        // 1440 is not a multiple of 25: the grid restarts at midnight, so 23:45 is followed by 00:00.
        GridRow(step: 25, hours: "Mo-Tu 00:00-24:00", first: "00:00", last: "23:45", count: 58),
        GridRow(step: 60, hours: "Mo 09:30-12:00", first: "10:00", last: "11:00", count: 2),
    ])
    func startsLieOnTheGridFromLocalMidnight(row: GridRow) {
        let engine = AvailabilityEngine(rules: Fixture.rules(hours: row.hours, step: row.step))
        let starts = Fixture.walls(engine.starts("cut", on: Self.monday)).map { String($0.suffix(5)) }
        #expect(starts.first == row.first)
        #expect(starts.last == row.last)
        #expect(starts.count == row.count)
        #expect(starts.allSatisfy { (Int($0.prefix(2))! * 60 + Int($0.suffix(2))!) % row.step == 0 })
    }

    @Test func gridRestartsEveryMidnight() {
        let engine = AvailabilityEngine(rules: Fixture.rules(hours: "24/7", step: 25))
        let tuesday = Fixture.walls(engine.starts("cut", on: "2026-03-10"))
        #expect(tuesday.first == "2026-03-10T00:00")
        #expect(tuesday.contains("2026-03-10T00:25"))
        #expect(engine.isOnGrid(Fixture.at("2026-03-10T23:45")))
        #expect(!engine.isOnGrid(Fixture.at("2026-03-10T23:50")))
        #expect(!engine.isOnGrid(Fixture.at("2026-03-10T00:25") + 30))
    }

    // MARK: - Notice and horizon

    struct WindowRow: Sendable, CustomStringConvertible {
        var now: String
        var secondsAfter: Int64 = 0
        var notice: Int
        var horizonDays: Int
        var first: String
        var last: String
        var description: String { "now \(now), notice \(notice)m, horizon \(horizonDays)d" }
    }

    @Test(arguments: [
        // now + notice is offered (inclusive); a second later it is not.
        WindowRow(
            now: "2026-03-09T09:00", notice: 60, horizonDays: 30, first: "2026-03-09T10:00",
            last: "2026-03-10T16:30"),
        WindowRow(
            now: "2026-03-09T09:01", notice: 60, horizonDays: 30, first: "2026-03-09T10:15",
            last: "2026-03-10T16:30"),
        // now + horizon is offered (inclusive).
        WindowRow(
            now: "2026-03-09T09:00", notice: 0, horizonDays: 1, first: "2026-03-09T09:00",
            last: "2026-03-10T09:00"),
        // One second earlier, Tuesday 09:00 lies beyond the horizon.
        WindowRow(
            now: "2026-03-09T09:00", secondsAfter: -1, notice: 0, horizonDays: 1, first: "2026-03-09T09:00",
            last: "2026-03-09T16:30"),
    ])
    func noticeAndHorizonBoundsAreInclusive(row: WindowRow) {
        let engine = AvailabilityEngine(
            rules: Fixture.rules(hours: "Mo-Fr 09:00-17:00", notice: row.notice, horizonDays: row.horizonDays))
        let slots = engine.starts(
            "cut", on: Self.monday, through: "2026-03-10", now: Fixture.at(row.now) + row.secondsAfter)
        #expect(Fixture.walls(slots).first == row.first)
        #expect(Fixture.walls(slots).last == row.last)
    }

    @Test func noticeCountsSecondsNotMinutes() {
        let engine = AvailabilityEngine(rules: Fixture.rules(notice: 60))
        let now = Fixture.at("2026-03-09T09:00") + 1
        #expect(Fixture.walls(engine.starts("cut", on: Self.monday, now: now)).first == "2026-03-09T10:15")
    }

    // MARK: - Buffers

    @Test func ownBuffersMustFitInFreeTime() {
        let rules = Fixture.rules(
            hours: "Mo 09:00-12:00", services: [Fixture.service("cut", [Fixture.active(30)], before: 10, after: 15)])
        let starts = Fixture.walls(AvailabilityEngine(rules: rules).starts("cut", on: Self.monday))
        // 09:00 would need 08:50; 11:30 would end its buffer at 12:15.
        #expect(starts.first == "2026-03-09T09:15")
        #expect(starts.last == "2026-03-09T11:15")
    }

    struct BufferRow: Sendable, CustomStringConvertible {
        var start: String
        var offered: Bool
        var description: String { start }
    }

    @Test(arguments: [
        BufferRow(start: "09:15", offered: true),  // ends 09:45, before the other's buffer at 09:50
        BufferRow(start: "09:30", offered: false),  // ends in the other's buffer before
        BufferRow(start: "10:15", offered: false),  // overlaps the booking
        BufferRow(start: "10:30", offered: false),  // inside the other's buffer after (10:30-10:45)
        BufferRow(start: "10:45", offered: true),
    ])
    func otherBookingsBlockTheirBuffers(row: BufferRow) {
        let buffered = Fixture.service("color", [Fixture.active(30)], before: 10, after: 15)
        let rules = Fixture.rules(
            hours: "Mo 09:00-12:00", services: [Fixture.cut, buffered],
            staff: [Fixture.member("ana", services: ["cut", "color"])])
        let booking = Fixture.booking("B1", "ana", "2026-03-09T10:00", Fixture.offering(rules, "color"))
        let starts = Fixture.walls(AvailabilityEngine(rules: rules).starts("cut", on: Self.monday, bookings: [booking]))
        #expect(starts.contains("2026-03-09T" + row.start) == row.offered)
    }

    // MARK: - Processing time

    struct ProcessingRow: Sendable, CustomStringConvertible {
        var service: String
        var start: String
        var offered: Bool
        var description: String { "\(service) at \(start)" }
    }

    /// An existing colour at 10:00 works 10:00-10:20 and 10:50-11:05; the barber is free 10:20-10:50.
    @Test(arguments: [
        ProcessingRow(service: "cut", start: "10:20", offered: true),  // fits the processing time exactly
        ProcessingRow(service: "cut", start: "10:15", offered: false),  // overlaps the first active segment
        ProcessingRow(service: "cut", start: "10:30", offered: false),  // overlaps the second active segment
        ProcessingRow(service: "cut", start: "11:05", offered: true),
        ProcessingRow(service: "color", start: "10:20", offered: true),  // interleaves: 10:20-10:40, 11:10-11:25
        ProcessingRow(service: "color", start: "10:40", offered: false),  // 10:40-11:00 hits 10:50-11:05
        ProcessingRow(service: "color", start: "09:40", offered: true),  // works 09:40-10:00 and 10:30-10:45
        ProcessingRow(service: "color", start: "09:45", offered: false),  // 10:35-10:50 is free, 09:45-10:05 not
    ])
    func processingTimeLeavesTheStaffMemberFree(row: ProcessingRow) {
        let color = Fixture.service("color", [Fixture.active(20), Fixture.processing(30), Fixture.active(15)])
        let rules = Fixture.rules(
            hours: "Mo 09:00-13:00", step: 5, services: [Fixture.cut, color],
            staff: [Fixture.member("ana", services: ["cut", "color"])])
        let booking = Fixture.booking("C1", "ana", "2026-03-09T10:00", Fixture.offering(rules, "color"))
        let starts = Fixture.walls(
            AvailabilityEngine(rules: rules).starts(row.service, on: Self.monday, bookings: [booking]))
        #expect(starts.contains("2026-03-09T" + row.start) == row.offered)
    }

    // MARK: - Resources

    struct ResourceRow: Sendable, CustomStringConvertible {
        var basins: Int
        var start: String
        var offered: Bool
        var description: String { "\(basins) basin(s), \(start)" }
    }

    /// Ana washes at 10:00-10:30 and 10:30-11:00 (one basin each); Ben wants an hour at the basin.
    @Test(arguments: [
        ResourceRow(basins: 1, start: "10:00", offered: false),
        ResourceRow(basins: 1, start: "09:15", offered: false),
        ResourceRow(basins: 1, start: "09:00", offered: true),
        ResourceRow(basins: 1, start: "11:00", offered: true),
        // Two basins: at most one is in use at any moment, so an hour over both washes still finds one.
        ResourceRow(basins: 2, start: "10:00", offered: true),
        ResourceRow(basins: 2, start: "10:15", offered: true),
    ])
    func resourcesLimitConcurrentServices(row: ResourceRow) {
        let wash = Fixture.service("wash", [Fixture.active(30)], resources: [ResourceNeed(resource: "basin")])
        let long = Fixture.service("longwash", [Fixture.active(60)], resources: [ResourceNeed(resource: "basin")])
        let rules = Fixture.rules(
            hours: "Mo 09:00-13:00", services: [wash, long],
            resources: [Resource(id: "basin", name: "Wash basin", count: row.basins)],
            staff: [Fixture.member("ana", services: ["wash"]), Fixture.member("ben", services: ["longwash"])])
        let bookings = [
            Fixture.booking("W1", "ana", "2026-03-09T10:00", Fixture.offering(rules, "wash")),
            Fixture.booking("W2", "ana", "2026-03-09T10:30", Fixture.offering(rules, "wash")),
        ]
        let starts = AvailabilityEngine(rules: rules).starts(
            "longwash", staff: .member("ben"), on: Self.monday, bookings: bookings)
        #expect(Fixture.walls(starts).contains("2026-03-09T" + row.start) == row.offered)
    }

    @Test func aServiceNeedingMoreUnitsThanExistIsNeverOffered() {
        let pair = Fixture.service("pair", [Fixture.active(30)], resources: [ResourceNeed(resource: "chair", count: 2)])
        let rules = Fixture.rules(
            services: [pair], resources: [Resource(id: "chair", name: "Chair", count: 1)],
            staff: [Fixture.member("ana", services: ["pair"])])
        #expect(AvailabilityEngine(rules: rules).starts("pair", on: Self.monday).isEmpty)
    }

    // MARK: - Variants and combinations

    @Test(arguments: [("short", "09:30", 3), ("long", "09:15", 2)])
    func variantsHaveTheirOwnDuration(variant: String, last: String, count: Int) throws {
        let cut = Fixture.service(
            "cut", [Fixture.active(30)],
            variants: [
                ServiceVariant(id: "short", name: "Short", segments: [Fixture.active(20)], price: Fixture.money(1800)),
                ServiceVariant(id: "long", name: "Long", segments: [Fixture.active(45)], price: Fixture.money(3000)),
            ])
        let rules = Fixture.rules(hours: "Mo 09:00-10:00", services: [cut])
        let engine = AvailabilityEngine(rules: rules)
        let offering = try engine.offering(service: "cut", variant: variant).get()
        let slots = engine.slots(
            for: offering, staff: .any, from: Fixture.date(Self.monday), through: Fixture.date(Self.monday),
            now: Fixture.longAgo, bookings: [])
        #expect(Fixture.walls(slots).last == "2026-03-09T" + last)
        #expect(slots.count == count)
        #expect(slots.allSatisfy { $0.end - $0.start == Int64(offering.durationMinutes) * 60 })
    }

    @Test func unknownIdsGetADidYouMean() {
        let engine = AvailabilityEngine(rules: Fixture.rules())
        guard case .failure(let reason) = engine.offering(service: "cutt") else {
            Issue.record("an unknown service must fail")
            return
        }
        #expect(reason.kind == .unknownService(id: "cutt", suggestion: "cut"))
        #expect(reason.message.contains("did you mean 'cut'"))
    }

    @Test func backToBackServicesBookAsOne() throws {
        let cut = Fixture.service("cut", [Fixture.active(30)], before: 5)
        let beard = Fixture.service("beard", [Fixture.active(15)], after: 10)
        let rules = Fixture.rules(
            hours: "Mo 09:00-10:30", services: [cut, beard],
            staff: [Fixture.member("ana", services: ["cut"]), Fixture.member("ben", services: ["cut", "beard"])])
        let engine = AvailabilityEngine(rules: rules)
        let combined = try #require(
            ServiceOffering.backToBack([Fixture.offering(rules, "cut"), Fixture.offering(rules, "beard")]))
        let slots = engine.slots(
            for: combined, staff: .any, from: Fixture.date(Self.monday), through: Fixture.date(Self.monday),
            now: Fixture.longAgo, bookings: [])
        // 5 minutes before, 45 of service, 10 after, in 09:00-10:30: starts 09:05…09:35 on the grid.
        #expect(Fixture.walls(slots) == ["2026-03-09T09:15", "2026-03-09T09:30"])
        #expect(slots.allSatisfy { $0.staff == "ben" && $0.end - $0.start == 45 * 60 })
        let forAna = engine.decide(
            offering: combined, staff: .member("ana"), start: Fixture.at("2026-03-09T09:15"), now: Fixture.longAgo,
            bookings: [])
        #expect(forAna.reasons.map(\.kind) == [.staffDoesNotPerform(services: ["beard"])])
    }

    // MARK: - Daily limits

    struct LimitRow: Sendable, CustomStringConvertible {
        var description: String
        var maxBookings: Int?
        var maxMinutes: Int?
        var service: String
        var mondayOffered: Bool
    }

    /// Ana has a 45-minute booking at 09:00 and a 30-minute one at 11:00 on Monday, and a late one on Sunday.
    @Test(arguments: [
        LimitRow(description: "no limits", service: "cut", mondayOffered: true),
        LimitRow(description: "two bookings reached", maxBookings: 2, service: "cut", mondayOffered: false),
        LimitRow(description: "three allowed", maxBookings: 3, service: "cut", mondayOffered: true),
        LimitRow(description: "minutes exceeded", maxMinutes: 100, service: "cut", mondayOffered: false),
        LimitRow(description: "minutes exactly reached", maxMinutes: 90, service: "trim", mondayOffered: true),
        LimitRow(description: "minutes over by one service", maxMinutes: 89, service: "trim", mondayOffered: false),
    ])
    func dailyLimitsCountBookingsStartingThatDay(row: LimitRow) {
        let long = Fixture.service("long", [Fixture.active(45)])
        let trim = Fixture.service("trim", [Fixture.active(15)])
        let rules = Fixture.rules(
            hours: "Mo-Su 09:00-24:00", services: [Fixture.cut, long, trim],
            staff: [
                Fixture.member(
                    "ana", services: ["cut", "long", "trim"], maxBookings: row.maxBookings, maxMinutes: row.maxMinutes)
            ])
        let bookings = [
            Fixture.booking("L1", "ana", "2026-03-09T09:00", Fixture.offering(rules, "long")),
            Fixture.booking("L2", "ana", "2026-03-09T11:00", Fixture.offering(rules, "cut")),
            Fixture.booking("L0", "ana", "2026-03-08T23:30", Fixture.offering(rules, "long")),
        ]
        let engine = AvailabilityEngine(rules: rules)
        let monday = engine.starts(row.service, on: Self.monday, bookings: bookings)
        #expect(!monday.isEmpty == row.mondayOffered)
        // Tuesday is unaffected by Monday's bookings.
        #expect(!engine.starts(row.service, on: "2026-03-10", bookings: bookings).isEmpty)
    }

    // MARK: - "any"

    @Test func anyTakesTheFirstFreeStaffMemberInDeclaredOrderUnderInOrder() {
        var rules = Fixture.rules(
            hours: "Mo 09:00-11:00",
            services: [Fixture.cut, Fixture.service("color", [Fixture.active(60)])],
            staff: [
                Fixture.member("zoe", services: ["color"]),
                Fixture.member("ben"),
                Fixture.member("ana"),
            ])
        rules.policies.assign = .inOrder
        let bookings = [Fixture.booking("B1", "ben", "2026-03-09T10:00", Fixture.offering(rules, "cut"))]
        let slots = AvailabilityEngine(rules: rules).starts("cut", on: Self.monday, bookings: bookings)
        let staffAt = Dictionary(uniqueKeysWithValues: slots.map { (Fixture.walls([$0])[0].suffix(5), $0.staff) })
        #expect(slots.count == 7)  // 09:00 … 10:30, each once
        #expect(staffAt["09:00"] == "ben")
        #expect(staffAt["09:30"] == "ben")  // ends as his 10:00 booking starts
        #expect(staffAt["09:45"] == "ana")  // ben's 09:45 would run into his 10:00 booking
        #expect(staffAt["10:00"] == "ana")
        #expect(staffAt["10:30"] == "ben")
        #expect(!slots.contains { $0.staff == "zoe" })  // she does not cut
    }

    @Test func aMoveWithAnyKeepsTheCurrentStaffMemberWhenFreeElseTakesWhomANewBookingWould() {
        let rules = Fixture.rules(
            hours: "Mo 09:00-12:00", staff: [Fixture.member("ben"), Fixture.member("ana"), Fixture.member("cy")])
        let engine = AvailabilityEngine(rules: rules)
        let cut = Fixture.offering(rules, "cut")
        let moving = Fixture.booking("M", "ana", "2026-03-09T09:00", cut)
        func move(_ choice: StaffChoice, to wall: String, _ others: [BookedSpan]) -> Decision {
            engine.decideMove(
                "M", from: "ana", offering: cut, staff: choice, start: Fixture.at(wall), now: Fixture.longAgo,
                bookings: [moving] + others)
        }
        // Ben comes first in declared order, but ana is free at 10:00: she keeps the booking.
        #expect(move(.any, to: "2026-03-09T10:00", []).slot?.staff == "ana")
        // Overlapping its own old time does not count against the move.
        #expect(move(.any, to: "2026-03-09T09:15", []).slot?.staff == "ana")
        // Ana is taken at 10:00: the first free one in declared order (ben is too, so cy).
        let busy = [
            Fixture.booking("A", "ana", "2026-03-09T10:00", cut), Fixture.booking("B", "ben", "2026-03-09T10:00", cut),
        ]
        #expect(move(.any, to: "2026-03-09T10:00", busy).slot?.staff == "cy")
        // A named staff member is that one or nothing.
        #expect(move(.member("ben"), to: "2026-03-09T10:30", busy).slot?.staff == "ben")
        #expect(!move(.member("ben"), to: "2026-03-09T10:00", busy).isBookable)
        let everyone = busy + [Fixture.booking("C", "cy", "2026-03-09T10:00", cut)]
        #expect(move(.any, to: "2026-03-09T10:00", everyone).reasons.map(\.code).contains("overlaps_booking"))
    }

    @Test func unknownStaffHasNoSlots() {
        let engine = AvailabilityEngine(rules: Fixture.rules())
        #expect(engine.starts("cut", staff: .member("nobody"), on: Self.monday).isEmpty)
        #expect(!engine.starts("cut", staff: .member("ana"), on: Self.monday).isEmpty)
    }

    @Test func aPrecompiledScheduleGivesTheSameSlots() {
        let rules = Fixture.rules(breaks: ["Mo-Fr 12:00-13:00"], staff: [Fixture.member("ana"), Fixture.member("ben")])
        let engine = AvailabilityEngine(rules: rules)
        let bookings = [Fixture.booking("B1", "ana", "2026-03-10T10:00", Fixture.offering(rules, "cut"))]
        let from = Fixture.date("2026-03-01")
        let through = Fixture.date("2026-03-31")
        let schedule = engine.schedule(from: from.adding(days: -3), through: through.adding(days: 3))
        let cold = engine.slots(
            for: Fixture.offering(rules, "cut"), staff: .any, from: from, through: through, now: Fixture.longAgo,
            bookings: bookings)
        let warm = engine.slots(
            for: Fixture.offering(rules, "cut"), staff: .any, from: from, through: through, now: Fixture.longAgo,
            bookings: bookings, schedule: schedule)
        #expect(cold == warm)
        #expect(cold.count == 22 * 26)
    }
}
