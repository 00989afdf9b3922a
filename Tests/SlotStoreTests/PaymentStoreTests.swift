import Foundation
import SlotCore
import SlotEngine
import SlotRules
import Testing

@testable import SlotStore

/// Deposits and payment webhooks as both stores persist them: what `PaymentLifecycle` decides, written in one
/// transaction with the booking's own change.
@Suite("payment store")
struct PaymentStoreTests {
    static let now = Fixture.now
    static let deposit = Money(minorUnits: 500, currency: "EUR")

    /// A held booking with a deposit, expiring in 15 minutes.
    static func hold(_ store: any SlotStorage) async throws -> StoredBooking {
        try await Fixture.book(store, Fixture.booking(hold: now + 900))
    }

    /// A held booking with its deposit recorded.
    static func holdWithDeposit(_ store: any SlotStorage) async throws -> StoredBooking {
        let booking = try await hold(store)
        _ = try await record(store, booking)
        return booking
    }

    static func record(_ store: any SlotStorage, _ booking: StoredBooking, at time: Int64 = now) async throws
        -> StoredPayment
    {
        try await store.recordDeposit(
            bookingID: booking.id, provider: "stripe", reference: "pi_\(booking.id)", clientSecret: "cs_1",
            amount: deposit, at: time)
    }

    static func webhook(
        _ booking: StoredBooking?, _ status: StoredPaymentStatus?, event: String = "evt_1", reference: String? = nil
    ) -> PaymentWebhookUpdate {
        PaymentWebhookUpdate(
            eventID: event, provider: "stripe", type: "payment_intent.\(status?.rawValue ?? "created")",
            bookingID: booking?.id, reference: reference ?? booking.map { "pi_\($0.id)" }, status: status)
    }

