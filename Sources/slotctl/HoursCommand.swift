import ArgumentParser
import Foundation
import SlotCore
import SlotRules

/// `slotctl hours EXPR`: evaluate one hour expression on its own and print its open intervals.
struct HoursCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hours",
        abstract: "Evaluate an hour expression and print its open intervals.",
        discussion: """
            EXPR is an OpenStreetMap opening_hours expression, in the subset slotd supports (docs/hours.md \
            describes it). The open intervals inside [--from, --to) are printed as merged local wall times. \
            PH (public holidays) matches the dates given with --holidays; an empty value means none.

            A syntax error exits with status 2 and shows the column and the fix. Warnings about ambiguous \
            forms go to standard error.

            Examples:
              slotctl hours 'Mo-Fr 09:00-18:00; PH off' --from 2026-12-21 --to 2026-12-28 \\
                --holidays 2026-12-25,2026-12-26
              slotctl hours 'Fr-Sa 18:00-02:00' --from 2026-01-02 --to 2026-01-05 --json
              slotctl hours 'Dec 24-Jan 02 off; Mo-Sa 10:00-18:00' \\
                --from 2026-12-20T08:00 --to 2027-01-10
            """
    )

    @Argument(help: "The hour expression, e.g. 'Mo-Fr 09:00-18:00; PH off' (quote it for the shell).")
    var expression: String

    @Option(help: ArgumentHelp("Start of the window (inclusive).", valueName: "YYYY-MM-DD[THH:MM]"))
    var from: String

    @Option(help: ArgumentHelp("End of the window (exclusive).", valueName: "YYYY-MM-DD[THH:MM]"))
    var to: String

    @Option(help: ArgumentHelp("Public holidays PH matches, comma-separated; empty for none.", valueName: "DATES"))
    var holidays: String = ""

    @Flag(help: "Print a JSON array of [start, end] pairs (YYYY-MM-DDTHH:MM) instead of a table.")
    var json = false

    func validate() throws {
        guard LocalDateTime(iso: from) != nil else {
            throw ValidationError("--from '\(from)' is not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM")
        }
        guard LocalDateTime(iso: to) != nil else {
            throw ValidationError("--to '\(to)' is not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM")
        }
        if let start = LocalDateTime(iso: from), let end = LocalDateTime(iso: to), end < start {
            throw ValidationError("--to \(to) is before --from \(from)")
        }
        _ = try holidayDates()
    }

    private func holidayDates() throws -> Set<LocalDate> {
        var dates = Set<LocalDate>()
        for item in holidays.split(separator: ",") {
            let text = item.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let date = LocalDate(iso: text) else {
                throw ValidationError("--holidays: '\(text)' is not a date: write YYYY-MM-DD,YYYY-MM-DD")
            }
            dates.insert(date)
        }
        return dates
    }

    func run() throws {
        guard let start = LocalDateTime(iso: from), let end = LocalDateTime(iso: to) else { throw ExitCode(2) }
        let dates = try holidayDates()
        let parsed: HoursExpression
        switch HoursExpression.parse(expression) {
        case .failure(let error):
            printToStandardError(Self.render(error, in: expression, severity: "error"))
            throw ExitCode(2)
        case .success(let value):
            parsed = value
        }
        for warning in parsed.warnings {
            printToStandardError(Self.render(warning, in: expression, severity: "warning"))
        }
        let window = Interval(start.wallMinute, end.wallMinute)
        let open = parsed.openIntervals(in: window, holidays: dates)
        if json {
            let pairs = open.intervals.map {
                "[\"\(LocalDateTime(wallMinute: $0.lower))\", \"\(LocalDateTime(wallMinute: $0.upper))\"]"
            }
            print("[" + pairs.joined(separator: ", ") + "]")
        } else if open.isEmpty {
            print("closed from \(start) to \(end)")
        } else {
            for interval in open.intervals { print(Self.tableLine(interval)) }
        }
    }

    /// `Mo 2026-01-05 09:00–12:00  (3h)`, or both ends with dates when the interval crosses midnight.
    static func tableLine(_ interval: Interval) -> String {
        let lower = LocalDateTime(wallMinute: interval.lower)
        let upper = LocalDateTime(wallMinute: interval.upper)
        let duration = Minutes.format(Int(interval.length))
        let head = "\(lower.date.weekday) \(lower.date) \(clock(lower.minuteOfDay))"
        if upper.date == lower.date {
            return "\(head)–\(clock(upper.minuteOfDay))  (\(duration))"
        }
        if upper.minuteOfDay == 0 && upper.date == lower.date.adding(days: 1) {
            return "\(head)–24:00  (\(duration))"
        }
        return "\(head) – \(upper.date.weekday) \(upper.date) \(clock(upper.minuteOfDay))  (\(duration))"
    }

    private static func clock(_ minuteOfDay: Int) -> String {
        let hours = minuteOfDay / 60
        let minutes = minuteOfDay % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }

    /// The expression with a caret under the column, the message and the fix.
    static func render(_ problem: HoursSyntaxError, in expression: String, severity: String) -> String {
        let scalars = Array(expression.unicodeScalars)
        let column = max(1, min(problem.column, scalars.count + 1))
        // Keep tabs so the caret lines up under them; everything else becomes a space.
        let padding = String(scalars.prefix(column - 1).map { $0 == "\t" ? "\t" : " " })
        var lines = [
            "\(severity): column \(problem.column): \(problem.message)",
            "  \(expression)",
            "  \(padding)^",
        ]
        if !problem.fix.isEmpty { lines.append("  fix: \(problem.fix)") }
        return lines.joined(separator: "\n")
    }
}

private func printToStandardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
