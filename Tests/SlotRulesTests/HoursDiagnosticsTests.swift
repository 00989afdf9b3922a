import SlotCore
import Testing

@testable import SlotRules

/// A rejected expression: where the error points, words its message and its fix must contain.
struct HoursErrorCase: CustomTestStringConvertible, Sendable {
    var expression: String
    var column: Int
    var message: String
    var fix: String

    init(_ expression: String, column: Int, _ message: String, fix: String = "") {
        self.expression = expression
        self.column = column
        self.message = message
        self.fix = fix
    }

    var testDescription: String { expression.isEmpty ? "(empty)" : expression }
}

@Suite("Hour expressions: errors point at the column and say how to fix it")
struct HoursErrorTests {
    static let cases: [HoursErrorCase] = [
        HoursErrorCase("Tue 10:00-12:00", column: 1, "unknown weekday 'Tue'", fix: "use Tu"),
        HoursErrorCase("Mo-Thursday 10:00-12:00", column: 4, "unknown weekday 'Thursday'", fix: "use Th"),
        HoursErrorCase("mo 10:00-12:00", column: 1, "unknown weekday 'mo'", fix: "use Mo"),
        HoursErrorCase("January 10:00-12:00", column: 1, "unknown month 'January'", fix: "use Jan"),
        HoursErrorCase("Mo 12:00-10:60", column: 13, "minute 60", fix: "00 to 59"),
        HoursErrorCase("Mo 10:00-49:00", column: 10, "hour 49", fix: "48:00"),
        HoursErrorCase("Mo 10:00-48:01", column: 10, "hour 48", fix: "48:00"),
        HoursErrorCase("Mo 9:5-10:00", column: 6, "bad minutes", fix: "two digits"),
        HoursErrorCase("Su 24:00-02:00", column: 4, "cannot start at 24:00", fix: "00:00-02:00"),
        HoursErrorCase("Mo 10:00", column: 4, "has no end", fix: "10:00-18:00"),
        HoursErrorCase("Mo 10:00-12:00 \"by appointment", column: 16, "unterminated comment", fix: "\""),
        HoursErrorCase("Mo 10:00-12:00 x", column: 16, "unknown word 'x'", fix: "weekday"),
        HoursErrorCase("Mo 10:00-12:00 Tu", column: 16, "unexpected 'Tu'", fix: "order"),
        HoursErrorCase("Mo 10:00-12:00 off off", column: 20, "unexpected 'off'"),
        HoursErrorCase("Mo 10:00-12:00 # note", column: 16, "unexpected character '#'"),
        HoursErrorCase("Mo 10:00-12:00 | Tu", column: 16, "unexpected '|'", fix: "; "),
        HoursErrorCase("Mo 10:00-12:00;", column: 15, "not followed by a rule", fix: "remove the trailing"),
        HoursErrorCase("Mo 10:00-12:00, ", column: 15, "not followed by a rule"),
        HoursErrorCase("Mo;;Tu", column: 4, "empty rule"),
        HoursErrorCase("", column: 1, "empty hour expression"),
        HoursErrorCase("   ", column: 4, "empty hour expression"),
        HoursErrorCase("Mo 10:00-12:00,Tu", column: 15, "followed by a space", fix: "', '"),
        // End before start.
        HoursErrorCase("Dec 26-24", column: 1, "end before start", fix: "Dec 24-26"),
        HoursErrorCase("week 10-05 Mo", column: 6, "end before start", fix: "week 10-53,01-05"),
        HoursErrorCase("2027-2026", column: 1, "end before start", fix: "2026-2027"),
        HoursErrorCase("Th[5-4]", column: 4, "end before start", fix: "[4-5]"),
        HoursErrorCase("2027 Jan 05-2026 Jan 01", column: 1, "end before start"),
        // Out of range.
        HoursErrorCase("Feb 30", column: 5, "day 30 does not exist in Feb", fix: "01 to 29"),
        HoursErrorCase("Jan 00", column: 5, "day 00 does not exist"),
        HoursErrorCase("week 54 Mo", column: 6, "week 54 is out of range", fix: "01 to 53"),
        HoursErrorCase("Mo[6] 10:00-11:00", column: 4, "1 to 5"),
        HoursErrorCase("week 01-53/0", column: 12, "week step"),
        HoursErrorCase("1800 Jan", column: 1, "year 1800 is out of range"),
        // Written the wrong way.
        HoursErrorCase("Mo - Fr 10:00-12:00", column: 4, "spaces around '-'", fix: "Mo-Fr"),
        HoursErrorCase("Mo-Fr[1]", column: 6, "one weekday", fix: "Mo[1],Fr[1]"),
        HoursErrorCase("Dec 24,31 off", column: 8, "needs its month", fix: "Dec 24,Dec 31"),
        HoursErrorCase("Dec-Jan 05", column: 5, "mixes a whole month and a date"),
        HoursErrorCase(
            "2025 Dec-2026 Jan", column: 10, "cannot name a year at its end", fix: "2025 Dec 01-2026 Jan 31"),
        HoursErrorCase("Dec 24-2026 Jan 02", column: 8, "needs one on its start", fix: "2026 Dec 24-2027 Jan 02"),
        HoursErrorCase("Mo 10:00-12:00 OFF", column: 16, "unknown word 'OFF'", fix: "lower case"),
        // Constructs the reference implementations disagree on.
        HoursErrorCase("Mo 10:00+", column: 9, "open end '+'", fix: "explicit closing time"),
        HoursErrorCase("Mo 10:00-12:00+", column: 15, "open end '+'"),
        HoursErrorCase("Mo-Fr 10:00-12:00 || \"by appointment\"", column: 19, "'||' fallback", fix: "; "),
        HoursErrorCase("Sa,SH off", column: 4, "school holidays (SH)", fix: "list the dates"),
        HoursErrorCase("\"by appointment\"", column: 1, "only a comment", fix: "open \"by appointment\""),
        HoursErrorCase("Mo 10:00-12:00 \"walk-ins\"", column: 16, "comment must follow open, off", fix: "open"),
        HoursErrorCase("24/7 \"always\"", column: 6, "comment must follow"),
        HoursErrorCase("Mo sunset-22:00", column: 4, "variable times", fix: "fixed time"),
        HoursErrorCase("easter off", column: 1, "'easter' is not supported", fix: "holidays section"),
        HoursErrorCase("10:00-16:00/01:00", column: 12, "repeating time spans"),
        HoursErrorCase("24/7 Mo", column: 6, "unexpected 'Mo'"),
        // 12-hour times: the fix is the whole expression on the 24-hour clock.
        HoursErrorCase("9am-7pm", column: 1, "'9am' is a 12-hour time", fix: "write 24-hour times: 09:00-19:00"),
        HoursErrorCase(
            "Mo-Fr 9:30 AM-12 PM, Sa 10a.m.-2p.m.", column: 7, "'9:30 AM' is a 12-hour time",
            fix: "write 24-hour times: Mo-Fr 09:30-12:00, Sa 10:00-14:00"),
        HoursErrorCase("Fr 8pm-12am", column: 4, "12-hour time", fix: "Fr 20:00-24:00"),
    ]

