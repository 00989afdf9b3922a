import ArgumentParser
import Foundation
import SlotAPI
import SlotCore
import SlotEngine
import SlotRules

/// `slotctl explain`: why a start is or is not bookable, asked of the daemon or, with `--rules DIR`, judged offline
/// from rule files.
struct ExplainCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say whether a start is bookable and, if not, every reason why (slotd, or offline with --rules).",
        discussion: """
            Judges one start for one service and staff member exactly as booking would: hours, breaks, \
            holidays, time off, overrides, other bookings and their buffers, resources, daily limits, the \
            minimum notice, the horizon and the slot grid. A start that is not bookable gets every reason that \
            applies and the nearest starts that are offered for that staff member. docs/availability.md lists \
            the reasons.

            Without --rules it asks the running slotd (GET /v1/slots/explain), with its current bookings and \
            clock; --json prints the daemon's answer as is: {"service", "staff", "at", "bookable", \
            "reasons": [{"code", "message"}], "nearest": [{"start", "end", "staff"}]}. With --rules DIR it needs \
            no daemon and judges the rule files as seen at --now with the bookings of --bookings (both offline \
            only); --json then prints {"bookable", "service", "variant"?, "start", "end", "staff", "reasons": \
            [{"code", "message", "staff"?}], "nearest"}.

            --at is a local wall time (2026-03-10T09:00, 10:00 for today, tomorrow 10:00, tue 10:00; one in a \
            spring-forward gap does not exist, a repeated one means its first occurrence) or an instant with an \
            offset (2026-03-10T09:00:00+01:00).

            \(OnlineExit.help) A start that is not bookable is still exit 0: see the output, or "bookable" in --json.
            Offline exit codes: 0 the start was judged, 1 the rules have errors, 2 an unknown service, variant or \
            staff member (with a suggestion), 65 a bad bookings file, 66 a path cannot be read, 64 bad options.

            Examples:
              slotctl explain --service haircut --staff lena --at "tomorrow 10:15"
              slotctl explain --rules Rules --service haircut --staff lena \\
                --at 2026-03-10T12:00
              slotctl explain --rules Rules --service colour --staff mehmet \\
                --at 2026-03-10T13:15 --now 2026-03-09T18:00:00+01:00 \\
                --bookings what-if.json --json
            """)

    @OptionGroup var common: AvailabilityOptions
    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Option(help: ArgumentHelp("The staff member's id (or 'any').", valueName: "ID"))
    var staff: String

    @Option(help: ArgumentHelp("The start: a local wall time or an instant with an offset.", valueName: "TIME"))
    var at: String

    func run() throws {
        guard let rules = common.rules else { return try runOnline() }
        try runOffline(rules: rules)
    }

    // MARK: - Online

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let start = try CounterInput(client: client).start(at, option: "--at")
        let query: [(String, String?)] = [
            ("service", common.service), ("variant", common.variant), ("staff", staff), ("at", start),
        ]
        let (explanation, raw) = try client.call("GET", "/v1/slots/explain", query: query, as: Explanation.self)
        if connection.json { return emitJSON(raw) }
        emit(Self.render(explanation))
    }

    static func render(_ explanation: Explanation) -> String {
        var verdict = explanation.bookable ? "bookable" : "not bookable"
        if explanation.bookable, let price = explanation.price, let end = explanation.end {
            verdict += " (\(price.display), until \(TimeText.time(end)))"
        }
        var lines = [
            "\(explanation.service) with \(explanation.staff) at \(TimeText.dayAndTime(explanation.at)) "
                + "(\(explanation.at)): \(verdict)"
        ]
        for reason in explanation.reasons { lines.append("  - \(TimeText.humanized(reason.message))") }
        if !explanation.bookable {
            if explanation.nearest.isEmpty {
                lines.append("No offered starts near it.")
            } else {
                lines.append("Nearest offered starts:")
                for offer in explanation.nearest {
                    lines.append("  \(TimeText.span(offer.start, offer.end))  \(offer.staff)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The start as given: a wall time to resolve in the shop's zone, or an instant.
    enum Start {
        case wall(LocalDateTime)
        case instant(Int64)
    }

    static func parseStart(_ text: String, zone: ShopTimeZone) -> Start? {
        if let wall = LocalDateTime(iso: text) { return .wall(wall) }
        // A wall time with seconds (`…T09:00:00`) and no offset.
        if text.utf8.count == 19, text.hasSuffix(":00"), let wall = LocalDateTime(iso: text.dropLast(3)) {
            return .wall(wall)
        }
        return zone.parseInstant(text).map(Start.instant)
    }

    // MARK: - Offline

    private func runOffline(rules directory: String) throws {
        let context = try OfflineAvailability.load(common, rules: directory)
        let choice = try context.staffChoice(staff)
        let zone = context.rules.shop.timeZone
        let today = zone.localDateTime(atInstant: context.now).date
        guard let start = Self.parseStart(at, zone: zone) ?? CalendarWords.wallTime(at, today: today).map(Start.wall)
        else {
            throw OfflineAvailability.fail(
                "--at '\(at)' is not a time: write \(CalendarWords.timeHelp), or 2026-03-10T09:00:00+01:00",
                exitCode: 64)
        }
        let engine = context.engine
        let decision: Decision
        let instant: Int64
        switch start {
        case .wall(let wall):
            decision = engine.decide(
                offering: context.offering, staff: choice, wallTime: wall, now: context.now, bookings: context.bookings)
            instant = zone.instant(atWallMinute: wall.wallMinute)
        case .instant(let value):
            decision = engine.decide(
                offering: context.offering, staff: choice, start: value, now: context.now, bookings: context.bookings)
            instant = value
        }
        let nearest =
            decision.isBookable
            ? []
            : engine.nearestSlots(
                for: context.offering, staff: choice, around: instant, now: context.now, bookings: context.bookings)
        // The staff member's own terms (price, duration) where they have them.
        let terms = context.offering.performed(by: decision.slot?.staff ?? staff)
        let end = decision.slot?.end ?? instant + Int64(terms.durationMinutes) * 60

        if connection.json {
            let answer = OfflineExplanation(
                bookable: decision.isBookable, service: context.offering.serviceIDs.joined(separator: "+"),
                variant: common.variant, start: zone.iso8601(instant: instant), end: zone.iso8601(instant: end),
                staff: decision.slot?.staff ?? staff, price: terms.price.description,
                reasons: decision.reasons.map { .init(code: $0.code, message: $0.message, staff: $0.staff) },
                nearest: nearest.map {
                    .init(start: zone.iso8601(instant: $0.start), end: zone.iso8601(instant: $0.end), staff: $0.staff)
                })
            print(String(decoding: try JSONCoding.encoder.encode(answer), as: UTF8.self))
            return
        }

        let local = zone.localDateTime(atInstant: instant)
        let who =
            decision.slot.map { context.staffName($0.staff) }
            ?? (choice == .any ? "any staff member" : context.staffName(staff))
        let when: String
        if case .wall(let wall) = start, !zone.exists(wallMinute: wall.wallMinute) {
            when = "\(wall.date.weekday) \(wall) (\(zone.identifier))"
        } else {
            when = "\(local.date.weekday) \(zone.iso8601(instant: instant))"
        }
        let verdict = decision.isBookable
            ? "bookable (\(terms.price), \(Minutes.format(terms.durationMinutes)))" : "not bookable"
        print("\(context.offering.name) with \(who) at \(when): \(verdict)")
        for reason in decision.reasons {
            let about = reason.staff.map { "\(context.staffName($0)): " } ?? ""
            print("  - \(about)\(reason.message)")
        }
        if !decision.isBookable {
            if nearest.isEmpty {
                print("No offered starts within two weeks of it.")
            } else {
                print("Nearest offered starts:")
                for slot in nearest {
                    let day = zone.localDateTime(atInstant: slot.start).date
                    print("  \(day.weekday) \(day) \(context.clockSpan(slot))  \(context.staffName(slot.staff))")
                }
            }
        }
    }
}

/// `slotctl explain --json` without a daemon: the engine's decision for one start, with the end it would have.
struct OfflineExplanation: Encodable {
    struct Reason: Encodable {
        var code: String
        var message: String
        /// The staff member the reason is about, when it is about one.
        var staff: String?
    }

    struct Start: Encodable {
        var start: String
        var end: String
        var staff: String
    }

    var bookable: Bool
    var service: String
    var variant: String?
    var start: String
    var end: String
    var staff: String
    /// What it costs with that staff member (`18.00 EUR`).
    var price: String
    var reasons: [Reason]
    var nearest: [Start]
}
