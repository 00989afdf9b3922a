import Foundation
import Logging
import SlotCore
import SlotEngine
import SlotProviders
import SlotRules
import SlotStore

/// Runs `notify.` jobs.
///
/// A `notify.<event>` job (written with the booking change) renders its message from the booking as it is now and
/// fans out, in one transaction with finishing it, to one `notify.send.<provider>` job per routed provider. Each
/// delivery retries on its own (a failing SMS does not re-send the email) and carries a stable message id
/// (`slotd-<job>-<provider>`) that receivers deduplicate on. A provider that makes no call (`log`) is sent to by the
/// fan-out itself; its delivery job is written done, so its message can still be read (`slotctl outbox show`).
struct NotificationHandler: OutboxJobHandler {
    let store: any BookingStore
    let rules: RuleHolder
    let providers: [String: any NotificationProvider]
    let settings: NotificationSettings
    let clock: WallClock
    let logger: Logger
    /// The customer's links (`{{manage_url}}`, `{{ics_url}}`), when the web listener is configured.
    var links: CustomerLinks? = nil

    var family: JobFamily { .notification }

    /// Deliveries count against their provider's budget (a hung webhook leaves the mail a slot); the fan-out and the
    /// reminders, which call no provider, against one of their own.
    func budget(for kind: String) -> String { Self.budget(for: kind) }

