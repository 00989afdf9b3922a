import SlotCore
import Testing

@testable import SlotRules

// January 2026 starts on a Thursday: Mo 5, Tu 6, We 7, Th 8, Fr 9, Sa 10, Su 11, Mo 12.
// December 2026: Th 24, Fr 25, Sa 26, Th 31; 2027-01-01 is a Friday.

@Suite("Hour expressions: every syntax element evaluates as opening-hours-py does")
struct HoursSyntaxElementTests {
    static let cases: [HoursCase] = [
        HoursCase("24/7", "2026-01-05", "2026-01-07", open: ["2026-01-05T00:00/2026-01-07T00:00"]),
        HoursCase("open", "2026-01-05", "2026-01-06", open: ["2026-01-05T00:00/2026-01-06T00:00"]),
        HoursCase("off", "2026-01-05", "2026-01-12", open: []),
        HoursCase("closed", "2026-01-05", "2026-01-12", open: []),
        HoursCase(
            "Mo-Fr 09:00-18:00", "2026-01-09", "2026-01-13",
            open: ["2026-01-09T09:00/2026-01-09T18:00", "2026-01-12T09:00/2026-01-12T18:00"]),
        HoursCase(
            "Sa,Su 10:00-14:00", "2026-01-09", "2026-01-13",
            open: ["2026-01-10T10:00/2026-01-10T14:00", "2026-01-11T10:00/2026-01-11T14:00"]),
        HoursCase(
            "Fr-Mo 10:00-12:00", "2026-01-08", "2026-01-14",
            open: [
                "2026-01-09T10:00/2026-01-09T12:00", "2026-01-10T10:00/2026-01-10T12:00",
                "2026-01-11T10:00/2026-01-11T12:00", "2026-01-12T10:00/2026-01-12T12:00",
            ]),
        HoursCase(
            "Mo,We-Th 10:00-11:00", "2026-01-05", "2026-01-10",
            open: [
                "2026-01-05T10:00/2026-01-05T11:00", "2026-01-07T10:00/2026-01-07T11:00",
                "2026-01-08T10:00/2026-01-08T11:00",
            ]),
        HoursCase(
            "Mo 09:00-12:00,13:00-18:00", "2026-01-05", "2026-01-06",
            open: ["2026-01-05T09:00/2026-01-05T12:00", "2026-01-05T13:00/2026-01-05T18:00"]),
        HoursCase(
            "Mo 09:00-12:00,11:00-13:00", "2026-01-05", "2026-01-06", open: ["2026-01-05T09:00/2026-01-05T13:00"]),
        HoursCase("Fr 22:00-02:00", "2026-01-09", "2026-01-11", open: ["2026-01-09T22:00/2026-01-10T02:00"]),
        HoursCase("Fr 18:00-24:00", "2026-01-09", "2026-01-11", open: ["2026-01-09T18:00/2026-01-10T00:00"]),
        HoursCase("Fr 22:00-26:00", "2026-01-09", "2026-01-11", open: ["2026-01-09T22:00/2026-01-10T02:00"]),
        HoursCase("Fr 20:00-48:00", "2026-01-09", "2026-01-12", open: ["2026-01-09T20:00/2026-01-11T00:00"]),
        HoursCase("Fr 12:00-12:00", "2026-01-09", "2026-01-12", open: ["2026-01-09T12:00/2026-01-10T12:00"]),
        HoursCase(
            "Mo 10:00-12:00 open \"walk-ins welcome\"", "2026-01-05", "2026-01-06",
            open: ["2026-01-05T10:00/2026-01-05T12:00"]),
        HoursCase("Mo 10:00-12:00 unknown \"call us\"", "2026-01-05", "2026-01-06", open: []),
        HoursCase(
            "Mo-Fr 09:00-18:00; PH off", "2026-01-05", "2026-01-08", holidays: ["2026-01-06"],
            open: ["2026-01-05T09:00/2026-01-05T18:00", "2026-01-07T09:00/2026-01-07T18:00"]),
        HoursCase(
            "Sa,PH 10:00-14:00", "2026-01-08", "2026-01-12", holidays: ["2026-01-08"],
            open: ["2026-01-08T10:00/2026-01-08T14:00", "2026-01-10T10:00/2026-01-10T14:00"]),
        HoursCase("PH 10:00-14:00", "2026-01-05", "2026-01-12", open: []),
        HoursCase(
            "Dec 10:00-11:00", "2026-11-30", "2026-12-02",
            open: ["2026-12-01T10:00/2026-12-01T11:00"]),
        HoursCase(
            "Jun-Aug 10:00-11:00", "2026-05-31", "2026-06-02", open: ["2026-06-01T10:00/2026-06-01T11:00"]),
        HoursCase(
            "Dec 24-26 10:00-11:00", "2026-12-23", "2026-12-28",
            open: [
                "2026-12-24T10:00/2026-12-24T11:00", "2026-12-25T10:00/2026-12-25T11:00",
                "2026-12-26T10:00/2026-12-26T11:00",
            ]),
        HoursCase("Jan 01 10:00-11:00", "2025-12-31", "2026-01-03", open: ["2026-01-01T10:00/2026-01-01T11:00"]),
        HoursCase(
            "Dec 24,Dec 31 10:00-11:00", "2026-12-23", "2027-01-02",
            open: ["2026-12-24T10:00/2026-12-24T11:00", "2026-12-31T10:00/2026-12-31T11:00"]),
        HoursCase(
            "10:00-11:00; Dec 24-Jan 02 off", "2026-12-23", "2027-01-04",
            open: ["2026-12-23T10:00/2026-12-23T11:00", "2027-01-03T10:00/2027-01-03T11:00"]),
        HoursCase("2026 Dec 24 10:00-11:00", "2026-12-24", "2026-12-25", open: ["2026-12-24T10:00/2026-12-24T11:00"]),
        HoursCase("2026 Dec 24 10:00-11:00", "2027-12-24", "2027-12-25", open: []),
        HoursCase(
            "2026 Dec 31-2027 Jan 01 10:00-11:00", "2026-12-30", "2027-01-03",
            open: ["2026-12-31T10:00/2026-12-31T11:00", "2027-01-01T10:00/2027-01-01T11:00"]),
        HoursCase("2026-2027 Jan 10:00-11:00", "2028-01-03", "2028-01-04", open: []),
        HoursCase("2026-2027 Jan 10:00-11:00", "2027-01-04", "2027-01-05", open: ["2027-01-04T10:00/2027-01-04T11:00"]),
        HoursCase("2016 Feb 29 10:00-11:00", "2016-02-28", "2016-03-02", open: ["2016-02-29T10:00/2016-02-29T11:00"]),
        HoursCase("Feb 29 10:00-11:00", "2026-02-27", "2026-03-02", open: []),
        // ISO weeks: 2025-12-29 starts week 1 of 2026, 2026-01-05 week 2, 2026-01-12 week 3.
        HoursCase(
            "week 01-53/2 Mo 10:00-11:00", "2025-12-29", "2026-01-13",
            open: ["2025-12-29T10:00/2025-12-29T11:00", "2026-01-12T10:00/2026-01-12T11:00"]),
        HoursCase(
            "week 02,04 Mo 10:00-11:00", "2026-01-01", "2026-01-27",
            open: ["2026-01-05T10:00/2026-01-05T11:00", "2026-01-19T10:00/2026-01-19T11:00"]),
        // Sundays of January 2026: 4, 11, 18, 25; Mondays 5 … 26; Saturdays 3 … 31; Wednesdays 7 … 28.
        HoursCase("Su[1] 10:00-11:00", "2026-01-01", "2026-02-01", open: ["2026-01-04T10:00/2026-01-04T11:00"]),
        HoursCase("Mo[-1] 10:00-11:00", "2026-01-01", "2026-02-01", open: ["2026-01-26T10:00/2026-01-26T11:00"]),
        HoursCase(
            "Sa[2,4] 10:00-11:00", "2026-01-01", "2026-02-01",
            open: ["2026-01-10T10:00/2026-01-10T11:00", "2026-01-24T10:00/2026-01-24T11:00"]),
        HoursCase(
            "We[-1,-2] 10:00-11:00", "2026-01-01", "2026-02-01",
            open: ["2026-01-21T10:00/2026-01-21T11:00", "2026-01-28T10:00/2026-01-28T11:00"]),
        HoursCase(
            "Th[4-5] 10:00-11:00", "2026-01-01", "2026-02-01",
            open: ["2026-01-22T10:00/2026-01-22T11:00", "2026-01-29T10:00/2026-01-29T11:00"]),
        HoursCase("2040-2050", "2026-01-05", "2026-01-06", open: []),
        // A year on a wrapping month range keeps both months in that year (opening-hours-py; a warning says so).
        HoursCase("2025 Dec-Jan 10:00-11:00", "2025-12-31", "2026-01-02", open: ["2025-12-31T10:00/2025-12-31T11:00"]),
        HoursCase("2025 Dec-Jan 10:00-11:00", "2025-01-01", "2025-01-02", open: ["2025-01-01T10:00/2025-01-01T11:00"]),
        HoursCase(
            "2025 Dec 01-2026 Jan 31 10:00-11:00", "2025-12-31", "2026-01-02",
            open: ["2025-12-31T10:00/2025-12-31T11:00", "2026-01-01T10:00/2026-01-01T11:00"]),
        // A year on the first item of a date list only.
        HoursCase(
            "2025 Dec 30-31,Jan 02 10:00-11:00", "2026-01-01", "2026-01-04",
            open: ["2026-01-02T10:00/2026-01-02T11:00"]),
        HoursCase("2026", "2026-12-31T23:00", "2027-01-01T01:00", open: ["2026-12-31T23:00/2027-01-01T00:00"]),
    ]

