import ArgumentParser
import Foundation
import SlotAPI

/// `slotctl customers`: search customer records; show one's file; set a note; merge two; erase one.
struct CustomersCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers", abstract: "Find customers, show one's history, keep a note, merge or erase records.",
        discussion: """
            Without an action, lists customers whose name, e-mail or phone contains the text of --search (a phone
            number however typed); --conflicts lists only those with a booking whose contact did not fit one record.
            `show ID` prints the record, its totals, every booking and its open conflicts.
            `note ID TEXT` sets the desk's note ("" removes it); `merge ID --from OTHER` moves OTHER's bookings to ID
            and deletes OTHER; `resolve ID` closes ID's conflicts and keeps the records apart (staff, admin);
            `erase ID --yes` removes the customer's personal data for good and keeps
            the bookings (admin).
            \(OnlineExit.help(examples:
                "slotctl customers --search meyer", "slotctl customers --search \"0151 234\"",
                "slotctl customers --conflicts", "slotctl customers show cu_3f9a2c…",
                #"slotctl customers note cu_3f9a2c… "prefers Lena""#,
                "slotctl customers merge cu_3f9a2c… --from cu_77b1d0…", "slotctl customers resolve cu_3f9a2c…",
                "slotctl customers erase cu_3f9a2c… --yes"))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Argument(help: "Nothing to list, or `show ID`, `note ID TEXT`, `merge ID`, `resolve ID`, `erase ID`.")
    var action: [String] = []
    @Option(help: "Part of a name, e-mail or phone number.") var search: String?
    @Flag(help: "Only customers with a conflict waiting for the desk.") var conflicts = false
    @Option(help: "At most this many customers (1-500, default 100).") var limit: Int?
    @Option(help: "For merge: the customer id to merge into ID (it is deleted).") var from: String?
    @Flag(help: "For erase: confirm that the customer's personal data is to be removed for good.") var yes = false

    func validate() throws {
        let listing = search != nil || conflicts || limit != nil
        switch action.first {
        case nil:
            if from != nil || yes { throw ValidationError("--from is for merge and --yes for erase") }
        case "show", "resolve":
            guard action.count == 2 else { throw ValidationError("`\(action[0])` takes one customer id (cu_…)") }
        case "note":
            guard action.count == 3 else {
                throw ValidationError(#"`note` takes a customer id and the note in quotes ("" removes it)"#)
            }
        case "merge":
            guard action.count == 2, let from, !from.isEmpty else {
                throw ValidationError("`merge ID --from OTHER` merges the customer OTHER into ID")
            }
        case "erase":
            guard action.count == 2 else { throw ValidationError("`erase` takes one customer id (cu_…)") }
            guard yes else {
                throw ValidationError("erasing removes the customer's personal data for good: add --yes to do it")
            }
        default:
            throw ValidationError(
                "unknown action '\(action[0])' — use show ID, note ID TEXT, merge ID --from OTHER, resolve ID, "
                    + "erase ID --yes, or nothing to list")
        }
        if action.first != nil && listing {
            throw ValidationError("--search, --conflicts and --limit are for listing, not for `\(action[0])`")
        }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        guard let verb = action.first else { return try list(client) }
        let path = "/v1/customers/\(SlotdClient.segment(action[1]))"
        let file: CustomerFile
        let raw: Data
        switch verb {
        case "note":
            (file, raw) = try client.call(
                "PATCH", path, body: SlotdClient.encode(CustomerUpdateRequest(note: action[2])), as: CustomerFile.self)
        case "merge":
            (file, raw) = try client.call(
                "POST", path + "/merge", body: SlotdClient.encode(CustomerMergeRequest(from: from ?? "")),
                as: CustomerFile.self)
        case "resolve":
            (file, raw) = try client.call("POST", path + "/resolve", as: CustomerFile.self)
        case "erase":
            (file, raw) = try client.call("POST", path + "/erase", as: CustomerFile.self)
        default:
            (file, raw) = try client.call("GET", path, as: CustomerFile.self)
        }
        if connection.json { return emitJSON(raw) }
        switch verb {
        case "note": emit("note of \(file.customer.id) saved")
        case "merge": emit("\(from ?? "") merged into \(file.customer.id)")
        case "resolve": emit("conflicts of \(file.customer.id) closed; the records stay as they are")
        case "erase": emit("personal data of \(file.customer.id) erased; its \(file.bookings.count) bookings kept")
        default: break
        }
        emit(Self.details(file))
    }

    private func list(_ client: SlotdClient) throws(OnlineFailure) {
        let query: [(String, String?)] = [
            ("q", search), ("conflicts", conflicts ? "true" : nil), ("limit", limit.map(String.init)),
        ]
        let (list, raw) = try client.call("GET", "/v1/customers", query: query, as: CustomerList.self)
        if connection.json { return emitJSON(raw) }
        guard !list.customers.isEmpty else { return emit(search == nil ? "no customers" : "no customer matches") }
        var table = TextTable("ID", "NAME", "PHONE", "E-MAIL", "BOOKINGS", "CONFLICTS")
        for customer in list.customers {
            table.add(
                customer.id, customer.name, customer.phone ?? "-", customer.email ?? "-", "\(customer.bookings)",
                customer.openConflicts == 0 ? "-" : "\(customer.openConflicts)")
        }
        emit(table.rendered)
    }

    /// A customer's file for people: the record, totals, bookings and conflicts.
    static func details(_ file: CustomerFile) -> String {
        let customer = file.customer
        let totals = file.totals
        var lines = [
            "  id:        \(customer.id)",
            "  name:      \(customer.name)",
            "  phone:     \(customer.phone ?? "-")",
            "  e-mail:    \(customer.email ?? "-")",
        ]
        if !customer.note.isEmpty { lines.append("  note:      \(customer.note)") }
        if let erased = customer.erasedAt { lines.append("  erased:    \(erased)") }
        let fees = totals.fees.map(\.display).joined(separator: ", ")
        lines.append(
            "  history:   \(totals.bookings) bookings, \(totals.completed) completed, \(totals.noShows) no-shows, "
                + "\(totals.cancellations) cancelled (\(totals.lateCancellations) late)"
                + (fees.isEmpty ? "" : ", fees \(fees)"))
        if !file.bookings.isEmpty {
            var table = TextTable("CODE", "WHEN", "STAFF", "SERVICE", "BOOKED AS", "STATUS")
            for booking in file.bookings {
                table.add(
                    booking.code.map(BookingText.code) ?? booking.id, TimeText.dayAndTime(booking.start),
                    booking.staff, booking.services.joined(separator: "+"), booking.customer.name,
                    booking.status.rawValue)
            }
            lines.append("")
            lines.append(table.rendered)
        }
        if !file.conflicts.isEmpty {
            lines.append("")
            lines.append("conflicts (`slotctl customers merge ID --from OTHER`, or `resolve ID` to keep them apart):")
            for conflict in file.conflicts {
                lines.append("  - \(conflict.kind) (booking \(conflict.booking)): \(conflict.detail)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
