import ArgumentParser
import Foundation
import SlotAPI
import SlotCore

/// `slotctl book`: create a booking.
struct BookCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "book", abstract: "Book a start, or a walk-in at the counter.",
        discussion: """
            --at takes \(CalendarWords.timeHelp) (shop-local), or ISO 8601 with an offset.
            --walk-in (staff and admin) books someone at the counter: starting now, or at --at, off the slot grid \
            and without the minimum notice, still inside the barber's hours and never over another booking. \
            --force --reason WHY also books outside hours, in breaks and on closed days; the reason and who \
            forced it are recorded in the booking's event.
            \(OnlineExit.help(examples:
                #"slotctl book --service haircut --staff lena --at "tomorrow 10:00" --name "Ben Meyer""#,
                #"slotctl book --service haircut --variant long --at "tue 11:30" --name Ben --phone 0151 2345678"#,
                #"slotctl book --service haircut,beard_trim --staff mehmet --at "fri 16:00" --name Ben"#,
                #"slotctl book --service beard_trim --walk-in --name "Walk-in""#,
                #"slotctl book --service haircut --staff mehmet --at 18:10 --force --reason "regular" --name Ali"#))
            """)

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Option(help: "The service id; repeat or separate with commas for several back to back.")
    var service: [String]
    @Option(help: "A staff id, or any (default).") var staff: String?
    @Option(help: "A variant of the service (e.g. long).") var variant: String?
    @Option(
        help: "The start: HH:MM (today), tomorrow 10:00, tue 10:00, YYYY-MM-DDTHH:MM; a walk-in without it starts now.")
    var at: String?
    @Option(help: "The customer's name.") var name: String
    @Option(help: "The customer's e-mail.") var email: String?
    @Option(help: "The customer's phone.") var phone: String?
    @Option(help: "Notes for the booking.") var notes: String?
    @Option(help: "An idempotency key: repeating the command with it books once.") var idempotencyKey: String?
    @Flag(help: "A walk-in at the counter (staff, admin): no minimum notice, no slot grid.") var walkIn = false
    @Flag(help: "Also outside hours, breaks and closures (staff, admin); needs --reason.") var force = false
    @Option(help: "Why the booking is forced (recorded with who forced it).") var reason: String?

    func validate() throws {
        if at == nil && !walkIn && !force {
            throw ValidationError("--at is required (or --walk-in to book someone at the counter now)")
        }
        if force && (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--force needs --reason WHY (it is recorded with who forced the booking)")
        }
        if reason != nil && !force { throw ValidationError("--reason goes with --force") }
    }

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let services = service.flatMap { $0.split(separator: ",").map { String($0) } }.filter { !$0.isEmpty }
        guard !services.isEmpty else { throw .usage("--service needs a service id") }
        var start: String?
        if let at { start = try CounterInput(client: client).start(at, option: "--at") }
        let request = CreateBookingRequest(
            service: services.count == 1 ? services[0] : nil, services: services.count > 1 ? services : nil,
            variant: variant, staff: staff, start: start,
            customer: CustomerDetails(name: name, email: email, phone: phone), notes: notes,
            walkIn: walkIn ? true : nil, force: force ? reason.map(ForceBooking.init) : nil)
        var headers: [String: String] = [:]
        if let idempotencyKey { headers[APIVersion.idempotencyKeyHeader] = idempotencyKey }
        let (booking, raw) = try client.call(
            "POST", "/v1/bookings", body: SlotdClient.encode(request), headers: headers, as: BookingDetails.self)
        if connection.json { return emitJSON(raw) }
        let names = CatalogNames.fetch(client)
        let kind = force ? " (forced: \(reason ?? ""))" : walkIn ? " (walk-in)" : ""
        emit("booked \(booking.id)\(BookingText.codeSuffix(booking))\(kind) — "
            + BookingText.summary(booking, names: names))
        emit(BookingText.details(booking, names: names))
    }
}

/// `slotctl bookings`: list bookings.
struct BookingsCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "bookings", abstract: "List bookings.",
        discussion: OnlineExit.help(
            examples: "slotctl bookings --today", "slotctl bookings --from tomorrow --to sat --staff lena"))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl

    @Flag(help: "Only today's bookings (the shop's today).") var today = false
    @Option(help: "First local date: YYYY-MM-DD, today, tomorrow or a weekday (tue).") var from: String?
    @Option(help: "Last local date, inclusive (the same words).") var to: String?
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
        let input = CounterInput(client: client)
        var first = try from.map { text throws(OnlineFailure) in try input.date(text, option: "--from") }
        var last = try to.map { text throws(OnlineFailure) in try input.date(text, option: "--to") }
        if today {
            let date = try shopToday(client)
            first = date
            last = date
        }
        let query: [(String, String?)] = [("from", first), ("to", last), ("staff", staff), ("status", status)]
        let (list, raw) = try client.call("GET", "/v1/bookings", query: query, as: BookingList.self)
        if connection.json { return emitJSON(raw) }
        guard !list.bookings.isEmpty else { return emit("no bookings") }
        let names = CatalogNames.fetch(client)
        var table = TextTable("ID", "CODE", "DATE", "TIME", "STAFF", "SERVICE", "CUSTOMER", "STATUS")
        for booking in list.bookings {
            table.add(
                booking.id, booking.code.map(BookingText.code) ?? "", TimeText.day(booking.start),
                "\(TimeText.time(booking.start))–\(TimeText.time(booking.end))", booking.staff,
                names.services(booking.services, variant: booking.variant), booking.customer.name,
                booking.status.rawValue)
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
        emit(BookingText.details(booking, names: CatalogNames.fetch(client), cancellation: quote(client, booking)))
    }
}