    @Test("evaluates", arguments: cases)
    func evaluates(_ example: HoursCase) throws {
        let open = try hoursOpen(example.expression, from: example.from, to: example.to, holidays: example.holidays)
        #expect(open == example.open)
    }
}

@Suite("Hour expressions: later rules override earlier ones as the OSM specification says")
struct HoursOverrideTests {
    static let cases: [HoursCase] = [
        // A normal rule that matches a day replaces what earlier rules said about it.
        HoursCase(
            "Mo-Fr 09:00-18:00; We 12:00-14:00", "2026-01-06", "2026-01-08",
            open: ["2026-01-06T09:00/2026-01-06T18:00", "2026-01-07T12:00/2026-01-07T14:00"]),
        HoursCase(
            "Mo-Fr 09:00-18:00; We off", "2026-01-06", "2026-01-09",
            open: ["2026-01-06T09:00/2026-01-06T18:00", "2026-01-08T09:00/2026-01-08T18:00"]),
        // A time-only rule matches every day, so it replaces every day's hours.
        HoursCase(
            "Mo-Fr 09:00-18:00; 10:00-11:00", "2026-01-09", "2026-01-11",
            open: ["2026-01-09T10:00/2026-01-09T11:00", "2026-01-10T10:00/2026-01-10T11:00"]),
        // `off` with times closes only those times.
        HoursCase(
            "Mo-Fr 09:00-18:00; We 12:00-13:00 off", "2026-01-07", "2026-01-08",
            open: ["2026-01-07T09:00/2026-01-07T12:00", "2026-01-07T13:00/2026-01-07T18:00"]),
        HoursCase(
            "Mo-Fr 09:00-18:00; 12:00-13:00 off", "2026-01-09", "2026-01-11",
            open: ["2026-01-09T09:00/2026-01-09T12:00", "2026-01-09T13:00/2026-01-09T18:00"]),
        // An additional rule adds.
        HoursCase(
            "Mo-Fr 09:00-12:00, We 14:00-16:00", "2026-01-07", "2026-01-08",
            open: ["2026-01-07T09:00/2026-01-07T12:00", "2026-01-07T14:00/2026-01-07T16:00"]),
        HoursCase(
            "Sa, Su 10:00-12:00", "2026-01-10", "2026-01-12",
            open: ["2026-01-10T00:00/2026-01-11T00:00", "2026-01-11T10:00/2026-01-11T12:00"]),
        HoursCase(
            "Mo-Sa 10:00-18:00; Dec 24-26 off; Dec 31 10:00-14:00", "2026-12-23", "2027-01-01",
            open: [
                "2026-12-23T10:00/2026-12-23T18:00", "2026-12-28T10:00/2026-12-28T18:00",
                "2026-12-29T10:00/2026-12-29T18:00", "2026-12-30T10:00/2026-12-30T18:00",
                "2026-12-31T10:00/2026-12-31T14:00",
            ]),
        HoursCase(
            "Mo-Fr 10:00-12:00; Mo off; Mo 11:00-12:00", "2026-01-05", "2026-01-06",
            open: ["2026-01-05T11:00/2026-01-05T12:00"]),
        HoursCase("Mo 10:00-12:00; Mo 11:00-14:00 unknown", "2026-01-05", "2026-01-06", open: []),
        HoursCase(
            "Mo 10:00-12:00, Mo 11:00-14:00 unknown", "2026-01-05", "2026-01-06",
            open: ["2026-01-05T10:00/2026-01-05T11:00"]),
    ]

