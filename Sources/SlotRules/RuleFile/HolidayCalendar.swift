import SlotCore

/// Imports holidays from an iCalendar (`.ics`) file: its all-day VEVENTs.
///
/// Lines are unfolded (a line starting with a space or tab continues the previous one); `DTSTART;VALUE=DATE` is
/// the first day and `DTEND` the day after the last (exclusive, RFC 5545); `RRULE:FREQ=YEARLY` repeats the days
/// every year (with `COUNT` or `UNTIL` expanded into the dates it names).
enum HolidayCalendar {
    struct Problem: Equatable {
        var severity: Diagnostic.Severity
        var line: Int
        var message: String
        var fix: String
    }

    struct Result {
        var holidays: [Holiday] = []
        var problems: [Problem] = []
    }

    /// Parses the calendar text.
    static func parse(_ text: String) -> Result {
        var result = Result()
        // Unfold: (line number of the start, content).
        var lines: [(number: Int, text: String)] = []
        var number = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            if let first = line.first, first == " " || first == "\t", !lines.isEmpty {
                lines[lines.count - 1].text += line.dropFirst()
            } else if !line.isEmpty {
                lines.append((number, line))
            }
        }
        func problem(_ line: Int, _ message: String, _ fix: String, _ severity: Diagnostic.Severity = .error) {
            result.problems.append(Problem(severity: severity, line: line, message: message, fix: fix))
        }
        guard let first = lines.first, first.text.uppercased() == "BEGIN:VCALENDAR" else {
            problem(lines.first?.number ?? 1, "not an iCalendar file (it must start with BEGIN:VCALENDAR)",
                "export the holidays as .ics from a calendar program")
            return result
        }
        var event: [(number: Int, name: String, parameters: [String], value: String)]?
        var eventStart = 0
        var depth: [String] = []
        var ended = false
        for line in lines {
            guard let colon = line.text.firstIndex(of: ":") else {
                problem(line.number, "line without ':' in the calendar", "each line is NAME:value")
                continue
            }
            let head = line.text[..<colon].split(separator: ";").map(String.init)
            let name = head.first?.uppercased() ?? ""
            let value = String(line.text[line.text.index(after: colon)...])
            if name == "BEGIN" {
                depth.append(value.uppercased())
                if value.uppercased() == "VEVENT" {
                    event = []
                    eventStart = line.number
                }
                continue
            }
            if name == "END" {
                guard let open = depth.last, open == value.uppercased() else {
                    problem(line.number, "END:\(value) does not match an open BEGIN", "pair every BEGIN with its END")
                    continue
                }
                depth.removeLast()
                if open == "VEVENT", let fields = event {
                    importEvent(fields, line: eventStart, into: &result)
                    event = nil
                }
                if open == "VCALENDAR" && depth.isEmpty { ended = true }
                continue
            }
            if depth.last == "VEVENT" {
                event?.append((line.number, name, Array(head.dropFirst()), value))
            }
        }
        if !ended || !depth.isEmpty {
            let what = depth.last.map { "BEGIN:\($0) is never closed" } ?? "the calendar never ends"
            problem(lines.last?.number ?? 1, what, "end the file with END:VCALENDAR (the file may be cut short)")
        }
        return result
    }

    private static func importEvent(
        _ fields: [(number: Int, name: String, parameters: [String], value: String)], line: Int,
        into result: inout Result
    ) {
        func problem(_ line: Int, _ message: String, _ fix: String, _ severity: Diagnostic.Severity = .error) {
            result.problems.append(Problem(severity: severity, line: line, message: message, fix: fix))
        }
        let summary = fields.first { $0.name == "SUMMARY" }.map { unescape($0.value) } ?? ""
        guard let start = fields.first(where: { $0.name == "DTSTART" }) else {
            problem(line, "an event without DTSTART", "give every VEVENT a DTSTART;VALUE=DATE:YYYYMMDD")
            return
        }
        let isDateValue = start.parameters.contains { $0.uppercased() == "VALUE=DATE" } || start.value.count == 8
        guard isDateValue else {
            problem(
                start.number, "event '\(summary)' is not all-day (DTSTART \(start.value)); skipped",
                "only all-day events become holidays", .warning)
            return
        }
        guard let first = date(start.value) else {
            problem(start.number, "'\(start.value)' is not a date", "write DTSTART;VALUE=DATE:YYYYMMDD")
            return
        }
        var last = first
        if let end = fields.first(where: { $0.name == "DTEND" }) {
            guard let endDate = date(end.value) else {
                problem(end.number, "'\(end.value)' is not a date", "write DTEND;VALUE=DATE:YYYYMMDD")
                return
            }
            guard endDate > first else {
                problem(
                    end.number, "event '\(summary)' has DTEND \(endDate), not after its DTSTART \(first)",
                    "DTEND is the day after the last day, e.g. \(first.adding(days: 1).compactISO)")
                return
            }
            last = endDate.adding(days: -1)
        }
        guard last.daysSinceEpoch - first.daysSinceEpoch <= 366 else {
            problem(start.number, "event '\(summary)' lasts more than a year", "check DTEND")
            return
        }
        guard let rule = fields.first(where: { $0.name == "RRULE" }) else {
            result.holidays.append(Holiday(name: summary, rule: first == last ? .date(first) : .range(first, last)))
            return
        }
        var parts: [String: String] = [:]
        for part in rule.value.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { parts[pair[0].uppercased()] = pair[1] }
        }
        guard parts["FREQ"]?.uppercased() == "YEARLY" else {
            problem(
                rule.number, "RRULE \(rule.value) is not supported", "only FREQ=YEARLY repeats holidays; list others")
            return
        }
        let unsupported = parts.keys.filter { !["FREQ", "COUNT", "UNTIL", "INTERVAL"].contains($0) }.sorted()
        if !unsupported.isEmpty {
            problem(
                rule.number, "RRULE part \(unsupported.joined(separator: ", ")) is not supported",
                "use FREQ=YEARLY with COUNT, UNTIL or INTERVAL only")
            return
        }
        let interval = parts["INTERVAL"].flatMap { Int($0) } ?? 1
        guard interval >= 1, interval <= 100 else {
            problem(rule.number, "INTERVAL \(parts["INTERVAL"] ?? "") is not a positive count", "write INTERVAL=1")
            return
        }
        var count = parts["COUNT"].flatMap { Int($0) }
        if let text = parts["COUNT"], count == nil || count ?? 0 < 1 {
            problem(rule.number, "COUNT \(text) is not a positive count", "write e.g. COUNT=5")
            return
        }
        var until: LocalDate?
        if let text = parts["UNTIL"] {
            guard let parsed = date(String(text.prefix(8))) else {
                problem(rule.number, "UNTIL \(text) is not a date", "write UNTIL=YYYYMMDD")
                return
            }
            until = parsed
        }
        if count == nil && until == nil && interval == 1 {
            var date = first
            while date <= last {
                result.holidays.append(Holiday(name: summary, rule: .yearly(month: date.month, day: date.day)))
                date = date.adding(days: 1)
            }
            return
        }
        if count == nil && until == nil {
            // Every INTERVAL years without an end: expand a century, which outlasts any booking horizon.
            count = 100 / interval
        }
        var year = first.year
        var occurrences = 0
        while occurrences < min(count ?? 500, 500) {
            guard let from = LocalDate(year: year, month: first.month, day: first.day) else {
                year += interval
                occurrences += 1
                continue
            }
            if let until, from > until { break }
            let to = from.adding(days: last.daysSinceEpoch - first.daysSinceEpoch)
            result.holidays.append(Holiday(name: summary, rule: from == to ? .date(from) : .range(from, to)))
            year += interval
            occurrences += 1
        }
    }

    /// `YYYYMMDD` (also the date part of `YYYYMMDDTHHMMSS`).
    static func date(_ text: String) -> LocalDate? {
        let digits = Array(text.prefix(8))
        guard digits.count == 8, digits.allSatisfy(\.isASCIIDigit), text.count == 8 || text.dropFirst(8).first == "T",
            let year = Int(String(digits[0..<4])), let month = Int(String(digits[4..<6])),
            let day = Int(String(digits[6..<8]))
        else { return nil }
        return LocalDate(year: year, month: month, day: day)
    }

    private static func unescape(_ text: String) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character == "n" || character == "N" ? " " : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result.trimmingSpaces
    }
}

extension LocalDate {
    /// `YYYYMMDD`.
    var compactISO: String { description.replacingAll("-", with: "") }
}
