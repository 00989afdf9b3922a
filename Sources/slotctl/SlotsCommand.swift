import ArgumentParser
import Foundation
import SlotAPI
import SlotCore
import SlotEngine
import SlotRuleFiles
import SlotRules

/// `slotctl slots`: bookable starts, from the running daemon or, with `--rules DIR`, computed offline from rule
/// files.
struct SlotsCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "slots",
        abstract: "List the bookable starts of a service: from slotd, or offline from rule files with --rules DIR.",
        discussion: """
            Without --rules it asks the running slotd (GET /v1/slots), so current bookings and holds count; \
            --from defaults to the shop's today and --to to --from. Dates are YYYY-MM-DD, today, tomorrow or a \
            weekday (tue, Tuesday: the next one after today), in the shop's zone (offline: as of --now). \
            With --watch it prints the list again each \
            time it changes (a booking, a cancellation, a hold expiring, a rule reload); stop with Ctrl-C. \
            --json prints the daemon's answer as is: {"service", "staff", "from", "to", "rules_version", \
            "slots": [{"start", "end", "staff"}]}.

            With --rules DIR it needs no daemon: it reads the rules directory and lists every start offered \
            between --from and --to (local dates, inclusive, both required; a start's date counts), as seen at \
            --now, with the bookings of --bookings taken into account. --now and --bookings only apply offline; \
            --watch only online. The bookings file is a JSON array of {"staff", "service", "start", "variant"?, \
            "id"?}; "start" is an ISO-8601 instant with an offset (2026-03-10T09:00:00+01:00) or a local wall \
            time (2026-03-10T09:00). --json prints the daemon's shape, with the rules version of the files read \
            and ISO-8601 instants carrying the zone's offset. docs/availability.md explains how availability is \
            computed.

            \(OnlineExit.help)
            Offline exit codes: 0 success, 1 the rules have errors, 2 an unknown service, variant or staff member \
            (with a suggestion), 65 a bad bookings file, 66 a path cannot be read, 64 bad options.

            Examples:
              slotctl slots --service haircut --staff lena --from tomorrow
              slotctl slots --service haircut --variant long --from tue --to sat --json
              slotctl slots --service haircut --watch
              slotctl slots --rules Rules --service haircut \\
                --from 2026-03-10 --to 2026-03-14
              slotctl slots --rules Rules --service haircut --variant long \\
                --staff lena --from 2026-03-10 --to 2026-03-10 \\
                --now 2026-03-09T12:00:00+01:00 --json
              slotctl slots --rules Rules --service colour --bookings what-if.json \\
                --from 2026-03-10 --to 2026-03-10
            """)

    @OptionGroup var common: AvailabilityOptions
    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Option(
        help: ArgumentHelp(
            "A staff member's id, or 'any' (default) for a free one, picked by the rules' assign policy.", valueName: "ID|any"))
    var staff: String?

    @Option(
        help: ArgumentHelp(
            "First local date of a start (inclusive); online the default is the shop's today.",
            valueName: "DATE"))
    var from: String?

    @Option(
        help: ArgumentHelp(
            "Last local date of a start (inclusive); online the default is --from.", valueName: "DATE"))
    var to: String?

    @Flag(help: "Online only: keep listening and print the list again whenever it changes.")
    var watch = false

    func validate() throws {
        if common.rules != nil {
            if watch {
                throw ValidationError(
                    "--watch needs the running daemon: leave out --rules (offline slots never change by themselves)")
            }
            guard from != nil else { throw ValidationError("--from is required with --rules (YYYY-MM-DD)") }
            guard to != nil else { throw ValidationError("--to is required with --rules (YYYY-MM-DD)") }
        }
        // Words are read against the shop's today later; here only whether they are dates at all.
        let anyDay = LocalDate(daysSinceEpoch: 0)
        if let from, CalendarWords.date(from, today: anyDay) == nil {
            throw ValidationError("--from '\(from)' is not a date: write \(CalendarWords.dateHelp)")
        }
        if let to, CalendarWords.date(to, today: anyDay) == nil {
            throw ValidationError("--to '\(to)' is not a date: write \(CalendarWords.dateHelp)")
        }
        if let first = from.flatMap(LocalDate.init(iso:)), let last = to.flatMap(LocalDate.init(iso:)) {
            guard first <= last else { throw ValidationError("--to \(last) is before --from \(first)") }
            guard last.daysSinceEpoch - first.daysSinceEpoch <= 3660 else {
                throw ValidationError(
                    "--from \(first) --to \(last) spans more than ten years: ask for a shorter window")
            }
        }
    }

    func run() throws {
        guard let rules = common.rules else { return try runOnline() }
        try runOffline(rules: rules)
    }

    // MARK: - Offline

    private func runOffline(rules directory: String) throws {
        let context = try OfflineAvailability.load(common, rules: directory)
        let today = context.rules.shop.timeZone.localDateTime(atInstant: context.now).date
        guard let from, let to, let first = CalendarWords.date(from, today: today),
            let last = CalendarWords.date(to, today: today)
        else { throw ExitCode(64) }
        guard first <= last else {
            throw OfflineAvailability.fail("--to \(last) is before --from \(first)", exitCode: 64)
        }
        let staff = self.staff ?? "any"
        let choice = try context.staffChoice(staff)
        let slots = context.engine.slots(
            for: context.offering, staff: choice, from: first, through: last, now: context.now,
            bookings: context.bookings)
        let zone = context.rules.shop.timeZone
        if connection.json {
            // The daemon's shape and encoder, so `--json` reads the same online and offline.
            let list = SlotList(
                service: common.service, staff: choice.description, from: first.description, to: last.description,
                rulesVersion: Self.daemonRulesVersion(directory) ?? context.rules.version,
                slots: slots.map {
                    SlotOffer(
                        start: zone.iso8601(instant: $0.start), end: zone.iso8601(instant: $0.end), staff: $0.staff)
                })
            return emitJSON(try JSONCoding.encoder.encode(list))
        }
        let who = choice == .any ? "any staff member" : context.staffName(staff)
        print(
            "\(context.offering.name) (\(Minutes.format(context.offering.durationMinutes))) — \(who), \(first) to "
                + "\(last) (\(zone.identifier))")
        if slots.isEmpty {
            print(
                "No bookable starts. Try `slotctl explain --rules \(directory)` with one of the times for the "
                    + "reasons.")
            return
        }
        var currentDate: LocalDate?
        for slot in slots {
            let start = zone.localDateTime(atInstant: slot.start)
            if start.date != currentDate {
                currentDate = start.date
                print("\(start.date.weekday) \(start.date)")
            }
            print("  \(context.clockSpan(slot))  \(context.staffName(slot.staff))")
        }
        print("\(slots.count) start\(slots.count == 1 ? "" : "s")")
    }

    /// The version slotd would report for these rules: it names files by file name, where the offline load names
    /// them by path (for diagnostics), and the names are part of the version.
    private static func daemonRulesVersion(_ directory: String) -> String? {
        guard let files = try? RuleDirectory.read([directory], naming: .fileName) else { return nil }
        return RuleLoader.load(files.sources, attachments: files.attachments).ruleSet?.version
    }

    // MARK: - Online

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let input = CounterInput(client: client)
        let first: String
        if let from { first = try input.date(from, option: "--from") } else { first = try shopToday(client) }
        let last = try to.map { text throws(OnlineFailure) in try input.date(text, option: "--to") } ?? first
        let query: [(String, String?)] = [
            ("service", common.service), ("variant", common.variant), ("staff", staff), ("from", first),
            ("to", last),
        ]
        guard watch else {
            let (list, raw) = try client.call("GET", "/v1/slots", query: query, as: SlotList.self)
            if connection.json { return emitJSON(raw) }
            emit(Self.render(list))
            return
        }
        var failure: OnlineFailure?
        try client.stream("/v1/slots", query: query + [("watch", "true")]) { line in
            if connection.json {
                emit(line)
                return true
            }
            do throws(OnlineFailure) {
                let list = try SlotdClient.decode(SlotList.self, Data(line.utf8))
                emit("-- \(Self.stamp())")
                emit(Self.render(list))
            } catch {
                // A heartbeat or another control line is not a slot list; only a real list is shown.
                if !line.contains("\"slots\"") { return true }
                failure = error
                return false
            }
            return true
        }
        if let failure { throw failure }
    }

    static func render(_ list: SlotList) -> String {
        guard !list.slots.isEmpty else {
            return "no free starts for \(list.service) (\(list.staff)) from \(list.from) to \(list.to)"
        }
        var lines: [String] = []
        var day = ""
        for offer in list.slots {
            let date = TimeText.date(offer.start)
            if date != day {
                day = date
                lines.append(TimeText.day(date))
            }
            lines.append("  \(TimeText.time(offer.start))–\(TimeText.time(offer.end))  \(offer.staff)")
        }
        return lines.joined(separator: "\n")
    }

    /// The time now, `HH:mm:ss`, in the shop's zone when known (the client machine may be elsewhere).
    static func stamp(zone: String? = nil) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? .current
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date())
    }
}