    @Test("applies rules in order", arguments: cases)
    func appliesInOrder(_ example: HoursCase) throws {
        let open = try hoursOpen(example.expression, from: example.from, to: example.to, holidays: example.holidays)
        #expect(open == example.open)
    }
}

@Suite("Hour expressions: spans past midnight spill into the next day")
struct HoursPastMidnightTests {
    static let cases: [HoursCase] = [
        // The window starts after the span began: the day before is evaluated too.
        HoursCase("Fr 22:00-03:00", "2026-01-10", "2026-01-11", open: ["2026-01-10T00:00/2026-01-10T03:00"]),
        HoursCase("Fr 20:00-48:00", "2026-01-10T12:00", "2026-01-12", open: ["2026-01-10T12:00/2026-01-11T00:00"]),
        // A later normal rule for the next day replaces the spill; an additional one keeps it.
        HoursCase(
            "Mo 22:00-02:00; Tu 10:00-12:00", "2026-01-05", "2026-01-07",
            open: ["2026-01-05T22:00/2026-01-06T00:00", "2026-01-06T10:00/2026-01-06T12:00"]),
        HoursCase(
            "Mo 22:00-02:00, Tu 10:00-12:00", "2026-01-05", "2026-01-07",
            open: ["2026-01-05T22:00/2026-01-06T02:00", "2026-01-06T10:00/2026-01-06T12:00"]),
        HoursCase("Mo 22:00-02:00; Tu off", "2026-01-05", "2026-01-07", open: ["2026-01-05T22:00/2026-01-06T00:00"]),
        // An earlier rule that matches the next day also wins over the spill (opening-hours-py).
        HoursCase(
            "Tu 10:00-12:00; Mo 22:00-02:00", "2026-01-05", "2026-01-07",
            open: ["2026-01-05T22:00/2026-01-06T00:00", "2026-01-06T10:00/2026-01-06T12:00"]),
        // `off` with times cuts into a spill.
        HoursCase(
            "Su 20:00-03:00; Mo 01:00-02:00 off", "2026-01-11", "2026-01-13",
            open: ["2026-01-11T20:00/2026-01-12T01:00", "2026-01-12T02:00/2026-01-12T03:00"]),
        // A day only closed so far (by `off` rules) takes a spill from the night before; opening-hours-py does so.
        HoursCase(
            "24/7 off; We-Sa 22:00-35:00", "2026-01-11", "2026-01-12", open: ["2026-01-11T00:00/2026-01-11T11:00"]),
        HoursCase(
            "Su 10:00-12:00 off; Sa 22:00-35:00", "2026-01-10", "2026-01-12",
            open: ["2026-01-10T22:00/2026-01-11T11:00"]),
        // An `unknown` day does not take the spill.
        HoursCase(
            "Su unknown; Sa 22:00-35:00", "2026-01-10", "2026-01-12", open: ["2026-01-10T22:00/2026-01-11T00:00"]),
        // Consecutive nights merge into one interval when they touch.
        HoursCase(
            "Fr-Sa 18:00-30:00", "2026-01-09", "2026-01-12",
            open: ["2026-01-09T18:00/2026-01-10T06:00", "2026-01-10T18:00/2026-01-11T06:00"]),
        HoursCase("Mo-Su 12:00-36:00", "2026-01-05", "2026-01-07", open: ["2026-01-05T00:00/2026-01-07T00:00"]),
        // Past midnight on New Year's Eve into a new year.
        HoursCase(
            "Dec 31 20:00-02:00", "2026-12-31", "2027-01-02", open: ["2026-12-31T20:00/2027-01-01T02:00"]),
    ]