    /// Applies a webhook that must apply: the booking and the events; records an issue for any other outcome.
    static func applied(
        _ store: any SlotStorage, _ update: PaymentWebhookUpdate, at time: Int64,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (booking: String, events: [StoredEvent]) {
        let outcome = try await store.applyPaymentWebhook(update, at: time)
        guard case .applied(let booking, let events) = outcome else {
            Issue.record("not applied: \(outcome)", sourceLocation: sourceLocation)
            return ("", [])
        }
        return (booking, events)
    }

    @Test("a deposit is recorded once; a second record returns the first", arguments: StoreKind.tested)
    func recordDepositOnce(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Self.hold(store)
        let first = try await Self.record(store, booking)
        #expect(first.status == .pending && first.reference == "pi_\(booking.id)" && first.clientSecret == "cs_1")
        let again = try await store.recordDeposit(
            bookingID: booking.id, provider: "stripe", reference: "pi_other", clientSecret: "cs_2",
            amount: Self.deposit, at: Self.now + 5)
        #expect(again == first)
        #expect(try await store.payment(bookingID: booking.id) == first)
        #expect(try await store.payments(bookingIDs: [booking.id, "bk_none"]) == [booking.id: first])
        let missing = await storeError { () async throws(StoreError) in
            _ = try await store.recordDeposit(
                bookingID: "bk_none", provider: "stripe", reference: "pi_x", clientSecret: nil, amount: Self.deposit,
                at: Self.now)
        }
        #expect(missing?.code == .notFound)
    }

    @Test(
        "settling moves the payment once, drops the secret and appends payment.<status>",
        arguments: StoreKind.tested)
    func settleOnce(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Self.holdWithDeposit(store)
        let events = try await store.settlePayment(
            bookingID: booking.id, status: .cancelled, refundReference: nil, reason: "booking no longer held",
            at: Self.now + 10)
        #expect(events.map(\.type) == ["payment.cancelled"])
        #expect(events.first?.object["reason"] as? String == "booking no longer held")
        #expect(events.first?.object["client_secret"] == nil)
        let payment = try #require(try await store.payment(bookingID: booking.id))
        #expect(payment.status == .cancelled && payment.clientSecret == nil && payment.updatedAt == Self.now + 10)
        #expect(
            try await store.settlePayment(
                bookingID: booking.id, status: .cancelled, refundReference: nil, reason: "again", at: Self.now + 11
            ).isEmpty)
        #expect(
            try await store.settlePayment(
                bookingID: "bk_none", status: .cancelled, refundReference: nil, reason: "", at: Self.now
            ).isEmpty)
    }

    @Test("a paid webhook confirms the hold in one write; its redelivery is a duplicate", arguments: StoreKind.tested)
    func webhookConfirmsTheHold(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Self.holdWithDeposit(store)
        let (id, events) = try await Self.applied(store, Self.webhook(booking, .succeeded), at: Self.now + 60)
        #expect(id == booking.id)
        #expect(events.map(\.type) == ["payment.succeeded", "booking.confirmed"])
        #expect(events.map(\.cursor) == events.map(\.cursor).sorted())
        #expect(try await store.booking(id: booking.id)?.status == .confirmed)
        #expect(try await store.payment(bookingID: booking.id)?.status == .succeeded)
        let cursor = try await store.latestCursor()
        #expect(try await store.applyPaymentWebhook(Self.webhook(booking, .succeeded), at: Self.now + 61) == .duplicate)
        #expect(try await store.latestCursor() == cursor)
    }

    @Test(
        "a declined attempt is an event, but the payment stays pending with its secret",
        arguments: StoreKind.tested)
    func declinedAttemptStaysPending(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Self.hold(store)
        let recorded = try await Self.record(store, booking)
        let (_, events) = try await Self.applied(store, Self.webhook(booking, .failed), at: Self.now + 60)
        #expect(events.map(\.type) == ["payment.failed"])
        #expect(try await store.payment(bookingID: booking.id) == recorded)
        #expect(try await store.booking(id: booking.id)?.status == .held)
    }

    @Test("money paid after the hold expired is recorded and a refund enqueued", arguments: StoreKind.tested)
    func paidAfterExpiryIsRefunded(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Self.holdWithDeposit(store)
        _ = try await store.expireHolds(at: Self.now + 900)
        let (_, events) = try await Self.applied(store, Self.webhook(booking, .succeeded), at: Self.now + 960)
        #expect(events.map(\.type) == ["payment.succeeded"])
        #expect(try await store.booking(id: booking.id)?.status == .expired, "the slot stays free")
        let refunds = try await store.recentOutboxJobs(state: .pending, limit: 50).filter {
            $0.kind == DepositJob.refund.kind
        }
        #expect(refunds.map(\.bookingID) == [booking.id])
        #expect(refunds.first?.createdAt == Self.now + 960)
    }

    @Test("a webhook finds its booking by the payment's reference, and records a refund", arguments: StoreKind.tested)
    func webhookByReference(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Self.holdWithDeposit(store)
        _ = try await store.applyPaymentWebhook(Self.webhook(booking, .succeeded), at: Self.now + 60)
        var refund = Self.webhook(nil, .refunded, event: "evt_2", reference: "pi_\(booking.id)")
        refund.type = "charge.refunded"
        let (id, events) = try await Self.applied(store, refund, at: Self.now + 120)
        #expect(id == booking.id && events.map(\.type) == ["payment.refunded"])
        let payment = try #require(try await store.payment(bookingID: booking.id))
        #expect(payment.status == .refunded && payment.refundReference == "stripe:evt_2")
    }

    @Test(
        "a webhook for no known booking, without a status, or for no deposit is ignored, once",
        arguments: StoreKind.tested)
    func ignoredWebhooksAreRecorded(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let unknown = Self.webhook(nil, .succeeded, event: "evt_unknown", reference: "pi_nobody")
        #expect(try await store.applyPaymentWebhook(unknown, at: Self.now) == .ignored)
        #expect(try await store.applyPaymentWebhook(unknown, at: Self.now) == .duplicate, "recorded all the same")
        let held = try await Self.hold(store)
        #expect(try await store.applyPaymentWebhook(Self.webhook(held, nil, event: "evt_n"), at: Self.now) == .ignored)
        let plain = try await Fixture.book(store, Fixture.booking(at: 120))
        #expect(
            try await store.applyPaymentWebhook(Self.webhook(plain, .succeeded, event: "evt_p"), at: Self.now)
                == .ignored)
        #expect(try await store.payment(bookingID: plain.id) == nil)
    }

    @Test(
        "a payment reported before its deposit job recorded it is recorded by the webhook",
        arguments: StoreKind.tested)
    func webhookBeforeTheDepositJob(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let booking = try await Self.hold(store)
        _ = try await store.applyPaymentWebhook(Self.webhook(booking, .succeeded), at: Self.now + 30)
        let payment = try #require(try await store.payment(bookingID: booking.id))
        #expect(payment.status == .succeeded && payment.reference == "pi_\(booking.id)")
        #expect(payment.amount == Self.deposit && payment.createdAt == Self.now + 30)
        #expect(try await store.booking(id: booking.id)?.status == .confirmed)
    }
}

