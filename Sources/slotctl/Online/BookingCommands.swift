import ArgumentParser
import Foundation
import SlotAPI
import SlotCore

/// `slotctl book`: create a booking.
struct BookCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "book", abstract: "Book a start.",
        discussion: """
            --at takes a shop-local wall time YYYY-MM-DDTHH:MM or ISO 8601 with an offset.
            \(OnlineExit.help(examples:
                #"slotctl book --service haircut --staff anna --at 2026-12-01T10:00 --name "Ben Meyer""#,
                #"slotctl book --service haircut,beard_trim --at 2026-12-01T10:00 --name Ben --idempotency-key k1"#))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Option(help: "The service id; repeat or separate with commas for several back to back.")
    var service: [String]
    @Option(help: "A staff id, or any (default).") var staff: String?
    @Option(help: "A variant of the service (e.g. long).") var variant: String?
    @Option(help: "The start: YYYY-MM-DDTHH:MM (shop-local) or ISO 8601 with offset.") var at: String
    @Option(help: "The customer's name.") var name: String
    @Option(help: "The customer's e-mail.") var email: String?
    @Option(help: "The customer's phone.") var phone: String?
    @Option(help: "Notes for the booking.") var notes: String?
    @Option(help: "An idempotency key: repeating the command with it books once.") var idempotencyKey: String?

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let services = service.flatMap { $0.split(separator: ",").map { String($0) } }.filter { !$0.isEmpty }
        guard !services.isEmpty else { throw .usage("--service needs a service id") }
        let request = CreateBookingRequest(
            service: services.count == 1 ? services[0] : nil, services: services.count > 1 ? services : nil,
            variant: variant, staff: staff, start: at,
            customer: CustomerDetails(name: name, email: email, phone: phone), notes: notes)
        var headers: [String: String] = [:]
        if let idempotencyKey { headers[APIVersion.idempotencyKeyHeader] = idempotencyKey }
        let (booking, raw) = try client.call(
            "POST", "/v1/bookings", body: SlotdClient.encode(request), headers: headers, as: BookingDetails.self)
        if connection.json { return emitJSON(raw) }
        emit("booked \(booking.id)\(BookingText.codeSuffix(booking)) (\(booking.status))")
        emit(BookingText.details(booking))
    }
}

/// `slotctl bookings`: list bookings.
struct BookingsCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "bookings", abstract: "List bookings.",
        discussion: OnlineExit.help(
            examples: "slotctl bookings --today", "slotctl bookings --from 2026-12-01 --to 2026-12-07 --staff anna"))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Flag(help: "Only today's bookings (the shop's today).") var today = false
    @Option(help: "First local date, YYYY-MM-DD.") var from: String?
    @Option(help: "Last local date, inclusive.") var to: String?
    @Option(help: "Only this staff member's bookings.") var staff: String?
    @Option(help: "Only bookings in this state (held, confirmed, completed, no_show, cancelled, expired).")
    var status: String?
    @Flag(help: "Only active future bookings the rules in force no longer allow, with the reasons.")
    var conflicts = false

    func validate() throws {
        if today && (from != nil || to != nil) {
            throw ValidationError("--today cannot be combined with --from/--to")
        }
        if conflicts && (today || from != nil || to != nil || staff != nil || status != nil) {
            throw ValidationError("--conflicts lists every conflicting booking; it takes no other filter")
        }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        if conflicts { return try ConflictsOutput.perform(client, json: connection.json) }
        var first = from
        var last = to
        if today {
            let date = try shopToday(client)
            first = date
            last = date
        }
        let query: [(String, String?)] = [("from", first), ("to", last), ("staff", staff), ("status", status)]
        let (list, raw) = try client.call("GET", "/v1/bookings", query: query, as: BookingList.self)
        if connection.json { return emitJSON(raw) }
        guard !list.bookings.isEmpty else { return emit("no bookings") }
        var table = TextTable("ID", "CODE", "DATE", "TIME", "STAFF", "SERVICE", "CUSTOMER", "STATUS")
        for booking in list.bookings {
            table.add(
                booking.id, booking.code.map(BookingText.code) ?? "",
                "\(TimeText.weekday(TimeText.date(booking.start))) \(TimeText.date(booking.start))",
                "\(TimeText.time(booking.start))–\(TimeText.time(booking.end))", booking.staff,
                booking.services.joined(separator: "+"), booking.customer.name, booking.status.rawValue)
        }
        emit(table.rendered)
    }
}

/// `slotctl show ID`.
struct ShowCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one booking.",
        discussion: OnlineExit.help(examples: "slotctl show bk_3f9a2c"))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "The booking id (bk_…) or its code (K7M-Q4X).") var id: String

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let (booking, raw) = try client.call(
            "GET", "/v1/bookings/\(SlotdClient.segment(id))", as: BookingDetails.self)
        if connection.json { return emitJSON(raw) }
        emit(BookingText.details(booking))
    }
}

/// `slotctl cancel ID`.
struct CancelCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a booking.",
        discussion: OnlineExit.help(examples: #"slotctl cancel bk_3f9a2c --reason "customer called""#))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "The booking id (bk_…) or its code (K7M-Q4X).") var id: String
    @Option(help: "Why it is cancelled.") var reason: String?

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        try transition(
            client, id: id, action: "cancel", body: SlotdClient.encode(CancelRequest(reason: reason)),
            json: connection.json)
    }
}

/// `slotctl reschedule ID --start TIME [--staff ID|any]`.
struct RescheduleCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "reschedule",
        abstract: "Move a booking to a new start, and optionally to another barber, atomically.",
        discussion: OnlineExit.help(
            examples: "slotctl reschedule bk_3f9a2c --start 2026-12-01T11:30",
            "slotctl reschedule bk_3f9a2c --start 2026-12-01T11:30 --staff lena",
            "slotctl reschedule bk_3f9a2c --start 2026-12-01T11:30 --staff any"))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "The booking id (bk_…) or its code (K7M-Q4X).") var id: String
    @Option(
        name: [.customLong("start"), .customLong("to")],
        help: "The new start: YYYY-MM-DDTHH:MM (shop-local) or ISO 8601 with offset (--to is the same).")
    var start: String
    @Option(help: "Move to this staff member, or `any` for whoever is free then (the current one first).")
    var staff: String?

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let (booking, raw) = try client.call(
            "POST", "/v1/bookings/\(SlotdClient.segment(id))/reschedule",
            body: SlotdClient.encode(RescheduleRequest(start: start, staff: staff)), as: BookingDetails.self)
        if connection.json { return emitJSON(raw) }
        let when = "\(TimeText.dayAndTime(booking.start))–\(TimeText.time(booking.end))"
        emit("\(booking.id) moved to \(when) with \(booking.staff)")
        emit(BookingText.details(booking))
    }
}

/// `slotctl confirm ID`: e.g. a deposit paid in cash.
struct ConfirmCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm", abstract: "Confirm a held booking by hand (e.g. deposit paid in cash).",
        discussion: OnlineExit.help(examples: "slotctl confirm bk_3f9a2c"))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "The booking id (bk_…) or its code (K7M-Q4X).") var id: String

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        try transition(client, id: id, action: "confirm", body: nil, json: connection.json)
    }
}

/// `slotctl complete ID`.
struct CompleteCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete", abstract: "Mark a booking as done (once it has started).",
        discussion: OnlineExit.help(examples: "slotctl complete bk_3f9a2c"))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "The booking id (bk_…) or its code (K7M-Q4X).") var id: String

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        try transition(client, id: id, action: "complete", body: nil, json: connection.json)
    }
}

/// `slotctl no-show ID`.
struct NoShowCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "no-show", abstract: "Mark a booking as a no-show (once it has started).",
        discussion: OnlineExit.help(examples: "slotctl no-show bk_3f9a2c"))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "The booking id (bk_…) or its code (K7M-Q4X).") var id: String

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        try transition(client, id: id, action: "no-show", body: nil, json: connection.json)
    }
}

/// `POST /v1/bookings/{id}/{action}` and the booking it returns.
private func transition(
    _ client: SlotdClient, id: String, action: String, body: Data?, json: Bool
) throws(OnlineFailure) {
    let (booking, raw) = try client.call(
        "POST", "/v1/bookings/\(SlotdClient.segment(id))/\(action)", body: body, as: BookingDetails.self)
    if json { return emitJSON(raw) }
    emit("\(booking.id) is now \(booking.status)")
    emit(BookingText.details(booking))
}

/// People's views of a booking.
enum BookingText {
    static func details(_ booking: BookingDetails) -> String {
        var lines = [
            "  id:        \(booking.id)",
            "  code:      \(booking.code.map(code) ?? "-")",
            "  status:    \(booking.status)",
            "  when:      \(TimeText.dayAndTime(booking.start))–\(TimeText.time(booking.end))",
            "  staff:     \(booking.staff)",
            "  service:   \(booking.services.joined(separator: " + "))\(booking.variant.map { " (\($0))" } ?? "")",
            "  price:     \(booking.price.display)",
        ]
        if let deposit = booking.deposit { lines.append("  deposit:   \(deposit.display)") }
        var customer = booking.customer.name
        for contact in [booking.customer.email, booking.customer.phone].compactMap({ $0 }) {
            customer += ", \(contact)"
        }
        lines.append("  customer:  \(customer)")
        if let notes = booking.notes, !notes.isEmpty { lines.append("  notes:     \(notes)") }
        if let expiry = booking.holdExpiresAt { lines.append("  hold ends: \(expiry)") }
        if let reason = booking.cancelReason { lines.append("  cancelled: \(reason)") }
        return lines.joined(separator: "\n")
    }

    /// A booking code as people read it out (`K7M-Q4X`).
    static func code(_ code: String) -> String { BookingCode.display(code) }

    /// ` · code K7M-Q4X` after an id, or nothing for a booking without a code.
    static func codeSuffix(_ booking: BookingDetails) -> String { booking.code.map { " · code \(code($0))" } ?? "" }
}
