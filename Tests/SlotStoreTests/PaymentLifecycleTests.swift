import SlotCore
import SlotEngine
import Testing

/// The deposit state machine, table-driven and without a database: what a webhook, a job's outcome and each
/// deposit job decide for every state the payment and its booking can be in.
struct PaymentLifecycleTests {
    static func payment(_ state: PaymentState, secret: String? = nil) -> PaymentLifecycle {
        PaymentLifecycle(state: state, reference: "pi_1", clientSecret: secret)
    }

    static func notice(_ state: PaymentState) -> PaymentNotice {
        PaymentNotice(state: state, reference: "pi_1", refundReference: "stripe:evt_1", reason: "webhook")
    }

    // MARK: - Webhooks

    struct WebhookCase: CustomTestStringConvertible, Sendable {
        var from: PaymentState
        var reported: PaymentState
        var booking: BookingState
        /// The payment's state afterwards.
        var to: PaymentState
        var actions: [PaymentAction]
        var testDescription: String { "\(reported) on a \(from) payment of a \(booking) booking" }
    }

    static let webhookCases: [WebhookCase] = [
        // Paid: a hold is confirmed, a booking that holds its time anyway only records it, one that lost it refunds.
        WebhookCase(
            from: .pending, reported: .succeeded, booking: .held, to: .succeeded,
            actions: [.persist, .record(.succeeded, reason: "webhook"), .confirmBooking]),
        WebhookCase(
            from: .pending, reported: .succeeded, booking: .confirmed, to: .succeeded,
            actions: [.persist, .record(.succeeded, reason: "webhook")]),
        WebhookCase(
            from: .pending, reported: .succeeded, booking: .expired, to: .succeeded,
            actions: [.persist, .record(.succeeded, reason: "webhook"), .enqueue(.refund)]),
        WebhookCase(
            from: .cancelled, reported: .succeeded, booking: .cancelled, to: .succeeded,
            actions: [.persist, .record(.succeeded, reason: "webhook"), .enqueue(.refund)]),
        WebhookCase(
            from: .failed, reported: .succeeded, booking: .held, to: .succeeded,
            actions: [.persist, .record(.succeeded, reason: "webhook"), .confirmBooking]),
        // A declined attempt is recorded, but the payment stays open for another try.
        WebhookCase(
            from: .pending, reported: .failed, booking: .held, to: .pending,
            actions: [.record(.failed, reason: "webhook")]),
        WebhookCase(
            from: .pending, reported: .cancelled, booking: .expired, to: .cancelled,
            actions: [.persist, .record(.cancelled, reason: "webhook")]),
        WebhookCase(
            from: .succeeded, reported: .refunded, booking: .cancelled, to: .refunded,
            actions: [.persist, .record(.refunded, reason: "webhook")]),
        WebhookCase(
            from: .kept, reported: .refunded, booking: .noShow, to: .refunded,
            actions: [.persist, .record(.refunded, reason: "webhook")]),
        // Never backwards, never the same state twice.
        WebhookCase(from: .succeeded, reported: .succeeded, booking: .confirmed, to: .succeeded, actions: []),
        WebhookCase(from: .succeeded, reported: .pending, booking: .confirmed, to: .succeeded, actions: []),
        WebhookCase(from: .refunded, reported: .succeeded, booking: .cancelled, to: .refunded, actions: []),
        WebhookCase(from: .pending, reported: .pending, booking: .held, to: .pending, actions: []),
        WebhookCase(from: .succeeded, reported: .failed, booking: .confirmed, to: .succeeded, actions: []),
    ]