    static func budget(for kind: String) -> String {
        kind.hasPrefix(NotificationJob.deliveryPrefix) ? kind : JobFamily.notification.kindPrefix
    }

    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        guard case .notification(let notification) = try job.typed() else {
            throw .permanent("job \(job.id) (\(job.kind)) is not a notification job")
        }
        switch notification {
        case .delivery(let provider, let delivery):
            try await deliver(delivery, to: provider)
            return .done
        case .booking(let notice, let target):
            return try await fanOut(job, event: notice.event, booking: target.booking, reminder: nil)
        case .reminder(let reminder):
            return try await fanOut(job, event: "booking.reminder", booking: reminder.booking, reminder: reminder)
        case .daySummary(let summary):
            return try fanOut(job, event: "day.summary", summary: summary)
        }
    }

    // MARK: - Fan-out

    static let noRules = ProviderError.temporary("no rules are loaded; the shop's details are unknown")

    /// A fan-out about a booking, inside the claim's transaction: it calls no provider, so the store records its
    /// deliveries with the claim. Nil (run it in a lane) when no rules are loaded or the booking cannot be read.
    func completeInClaim(_ job: OutboxJob, booking read: (String) throws -> StoredBooking?) -> OutboxCompletion? {
        // Told by the kind before the payload is read: a delivery's payload carries its whole message, and decoding
        // it here only to hand the job out took 5 % of a busy outbox daemon's CPU (perf, docs/benchmarks.md).
        guard NotificationJob.isAboutABooking(kind: job.kind), let loaded = rules.current,
            case .notification(let notification)? = try? job.job
        else { return nil }
        let about: (booking: String, event: String, reminder: ReminderPayload?)
        switch notification {
        case .booking(let notice, let target): about = (target.booking, notice.event, nil)
        case .reminder(let reminder): about = (reminder.booking, "booking.reminder", reminder)
        case .daySummary, .delivery: return nil
        }
        let found: StoredBooking?
        do { found = try read(about.booking) } catch { return nil }
        return fanOut(
            job, event: about.event, booking: found, id: about.booking, reminder: about.reminder,
            rules: loaded.ruleSet)
    }

    /// The deliveries of a message about a booking, recorded with the job's completion.
    func fanOut(
        _ job: OutboxJob, event: String, booking id: String, reminder: ReminderPayload?
    ) async throws(ProviderError) -> OutboxCompletion {
        guard let loaded = rules.current else { throw Self.noRules }
        let found: StoredBooking?
        do { found = try await store.booking(id: id) } catch { throw .temporary("reading booking \(id): \(error)") }
        return fanOut(job, event: event, booking: found, id: id, reminder: reminder, rules: loaded.ruleSet)
    }

    /// The deliveries of a message about `booking` as read (nil: booking `id` does not exist).
    func fanOut(
        _ job: OutboxJob, event: String, booking found: StoredBooking?, id: String, reminder: ReminderPayload?,
        rules ruleSet: RuleSet
    ) -> OutboxCompletion {
        guard let booking = found else {
            return skipped(job, "skipped: booking \(id) does not exist")
        }
        var values = Self.values(for: booking, in: ruleSet, language: settings.language)
        if let links { values.merge(links.templateValues(for: booking)) { _, link in link } }
        if let reminder {
            if booking.status != .confirmed {
                return skipped(job, "skipped: booking is \(booking.status.rawValue)")
            }
            if reminder.start != booking.start {
                return skipped(job, "skipped: booking moved (a new reminder was made for its new time)")
            }
            values["minutes_before"] = String(reminder.minutesBefore)
            values["reminder"] = settings.language.duration(minutes: reminder.minutesBefore)
        }
        let recipient = DeliveryPayload.Recipient(
            name: booking.customer.name, email: booking.customer.email, phone: booking.customer.phone)
        return deliveries(job, event: event, values: values, to: recipient, booking: booking.id)
    }

    /// The deliveries of the day's summary, sent to the shop.
    func fanOut(_ job: OutboxJob, event: String, summary: DaySummaryPayload) throws(ProviderError) -> OutboxCompletion {
        guard let loaded = rules.current else { throw Self.noRules }
        var values = summary.values
        values["shop"] = loaded.ruleSet.shop.name
        if let date = LocalDate(iso: summary.date) {
            values["date"] = settings.language.date(date)
        }
        let recipient = DeliveryPayload.Recipient(name: loaded.ruleSet.shop.name, email: nil, phone: nil)
        return deliveries(job, event: event, values: values, to: recipient, booking: nil)
    }

    /// One delivery job per provider routed for `event`, each with the rendered message.
    func deliveries(
        _ job: OutboxJob, event: String, values: [String: String], to recipient: DeliveryPayload.Recipient,
        booking: String?
    ) -> OutboxCompletion {
        let targets = settings.providers(for: event)
        guard !targets.isEmpty else {
            return skipped(job, "no route for \(event)")
        }
        let message = settings.template(for: event).render(values)
        let now = clock.now()
        let deliveries = targets.map { provider in
            let delivery = DeliveryPayload(
                provider: provider, messageID: "slotd-\(job.id)-\(provider)", event: event, to: recipient,
                subject: message.subject, body: message.body, data: values, booking: booking)
            let queued = Job.notification(.delivery(provider: provider, delivery))
            // Sent before the fan-out is recorded, as a delivery job is sent before it is: a fan-out that fails to
            // record runs again and sends again, under the same message id.
            guard let instant = providers[provider] as? any InstantNotificationProvider else {
                return OutboxEnqueue(queued, dueAt: now)
            }
            instant.sendNow(Self.message(delivery))
            return OutboxEnqueue(queued, dueAt: now, finishedNote: Self.sentAtFanOut)
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
            "shop": rules.shop.name, "status": booking.status.rawValue, "notes": booking.notes, "code": booking.code,
            "offer_expires": booking.holdExpiresAt.map {
                language.time(minuteOfDay: zone.localDateTime(atInstant: $0).minuteOfDay)
            } ?? "",
        ]
        if let cancellation = booking.cancellation {
            values["reason"] = cancellation.reason
            values["fee"] = cancellation.fee.map { language.money(minorUnits: $0.minorUnits, currency: $0.currency) } ?? ""
        }
        return values
    }

    // MARK: - Delivery

    func deliver(_ delivery: DeliveryPayload, to name: String) async throws(ProviderError) {
        guard let provider = providers[name] else {
            throw .permanent(
                "no notification provider '\(name)' is configured any more — add it under `providers:` and retry")
        }
        try await provider.send(Self.message(delivery))
    }

    /// The note of a delivery made by its fan-out (`InstantNotificationProvider`).
    static let sentAtFanOut = "sent at the fan-out"

    /// The message a delivery sends.
    static func message(_ delivery: DeliveryPayload) -> OutgoingMessage {
        OutgoingMessage(
            event: delivery.event, id: delivery.messageID,
            recipient: Recipient(name: delivery.to.name, email: delivery.to.email, phone: delivery.to.phone),
            subject: delivery.subject, body: delivery.body, data: StoreJSON.encode(delivery.data))
    }
}
