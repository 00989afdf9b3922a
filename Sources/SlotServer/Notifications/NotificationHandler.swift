import Foundation
import Logging
import SlotCore
import SlotProviders
import SlotRules
import SlotStore

/// Runs `notify.` jobs.
///
/// A `notify.<event>` job (written with the booking change) renders its message from the booking as it is now and
/// fans out, in one transaction with finishing it, to one `notify.send.<provider>` job per routed provider. Each
/// delivery retries on its own (a failing SMS does not re-send the email) and carries a stable message id
/// (`slotd-<job>-<provider>`) that receivers deduplicate on.
struct NotificationHandler: OutboxJobHandler {
    static let sendPrefix = "notify.send."

    let store: any BookingStore
    let rules: RuleHolder
    let providers: [String: any NotificationProvider]
    let settings: NotificationSettings
    let clock: WallClock
    let logger: Logger

    var kindPrefix: String { "notify." }

    /// Deliveries count against their provider's budget (a hung webhook leaves the mail a slot); the fan-out and the
    /// reminders, which call no provider, against one of their own.
    func budget(for kind: String) -> String { Self.budget(for: kind) }

    static func budget(for kind: String) -> String { kind.hasPrefix(sendPrefix) ? kind : "notify." }

    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        if job.kind.hasPrefix(Self.sendPrefix) {
            try await deliver(job)
            return .done
        }
        return try await fanOut(job)
    }

    /// `notify.booking_no_show` → `booking.no_show`, `notify.day_summary` → `day.summary`.
    static func event(ofKind kind: String) -> String {
        let name = kind.hasPrefix("notify.") ? String(kind.dropFirst("notify.".count)) : kind
        guard let underscore = name.firstIndex(of: "_") else { return name }
        return name.replacingCharacters(in: underscore...underscore, with: ".")
    }

    // MARK: - Fan-out

    /// The deliveries of a `notify.<event>` job, recorded with its completion.
    func fanOut(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        let event = Self.event(ofKind: job.kind)
        let payload = job.object
        guard let loaded = rules.current else { throw .temporary("no rules are loaded; the shop's details are unknown") }
        var values: [String: String]
        var recipient: Recipient
        if let id = payload["booking"] as? String {
            let found: StoredBooking?
            do { found = try await store.booking(id: id) } catch { throw .temporary("reading booking \(id): \(error)") }
            guard let booking = found else {
                return skipped(job, "skipped: booking \(id) does not exist")
            }
            if event == "booking.reminder" {
                if booking.status != .confirmed {
                    return skipped(job, "skipped: booking is \(booking.status.rawValue)")
                }
                if let start = (payload["start"] as? NSNumber)?.int64Value, start != booking.start {
                    return skipped(job, "skipped: booking moved (a new reminder was made for its new time)")
                }
            }
            values = Self.values(for: booking, in: loaded.ruleSet, language: settings.language)
            if let minutes = (payload["minutes_before"] as? NSNumber)?.intValue {
                values["minutes_before"] = String(minutes)
                values["reminder"] = settings.language.duration(minutes: minutes)
            }
            recipient = Recipient(name: booking.customer.name, email: booking.customer.email, phone: booking.customer.phone)
        } else {
            values = payload.compactMapValues { value in
                if let text = value as? String { return text }
                if let number = value as? NSNumber { return number.stringValue }
                if let list = value as? [String] { return list.joined(separator: ", ") }
                return nil
            }
            values["shop"] = loaded.ruleSet.shop.name
            if let date = (payload["date"] as? String).flatMap({ LocalDate(iso: $0) }) {
                values["date"] = settings.language.date(date)
            }
            recipient = Recipient(name: loaded.ruleSet.shop.name)
        }
        let targets = settings.providers(for: event)
        guard !targets.isEmpty else {
            return skipped(job, "no route for \(event)")
        }
        let message = settings.template(for: event).render(values)
        let data = values
        let deliveries = targets.map { provider in
            var to: [String: Any] = ["name": recipient.name]
            if let email = recipient.email { to["email"] = email }
            if let phone = recipient.phone { to["phone"] = phone }
            var object: [String: Any] = [
                "provider": provider, "message_id": "slotd-\(job.id)-\(provider)", "event": event, "to": to,
                "subject": message.subject, "body": message.body, "data": data,
            ]
            if let booking = payload["booking"] { object["booking"] = booking }
            return OutboxEnqueue(kind: Self.sendPrefix + provider, object: object, dueAt: clock.now())
        }
        return OutboxCompletion(note: "sent to " + targets.joined(separator: ", "), enqueue: deliveries)
    }

    /// Done without a delivery; says why in the log and on the job.
    func skipped(_ job: OutboxJob, _ note: String) -> OutboxCompletion {
        logger.info("notification \(note)", metadata: ["job": "\(job.id)", "kind": "\(job.kind)"])
        return .done(note)
    }

    /// The template fields of a booking, in the shop's zone and language.
    static func values(for booking: StoredBooking, in rules: RuleSet, language: MessageLanguage) -> [String: String] {
        let zone = rules.shop.timeZone
        let start = zone.localDateTime(atInstant: booking.start)
        let end = zone.localDateTime(atInstant: booking.end)
        let services = booking.services.map { rules.service($0)?.name ?? $0 }
        var values: [String: String] = [
            "booking": booking.id, "customer": booking.customer.name, "email": booking.customer.email ?? "",
            "phone": booking.customer.phone ?? "", "service": services.joined(separator: " + "),
            "services": services.joined(separator: ", "),
            "staff": rules.staffMember(booking.staffID)?.name ?? booking.staffID, "date": language.date(start.date),
            "time": language.time(minuteOfDay: start.minuteOfDay), "end_time": language.time(minuteOfDay: end.minuteOfDay),
            "start": zone.iso8601(instant: booking.start),
            "price": language.money(minorUnits: booking.price.minorUnits, currency: booking.price.currency),
            "deposit": booking.deposit.map { language.money(minorUnits: $0.minorUnits, currency: $0.currency) } ?? "",
            "shop": rules.shop.name, "status": booking.status.rawValue, "notes": booking.notes,
        ]
        if let cancellation = booking.cancellation {
            values["reason"] = cancellation.reason
            values["fee"] = cancellation.fee.map { language.money(minorUnits: $0.minorUnits, currency: $0.currency) } ?? ""
        }
        return values
    }

    // MARK: - Delivery

    func deliver(_ job: OutboxJob) async throws(ProviderError) {
        let payload = job.object
        let name = String(job.kind.dropFirst(Self.sendPrefix.count))
        guard let provider = providers[name] else {
            throw .permanent(
                "no notification provider '\(name)' is configured any more — add it under `providers:` and retry")
        }
        guard let id = payload["message_id"] as? String, let event = payload["event"] as? String else {
            throw .permanent("the delivery job has no message_id or event")
        }
        let to = payload["to"] as? [String: Any] ?? [:]
        // The template values, all strings (see `fanOut`): the store's small writer, not `JSONSerialization` with
        // sorted keys, whose locale-aware key sort was the costliest step of a delivery.
        let data = StoreJSON.data(payload["data"] as? [String: String] ?? [:])
        let message = OutgoingMessage(
            event: event, id: id,
            recipient: Recipient(
                name: to["name"] as? String ?? "", email: to["email"] as? String, phone: to["phone"] as? String),
            subject: payload["subject"] as? String ?? "", body: payload["body"] as? String ?? "", data: data)
        try await provider.send(message)
    }
}