    @Test(arguments: webhookCases)
    func webhook(_ row: WebhookCase) {
        var lifecycle = Self.payment(row.from, secret: row.from == .pending ? "cs_1" : nil)
        let actions = lifecycle.receive(Self.notice(row.reported), booking: row.booking)
        #expect(actions == row.actions)
        #expect(lifecycle.state == row.to)
        if actions.contains(.persist) { #expect(lifecycle.clientSecret == nil, "a secret only while pending") }
    }

    @Test("a refund reported by webhook gets the event's id as its reference when none is known, and keeps one")
    func webhookRefundReference() {
        var lifecycle = Self.payment(.succeeded)
        _ = lifecycle.receive(Self.notice(.refunded), booking: .cancelled)
        #expect(lifecycle.refundReference == "stripe:evt_1")
        var refunded = PaymentLifecycle(state: .kept, reference: "pi_1", refundReference: "re_9")
        _ = refunded.receive(Self.notice(.refunded), booking: .noShow)
        #expect(refunded.refundReference == "re_9")
    }

    @Test("a webhook names the reference of a payment not recorded yet, and never replaces a known one")
    func webhookReference() {
        var unrecorded = PaymentLifecycle.unrecorded
        _ = unrecorded.receive(Self.notice(.succeeded), booking: .held)
        #expect(unrecorded.reference == "pi_1")
        var known = PaymentLifecycle(state: .pending, reference: "pi_0")
        _ = known.receive(Self.notice(.succeeded), booking: .held)
        #expect(known.reference == "pi_0")
    }

    // MARK: - Recording and settling

    @Test("a deposit is recorded once: a second record of it changes nothing")
    func recordDepositOnce() {
        var lifecycle = PaymentLifecycle.unrecorded
        #expect(lifecycle.recordDeposit(reference: "pi_1", clientSecret: "cs_1") == [.persist])
        #expect(lifecycle == PaymentLifecycle(state: .pending, reference: "pi_1", clientSecret: "cs_1"))
        #expect(lifecycle.recordDeposit(reference: "pi_2", clientSecret: "cs_2").isEmpty)
        #expect(lifecycle.reference == "pi_1")
    }

    @Test(arguments: PaymentState.allCases)
    func settleMovesOnceAndDropsTheSecret(_ next: PaymentState) {
        var lifecycle = Self.payment(.pending, secret: "cs_1")
        let actions = lifecycle.settle(next, refundReference: next == .refunded ? "re_1" : nil, reason: "job")
        if next == .pending {
            #expect(actions.isEmpty, "already there")
            #expect(lifecycle.clientSecret == "cs_1")
        } else {
            #expect(actions == [.persist, .record(next, reason: "job")])
            #expect(lifecycle.state == next && lifecycle.clientSecret == nil)
            #expect(lifecycle.settle(next, refundReference: nil, reason: "again").isEmpty)
        }
        #expect(lifecycle.refundReference == (next == .refunded ? "re_1" : nil))
    }

    // MARK: - Deposit jobs

    struct JobCase: CustomTestStringConvertible, Sendable {
        var state: PaymentState
        var refund: DepositStep
        var keep: DepositStep
        var cancel: DepositStep
        var testDescription: String { "jobs on a \(state) payment" }
    }

    static let jobCases: [JobCase] = [
        JobCase(state: .pending, refund: .cancel, keep: .cancel, cancel: .cancel),
        JobCase(
            state: .succeeded, refund: .refund, keep: .settle(.kept, reason: "late cancellation or no-show"),
            cancel: .nothing),
        JobCase(state: .cancelled, refund: .nothing, keep: .nothing, cancel: .nothing),
        JobCase(state: .refunded, refund: .nothing, keep: .nothing, cancel: .nothing),
        JobCase(state: .failed, refund: .nothing, keep: .nothing, cancel: .nothing),
        JobCase(state: .kept, refund: .nothing, keep: .nothing, cancel: .nothing),
    ]

    @Test(arguments: jobCases)
    func depositJobs(_ row: JobCase) {
        let lifecycle = Self.payment(row.state)
        #expect(lifecycle.onRefundJob == row.refund)
        #expect(lifecycle.onKeepJob == row.keep)
        #expect(lifecycle.onCancelJob == row.cancel)
    }

    @Test("without a reference the provider knows nothing: no cancel, no refund")
    func noReferenceNoProviderCall() {
        let unrecorded = PaymentLifecycle.unrecorded
        #expect(unrecorded.onCancelJob == .nothing)
        #expect(unrecorded.onRefundJob == .nothing)
    }

    @Test(arguments: BookingState.allCases)
    func createOnlyForAHoldAndOnlyOnce(_ booking: BookingState) {
        #expect(PaymentLifecycle.onCreateJob(nil, booking: booking) == (booking == .held ? .create : .nothing))
        #expect(PaymentLifecycle.onCreateJob(.unrecorded, booking: booking) == (booking == .held ? .create : .nothing))
        #expect(PaymentLifecycle.onCreateJob(Self.payment(.pending), booking: booking) == .nothing)
        // A deposit created for a booking that stopped holding its time meanwhile is cancelled at once.
        #expect(PaymentLifecycle.afterCreating(booking: booking) == (booking.isActive ? .nothing : .cancel))
    }

    @Test("a cancel the provider answers with 'paid' records the payment and gives it back")
    func cancelAnsweredWithPaid() {
        #expect(
            PaymentLifecycle.afterCancelling(paidMeanwhile: true) == [
                .settle(.succeeded, reason: "paid before it could be cancelled"), .refund,
            ])
        #expect(
            PaymentLifecycle.afterCancelling(paidMeanwhile: false) == [
                .settle(.cancelled, reason: "booking no longer held")
            ])
    }
}