/// `slotctl cancel ID`.
struct CancelCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a booking.",
        discussion: """
            Prints what the cancellation cost: free, or the late fee (policies.cancellation in the rules), and \
            what happens to a deposit. `slotctl show ID` tells beforehand.
            \(OnlineExit.help(examples: #"slotctl cancel bk_3f9a2c --reason "customer called""#))
            """)

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

/// What cancelling `booking` costs now (or cost), when it can be asked: nil for a booking that is done, or when
/// slotd does not say.
private func quote(_ client: SlotdClient, _ booking: BookingDetails) -> CancellationQuoteDetails? {
    guard booking.status == .held || booking.status == .confirmed || booking.status == .cancelled else { return nil }
    return try? client.call(
        "GET", "/v1/bookings/\(SlotdClient.segment(booking.id))/cancellation", as: CancellationQuoteDetails.self
    ).value
}

/// `slotctl reschedule ID --start TIME [--staff ID|any]`.
struct RescheduleCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "reschedule",
        abstract: "Move a booking to a new start, and optionally to another barber, atomically.",
        discussion: OnlineExit.help(
            examples: #"slotctl reschedule bk_3f9a2c --start "tomorrow 11:30""#,
            #"slotctl reschedule bk_3f9a2c --start "sat 10:15" --staff lena"#,
            "slotctl reschedule bk_3f9a2c --start 15:45 --staff any"))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "The booking id (bk_…) or its code (K7M-Q4X).") var id: String
    // `--at` as in `book`: people at the counter type the option they booked with.
    @Option(
        name: [.customLong("start"), .customLong("to"), .customLong("at")],
        help: "The new start: HH:MM (today), tomorrow 10:00, tue 10:00, YYYY-MM-DDTHH:MM (--to, --at: the same).")
    var start: String
    @Option(help: "Move to this staff member, or `any` for whoever is free then (the current one first).")
    var staff: String?

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let newStart = try CounterInput(client: client).start(start, option: "--start")
        let (booking, raw) = try client.call(
            "POST", "/v1/bookings/\(SlotdClient.segment(id))/reschedule",
            body: SlotdClient.encode(RescheduleRequest(start: newStart, staff: staff)), as: BookingDetails.self)
        if connection.json { return emitJSON(raw) }
        let names = CatalogNames.fetch(client)
        emit(
            "\(booking.id) moved to \(TimeText.span(booking.start, booking.end)) with \(names.staffName(booking.staff))"
                + " (\(booking.staff))")
        emit(BookingText.details(booking, names: names))
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