    @Test("spills", arguments: cases)
    func spills(_ example: HoursCase) throws {
        let open = try hoursOpen(example.expression, from: example.from, to: example.to, holidays: example.holidays)
        #expect(open == example.open)
    }

    static let splitExpressions = [
        "Fr-Sa 22:00-04:00; Su 12:00-18:00",
        "Mo-Fr 09:00-12:00,13:00-18:00; Sa 10:00-14:00; PH off",
        "Tu-Fr 10:00-20:00; Sa 09:00-16:00; Mo[1] 10:00-14:00; week 01-53/2 Th 10:00-22:00; PH off",
        "Mo 20:00-48:00; Tu 06:00-08:00 off, We 01:00-03:00",
        "Dec 24-Jan 02 off; Mo-Sa 18:00-02:00",
    ]

    @Test("a window split in two gives the same intervals as the whole window", arguments: splitExpressions)
    func splitWindowsAgree(_ expression: String) throws {
        let parsed = try HoursExpression.parse(expression).get()
        let lower = LocalDate(year: 2026, month: 12, day: 1)!.startWallMinute
        let upper = LocalDate(year: 2027, month: 2, day: 1)!.startWallMinute
        let holidays: Set<LocalDate> = [
            LocalDate(year: 2026, month: 12, day: 25)!, LocalDate(year: 2027, month: 1, day: 1)!,
        ]
        let whole = parsed.openIntervals(in: Interval(lower, upper), holidays: holidays)
        #expect(!whole.isEmpty)
        for cut in stride(from: lower + 7, to: upper, by: 1439 * 3 + 17) {
            let left = parsed.openIntervals(in: Interval(lower, cut), holidays: holidays)
            let right = parsed.openIntervals(in: Interval(cut, upper), holidays: holidays)
            #expect(left.union(right) == whole, "cut at \(LocalDateTime(wallMinute: cut))")
        }
    }
}

@Suite("Hour expressions: always open")
struct HoursAlwaysOpenTests {
    @Test(
        "recognises expressions open at all times",
        arguments: [
            ("24/7", true), ("open", true), ("00:00-24:00", true), ("Mo-Su 00:00-24:00", true),
            ("Mo-Fr 09:00-18:00; 24/7", true), ("24/7; PH off", false), ("24/7; Su off", false),
            ("Mo-Sa", false), ("24/7 closed", false), ("24/7, Mo 10:00-12:00", true),
        ])
    func alwaysOpen(_ expression: String, _ expected: Bool) throws {
        let parsed = try HoursExpression.parse(expression).get()
        #expect(parsed.isAlwaysOpen == expected)
        if parsed.isAlwaysOpen {
            let window = Interval(0, 1440 * 30)
            #expect(parsed.openIntervals(in: window, holidays: [LocalDate(daysSinceEpoch: 3)]) == IntervalSet(window))
        }
    }
}
