/// One event of an iCalendar document (RFC 5545), with UTC times in seconds since the epoch.
public struct ICalendarEvent: Hashable, Sendable {
    /// Stable across changes of the event, so a calendar updates it instead of adding another.
    public var uid: String
    /// Raised on every change of the event.
    public var sequence: Int
    /// When this version of the event was written.
    public var stamp: Int64
    public var start: Int64
    public var end: Int64
    public var summary: String
    public var description: String?
    public var location: String?
    public var url: String?
    /// `CONFIRMED`, `TENTATIVE` or `CANCELLED`.
    public var status: Status

    public enum Status: String, Hashable, Sendable {
        case confirmed = "CONFIRMED"
        case tentative = "TENTATIVE"
        case cancelled = "CANCELLED"
    }

    public init(
        uid: String, sequence: Int, stamp: Int64, start: Int64, end: Int64, summary: String,
        description: String? = nil, location: String? = nil, url: String? = nil, status: Status = .confirmed
    ) {
        self.uid = uid
        self.sequence = sequence
        self.stamp = stamp
        self.start = start
        self.end = end
        self.summary = summary
        self.description = description
        self.location = location
        self.url = url
        self.status = status
    }
}

/// Writes iCalendar text (RFC 5545): CRLF line ends, content lines folded at 75 octets without splitting a UTF-8
/// sequence, TEXT values escaped, and times in UTC (`…Z`), so no VTIMEZONE is needed: an instant is exact across
/// every DST change, and calendars show it in the viewer's zone. The one writer of the booking `.ics` and the feeds.
public enum ICalendar {
    /// A `VCALENDAR` with `events`. A subscribed feed passes `refreshSeconds` (written as `REFRESH-INTERVAL` and
    /// `X-PUBLISHED-TTL`, how often a calendar should fetch it again) and the shop's IANA zone as `timeZoneHint`
    /// (`X-WR-TIMEZONE`, the zone clients show it in; the times themselves stay UTC).
    public static func document(
        events: [ICalendarEvent], productID: String, name: String? = nil, refreshSeconds: Int64? = nil,
        timeZoneHint: String? = nil
    ) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + escape(productID), "CALSCALE:GREGORIAN"]
        if let name { lines.append("X-WR-CALNAME:" + escape(name)) }
        if let timeZoneHint { lines.append("X-WR-TIMEZONE:" + escape(timeZoneHint)) }
        if let refreshSeconds {
            lines += [
                "REFRESH-INTERVAL;VALUE=DURATION:" + duration(refreshSeconds),
                "X-PUBLISHED-TTL:" + duration(refreshSeconds),
            ]
        }
        for event in events {
            lines += ["BEGIN:VEVENT", "UID:" + escape(event.uid), "SEQUENCE:\(max(0, event.sequence))"]
            lines += [
                "DTSTAMP:" + utc(event.stamp), "DTSTART:" + utc(event.start), "DTEND:" + utc(event.end),
                "SUMMARY:" + escape(event.summary),
            ]
            if let description = event.description { lines.append("DESCRIPTION:" + escape(description)) }
            if let location = event.location { lines.append("LOCATION:" + escape(location)) }
            // A URI value is not TEXT: it is written as is (control characters are dropped, not escaped).
            if let url = event.url { lines.append("URL:" + url.filter { !($0.asciiValue.map { $0 < 0x20 } ?? false) }) }
            lines += ["STATUS:" + event.status.rawValue, "END:VEVENT"]
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined()
    }

    /// A positive duration as RFC 5545 writes it (`P1D`, `PT1H30M`, `PT15M`), to the whole minute (at least one).
    public static func duration(_ seconds: Int64) -> String {
        let minutes = max(1, seconds / 60)
        let (days, hours, rest) = (minutes / 1440, minutes / 60 % 24, minutes % 60)
        var text = "P" + (days > 0 ? "\(days)D" : "")
        if hours > 0 || rest > 0 {
            // dur-hour may be followed by dur-minute, never skip to seconds: whole minutes only.
            text += "T" + (hours > 0 ? "\(hours)H" : "") + (rest > 0 ? "\(rest)M" : "")
        }
        return text
    }

    /// A TEXT value escaped: backslash, semicolon and comma get a backslash, a line break becomes `\n`, other
    /// control characters are dropped.
    public static func escape(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0x5C || $0 == 0x3B || $0 == 0x2C }) {
            return text
        }
        var out = ""
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\r": out += "\\n"
            case "\n": if !previousWasCR { out += "\\n" }
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One content line with its CRLF, folded so no physical line exceeds 75 octets (continuations start with a
    /// space, which counts), never inside a UTF-8 sequence: it folds between Unicode scalars, so even a character
    /// of many scalars (an emoji sequence) cannot push a line past the limit.
    public static func fold(_ line: String) -> String {
        // Most lines are short: a feed of thousands of events is mostly this path.
        if line.utf8.count <= 75 { return line + "\r\n" }
        var out = ""
        var octets = 0
        for scalar in line.unicodeScalars {
            let size = UTF8.width(scalar)
            if octets + size > 75 {
                out += "\r\n "
                octets = 1
            }
            out.unicodeScalars.append(scalar)
            octets += size
        }
        return out + "\r\n"
    }

    /// `YYYYMMDDTHHMMSSZ`.
    public static func utc(_ instant: Int64) -> String {
        let days = Int(instant >= 0 ? instant / 86_400 : (instant - 86_399) / 86_400)
        let seconds = Int(instant - Int64(days) * 86_400)
        let (year, month, day) = LocalDate(daysSinceEpoch: days).parts
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return yearText + two(month) + two(day) + "T" + two(seconds / 3600) + two(seconds / 60 % 60)
            + two(seconds % 60) + "Z"
    }
}