/// `slotctl note ID TEXT`: the shop's notes on a booking, in any state (`PATCH /v1/bookings/{id}`).
struct NoteCommand: OnlineCommand {
    static let configuration = CommandConfiguration(
        commandName: "note", abstract: "Set a booking's notes (\"\" removes them).",
        discussion: OnlineExit.help(
            examples: #"slotctl note bk_3f9a2c "wants it shorter at the back""#, #"slotctl note K7M-Q4X """#))

    @OptionGroup var connection: ConnectionOptions
    @ParentCommand var root: SlotCtl
    @Argument(help: "The booking id (bk_…) or its code (K7M-Q4X).") var id: String
    @Argument(help: "The notes, in quotes; \"\" removes them (replaces what the booking had).") var text: String

    func perform(_ client: SlotdClient) throws(OnlineFailure) {
        let (booking, raw) = try client.call(
            "PATCH", "/v1/bookings/\(SlotdClient.segment(id))",
            body: SlotdClient.encode(BookingUpdateRequest(notes: text)), as: BookingDetails.self)
        if connection.json { return emitJSON(raw) }
        let names = CatalogNames.fetch(client)
        let what = (booking.notes ?? "").isEmpty ? "has no notes now" : "noted"
        emit("\(booking.id) \(what) — \(BookingText.summary(booking, names: names))")
        emit(BookingText.details(booking, names: names))
    }
}

/// `POST /v1/bookings/{id}/{action}` and the booking it returns.
private func transition(
    _ client: SlotdClient, id: String, action: String, body: Data?, json: Bool
) throws(OnlineFailure) {
    let (booking, raw) = try client.call(
        "POST", "/v1/bookings/\(SlotdClient.segment(id))/\(action)", body: body, as: BookingDetails.self)
    if json { return emitJSON(raw) }
    let names = CatalogNames.fetch(client)
    emit("\(booking.id) is now \(booking.status) — \(BookingText.summary(booking, names: names))")
    emit(BookingText.details(booking, names: names, cancellation: action == "cancel" ? quote(client, booking) : nil))
}

/// People's views of a booking.
enum BookingText {
    /// `Haircut, long hair with Lena, Tue 8 Dec 10:00–10:45 (confirmed)`.
    static func summary(_ booking: BookingDetails, names: CatalogNames) -> String {
        "\(names.services(booking.services, variant: booking.variant)) with \(names.staffName(booking.staff)), "
            + "\(TimeText.span(booking.start, booking.end)) (\(booking.status))"
    }

    static func details(
        _ booking: BookingDetails, names: CatalogNames, cancellation: CancellationQuoteDetails? = nil
    ) -> String {
        var lines = [
            "  id:        \(booking.id)",
            "  code:      \(booking.code.map(code) ?? "-")",
            "  status:    \(booking.status)",
            "  when:      \(TimeText.span(booking.start, booking.end))",
            "  staff:     \(names.staffName(booking.staff)) (\(booking.staff))",
            "  service:   \(names.services(booking.services, variant: booking.variant))",
            "  price:     \(booking.price.display)",
            "  deposit:   \(deposit(booking))",
        ]
        var customer = booking.customer.name
        for contact in [booking.customer.email, booking.customer.phone].compactMap({ $0 }) {
            customer += ", \(contact)"
        }
        lines.append("  customer:  \(customer)")
        if let notes = booking.notes, !notes.isEmpty { lines.append("  notes:     \(notes)") }
        if let override = booking.override { lines.append("  override:  \(Self.override(override))") }
        if let expiry = booking.holdExpiresAt { lines.append("  hold ends: \(TimeText.dayAndTime(expiry))") }
        if let reason = booking.cancelReason { lines.append("  cancelled: \(reason.isEmpty ? "(no reason)" : reason)") }
        if let cancellation {
            lines.append("  \(cancellation.cancelled ? "cost:     " : "to cancel:") \(cost(cancellation))")
        }
        return lines.joined(separator: "\n")
    }

    /// `forced by lena (uid 1000): regular, stays late; set aside: outside staff hours`, `walk-in by uid 0`.
    static func override(_ override: BookingOverrideDetails) -> String {
        var text = (override.kind == "forced" ? "forced" : "walk-in") + " by \(override.by)"
        if let reason = override.reason, !reason.isEmpty { text += ": \(reason)" }
        if let waived = override.waived, !waived.isEmpty {
            text += "; set aside: " + waived.map { $0.replacingOccurrences(of: "_", with: " ") }.joined(separator: ", ")
        }
        return text
    }

    /// `10.00 EUR, paid`, `10.00 EUR, due at the shop`, `none`.
    static func deposit(_ booking: BookingDetails) -> String {
        guard let deposit = booking.deposit else { return "none" }
        guard let payment = booking.payment else { return deposit.display }
        let state: String
        switch payment.status {
        case "pending": state = "not paid yet (\(payment.provider))"
        case "succeeded": state = "paid (\(payment.provider))"
        case "due_at_shop": state = "due at the shop"
        case "kept": state = "kept by the shop"
        case let other: state = other.replacingOccurrences(of: "_", with: " ")
        }
        return "\(deposit.display), \(state)"
    }

    /// `free (more than 24h before the start)`, `14.00 EUR fee (within 24h of the start); the shop keeps the deposit`.
    static func cost(_ quote: CancellationQuoteDetails) -> String {
        let window = TimeText.minutes(quote.windowMinutes)
        let when = quote.minutesBeforeStart < 0 ? "after the start" : "within \(window) of the start"
        var text: String
        if let fee = quote.fee {
            text = "\(fee.display) fee (\(when))"
        } else if quote.late {
            text = "free (\(when), but the rules charge no fee)"
        } else {
            text = "free (more than \(window) before the start)"
        }
        switch quote.deposit {
        case "refund": text += "; the deposit is refunded"
        case "keep": text += "; the shop keeps the deposit"
        case "cancel": text += "; the unpaid deposit is called off"
        default: break
        }
        return text
    }

    /// A booking code as people read it out (`K7M-Q4X`).
    static func code(_ code: String) -> String { BookingCode.display(code) }

    /// ` · code K7M-Q4X` after an id, or nothing for a booking without a code.
    static func codeSuffix(_ booking: BookingDetails) -> String { booking.code.map { " · code \(code($0))" } ?? "" }
}
