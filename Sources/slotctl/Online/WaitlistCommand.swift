import ArgumentParser
import Foundation
import SlotAPI

/// `slotctl waitlist`: the line of customers waiting for a start; join, leave, and answer an offer.
struct WaitlistCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "waitlist", abstract: "List the waitlist, add a customer, remove one, accept or decline an offer.",
        discussion: """
            Without an action, lists the entries in line order (--status, --service, --staff, --date filter them).
            `add` puts a customer in line for --service (and --staff, default any) from --from to --to (default
            --from), optionally only between --after and --before; they need --email or --phone, where the offer is
            sent. When a start that fits frees (a cancellation, a lapsed hold, a move, new rules), the first in line
            is offered it: a held booking kept for them for `policies.waitlist.offer_hold` (default 30m), then the
            next in line. `accept ID` confirms the offer's booking, `decline ID` gives the start to the next,
            `remove ID` takes the customer out of the line.
            \(OnlineExit.help(examples:
                #"slotctl waitlist add --service haircut --from tomorrow --name "Anna K." --phone "0151 2345678""#,
                "slotctl waitlist add --service haircut --staff lena --from mon --to fri --after 16:00 "
                    + "--name Ben --email b@example.com",
                "slotctl waitlist", "slotctl waitlist --status offered",
                "slotctl waitlist accept wl_3f9a2c…", "slotctl waitlist decline wl_3f9a2c…",
                "slotctl waitlist remove wl_3f9a2c…"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Argument(help: "Nothing to list, or `add`, `remove ID`, `accept ID`, `decline ID`.")
    var action: [String] = []
    @Option(help: "The service (add; a filter when listing).") var service: String?
    @Option(help: "For add: one of the service's variants.") var variant: String?
    @Option(help: "A staff id or any (add: default any; a filter when listing).") var staff: String?
    @Option(help: "For add: the first date that suits (YYYY-MM-DD, today, tomorrow, a weekday).") var from: String?
    @Option(help: "For add: the last date that suits (default --from).") var to: String?
    @Option(help: "For add: only starts at or after this time (HH:MM).") var after: String?
    @Option(help: "For add: only starts before this time (HH:MM).") var before: String?
    @Option(help: "For add: the customer's name.") var name: String?
    @Option(help: "For add: the customer's e-mail.") var email: String?
    @Option(help: "For add: the customer's phone.") var phone: String?
    @Option(help: "For add: a note.") var notes: String?
    @Option(help: "Listing: waiting, offered, booked, expired, left (several joined by ,).") var status: String?
    @Option(help: "Listing: entries whose dates include this one.") var date: String?

    func validate() throws {
        let adding = [service, variant, from, to, after, before, name, email, phone, notes].contains { $0 != nil }
        switch action.first {
        case nil:
            if [variant, from, to, after, before, name, email, phone, notes].contains(where: { $0 != nil }) {
                throw ValidationError("--from, --name and the other customer options are for `add`")
            }
        case "add":
            guard action.count == 1 else { throw ValidationError("`add` takes options, not arguments") }
            guard service != nil, from != nil, name != nil else {
                throw ValidationError("`add` needs --service, --from and --name (and --email or --phone)")
            }
            guard email != nil || phone != nil else {
                throw ValidationError("`add` needs --email or --phone: the offer is sent there")
            }
            if status != nil || date != nil { throw ValidationError("--status and --date are for listing") }
        case "remove", "accept", "decline":
            guard action.count == 2 else { throw ValidationError("`\(action[0])` takes one entry id (wl_…)") }
            if adding || status != nil || date != nil || staff != nil {
                throw ValidationError("`\(action[0])` takes only the entry id")
            }
        default:
            throw ValidationError(
                "unknown action '\(action[0])' — use add, remove ID, accept ID, decline ID, or nothing to list")
        }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        guard let verb = action.first else { return try list(client) }
        let entry: WaitlistEntryInfo
        let raw: Data
        switch verb {
        case "add":
            let input = CounterInput(client: client)
            let request = JoinWaitlistRequest(
                service: service, variant: variant, staff: staff,
                from: try input.date(from ?? "", option: "--from"),
                to: try to.map { text throws(OnlineFailure) in try input.date(text, option: "--to") }, after: after,
                before: before, customer: CustomerDetails(name: name ?? "", email: email, phone: phone), notes: notes)
            (entry, raw) = try client.call(
                "POST", "/v1/waitlist", body: SlotdClient.encode(request), as: WaitlistEntryInfo.self)
        default:
            let path = "/v1/waitlist/\(SlotdClient.segment(action[1]))"
            switch verb {
            case "remove": (entry, raw) = try client.call("DELETE", path, as: WaitlistEntryInfo.self)
            case "accept": (entry, raw) = try client.call("POST", path + "/accept", as: WaitlistEntryInfo.self)
            default: (entry, raw) = try client.call("POST", path + "/decline", as: WaitlistEntryInfo.self)
            }
        }
        if connection.json { return emitJSON(raw) }
        switch verb {
        case "add": emit("\(entry.customer.name) is waiting for \(entry.service) as \(entry.id)")
        case "remove": emit("\(entry.id) left the waitlist (\(entry.status))")
        case "accept": emit("offer accepted: \(entry.customer.name) is booked")
        default: emit("offer declined: the start goes to the next in line")
        }
        emit(Self.details(entry))
    }

    private func list(_ client: SlotdClient) throws(OnlineFailure) {
        let day = try date.map { text throws(OnlineFailure) in
            try CounterInput(client: client).date(text, option: "--date")
        }
        let query: [(String, String?)] = [("status", status), ("service", service), ("staff", staff), ("date", day)]
        let (list, raw) = try client.call("GET", "/v1/waitlist", query: query, as: WaitlistList.self)
        if connection.json { return emitJSON(raw) }
        guard !list.entries.isEmpty else { return emit("nobody is waiting") }
        var table = TextTable("ID", "STATUS", "SERVICE", "STAFF", "DATES", "CUSTOMER", "OFFER")
        for entry in list.entries {
            table.add(
                entry.id, entry.status, entry.service, entry.staff, Self.dates(entry), entry.customer.name,
                entry.offer.map(Self.offer) ?? "-")
        }
        emit(table.rendered)
    }

    static func dates(_ entry: WaitlistEntryInfo) -> String {
        var text = entry.from == entry.to ? entry.from : "\(entry.from)..\(entry.to)"
        if entry.after != nil || entry.before != nil {
            text += " \(entry.after ?? "00:00")-\(entry.before ?? "24:00")"
        }
        return text
    }

    static func offer(_ offer: WaitlistOfferInfo) -> String {
        "\(TimeText.dayAndTime(offer.start)) \(offer.staff) until \(TimeText.dayAndTime(offer.expiresAt))"
            + (offer.code.map { " (\(BookingText.code($0)))" } ?? "")
    }

    /// An entry for people.
    static func details(_ entry: WaitlistEntryInfo) -> String {
        var lines = [
            "  id:        \(entry.id)",
            "  status:    \(entry.status)",
            "  wants:     \(entry.service)\(entry.variant.map { " (\($0))" } ?? "") with \(entry.staff)",
            "  dates:     \(dates(entry))",
            "  customer:  \(entry.customer.name) \(entry.customer.phone ?? "") \(entry.customer.email ?? "")",
        ]
        if let offer = entry.offer { lines.append("  offer:     \(Self.offer(offer)), booking \(offer.booking)") }
        return lines.joined(separator: "\n")
    }
}
