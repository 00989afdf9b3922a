import Foundation
import SlotCore

/// Reading the API's ISO 8601 times for people. The daemon writes each instant with the shop's offset at that
/// instant, so its wall-clock digits already are shop-local time: slotctl shows them as they are and never
/// converts with the client machine's zone.
enum TimeText {
    /// `2026-12-01` from `2026-12-01T10:00:00+01:00`.
    static func date(_ iso: String) -> String { String(iso.prefix(10)) }

    /// `10:00` from `2026-12-01T10:00:00+01:00`.
    static func time(_ iso: String) -> String {
        let characters = Array(iso)
        guard characters.count >= 16, characters[10] == "T" else { return iso }
        return String(characters[11..<16])
    }

    /// `Tue 1 Dec 10:00` (with the year when it is not this year), as people read it; the text as is when it is
    /// not an ISO time.
    static func dayAndTime(_ iso: String) -> String {
        guard let wall = LocalDateTime(iso: iso.prefix(16)) else { return iso }
        return CalendarWords.spoken(wall, currentYear: currentYear)
    }

    /// `Tue 1 Dec` from `2026-12-01` or an ISO time (with the year when it is not this year); the text as is when
    /// it is not a date.
    static func day(_ isoDate: String) -> String {
        guard let date = LocalDate(iso: isoDate.prefix(10)) else { return isoDate }
        return CalendarWords.spoken(date, currentYear: currentYear)
    }

    /// `Tue 1 Dec 10:00–10:45`.
    static func span(_ start: String, _ end: String) -> String {
        "\(dayAndTime(start))–\(date(end) == date(start) ? time(end) : dayAndTime(end))"
    }

    /// `text` with every ISO 8601 instant the daemon wrote (`2026-12-08T10:00:00+01:00`) as people read it
    /// (`Tue 8 Dec 10:00`): the reasons and problems slotd sends name times that way.
    static func humanized(_ text: String) -> String {
        guard let pattern = try? NSRegularExpression(
            pattern: #"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})"#)
        else { return text }
        var result = text
        let whole = NSRange(result.startIndex..., in: result)
        for match in pattern.matches(in: text, range: whole).reversed() {
            guard let range = Range(match.range, in: result) else { continue }
            result.replaceSubrange(range, with: dayAndTime(String(result[range])))
        }
        return result
    }

    /// This year on the machine's calendar (a year shown only when it differs; the shop's zone may be a few hours
    /// off around New Year, which only adds a year to a date that does not need it).
    static let currentYear = Calendar(identifier: .gregorian).component(.year, from: Date())

    /// The weekday of a `YYYY-MM-DD` date (`Mon` … `Sun`), empty when it is not one.
    static func weekday(_ date: String) -> String {
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return "" }
        // Sakamoto's method: no calendar or time zone needed for a civil date.
        let offsets = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
        var year = parts[0]
        let month = parts[1]
        let day = parts[2]
        guard (1...12).contains(month), (1...31).contains(day) else { return "" }
        if month < 3 { year -= 1 }
        let index = (year + year / 4 - year / 100 + year / 400 + offsets[month - 1] + day) % 7
        return ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][index]
    }

    /// Today's date in an IANA zone (the shop's), `YYYY-MM-DD`; the machine's zone when the name is unknown.
    static func today(in zoneName: String, now: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zoneName) ?? .current
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        return String(format: "%04d-%02d-%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
    }

    /// `45m`, `1h30m`.
    static func minutes(_ value: Int) -> String {
        if value < 60 { return "\(value)m" }
        return value % 60 == 0 ? "\(value / 60)h" : "\(value / 60)h\(value % 60)m"
    }
}

/// A plain text table: left-aligned columns separated by two spaces, a header row, no trailing spaces.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells) }

    var rendered: String {
        let all = [headers] + rows
        var widths = [Int](repeating: 0, count: headers.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return all.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                let isLast = index == row.count - 1
                line += isLast ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }
            return line.trailingSpacesRemoved
        }.joined(separator: "\n")
    }
}

extension String {
    var trailingSpacesRemoved: String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}

/// Writes to stdout without buffering surprises when stdout is a pipe (watch and events must show each line now).
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Writes raw API JSON to stdout, ending with one newline.
func emitJSON(_ data: Data) {
    FileHandle.standardOutput.write(data)
    if data.last != 10 { FileHandle.standardOutput.write(Data("\n".utf8)) }
}