/// Options `slots` and `explain` share, online and offline.
struct AvailabilityOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Work offline from this rules directory (or YAML file) instead of asking the daemon.", valueName: "DIR"))
    var rules: String?

    @Option(help: ArgumentHelp("The service id, e.g. haircut.", valueName: "ID"))
    var service: String

    @Option(help: ArgumentHelp("A variant of the service, e.g. long.", valueName: "ID"))
    var variant: String?

    @Option(
        help: ArgumentHelp(
            "Offline only: the moment to judge from (notice and horizon count from it); default: now.",
            valueName: "INSTANT"))
    var now: String?

    @Option(
        help: ArgumentHelp(
            "Offline only: a JSON file of existing bookings: [{\"staff\", \"service\", \"start\", \"variant\"?, "
                + "\"id\"?}].",
            valueName: "FILE"))
    var bookings: String?

    /// `--now` and `--bookings` are what-ifs for rule files; the daemon has its own clock and bookings.
    func validate() throws {
        guard rules == nil else { return }
        if now != nil {
            throw ValidationError(
                "--now only applies offline: add --rules DIR to judge rule files at another moment (the daemon "
                    + "judges from its own clock)")
        }
        if bookings != nil {
            throw ValidationError(
                "--bookings only applies offline: add --rules DIR to try what-if bookings against rule files (the "
                    + "daemon uses its own bookings)")
        }
    }
}