    @Test("rejects", arguments: cases)
    func rejects(_ example: HoursErrorCase) {
        switch HoursExpression.parse(example.expression) {
        case .success:
            Issue.record("'\(example.expression)' was accepted")
        case .failure(let error):
            #expect(error.column == example.column, "\(error)")
            #expect(error.message.contains(example.message), "\(error)")
            #expect(example.fix.isEmpty || error.fix.contains(example.fix), "\(error)")
            #expect(!error.fix.isEmpty, "every error says how to fix it: \(error)")
        }
    }

    @Test("the description shows column, message and fix")
    func describes() throws {
        let error = try #require(HoursExpression.parse("Tue 10:00-12:00").failure)
        #expect(error.description == "column 1: unknown weekday 'Tue' — use Tu")
    }
}

@Suite("Hour expressions: ambiguous forms are accepted with a warning and a fix")
struct HoursWarningTests {
    @Test("', ' before a time continues the time list, so a later 'off' closes the whole day")
    func offAfterCommaSpaceClosesWholeDay() throws {
        let parsed = try HoursExpression.parse("Mo-Fr 09:00-18:00, 12:00-13:00 off").get()
        let warning = try #require(parsed.warnings.first)
        #expect(parsed.warnings.count == 1)
        #expect(warning.column == 18)
        #expect(warning.fix.contains("'Mo-Fr 09:00-18:00; 12:00-13:00 off'"))
        // Both reference implementations close the whole weekday; so does slotd, as the warning says.
        #expect(try hoursOpen(parsed, from: "2026-01-05", to: "2026-01-10") == [])
        let fixed = try hoursOpen("Mo-Fr 09:00-18:00; 12:00-13:00 off", from: "2026-01-05", to: "2026-01-06")
        #expect(fixed == ["2026-01-05T09:00/2026-01-05T12:00", "2026-01-05T13:00/2026-01-05T18:00"])
    }

    @Test("', ' before a time in an open rule suggests writing the list without the space")
    func openListWithSpace() throws {
        let parsed = try HoursExpression.parse("Sa 10:00-12:00, 14:00-15:00").get()
        #expect(parsed.warnings.map(\.column) == [15])
        #expect(parsed.warnings.first?.fix.contains("'Sa 10:00-12:00,14:00-15:00'") == true)
        let open = try hoursOpen(parsed, from: "2026-01-10", to: "2026-01-11")
        #expect(open == ["2026-01-10T10:00/2026-01-10T12:00", "2026-01-10T14:00/2026-01-10T15:00"])
    }

