import SlotCore
import Testing

/// DST tables: what each wall time means in zones with different transitions.
@Suite struct ShopTimeZoneTests {
    static func wall(_ text: String) -> Int64 { LocalDateTime(iso: text)!.wallMinute }
    static func utc(_ text: String) -> Int64 { LocalDateTime(iso: text)!.wallMinute * 60 }

    struct Row: Sendable, CustomStringConvertible {
        var zone: String
        var wall: String
        var expected: ShopTimeZone.WallTimeResolution
        var description: String { "\(zone) \(wall)" }
    }

    static let rows: [Row] = [
        // Europe/Berlin 2026: spring forward 03-29 02:00 → 03:00 (at 01:00Z), fall back 10-25 03:00 → 02:00 (01:00Z).
        Row(zone: "Europe/Berlin", wall: "2026-03-29T01:59", expected: .unique(utc("2026-03-29T00:59"))),
        Row(zone: "Europe/Berlin", wall: "2026-03-29T02:00", expected: .skipped(gapEnd: utc("2026-03-29T01:00"))),
        Row(zone: "Europe/Berlin", wall: "2026-03-29T02:30", expected: .skipped(gapEnd: utc("2026-03-29T01:00"))),
        Row(zone: "Europe/Berlin", wall: "2026-03-29T03:00", expected: .unique(utc("2026-03-29T01:00"))),
        Row(zone: "Europe/Berlin", wall: "2026-10-25T01:59", expected: .unique(utc("2026-10-24T23:59"))),
        Row(zone: "Europe/Berlin", wall: "2026-10-25T02:00",
            expected: .repeated(first: utc("2026-10-25T00:00"), second: utc("2026-10-25T01:00"))),
        Row(zone: "Europe/Berlin", wall: "2026-10-25T02:59",
            expected: .repeated(first: utc("2026-10-25T00:59"), second: utc("2026-10-25T01:59"))),
        Row(zone: "Europe/Berlin", wall: "2026-10-25T03:00", expected: .unique(utc("2026-10-25T02:00"))),
        Row(zone: "Europe/Berlin", wall: "2026-07-01T12:00", expected: .unique(utc("2026-07-01T10:00"))),
        // America/New_York 2026: 03-08 02:00 → 03:00 (07:00Z), 11-01 02:00 → 01:00 (06:00Z).
        Row(zone: "America/New_York", wall: "2026-03-08T02:15", expected: .skipped(gapEnd: utc("2026-03-08T07:00"))),
        Row(zone: "America/New_York", wall: "2026-03-08T03:00", expected: .unique(utc("2026-03-08T07:00"))),
        Row(zone: "America/New_York", wall: "2026-11-01T01:30",
            expected: .repeated(first: utc("2026-11-01T05:30"), second: utc("2026-11-01T06:30"))),
        Row(zone: "America/New_York", wall: "2026-11-01T02:00", expected: .unique(utc("2026-11-01T07:00"))),
        // Australia/Lord_Howe shifts by 30 minutes: 2026-04-05 02:00 → 01:30, 2026-10-04 02:00 → 02:30.
        Row(zone: "Australia/Lord_Howe", wall: "2026-10-04T02:10",
            expected: .skipped(gapEnd: utc("2026-10-03T15:30"))),
        Row(zone: "Australia/Lord_Howe", wall: "2026-04-05T01:45",
            expected: .repeated(first: utc("2026-04-04T14:45"), second: utc("2026-04-04T15:15"))),
        Row(zone: "UTC", wall: "2026-03-29T02:30", expected: .unique(utc("2026-03-29T02:30"))),
    ]

    @Test(arguments: rows) func resolvesWallTimes(row: Row) throws {
        let zone = try #require(ShopTimeZone(identifier: row.zone))
        #expect(zone.resolve(wallMinute: Self.wall(row.wall)) == row.expected)
    }

    @Test func wallIntervalsBecomeRealIntervals() throws {
        let berlin = try #require(ShopTimeZone(identifier: "Europe/Berlin"))
        // 00:00-06:00 on the fall-back day is 7 real hours, on the spring-forward day 5.
        let fallBack = IntervalSet(Interval(Self.wall("2026-10-25T00:00"), Self.wall("2026-10-25T06:00")))
        #expect(berlin.instants(ofWall: fallBack).measure == 7 * 3600)
        let springForward = IntervalSet(Interval(Self.wall("2026-03-29T00:00"), Self.wall("2026-03-29T06:00")))
        #expect(berlin.instants(ofWall: springForward).measure == 5 * 3600)
        // A span wholly inside the gap is dropped.
        let inGap = IntervalSet(Interval(Self.wall("2026-03-29T02:00"), Self.wall("2026-03-29T02:45")))
        #expect(berlin.instants(ofWall: inGap).isEmpty)
    }

    @Test func formatsAndParsesInstantsWithOffsets() throws {
        let berlin = try #require(ShopTimeZone(identifier: "Europe/Berlin"))
        let instant = Self.utc("2026-12-24T08:00")
        #expect(berlin.iso8601(instant: instant) == "2026-12-24T09:00:00+01:00")
        #expect(berlin.iso8601(instant: Self.utc("2026-07-01T08:00")) == "2026-07-01T10:00:00+02:00")
        #expect(berlin.parseInstant("2026-12-24T09:00:00+01:00") == instant)
        #expect(berlin.parseInstant("2026-12-24T08:00:00Z") == instant)
        #expect(berlin.parseInstant("2026-12-24T09:00+0100") == instant)
        #expect(berlin.parseInstant("2026-12-24T09:00") == instant)
        #expect(berlin.parseInstant("2026-12-24T03:00:00-05:00") == instant)
        #expect(berlin.parseInstant("yesterday") == nil)
        #expect(berlin.parseInstant("2026-12-24T09:00:00+1") == nil)
        let newYork = try #require(ShopTimeZone(identifier: "America/New_York"))
        #expect(newYork.iso8601(instant: Self.utc("2026-11-01T05:30")) == "2026-11-01T01:30:00-04:00")
        #expect(newYork.iso8601(instant: Self.utc("2026-11-01T06:30")) == "2026-11-01T01:30:00-05:00")
    }

    @Test(arguments: ["Europe/Berln", "", "Mars/Olympus", "GMT+1", "CEST"])
    func rejectsUnknownZones(identifier: String) {
        #expect(ShopTimeZone(identifier: identifier) == nil)
    }
}
