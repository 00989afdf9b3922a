import Foundation
import Logging
import SlotAPI
import SlotEngine
import SlotProviders
import SlotStore

/// Receives the payment provider's webhooks: verify the signature (the only authentication this route has — it
/// is reached through a reverse proxy by the provider, which has no uid on this machine), then apply the event in
/// one transaction with its id, so a redelivery changes nothing.
struct PaymentWebhooks: Sendable {
    let store: any PaymentStore
    let provider: any PaymentProvider
    let bus: EventBus
    let clock: WallClock
    let logger: Logger

    /// Verifies and applies one delivery; a forged, stale or malformed one is `400` and changes nothing.
    func receive(headers: [String: String], body: Data) async throws -> WebhookReceipt {
        guard provider.collectsOnline else {
            throw APIError(
                .notFound,
                "payments are `\(provider.name)`, which takes no webhooks — set `payments:` to a stripe provider")
        }
        let event: PaymentWebhookEvent
        do {
            event = try provider.verifyWebhook(
                WebhookDelivery(headers: headers, body: body, receivedAt: clock.now()))
        } catch {
            logger.warning("payment webhook rejected", metadata: ["reason": "\(error.message)"])
            throw APIError(.badRequest, "webhook rejected: \(error.message)")
        }
        let status = event.status.flatMap { StoredPaymentStatus(rawValue: $0.rawValue) }
        let outcome = try await store.applyPaymentWebhook(
            PaymentWebhookUpdate(
                eventID: event.eventID, provider: provider.name, type: event.type, bookingID: event.bookingID,
                reference: event.reference, status: status, savedPaymentMethod: event.savedPaymentMethod),
            at: clock.now())
        switch outcome {
        case .duplicate:
            logger.info("payment webhook already applied", metadata: ["event": "\(event.eventID)"])
            return WebhookReceipt(event: event.eventID, outcome: "duplicate", booking: event.bookingID)
        case .ignored:
            return WebhookReceipt(event: event.eventID, outcome: "ignored", booking: event.bookingID)
        case .applied(let booking, let events):
            bus.publish(events)
            logger.info(
                "payment webhook applied",
                metadata: ["event": "\(event.eventID)", "type": "\(event.type)", "booking": "\(booking)"])
            return WebhookReceipt(event: event.eventID, outcome: "applied", booking: booking)
        }
    }
}

/// What the payments of bookings look like on the wire, for the provider in force.
struct PaymentDirectory: Sendable {
    /// The payment provider's name (`manual`, `stripe`).
    var provider: String
    /// Whether a booking with a deposit is held until the deposit is paid online.
    var collectsOnline: Bool
    var store: (any PaymentStore)?
    /// Whether the provider saves cards for `policies.card_on_file`.
    var savesCards: Bool = false

    static let manual = PaymentDirectory(provider: "manual", collectsOnline: false, store: nil)

    /// The payment of `booking` as a front end sees it; nil for a booking without a deposit.
    func details(_ booking: StoredBooking, _ payment: StoredPayment?, wire: WireMapping) -> PaymentDetails? {
        guard let deposit = booking.deposit else { return nil }
        if let payment {
            return PaymentDetails(
                provider: payment.provider, status: payment.status.rawValue, amount: wire.price(payment.amount),
                reference: payment.reference, clientSecret: payment.status == .pending ? payment.clientSecret : nil)
        }
        switch booking.status {
        case .held:
            // The deposit is being created at the provider (an outbox job); the client secret follows.
            return PaymentDetails(provider: provider, status: "pending", amount: wire.price(deposit))
        case .confirmed, .completed, .noShow:
            return PaymentDetails(provider: "manual", status: "due_at_shop", amount: wire.price(deposit))
        case .cancelled, .expired:
            return nil
        }
    }

    /// The card on file of `booking` as a front end sees it; nil when none is saved or being saved.
    func card(_ booking: StoredBooking, _ stored: StoredCard?, wire: WireMapping) -> CardDetails? {
        guard let stored else {
            // A held booking without a deposit waits for its card: the setup is being made (an outbox job).
            return booking.status == .held && booking.deposit == nil && collectsOnline
                ? CardDetails(provider: provider, status: CardState.pending.rawValue, reference: nil, clientSecret: nil,
                    fee: nil)
                : nil
        }
        let card = stored.card
        var fee: CardDetails.Fee?
        if let outcome = card.fee, let amount = stored.feeAmount {
            switch outcome {
            case .charged(let reference):
                fee = .init(status: outcome.status, amount: wire.price(amount), reference: reference, reason: nil)
            case .declined(let reason, let reference):
                fee = .init(status: outcome.status, amount: wire.price(amount), reference: reference, reason: reason)
            }
        }
        return CardDetails(
            provider: stored.provider, status: card.state.rawValue, reference: card.setupReference,
            clientSecret: card.state == .pending ? card.clientSecret : nil, fee: fee)
    }

    /// One booking with its payment and card.
    func booking(_ booking: StoredBooking, wire: WireMapping) async throws -> BookingDetails {
        // A booking without a deposit shows no payment (`details`), so only one with a deposit reads its row: a
        // read is a hop to the store's reader queue and back, a large part of a cancel's CPU.
        let payment = booking.deposit == nil ? nil : try await store?.payment(bookingID: booking.id)
        var details = wire.booking(booking)
        details.payment = self.details(booking, payment, wire: wire)
        let stored = booking.deposit == nil ? try await store?.card(bookingID: booking.id) : nil
        details.card = card(booking, stored, wire: wire)
        return details
    }

    /// Several bookings with their payments and cards (one query each).
    func bookings(_ bookings: [StoredBooking], wire: WireMapping) async throws -> [BookingDetails] {
        let payments = try await store?.payments(bookingIDs: bookings.filter { $0.deposit != nil }.map(\.id)) ?? [:]
        let cards = try await store?.cards(bookingIDs: bookings.filter { $0.deposit == nil }.map(\.id)) ?? [:]
        return bookings.map { booking in
            var details = wire.booking(booking)
            details.payment = self.details(booking, payments[booking.id], wire: wire)
            details.card = card(booking, cards[booking.id], wire: wire)
            return details
        }
    }

    /// A booking just created (inside its transaction: no payment or card row yet).
    func created(_ booking: StoredBooking, wire: WireMapping) -> BookingDetails {
        var details = wire.booking(booking)
        details.payment = self.details(booking, nil, wire: wire)
        details.card = card(booking, nil, wire: wire)
        return details
    }
}
