import ArgumentParser
import Foundation
import SlotCore
import SlotEngine
import SlotRules

/// `slotctl explain`: why a start is or is not bookable.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say whether a start is bookable and, if not, every reason why.",
        discussion: """
            Judges one start for one service and staff member exactly as booking would: hours, breaks, \
            holidays, time off, overrides, other bookings and their buffers, resources, daily limits, the \
            minimum notice, the horizon and the slot grid. A start that is not bookable gets every reason that \
            applies and the nearest starts that are offered for that staff member. docs/availability.md lists \
            the reasons.

            --at is a local wall time (2026-03-10T09:00; one in a spring-forward gap does not exist, a repeated \
            one means its first occurrence) or an instant with an offset (2026-03-10T09:00:00+01:00).

            Exit codes: 0 the start was judged (bookable or not: see the output, or "bookable" in --json), \
            1 the rules have errors, 2 an unknown service, variant or staff member (with a suggestion), \
            65 a bad bookings file, 66 a path cannot be read, 64 bad options.

            Examples:
              slotctl explain --rules Rules --service haircut --staff lena \\
                --at 2026-03-10T12:00
              slotctl explain --rules Rules --service colour --staff mehmet \\
                --at 2026-03-10T13:15 --now 2026-03-09T18:00:00+01:00 \\
                --bookings what-if.json --json
            """)

    @OptionGroup var common: AvailabilityOptions

    @Option(help: ArgumentHelp("The staff member's id (or 'any').", valueName: "ID"))
    var staff: String

    @Option(help: ArgumentHelp("The start: a local wall time or an instant with an offset.", valueName: "TIME"))
    var at: String

    @Flag(help: "Print {\"bookable\", \"start\", \"end\", \"staff\", \"reasons\", \"nearest\"} as JSON.")
    var json = false

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

    func run() throws {
        let context = try OfflineAvailability.load(common)
        let choice = try context.staffChoice(staff)
        let zone = context.rules.shop.timeZone
        guard let start = Self.parseStart(at, zone: zone) else {
            throw OfflineAvailability.fail(
                "--at '\(at)' is not a time: write 2026-03-10T09:00 (local) or 2026-03-10T09:00:00+01:00",
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
        let end = instant + Int64(context.offering.durationMinutes) * 60

        if json {
            var object: [String: Any] = [
                "bookable": decision.isBookable,
                "service": context.offering.serviceIDs.joined(separator: "+"),
                "start": zone.iso8601(instant: instant),
                "end": zone.iso8601(instant: end),
                "staff": decision.slot?.staff ?? staff,
                "reasons": decision.reasons.map { reason -> [String: Any] in
                    var item: [String: Any] = ["code": reason.code, "message": reason.message]
                    if let staff = reason.staff { item["staff"] = staff }
                    return item
                },
                "nearest": nearest.map {
                    ["start": zone.iso8601(instant: $0.start), "end": zone.iso8601(instant: $0.end), "staff": $0.staff]
                },
            ]
            if let variant = common.variant { object["variant"] = variant }
            let data = try JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
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
        print("\(context.offering.name) with \(who) at \(when): \(decision.isBookable ? "bookable" : "not bookable")")
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
