import ArgumentParser
import Foundation
import SlotAPI

/// `slotctl status`: is the daemon up, which rules does it serve, and who am I to it.
struct StatusCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show whether slotd is running, its version, rules and your role.",
        discussion: OnlineExit.help)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let (health, raw) = try client.call("GET", "/v1/health", as: Health.self)
        if connection.json { return emitJSON(raw) }
        // The rules summary is extra detail for people; a `read`-less caller still gets the health line.
        let rules = try? client.call("GET", "/v1/rules", as: RulesSummary.self).value
        emit("slotd \(health.version) is \(health.status) at \(client.http.socketPath)")
        emit("  api v\(health.apiVersion), up \(uptime(health.uptimeSeconds)), your role: \(health.role)")
        if let rules {
            emit("  shop \(rules.shop.name) (\(rules.shop.timezone)), \(rules.services) services, \(rules.staff) staff")
            emit("  rules \(rules.version) from \(rules.files.joined(separator: ", ")), loaded \(rules.loadedAt)")
        } else {
            emit("  rules \(health.rulesVersion)")
        }
    }

    private func uptime(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        if seconds < 86400 { return "\(seconds / 3600)h\((seconds % 3600) / 60)m" }
        return "\(seconds / 86400)d\((seconds % 86400) / 3600)h"
    }
}

/// `slotctl services`.
struct ServicesCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "services", abstract: "List the services the shop sells.", discussion: OnlineExit.help)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let (list, raw) = try client.call("GET", "/v1/services", as: ServiceList.self)
        if connection.json { return emitJSON(raw) }
        var table = TextTable("ID", "NAME", "DURATION", "PRICE", "DEPOSIT", "BUFFERS")
        for service in list.services {
            let buffers =
                service.bufferBeforeMinutes == 0 && service.bufferAfterMinutes == 0
                ? "-"
                : "\(TimeText.minutes(service.bufferBeforeMinutes))/\(TimeText.minutes(service.bufferAfterMinutes))"
            table.add(
                service.id, service.name, TimeText.minutes(service.durationMinutes), service.price.display,
                service.deposit?.display ?? "-", buffers)
            for variant in service.variants {
                table.add(
                    "  \(service.id)/\(variant.id)", "  \(variant.name)", TimeText.minutes(variant.durationMinutes),
                    variant.price.display, variant.deposit?.display ?? "-", "")
            }
        }
        emit(table.rendered)
    }
}

/// `slotctl staff`.
struct StaffCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff", abstract: "List the staff, in the order \"any\" tries them.",
        discussion: OnlineExit.help)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let (list, raw) = try client.call("GET", "/v1/staff", as: StaffList.self)
        if connection.json { return emitJSON(raw) }
        var table = TextTable("ID", "NAME", "SERVICES")
        for member in list.staff { table.add(member.id, member.name, member.services.joined(separator: ", ")) }
        emit(table.rendered)
    }
}

/// `slotctl availability`: bookable starts from the running daemon (the offline twin is `slotctl slots --rules`).
struct AvailabilityCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "availability",
        abstract: "List bookable starts from the running daemon.",
        discussion: """
            The online twin of `slotctl slots --rules DIR` (which computes slots offline from rule files): this asks \
            slotd, so current bookings and holds are taken into account. With --watch it prints the list again \
            each time it changes (a booking, a cancellation, a hold expiring, a rule reload).
            \(OnlineExit.help)
            """,
        aliases: ["avail"])

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Option(help: "The service id.") var service: String
    @Option(help: "A staff id, or any (default).") var staff: String?
    @Option(help: "First local date, YYYY-MM-DD (default: today in the shop's zone).") var from: String?
    @Option(help: "Last local date, inclusive (default: the same as --from).") var to: String?
    @Flag(help: "Keep listening and print the list again whenever it changes.") var watch = false

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let first: String
        if let from { first = from } else { first = try shopToday(client) }
        let query: [(String, String?)] = [
            ("service", service), ("staff", staff), ("from", first), ("to", to ?? first),
        ]
        guard watch else {
            let (list, raw) = try client.call("GET", "/v1/slots", query: query, as: SlotList.self)
            if connection.json { return emitJSON(raw) }
            emit(render(list))
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
                emit(render(list))
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

    private func render(_ list: SlotList) -> String {
        guard !list.slots.isEmpty else {
            return "no free starts for \(list.service) (\(list.staff)) from \(list.from) to \(list.to)"
        }
        var lines: [String] = []
        var day = ""
        for offer in list.slots {
            let date = TimeText.date(offer.start)
            if date != day {
                day = date
                lines.append("\(TimeText.weekday(date)) \(date)")
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

/// Today's date in the shop's time zone, asked of the daemon (the client machine may be elsewhere).
func shopToday(_ client: SlotdClient) throws(OnlineFailure) -> String {
    let rules = try client.call("GET", "/v1/rules", as: RulesSummary.self).value
    return TimeText.today(in: rules.shop.timezone)
}
