import Foundation
import SlotCore
import SlotEngine
import SlotProviders
import SlotRules
import SlotStore
import Testing

@testable import SlotServer

extension PaymentJobsHarness {
    /// A held haircut without a deposit that waits for its card (`card_on_file`), for customer `email`.
    func cardHold(email: String = "ann@example.com", startOffset: Int64 = 0) async throws -> StoredBooking {
        let start = Self.start + startOffset
        let new = NewBooking(
            staffID: "alice", services: ["haircut"],
            times: BookingTimes(
                start: start, end: start + 1_800,
                footprint: BookingFootprint(segments: [Segment(.active, minutes: 30)])),
            price: Money(minorUnits: 2_800, currency: "EUR"), customer: CustomerInfo(name: "Ann", email: email),
            holdExpiresAt: Self.now + 900, savesCard: true)
        let creation = try await store.createBooking(new, at: time.now, idempotency: nil) { _ in nil as String? }
        return try #require(creation.booking)
    }

    func cardSaved(_ booking: StoredBooking, event: String = "evt_seti") -> PaymentWebhookUpdate {
        PaymentWebhookUpdate(
            eventID: event, provider: "stripe", type: "setup_intent.succeeded", bookingID: booking.id,
            reference: "seti_\(booking.id)", status: nil, savedPaymentMethod: "pm_card")
    }

    /// A held booking whose card was set up and saved (the webhook confirmed it).
    func confirmedWithCard() async throws -> StoredBooking {
        let booking = try await cardHold()
        try await runPaymentJobs()
        _ = try await store.applyPaymentWebhook(cardSaved(booking), at: time.now)
        return booking
    }
}

@Suite("A card on file: setup, webhook and fee jobs, on both stores")
struct CardOnFileJobsTests {
    static let policy = Policies(cancellationWindowMinutes: 24 * 60, cancellationFee: .percent(50), cardOnFile: true)

    @Test(
        "a card hold enqueues the card's setup, not a deposit; run twice it is set up once",
        arguments: PaymentStoreKind.allCases)
    func setupIsIdempotent(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let booking = try await harness.cardHold()
        #expect(try await harness.runPaymentJobs() == ["payment.save_card"])
        try await harness.runPaymentJobs()
        #expect(harness.provider.log == ["setup slotd-setup-\(booking.id) new"])
        let stored = try #require(try await harness.store.card(bookingID: booking.id))
        #expect(stored.card.state == .pending && stored.card.clientSecret == "seti_secret")
        #expect(stored.card.customerReference == "cus_\(booking.customerID)")
    }

    @Test("the customer's next booking reuses the provider's customer", arguments: PaymentStoreKind.allCases)
    func customerIsReused(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let first = try await harness.cardHold()
        try await harness.runPaymentJobs()
        let second = try await harness.cardHold(startOffset: 3_600)
        try await harness.runPaymentJobs()
        #expect(first.customerID == second.customerID)
        #expect(
            harness.provider.log == [
                "setup slotd-setup-\(first.id) new", "setup slotd-setup-\(second.id) cus_\(first.customerID)",
            ])
    }

    @Test("setup_intent.succeeded saves the card and confirms the hold once", arguments: PaymentStoreKind.allCases)
    func webhookConfirmsOnce(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let booking = try await harness.cardHold()
        try await harness.runPaymentJobs()
        let outcome = try await harness.store.applyPaymentWebhook(harness.cardSaved(booking), at: harness.time.now)
        guard case .applied(_, let events) = outcome else {
            Issue.record("not applied: \(outcome)")
            return
        }
        #expect(events.map(\.type) == ["payment.card_saved", "booking.confirmed"])
        let again = try await harness.store.applyPaymentWebhook(
            harness.cardSaved(booking, event: "evt_other"), at: harness.time.now)
        #expect(again == .ignored)
        #expect(try await harness.store.booking(id: booking.id)?.status == .confirmed)
        let stored = try #require(try await harness.store.card(bookingID: booking.id))
        #expect(stored.card.state == .saved && stored.card.paymentMethod == "pm_card")
        #expect(stored.card.clientSecret == nil)
    }

    @Test("a late cancellation charges the fee once, however often its job runs", arguments: PaymentStoreKind.allCases)
    func lateCancellationChargesOnce(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let booking = try await harness.confirmedWithCard()
        // Two hours before the start: inside the 24 h window.
        harness.time.set(PaymentJobsHarness.start - 7_200)
        _ = try await harness.store.cancel(booking.id, at: harness.time.now, policy: Self.policy)
        let fees = try await harness.store.outboxJobs(state: .pending, limit: 100).filter {
            $0.kind == "payment.charge_fee"
        }
        let job = try #require(fees.first)
        _ = try await harness.jobs.run(job)
        let rerun = try await harness.jobs.run(job)  // as after a crash before the job was marked done
        #expect(rerun.note == "fee already charged")
        #expect(harness.provider.log.filter { $0.hasPrefix("fee") } == ["fee slotd-fee-\(job.id) 1400 pm_card"])
        let stored = try #require(try await harness.store.card(bookingID: booking.id))
        #expect(stored.card.fee == .charged(reference: "pi_fee"))
        #expect(stored.feeAmount == Money(minorUnits: 1_400, currency: "EUR"))
    }

    @Test("a declined fee is recorded as an event and on the card, not retried", arguments: PaymentStoreKind.allCases)
    func declineIsRecorded(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        harness.provider.feeAnswer.withLock { $0 = .declined(reason: "Your card was declined.", reference: nil) }
        let booking = try await harness.confirmedWithCard()
        harness.time.set(PaymentJobsHarness.start + 60)
        _ = try await harness.store.transition(
            booking.id, .markNoShow, at: harness.time.now, policy: Self.policy, reason: "")
        let job = try #require(
            try await harness.store.outboxJobs(state: .pending, limit: 100).first { $0.kind == "payment.charge_fee" })
        let completion = try await harness.jobs.run(job)
        #expect(completion.note == "fee declined")
        let stored = try #require(try await harness.store.card(bookingID: booking.id))
        #expect(stored.card.fee == .declined(reason: "Your card was declined.", reference: nil))
        let events = try await harness.store.events(after: 0, typePrefix: "payment.fee", limit: 10)
        #expect(events.map(\.type) == ["payment.fee_declined"])
    }

    @Test("without a card on file the fee is left to the shop", arguments: PaymentStoreKind.allCases)
    func noCardCollectsAtShop(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let booking = try await harness.hold()  // a deposit booking: no card is ever saved for it
        let fee = FeeChargePayload(booking: booking.id, fee: Money(minorUnits: 500, currency: "EUR"))
        let job = OutboxJob(
            id: 99, kind: "payment.charge_fee", payload: try JSONEncoder().encode(fee), dueAt: harness.time.now,
            attempts: 0, state: .pending, lastError: nil, createdAt: harness.time.now)
        #expect(try await harness.jobs.run(job).note == "fee collected at the shop")
        #expect(harness.provider.log.allSatisfy { !$0.hasPrefix("fee") })
    }
}
