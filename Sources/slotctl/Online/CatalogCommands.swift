import ArgumentParser
import Foundation
import SlotAPI

/// `slotctl status`: is the daemon up, which rules does it serve, and who am I to it.
struct StatusCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show whether slotd is running, its version, rules and your role.",
        discussion: """
            Prints the health (status, version, API version, uptime, your role) and the version of the rules in \
            force, with the shop and rule files when your role may read them. --json prints GET /v1/health.
            \(OnlineExit.help(examples: "slotctl status", "slotctl --socket /run/slotd/slotd.sock status --json"))
            """)

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
        // Operations detail (bookings, outbox, last reload, database) from slotds that have GET /v1/status.
        if let status = try? client.call("GET", "/v1/status", as: DaemonStatus.self).value {
            for line in StatusText.lines(status) { emit(line) }
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
        commandName: "services", abstract: "List the services the shop sells.",
        discussion: OnlineExit.help(examples: "slotctl services", "slotctl services --json"))

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
        commandName: "staff", abstract: "List the staff, in declared order (ties of \"any\" go in it).",
        discussion: OnlineExit.help(examples: "slotctl staff"))

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

/// Today's date in the shop's time zone, asked of the daemon (the client machine may be elsewhere).
func shopToday(_ client: SlotdClient) throws(OnlineFailure) -> String {
    let rules = try client.call("GET", "/v1/rules", as: RulesSummary.self).value
    return TimeText.today(in: rules.shop.timezone)
}