/// The card on file as a value: pending → saved once, one fee outcome, and what each job asks for.
struct CardOnFileTests {
    static let pending = CardOnFile.setUp(customer: "cus_1", setup: "seti_1", clientSecret: "seti_1_secret").0

    @Test func savingConfirmsAHoldOnceAndDropsTheSecret() {
        var card = Self.pending
        let actions = card.receiveSaved(paymentMethod: "pm_1", booking: .held)
        #expect(actions == [.persist, .record(.saved), .confirmBooking])
        #expect(card.state == .saved && card.clientSecret == nil && card.paymentMethod == "pm_1")
        #expect(card.receiveSaved(paymentMethod: "pm_2", booking: .confirmed).isEmpty)
        #expect(card.paymentMethod == "pm_1")
    }

    @Test func aCardSavedAfterTheHoldLapsedConfirmsNothing() {
        var card = Self.pending
        #expect(card.receiveSaved(paymentMethod: "pm_1", booking: .expired) == [.persist, .record(.saved)])
    }

    @Test func theFeeIsChargedOnlyToASavedCardAndRecordedOnce() {
        #expect(CardOnFile.onChargeFeeJob(nil) == .collectAtShop)
        #expect(CardOnFile.onChargeFeeJob(Self.pending) == .collectAtShop)
        var card = Self.pending
        _ = card.receiveSaved(paymentMethod: "pm_1", booking: .held)
        #expect(CardOnFile.onChargeFeeJob(card) == .charge(customer: "cus_1", paymentMethod: "pm_1"))
        let declined = FeeOutcome.declined(reason: "card_declined", reference: nil)
        #expect(card.recordFee(declined) == [.persist, .record(.fee(declined))])
        #expect(card.recordFee(.charged(reference: "pi_1")).isEmpty)
        #expect(card.fee == declined && CardOnFile.onChargeFeeJob(card) == .nothing)
        #expect(CardEvent.fee(declined).type == "payment.fee_declined")
    }

    @Test func onlyAHeldBookingWithoutASetupAsksForOne() {
        #expect(CardOnFile.onSaveJob(nil, booking: .held))
        #expect(!CardOnFile.onSaveJob(Self.pending, booking: .held))
        #expect(!CardOnFile.onSaveJob(nil, booking: .expired))
    }
}