/// What operations need of both stores: events outside a booking, counts, customers, health and backups.
@Suite("operations store")
struct OperationsStoreTests {
    @Test(arguments: StoreKind.tested)
    func eventsCountsAndCustomers(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let first = try await Fixture.book(store, Fixture.booking())
        _ = try await Fixture.book(store, Fixture.booking(at: 60, customer: "Kim K."))
        _ = try await Fixture.book(
            store, Fixture.booking(at: 120, customer: "Lou", email: "lou@example.com", phone: "+4930999"))
        _ = try await store.cancel(first.id, at: Fixture.now, policy: Policies())
        let appended = try await store.appendEvents([
            NewEvent(type: "rules.reloaded", at: Fixture.now, data: Data(#"{"version":"v2"}"#.utf8)),
            NewEvent(type: "rules.conflicts", at: Fixture.now, data: Data("{}".utf8)),
        ])
        #expect(appended.map(\.type) == ["rules.reloaded", "rules.conflicts"])
        #expect(appended.last?.cursor == (try await store.latestCursor()))
        #expect(try await store.appendEvents([]).isEmpty)
        #expect(try await store.bookingCountsByState() == ["confirmed": 2, "cancelled": 1])
        let outbox = try await store.outboxCountsByState()
        #expect(outbox.keys.sorted() == ["pending"] && (outbox["pending"] ?? 0) > 0)
        // Both were created at the same instant: ordered by id then, which is random.
        let customers = try await store.customers().sorted { $0.name < $1.name }
        #expect(customers.map(\.name) == ["Kim", "Lou"], "one customer per phone or e-mail, never renamed")
        #expect(customers.first?.phone == "+49 30 1234")
        try await store.checkWritable()
        #expect(try await store.quickCheck() == "ok")
    }

    @Test("an in-memory store refuses a backup with an error that says why")
    func memoryHasNoBackup() throws {
        let store = MemoryBookingStore()
        let path = try TempDirectory().path("copy.db")
        #expect(throws: StoreError.self) { try store.backup(to: path) }
        do {
            try store.backup(to: path)
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("not available for an in-memory store"))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

/// Cards on file (`policies.card_on_file`) as every store persists them.
extension PaymentStoreTests {
    @Test(
        "a card is set up once, saved by its webhook (confirming the hold) and charged a fee once",
        arguments: StoreKind.tested)
    func aCardOnFileFromSetupToFee(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        var new = Fixture.booking(hold: Self.now + 900)
        new.deposit = nil
        new.savesCard = true
        let booking = try await Fixture.book(store, new)
        #expect(booking.status == .held)
        #expect(try await store.card(bookingID: booking.id) == nil)

        let card = try await store.recordCardSetup(
            bookingID: booking.id, provider: "stripe", customerReference: "cus_1", setupReference: "seti_1",
            clientSecret: "seti_1_secret", at: Self.now)
        #expect(card.card.state == .pending && card.customerID == booking.customerID)
        let again = try await store.recordCardSetup(
            bookingID: booking.id, provider: "stripe", customerReference: "cus_2", setupReference: "seti_2",
            clientSecret: nil, at: Self.now + 1)
        #expect(again == card, "a job that runs twice changes nothing")
        #expect(try await store.card(bookingID: booking.id) == card)
        #expect(try await store.cards(bookingIDs: [booking.id, "bk_none"]) == [booking.id: card])
        #expect(try await store.providerCustomer(customerID: booking.customerID, provider: "stripe") == "cus_1")
        #expect(try await store.providerCustomer(customerID: booking.customerID, provider: "other") == nil)

        let saved = PaymentWebhookUpdate(
            eventID: "evt_saved", provider: "stripe", type: "setup_intent.succeeded", bookingID: nil,
            reference: "seti_1", status: nil, savedPaymentMethod: "pm_1")
        let (id, events) = try await Self.applied(store, saved, at: Self.now + 60)
        #expect(id == booking.id)
        #expect(events.map(\.type) == ["payment.card_saved", "booking.confirmed"])
        #expect(try await store.booking(id: booking.id)?.status == .confirmed)
        let stored = try #require(try await store.card(bookingID: booking.id))
        #expect(stored.card.state == .saved && stored.card.paymentMethod == "pm_1" && stored.card.clientSecret == nil)
        #expect(try await store.applyPaymentWebhook(saved, at: Self.now + 61) == .duplicate)

        let fee = Money(minorUnits: 1_000, currency: "EUR")
        let charged = try await store.recordFee(
            bookingID: booking.id, outcome: .charged(reference: "pi_fee"), amount: fee, at: Self.now + 120)
        #expect(charged.map(\.type) == ["payment.fee_charged"])
        #expect(
            try await store.recordFee(
                bookingID: booking.id, outcome: .charged(reference: "pi_fee2"), amount: fee, at: Self.now + 121
            ).isEmpty, "a fee is recorded once")
        let final = try #require(try await store.card(bookingID: booking.id))
        #expect(final.card.fee == .charged(reference: "pi_fee") && final.feeAmount == fee)
    }
}