/// The rules, offering, bookings and moment that `slots` and `explain` work from.
struct OfflineAvailability {
    let rules: RuleSet
    let engine: AvailabilityEngine
    let offering: ServiceOffering
    let now: Int64
    let bookings: [BookedSpan]

    /// Loads everything the options name from the rules in `directory`; prints what is wrong and exits when
    /// something is.
    static func load(_ options: AvailabilityOptions, rules directory: String) throws -> OfflineAvailability {
        let input: (sources: [RuleSource], attachments: [String: String])
        do {
            input = try RuleDirectory.read([directory])
        } catch {
            throw fail(error.description, exitCode: 66)
        }
        let result = RuleLoader.load(input.sources, attachments: input.attachments)
        guard let rules = result.ruleSet else {
            for diagnostic in result.diagnostics { standardError("\(diagnostic)") }
            throw fail(
                "the rules in \(directory) have errors — run `slotctl rules check \(directory)`", exitCode: 1)
        }
        let engine = AvailabilityEngine(rules: rules)
        let offering: ServiceOffering
        switch engine.offering(service: options.service, variant: options.variant) {
        case .success(let value): offering = value
        case .failure(let reason):
            let known: [String]
            if case .unknownVariant = reason.kind {
                known = rules.service(options.service)?.variants.map(\.id) ?? []
            } else {
                known = rules.services.map(\.id)
            }
            throw fail(
                reason.message + " — known: " + (known.isEmpty ? "none" : known.joined(separator: ", ")), exitCode: 2)
        }
        let zone = rules.shop.timeZone
        var now = Int64(Date().timeIntervalSince1970.rounded(.down))
        if let text = options.now {
            guard let instant = zone.parseInstant(text) else {
                throw fail(
                    "--now '\(text)' is not an instant: write e.g. 2026-03-10T09:00:00+01:00 (or a local time "
                        + "2026-03-10T09:00)", exitCode: 64)
            }
            now = instant
        }
        var context = OfflineAvailability(rules: rules, engine: engine, offering: offering, now: now, bookings: [])
        if let path = options.bookings { context = try context.reading(bookings: path) }
        return context
    }

