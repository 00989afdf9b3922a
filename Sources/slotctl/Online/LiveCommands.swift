import ArgumentParser
import Foundation
import SlotAPI
import SlotCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `slotctl events`: the durable event log, and with `--follow` the live stream after it.
struct EventsCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Print the event log; --follow keeps printing new events live.",
        discussion: """
            Each line: cursor, time, type, and the event's data. Resume where you left off with --since CURSOR.
            --json prints the daemon's NDJSON lines as they come (heartbeat lines included, so a script always \
            knows the cursor to resume from).
            \(OnlineExit.help(
                examples: "slotctl events --since 120", "slotctl events --follow --type 'booking.*' --json"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Flag(name: .shortAndLong, help: "Keep the stream open and print new events as they happen.")
    var follow = false
    @Option(help: "Only events after this cursor (default 0: the whole log).") var since: Int64?
    @Option(help: "Only this event type, or a prefix ending in * (booking.*).") var type: String?
    @Option(help: "Stop after this many events.") var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let since, since < 0 { throw ValidationError("--since must be a cursor (0 or more)") }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let query: [(String, String?)] = [
            ("since", since.map { String($0) }), ("type", type), ("follow", follow ? "true" : "false"),
        ]
        var printed = 0
        try client.stream("/v1/events", query: query) { line in
            let event = try? JSONCoding.decoder.decode(EventLine.self, from: Data(line.utf8))
            if connection.json {
                emit(line)
            } else if let event {
                if event.isControl {
                    if event.type == EventLine.overflowType {
                        FileHandle.standardError.write(
                            Data("slotctl: fell behind; resume with --since \(event.cursor)\n".utf8))
                    }
                    return true
                }
                emit(EventText.line(event))
            } else {
                emit(line)
            }
            if let event, !event.isControl { printed += 1 }
            if let limit, printed >= limit { return false }
            return true
        }
    }
}

/// People's view of an event line.
enum EventText {
    static func line(_ event: EventLine) -> String {
        "#\(event.cursor)  \(event.at)  \(event.type)  \(summary(event.data))"
    }

    /// The interesting members of an event's data, in a stable order: ids and times first, the rest after.
    static func summary(_ data: JSONValue) -> String {
        guard case .object(let members) = data else { return compact(data) }
        let first = ["id", "booking", "status", "staff", "service", "start", "end", "version"]
        var parts: [String] = []
        for key in first { if let value = members[key] { parts.append("\(key)=\(compact(value))") } }
        for key in members.keys.sorted() where !first.contains(key) {
            parts.append("\(key)=\(compact(members[key] ?? .null))")
        }
        let text = parts.joined(separator: " ")
        return text.count > 300 ? String(text.prefix(299)) + "…" : text
    }

    static func compact(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number: return value.intValue.map { String($0) } ?? "\(value)"
        case .string(let text): return text.contains(" ") ? "\"\(text)\"" : text
        case .array(let items): return "[" + items.map(compact).joined(separator: ",") + "]"
        case .object:
            return (try? JSONCoding.encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{…}"
        }
    }
}

/// `slotctl watch`: the barber's live view of a day — bookings per staff member, redrawn whenever anything changes.
struct WatchCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Live view of today's bookings per staff member.",
        discussion: """
            Draws the day's bookings per staff member (time, customer, phone, service, status, deposit, notes), \
            marks bookings the rules in force no longer allow and a rule reload that was rejected, then listens \
            to the event stream and redraws the moment a \
            booking is made, moved, cancelled, completed or expires, or the rules are reloaded. On a terminal the \
            screen is cleared between draws; into a pipe each draw is appended, separated by a blank line. \
            If slotd stops, watch waits for it and carries on where it left off. Stop with Ctrl-C.
            \(OnlineExit.help(examples: "slotctl watch", "slotctl watch --date tomorrow", "slotctl watch --date sat"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Option(help: "The local date to show: YYYY-MM-DD, today, tomorrow or a weekday (default: the shop's today).")
    var date: String?
    @Option(help: "Seconds between reconnection attempts when slotd is away.") var retry: Int = 2

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let clear = isatty(STDOUT_FILENO) == 1
        // The first round must work, so a wrong socket or role is reported at once instead of retried forever.
        var cursor = try latestCursor(client)
        try draw(client, clear: clear)
        while true {
            do {
                try client.stream("/v1/events", query: [("since", String(cursor))]) { line in
                    guard let event = try? JSONCoding.decoder.decode(EventLine.self, from: Data(line.utf8)) else {
                        return true
                    }
                    cursor = max(cursor, event.cursor)
                    if event.isControl { return true }
                    do throws(OnlineFailure) {
                        try draw(client, clear: clear)
                    } catch {
                        return false
                    }
                    return true
                }
            } catch {
                if case .problem = error { throw error }
                if !clear { emit("-- slotd is away (\(Self.reason(error))); retrying every \(retry)s") }
            }
            // The stream ended: the daemon restarted, or we fell behind (overflow). Reconnect from the cursor and
            // redraw, since events may have happened while we were away.
            sleep(UInt32(max(1, retry)))
            if (try? draw(client, clear: clear)) == nil, clear {
                FileHandle.standardOutput.write(Data("\u{1B}[H\u{1B}[2Jslotd is away — waiting for it…\n".utf8))
            }
        }
    }

    private static func reason(_ failure: OnlineFailure) -> String {
        if case .transport(let error) = failure { return error.detail }
        return "stream ended"
    }

    /// The cursor of the newest event, so the live stream starts after it.
    private func latestCursor(_ client: SlotdClient) throws(OnlineFailure) -> Int64 {
        var cursor: Int64 = 0
        try client.stream("/v1/events", query: [("follow", "false")]) { line in
            if let event = try? JSONCoding.decoder.decode(EventLine.self, from: Data(line.utf8)) {
                cursor = max(cursor, event.cursor)
            }
            return true
        }
        return cursor
    }

    private func draw(_ client: SlotdClient, clear: Bool) throws(OnlineFailure) {
        let rules = try client.call("GET", "/v1/rules", as: RulesSummary.self).value
        let today = TimeText.today(in: rules.shop.timezone)
        var day = today
        if let date {
            guard let chosen = LocalDate(iso: today).flatMap({ CalendarWords.date(date, today: $0) }) else {
                throw .usage("--date '\(date)' is not a date: write \(CalendarWords.dateHelp)")
            }
            day = chosen.description
        }
        let (list, raw) = try client.call(
            "GET", "/v1/bookings", query: [("from", day), ("to", day)], as: BookingList.self)
        var out = ""
        if clear { out += "\u{1B}[H\u{1B}[2J" }
        if connection.json {
            out += String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .newlines) + "\n"
        } else {
            let names = CatalogNames.fetch(client)
            // What needs the desk's attention; a role that may not read them just goes without.
            let conflicts = (try? client.call(
                "GET", "/v1/bookings", query: [("conflicts", "true")], as: BookingConflictList.self).value.conflicts)
            let reload = (try? client.call("GET", "/v1/status", as: DaemonStatus.self).value.lastReload)
            out += render(
                rules: rules, day: day, names: names, bookings: list.bookings, conflicts: conflicts ?? [],
                rejectedReload: reload.flatMap { $0.outcome == "rejected" ? $0 : nil })
            if !clear { out += "\n" }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    func render(
        rules: RulesSummary, day: String, names: CatalogNames, bookings: [BookingDetails],
        conflicts: [BookingConflict], rejectedReload: DaemonStatus.ReloadState?
    ) -> String {
        let active = bookings.filter { $0.status != .cancelled && $0.status != .expired }
        let updated = SlotsCommand.stamp(zone: rules.shop.timezone)
        var lines = ["\(rules.shop.name) — \(TimeText.day(day)) — updated \(updated)"]
        if let reload = rejectedReload {
            lines.append(
                "! rule reload rejected \(TimeText.dayAndTime(reload.at)) (\(reload.trigger)): \(reload.message)"
                    + " — the previous rules keep serving; fix the files (slotctl rules check)")
        }
        let inConflict = Dictionary(conflicts.map { ($0.booking, $0.reasons) }, uniquingKeysWith: { first, _ in first })
        // Bookings of someone no longer in the rules still show, under their id, after the current staff.
        var columns: [(id: String, name: String)] = names.staff.map { ($0.id, $0.name) }
        for booking in active where !columns.contains(where: { $0.id == booking.staff }) {
            columns.append((booking.staff, booking.staff))
        }
        for member in columns {
            let theirs = active.filter { $0.staff == member.id }.sorted { $0.start < $1.start }
            lines.append("")
            lines.append("\(member.name) (\(member.id)) — \(theirs.count) booking\(theirs.count == 1 ? "" : "s")")
            if theirs.isEmpty {
                lines.append("  (free all day)")
                continue
            }
            var table = TextTable("TIME", "CUSTOMER", "PHONE", "SERVICE", "STATUS", "DEPOSIT", "NOTES", "ID")
            var marks: [Int: String] = [:]
            for booking in theirs {
                let notes = (booking.notes ?? "").replacingOccurrences(of: "\n", with: " ")
                table.add(
                    "\(TimeText.time(booking.start))–\(TimeText.time(booking.end))", booking.customer.name,
                    booking.customer.phone ?? "-", names.services(booking.services, variant: booking.variant),
                    booking.status.rawValue, BookingText.deposit(booking),
                    notes.isEmpty ? "-" : String(notes.prefix(40)), booking.id)
                if let reasons = inConflict[booking.id] {
                    marks[table.rows.count] =
                        "    ! not allowed by the rules in force (they changed, or it was forced): "
                        + reasons.map { TimeText.humanized($0.message) }.joined(separator: "; ")
                }
            }
            // The table's lines, each conflict under its booking's row (line 0 is the header).
            for (index, line) in table.rendered.split(separator: "\n").enumerated() {
                lines.append("  " + line)
                if let mark = marks[index] { lines.append(mark) }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
