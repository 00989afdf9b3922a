import Foundation
import SlotCore
import SlotEngine
import SlotRules

/// What one payment write does: the payment to save, its events, the jobs to enqueue and the booking's own plan
/// (a paid deposit confirms its hold). Both stores persist a plan the same way, in one transaction, in this order:
/// payment, its events, its jobs, then the booking's plan.
package struct PaymentPlan: Sendable {
    /// When the write happens (the jobs' creation time).
    package var at: Int64
    /// The payment as it is after the write; nil when it is not written (a declined attempt only records an event).
    package var payment: StoredPayment?
    /// The card on file as it is after the write; nil when it is not written.
    package var card: StoredCard? = nil
    package var events: [PendingEvent] = []
    package var jobs: [PendingJob] = []
    package var booking: BookingPlan? = nil
}

/// The shared, pure part of both stores' payment writes: it asks `PaymentLifecycle` and turns its actions into a
/// plan; the stores only read what it needs and write what it returns.
package enum PaymentPlanner {
    /// A deposit the provider created: the payment to answer with and the plan that writes it, or no plan when a
    /// deposit with a reference is recorded already (a job that ran twice), which is returned unchanged.
    package static func recordDeposit(
        existing: StoredPayment?, bookingID: String, provider: String, reference: String, clientSecret: String?,
        amount: Money, at now: Int64
    ) -> (payment: StoredPayment, plan: PaymentPlan?) {
        let before =
            existing
            ?? StoredPayment(
                bookingID: bookingID, provider: provider, reference: nil, status: .pending, clientSecret: nil,
                amount: amount, refundReference: nil, createdAt: now, updatedAt: now)
        var lifecycle = before.lifecycle
        let actions = lifecycle.recordDeposit(reference: reference, clientSecret: clientSecret)
        let plan = plan(before, lifecycle, actions, confirmation: nil, at: now)
        return (plan.payment ?? before, actions.isEmpty ? nil : plan)
    }

    /// The plan for a deposit job's outcome (`settlePayment`); nil when the payment is in that state already.
    package static func settle(
        _ payment: StoredPayment, to status: PaymentState, refundReference: String?, reason: String, at now: Int64
    ) -> PaymentPlan? {
        var lifecycle = payment.lifecycle
        let actions = lifecycle.settle(status, refundReference: refundReference, reason: reason)
        guard !actions.isEmpty else { return nil }
        return plan(payment, lifecycle, actions, confirmation: nil, at: now)
    }

    /// The plan for a verified webhook saying `booking`'s card is saved, or nil when it changes nothing (no card was
    /// set up for the booking, or it is saved already).
    package static func cardSaved(
        _ update: PaymentWebhookUpdate, paymentMethod: String, booking: StoredBooking, card: StoredCard?,
        at now: Int64
    ) throws(StoreError) -> PaymentPlan? {
        guard var stored = card else { return nil }
        let actions = stored.card.receiveSaved(paymentMethod: paymentMethod, booking: booking.status)
        guard !actions.isEmpty else { return nil }
        var confirmation: BookingPlan?
        if actions.contains(.confirmBooking) {
            confirmation = try BookingPlanner.transition(
                booking, .confirm, at: now, policy: Policies(), reason: "card saved"
            ).get()
        }
        stored.updatedAt = max(now, stored.createdAt)
        return plan(stored, actions, confirmation: confirmation, at: now)
    }

    /// A card set up at the provider: the card to answer with and the plan that writes it, or no plan when one is
    /// recorded already (a job that ran twice), which is returned unchanged.
    package static func recordCardSetup(
        existing: StoredCard?, booking: StoredBooking, provider: String, customerReference: String,
        setupReference: String, clientSecret: String?, at now: Int64
    ) -> (card: StoredCard, plan: PaymentPlan?) {
        if let existing { return (existing, nil) }
        let (card, actions) = CardOnFile.setUp(
            customer: customerReference, setup: setupReference, clientSecret: clientSecret)
        let stored = StoredCard(
            bookingID: booking.id, customerID: booking.customerID, provider: provider, card: card, feeAmount: nil,
            createdAt: now, updatedAt: now)
        return (stored, plan(stored, actions, confirmation: nil, at: now))
    }

    /// The plan recording a fee's outcome on `card`, or nil when one is recorded already.
    package static func recordFee(
        _ card: StoredCard, _ outcome: FeeOutcome, amount: Money, at now: Int64
    ) -> PaymentPlan? {
        var stored = card
        let actions = stored.card.recordFee(outcome)
        guard !actions.isEmpty else { return nil }
        stored.feeAmount = amount
        stored.updatedAt = max(now, stored.createdAt)
        return plan(stored, actions, confirmation: nil, at: now)
    }

    /// Turns a card's actions into the card to save, its events and the booking's plan for `.confirmBooking`.
    static func plan(
        _ card: StoredCard, _ actions: [CardAction], confirmation: BookingPlan?, at now: Int64
    ) -> PaymentPlan {
        var plan = PaymentPlan(at: now, payment: nil)
        for action in actions {
            switch action {
            case .persist:
                plan.card = card
            case .record(let event):
                let data = CardEventData(
                    booking: card.bookingID, provider: card.provider, card: card.card, fee: card.feeAmount)
                plan.events.append(PendingEvent(type: event.type, at: now, data: StoreJSON.encode(data)))
            case .confirmBooking:
                plan.booking = confirmation
            }
        }
        return plan
    }

    /// The plan for a verified webhook about `booking`'s deposit, or nil when it changes nothing: it names no booking
    /// slotd knows, carries no state, concerns a booking without a deposit, or reports a state already reached.
    package static func webhook(
        _ update: PaymentWebhookUpdate, booking: StoredBooking?, payment: StoredPayment?, at now: Int64
    ) throws(StoreError) -> PaymentPlan? {
        guard let booking, let status = update.status, let deposit = booking.deposit else { return nil }
        // A payment the provider reports before its deposit job recorded it: the booking's deposit, pending.
        let before =
            payment
            ?? StoredPayment(
                bookingID: booking.id, provider: update.provider, reference: update.reference, status: .pending,
                clientSecret: nil, amount: deposit, refundReference: nil, createdAt: now, updatedAt: now)
        var lifecycle = before.lifecycle
        let notice = PaymentNotice(
            state: status, reference: update.reference, refundReference: "\(update.provider):\(update.eventID)",
            reason: update.type)
        let actions = lifecycle.receive(notice, booking: booking.status)
        guard !actions.isEmpty else { return nil }
        var confirmation: BookingPlan?
        if actions.contains(.confirmBooking) {
            confirmation = try BookingPlanner.transition(
                booking, .confirm, at: now, policy: Policies(), reason: "deposit paid"
            ).get()
        }
        return plan(before, lifecycle, actions, confirmation: confirmation, at: now)
    }

    /// Turns the lifecycle's actions into the payment to save, the events to append and the jobs to enqueue;
    /// `confirmation` is the booking's plan for `.confirmBooking`.
    static func plan(
        _ before: StoredPayment, _ lifecycle: PaymentLifecycle, _ actions: [PaymentAction],
        confirmation: BookingPlan?, at now: Int64
    ) -> PaymentPlan {
        var after = before
        after.status = lifecycle.state
        after.reference = lifecycle.reference
        after.clientSecret = lifecycle.clientSecret
        after.refundReference = lifecycle.refundReference
        after.updatedAt = max(now, before.createdAt)
        var plan = PaymentPlan(at: now, payment: nil)
        for action in actions {
            switch action {
            case .persist:
                plan.payment = after
            case .record(let state, let reason):
                var recorded = after
                recorded.status = state
                plan.events.append(
                    PendingEvent(type: state.eventType, at: now, data: eventData(recorded, reason: reason)))
            case .confirmBooking:
                plan.booking = confirmation
            case .enqueue(let step):
                plan.jobs.append(PendingJob(BookingFollowUp.deposit(step).job(for: before.bookingID), dueAt: now))
            }
        }
        return plan
    }

    /// The data of `payment.<status>`: the payment's facts, never the client secret.
    static func eventData(_ payment: StoredPayment, reason: String) -> Data {
        StoreJSON.encode(
            PaymentEventData(
                booking: payment.bookingID, provider: payment.provider, status: payment.status,
                amount: payment.amount, reason: reason, reference: payment.reference,
                refundReference: payment.refundReference))
    }
}