    /// `.any` or a known staff member; an unknown id exits with a suggestion.
    func staffChoice(_ text: String) throws -> StaffChoice {
        if text == "any" { return .any }
        guard rules.staffMember(text) != nil else {
            let suggestion = Suggestion.closest(to: text, among: rules.staff.map(\.id))
            throw OfflineAvailability.fail(
                "unknown staff member '\(text)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                    + " — known: " + (rules.staff.isEmpty ? "none" : rules.staff.map(\.id).joined(separator: ", "))
                    + ", or any",
                exitCode: 2)
        }
        return .member(text)
    }

    func staffName(_ id: String) -> String { rules.staffMember(id)?.name ?? id }

    /// `09:00–09:30`, with the offsets when the zone changes its offset within the slot's day.
    func clockSpan(_ slot: Slot) -> String {
        let zone = rules.shop.timeZone
        let start = zone.localDateTime(atInstant: slot.start)
        let end = zone.localDateTime(atInstant: slot.end)
        let dayStart = zone.instant(atWallMinute: start.date.startWallMinute)
        let dayEnd = zone.instant(atWallMinute: start.date.adding(days: 1).startWallMinute)
        let changing = zone.offset(atInstant: dayStart) != zone.offset(atInstant: dayEnd)
        func clock(_ time: LocalDateTime, _ instant: Int64) -> String {
            let text = String(time.description.suffix(5))
            guard changing else { return text }
            return text + String(zone.iso8601(instant: instant).suffix(6))
        }
        return "\(clock(start, slot.start))–\(clock(end, slot.end))"
    }

    /// One existing booking as the file gives it.
    private struct BookingEntry: Decodable {
        var staff: String
        var service: String
        var start: String
        var variant: String?
        var id: String?
    }

    private func reading(bookings path: String) throws -> OfflineAvailability {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OfflineAvailability.fail("\(path): cannot read the bookings file", exitCode: 66)
        }
        let entries: [BookingEntry]
        do {
            entries = try JSONDecoder().decode([BookingEntry].self, from: data)
        } catch {
            throw OfflineAvailability.fail(
                "\(path): not a JSON array of {\"staff\", \"service\", \"start\", \"variant\"?, \"id\"?} "
                    + "(\(Self.describe(error)))", exitCode: 65)
        }
        let zone = rules.shop.timeZone
        var spans: [BookedSpan] = []
        for (index, entry) in entries.enumerated() {
            let label = "\(path): booking \(index + 1)"
            guard rules.staffMember(entry.staff) != nil else {
                let suggestion = Suggestion.closest(to: entry.staff, among: rules.staff.map(\.id))
                throw OfflineAvailability.fail(
                    "\(label): unknown staff member '\(entry.staff)'"
                        + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""),
                    exitCode: 65)
            }
            let offering: ServiceOffering
            switch engine.offering(service: entry.service, variant: entry.variant) {
            case .success(let value): offering = value
            case .failure(let reason): throw OfflineAvailability.fail("\(label): \(reason.message)", exitCode: 65)
            }
            guard let start = zone.parseInstant(entry.start) else {
                throw OfflineAvailability.fail(
                    "\(label): start '\(entry.start)' is not a time: write 2026-03-10T09:00:00+01:00 or "
                        + "2026-03-10T09:00",
                    exitCode: 65)
            }
            spans.append(
                BookedSpan(id: entry.id ?? "#\(index + 1)", staff: entry.staff, start: start, offering: offering))
        }
        return OfflineAvailability(rules: rules, engine: engine, offering: offering, now: now, bookings: spans)
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing \"\(key.stringValue)\"" + at(context.codingPath)
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "wrong type" + at(context.codingPath)
        case .dataCorrupted(let context)?:
            return context.debugDescription
        default:
            return "\(error)"
        }
    }

    private static func at(_ path: [any CodingKey]) -> String {
        guard let index = path.first?.intValue else { return "" }
        return " in booking \(index + 1)"
    }

    /// Prints `slotctl: message` on standard error and returns the exit to throw.
    static func fail(_ message: String, exitCode: Int32) -> ExitCode {
        standardError("slotctl: \(message)")
        return ExitCode(exitCode)
    }
}

func standardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