    @Test("a rule that replaces an earlier rule for the same days warns and shows how to keep both")
    func replacedRule() throws {
        let parsed = try HoursExpression.parse("Mo-Fr 09:00-12:00; Mo-Fr 13:00-18:00").get()
        #expect(parsed.warnings.map(\.column) == [20])
        #expect(parsed.warnings.first?.fix.contains("'Mo-Fr 09:00-12:00, Mo-Fr 13:00-18:00'") == true)
        // The warning describes what happens: only the later hours remain.
        #expect(try hoursOpen(parsed, from: "2026-01-05", to: "2026-01-06") == ["2026-01-05T13:00/2026-01-05T18:00"])
        let kept = try hoursOpen("Mo-Fr 09:00-12:00, Mo-Fr 13:00-18:00", from: "2026-01-05", to: "2026-01-06")
        #expect(kept == ["2026-01-05T09:00/2026-01-05T12:00", "2026-01-05T13:00/2026-01-05T18:00"])
    }

    @Test("a year on a wrapping month range warns that it stays in that year")
    func yearOnWrappingMonthRange() throws {
        let parsed = try HoursExpression.parse("Mo-Fr 10:00-18:00; 2025 Dec-Jan off").get()
        #expect(parsed.warnings.map(\.column) == [20])
        #expect(parsed.warnings.first?.fix.contains("2025 Dec 01-2026 Jan 31") == true)
    }

    @Test("an end before the start that reads as a 12-hour slip says how it was read and suggests the 24-hour end")
    func twelveHourSlip() throws {
        let parsed = try HoursExpression.parse("Mo-Fr 09:00-7:00").get()
        let warning = try #require(parsed.warnings.first)
        #expect(parsed.warnings.count == 1)
        #expect(warning.column == 7)
        #expect(warning.message == "'09:00-7:00' is read as 09:00 to 07:00 the next day (22 hours)")
        #expect(warning.fix.hasPrefix("did you mean 19:00? Write 09:00-19:00"))
        // It is a warning: the span is kept as written.
        let monday = LocalDate(year: 2026, month: 1, day: 5)!
        let day = Interval(monday.startWallMinute, monday.adding(days: 2).startWallMinute)
        #expect(parsed.openIntervals(in: day, holidays: []).intervals.first?.upper == monday.startWallMinute + 1860)
    }

    @Test(
        "a span longer than 16 hours past midnight is read back",
        arguments: [
            ("08:00-26:00", "'08:00-26:00' is read as 08:00 to 02:00 the next day (18 hours)"),
            ("10:00-10:00", "'10:00-10:00' is read as 10:00 to 10:00 the next day (24 hours)"),
            ("Sa 06:00-23:30", nil),
            ("Fr 07:00-01:30", "'07:00-01:30' is read as 07:00 to 01:30 the next day (18h30m)"),
        ])
    func longSpans(expression: String, message: String?) throws {
        let parsed = try HoursExpression.parse(expression).get()
        #expect(parsed.warnings.first?.message == message)
    }

    @Test("a week step over the whole year warns that ISO week numbers restart and points to rotations")
    func weekStepOverTheYear() throws {
        let parsed = try HoursExpression.parse("Mo-Fr 09:00-18:00; week 01-53/2 Sa 09:00-14:00").get()
        #expect(parsed.warnings.map(\.column) == [25])
        #expect(parsed.warnings.first?.message.hasPrefix("week 01-53/2 counts ISO week numbers") == true)
        #expect(parsed.warnings.first?.fix.contains("rotation") == true)
        #expect(try HoursExpression.parse("week 10-20/2 Sa 09:00-14:00").get().warnings.isEmpty)
    }

    @Test(
        "unambiguous expressions give no warnings",
        arguments: [
            "Mo-Fr 09:00-12:00,13:00-18:00; Sa 10:00-14:00; PH off", "Mo-Fr 08:00-12:00, We 14:00-18:00",
            "Mo 10:00-12:00 open \"walk-ins\", Tu 10:00-11:00", "24/7", "Mo-Fr 09:00-18:00; We 12:00-14:00",
            "Mo-Fr 09:00-18:00; Mo-Fr 12:00-13:00 off", "Fr-Sa 18:00-02:00", "22:00-06:00", "00:00-24:00",
            "Sa 20:00-26:00",
        ])
    func noWarnings(_ expression: String) throws {
        #expect(try HoursExpression.parse(expression).get().warnings.isEmpty)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
