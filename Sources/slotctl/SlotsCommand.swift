import ArgumentParser
import Foundation
import SlotCore
import SlotEngine
import SlotRules

/// `slotctl slots`: bookable starts computed offline from rule files.
struct SlotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slots",
        abstract: "List the bookable starts of a service, computed from rule files (no daemon needed).",
        discussion: """
            Reads the rules directory, then lists every start offered for the service between --from and --to \
            (local dates, inclusive; a start's date counts), as seen at --now, with the existing bookings of \
            --bookings taken into account. docs/availability.md explains how availability is computed.

            The bookings file is a JSON array of {"staff", "service", "start", "variant"?, "id"?}; "start" is \
            an ISO-8601 instant with an offset (2026-03-10T09:00:00+01:00) or a local wall time \
            (2026-03-10T09:00).

            --json prints exactly [{"start", "end", "staff"}] with ISO-8601 instants carrying the zone's offset.

            Exit codes: 0 success, 1 the rules have errors, 2 an unknown service, variant or staff member \
            (with a suggestion), 65 a bad bookings file, 66 a path cannot be read, 64 bad options.

            Examples:
              slotctl slots --rules Rules --service haircut \\
                --from 2026-03-10 --to 2026-03-14
              slotctl slots --rules Rules --service haircut --variant long \\
                --staff lena --from 2026-03-10 --to 2026-03-10 \\
                --now 2026-03-09T12:00:00+01:00 --json
              slotctl slots --rules Rules --service colour --bookings what-if.json \\
                --from 2026-03-10 --to 2026-03-10
            """)

    @OptionGroup var common: AvailabilityOptions

    @Option(
        help: ArgumentHelp(
            "A staff member's id, or 'any' for the first free one in declared order.", valueName: "ID|any"))
    var staff: String = "any"

    @Option(help: ArgumentHelp("First local date of a start (inclusive).", valueName: "YYYY-MM-DD"))
    var from: String

    @Option(help: ArgumentHelp("Last local date of a start (inclusive).", valueName: "YYYY-MM-DD"))
    var to: String

    @Flag(help: "Print a JSON array of {\"start\", \"end\", \"staff\"} instead of a table.")
    var json = false

    func validate() throws {
        guard let first = LocalDate(iso: from) else {
            throw ValidationError("--from '\(from)' is not a date: write YYYY-MM-DD")
        }
        guard let last = LocalDate(iso: to) else {
            throw ValidationError("--to '\(to)' is not a date: write YYYY-MM-DD")
        }
        guard first <= last else { throw ValidationError("--to \(to) is before --from \(from)") }
        guard last.daysSinceEpoch - first.daysSinceEpoch <= 3660 else {
            throw ValidationError("--from \(from) --to \(to) spans more than ten years: ask for a shorter window")
        }
    }

    func run() throws {
        guard let first = LocalDate(iso: from), let last = LocalDate(iso: to) else { throw ExitCode(64) }
        let context = try OfflineAvailability.load(common)
        let choice = try context.staffChoice(staff)
        let slots = context.engine.slots(
            for: context.offering, staff: choice, from: first, through: last, now: context.now,
            bookings: context.bookings)
        let zone = context.rules.shop.timeZone
        if json {
            let objects = slots.map { slot in
                "{\"start\": \(jsonString(zone.iso8601(instant: slot.start))), "
                    + "\"end\": \(jsonString(zone.iso8601(instant: slot.end))), \"staff\": \(jsonString(slot.staff))}"
            }
            print("[" + objects.joined(separator: ", ") + "]")
            return
        }
        let who = choice == .any ? "any staff member" : context.staffName(staff)
        print(
            "\(context.offering.name) (\(Minutes.format(context.offering.durationMinutes))) — \(who), \(first) to "
                + "\(last) (\(zone.identifier))")
        if slots.isEmpty {
            print("No bookable starts. Try `slotctl explain` with one of the times for the reasons.")
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
}

/// Options `slots` and `explain` share.
struct AvailabilityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The rules directory (or a YAML file).", valueName: "DIR"))
    var rules: String = "Rules"

    @Option(help: ArgumentHelp("The service id, e.g. haircut.", valueName: "ID"))
    var service: String

    @Option(help: ArgumentHelp("A variant of the service, e.g. long.", valueName: "ID"))
    var variant: String?

    @Option(
        help: ArgumentHelp(
            "The moment to judge from (notice and horizon count from it); default: now.", valueName: "INSTANT"))
    var now: String?

    @Option(
        help: ArgumentHelp(
            "A JSON file of existing bookings: [{\"staff\", \"service\", \"start\", \"variant\"?, \"id\"?}].",
            valueName: "FILE"))
    var bookings: String?
}

/// The rules, offering, bookings and moment that `slots` and `explain` work from.
struct OfflineAvailability {
    let rules: RuleSet
    let engine: AvailabilityEngine
    let offering: ServiceOffering
    let now: Int64
    let bookings: [BookedSpan]

    /// Loads everything the options name; prints what is wrong and exits when something is.
    static func load(_ options: AvailabilityOptions) throws -> OfflineAvailability {
        let input: (sources: [RuleSource], attachments: [String: String])
        do {
            input = try RuleDirectory.read([options.rules])
        } catch {
            throw fail(error.description, exitCode: 66)
        }
        let result = RuleLoader.load(input.sources, attachments: input.attachments)
        guard let rules = result.ruleSet else {
            for diagnostic in result.diagnostics { standardError("\(diagnostic)") }
            throw fail(
                "the rules in \(options.rules) have errors — run `slotctl rules check \(options.rules)`", exitCode: 1)
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

/// A JSON string literal.
func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
