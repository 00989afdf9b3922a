import Foundation
import Logging
import SlotCore
import SlotEngine
import SlotProviders
import SlotRules
import SlotStore

/// Runs the deposit jobs (`payment.*`) against the payment provider in force, outside every transaction.
///
/// Each job is idempotent twice over: the provider gets a key derived from the booking (`slotd-deposit-<id>`,
/// `slotd-cancel-<id>`, `slotd-refund-<id>`, `slotd-setup-<id>`) or the job (`slotd-fee-<job id>`), so a repeated
/// call does nothing new there, and the job first looks at the recorded payment or card, so a job whose work is
/// already recorded returns at once.
struct PaymentJobs: OutboxJobHandler {
    let family = JobFamily.payment
    let store: any BookingStore & PaymentStore
    let provider: any PaymentProvider
    let bus: EventBus
    let clock: WallClock
    let logger: Logger

    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        guard case .payment(let payment) = try job.typed() else {
            throw .permanent("job \(job.id) (\(job.kind)) is not a payment job")
        }
        switch payment {
        case .deposit(.createDeposit, let target): try await createDeposit(target.booking)
        case .deposit(.cancelDeposit, let target): try await cancelDeposit(target.booking)
        case .deposit(.refund, let target): try await refund(target.booking)
        case .deposit(.keepDeposit, let target): try await keep(target.booking)
        case .chargeFee(let fee): return try await chargeFee(fee, jobID: job.id)
        case .saveCard(let target): try await saveCard(target.booking)
        }
        return .done
    }

    // MARK: - Jobs

    // What each job does is `PaymentLifecycle`'s decision; these functions read the records, ask it, and make the
    // provider calls it names.

    func createDeposit(_ bookingID: String) async throws(ProviderError) {
        guard let booking = try await booking(bookingID), let deposit = booking.deposit else { return }
        let recorded = try await payment(bookingID)
        guard PaymentLifecycle.onCreateJob(recorded?.lifecycle, booking: booking.status) == .create else { return }
        let request = DepositRequest(
            bookingID: booking.id, amount: ProviderAmount(minorUnits: deposit.minorUnits, currency: deposit.currency),
            description: "Deposit for booking \(booking.id) (\(booking.services.joined(separator: ", ")))",
            customerName: booking.customer.name, customerEmail: booking.customer.email,
            idempotencyKey: "slotd-deposit-\(booking.id)")
        let result = try await provider.createDeposit(request)
        let created = try await storing { () async throws(StoreError) in
            try await store.recordDeposit(
                bookingID: booking.id, provider: provider.name, reference: result.reference,
                clientSecret: result.clientSecret, amount: deposit, at: clock.now())
        }
        logger.info(
            "deposit created", metadata: ["booking": "\(booking.id)", "reference": "\(created.reference ?? "")"])
        // The page waiting for the client secret (and the booking's live feed) look again now.
        bus.publishRecordChanged()
        if let now = try await self.booking(bookingID) {
            try await perform(PaymentLifecycle.afterCreating(booking: now.status), bookingID)
        }
    }

    func cancelDeposit(_ bookingID: String) async throws(ProviderError) {
        guard let payment = try await payment(bookingID), payment.lifecycle.onCancelJob == .cancel,
            let reference = payment.reference
        else { return }
        try checkProvider(payment)
        let result = try await provider.cancelDeposit(
            RefundRequest(bookingID: bookingID, reference: reference, idempotencyKey: "slotd-cancel-\(bookingID)"))
        for step in PaymentLifecycle.afterCancelling(paidMeanwhile: result.status == .succeeded) {
            try await perform(step, bookingID)
        }
    }

    func refund(_ bookingID: String) async throws(ProviderError) {
        guard let payment = try await payment(bookingID) else { return }
        guard payment.lifecycle.onRefundJob == .refund, let reference = payment.reference else {
            return try await perform(payment.lifecycle.onRefundJob, bookingID)
        }
        try checkProvider(payment)
        let result = try await provider.refund(
            RefundRequest(bookingID: bookingID, reference: reference, idempotencyKey: "slotd-refund-\(bookingID)"))
        guard result.status == .refunded else {
            throw .permanent("the provider did not refund \(reference) (status \(result.status.rawValue))")
        }
        try await settle(
            bookingID, .refunded, refundReference: result.reference, reason: PaymentLifecycle.refundReason)
    }

    func keep(_ bookingID: String) async throws(ProviderError) {
        guard let payment = try await payment(bookingID) else { return }
        try await perform(payment.lifecycle.onKeepJob, bookingID)
    }

    // MARK: - Cards on file

    /// `payment.save_card`: a Customer (reused from the customer's earlier card) and a SetupIntent for a held
    /// booking; the page confirms it with the card element and the webhook confirms the booking.
    func saveCard(_ bookingID: String) async throws(ProviderError) {
        guard let booking = try await booking(bookingID) else { return }
        let recorded = try await storing { () async throws(StoreError) in try await store.card(bookingID: bookingID) }
        guard CardOnFile.onSaveJob(recorded?.card, booking: booking.status) else { return }
        let known = try await storing { () async throws(StoreError) in
            try await store.providerCustomer(customerID: booking.customerID, provider: provider.name)
        }
        let result = try await provider.setUpCard(
            CardSetupRequest(
                bookingID: booking.id, customerID: booking.customerID, customerReference: known,
                customerName: booking.customer.name, customerEmail: booking.customer.email,
                idempotencyKey: "slotd-setup-\(booking.id)"))
        _ = try await storing { () async throws(StoreError) in
            try await store.recordCardSetup(
                bookingID: booking.id, provider: provider.name, customerReference: result.customerReference,
                setupReference: result.reference, clientSecret: result.clientSecret, at: clock.now())
        }
        logger.info("card setup created", metadata: ["booking": "\(booking.id)", "reference": "\(result.reference)"])
        // The page waiting for the client secret (and the booking's live feed) look again now.
        bus.publishRecordChanged()
    }

    /// `payment.charge_fee`: charged off-session to the card on file (once: the job's own idempotency key, and the
    /// recorded outcome); a decline is recorded and visible on the booking, not retried. Without a card on file the
    /// fee is settled from the kept deposit or at the shop, as before.
    func chargeFee(_ fee: FeeChargePayload, jobID: Int64) async throws(ProviderError) -> OutboxCompletion {
        let stored = try await storing { () async throws(StoreError) in try await store.card(bookingID: fee.booking) }
        switch CardOnFile.onChargeFeeJob(stored?.card) {
        case .collectAtShop:
            logger.info("cancellation fee recorded, collected at the shop", metadata: ["booking": "\(fee.booking)"])
            return .done("fee collected at the shop")
        case .nothing:
            return .done("fee already \(stored?.card.fee?.status ?? "recorded")")
        case .charge(let customer, let paymentMethod):
            if let stored, stored.provider != provider.name {
                throw .permanent(
                    "the card of \(fee.booking) was saved at '\(stored.provider)', but `payments:` is now "
                        + "'\(provider.name)' — charge the fee in that provider's dashboard")
            }
            let amount = Money(minorUnits: fee.amount, currency: fee.currency)
            let result = try await provider.chargeFee(
                FeeChargeRequest(
                    bookingID: fee.booking, amount: ProviderAmount(minorUnits: fee.amount, currency: fee.currency),
                    customerReference: customer, paymentMethod: paymentMethod,
                    description: "Cancellation or no-show fee for booking \(fee.booking)",
                    idempotencyKey: "slotd-fee-\(jobID)"))
            let outcome: FeeOutcome
            switch result {
            case .charged(let reference): outcome = .charged(reference: reference)
            case .declined(let reason, let reference): outcome = .declined(reason: reason, reference: reference)
            }
            let events = try await storing { () async throws(StoreError) in
                try await store.recordFee(bookingID: fee.booking, outcome: outcome, amount: amount, at: clock.now())
            }
            bus.publish(events)
            logger.notice(
                "fee \(outcome.status)", metadata: ["booking": "\(fee.booking)", "amount": "\(amount)"])
            return .done("fee \(outcome.status)")
        }
    }

    /// Carries out a step the lifecycle chose.
    private func perform(_ step: DepositStep, _ bookingID: String) async throws(ProviderError) {
        switch step {
        case .nothing: return
        case .create: try await createDeposit(bookingID)
        case .cancel: try await cancelDeposit(bookingID)
        case .refund: try await refund(bookingID)
        case .settle(let status, let reason): try await settle(bookingID, status, refundReference: nil, reason: reason)
        }
    }

    // MARK: - Helpers

    private func checkProvider(_ payment: StoredPayment) throws(ProviderError) {
        guard payment.provider == provider.name else {
            throw .permanent(
                "the deposit of \(payment.bookingID) was taken by '\(payment.provider)', but `payments:` is now "
                    + "'\(provider.name)' — settle it in that provider's dashboard")
        }
    }

    private func settle(
        _ bookingID: String, _ status: StoredPaymentStatus, refundReference: String?, reason: String
    ) async throws(ProviderError) {
        let events = try await storing { () async throws(StoreError) in
            try await store.settlePayment(
                bookingID: bookingID, status: status, refundReference: refundReference, reason: reason,
                at: clock.now())
        }
        bus.publish(events)
        logger.info("deposit \(status.rawValue)", metadata: ["booking": "\(bookingID)"])
    }

    private func booking(_ id: String) async throws(ProviderError) -> StoredBooking? {
        try await storing { () async throws(StoreError) in try await store.booking(id: id) }
    }

    private func payment(_ id: String) async throws(ProviderError) -> StoredPayment? {
        try await storing { () async throws(StoreError) in try await store.payment(bookingID: id) }
    }

    /// A store failure is worth a retry (the database was busy or the disk full for a moment).
    private func storing<T>(_ body: () async throws(StoreError) -> T) async throws(ProviderError) -> T {
        do { return try await body() } catch { throw .temporary("store: \(error.message)") }
    }
}
