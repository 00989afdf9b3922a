import Foundation
import SlotClient
import Logging
import SlotCore
import SlotEngine
import SlotProviders
import SlotRules
import SlotStore
import Synchronization
import Testing

@testable import SlotServer

/// A payment provider that records what it is asked and answers like Stripe would.
final class FakePayments: PaymentProvider {
    let name = "stripe"
    let collectsOnline = true
    let calls = Mutex<[String]>([])
    /// What a cancel finds at the provider (`.succeeded`: the customer paid first).
    let cancelAnswer = Mutex<PaymentStatus>(.cancelled)

    func createDeposit(_ request: DepositRequest) async throws(ProviderError) -> DepositResult {
        calls.withLock { $0.append("create \(request.idempotencyKey) \(request.amount.minorUnits)") }
        return DepositResult(reference: "pi_\(request.bookingID)", status: .pending, clientSecret: "cs_secret")
    }

    func cancelDeposit(_ request: RefundRequest) async throws(ProviderError) -> RefundResult {
        calls.withLock { $0.append("cancel \(request.idempotencyKey)") }
        return RefundResult(reference: request.reference, status: cancelAnswer.withLock { $0 })
    }

    func refund(_ request: RefundRequest) async throws(ProviderError) -> RefundResult {
        calls.withLock { $0.append("refund \(request.idempotencyKey)") }
        return RefundResult(reference: "re_1", status: .refunded)
    }

    func verifyWebhook(_ delivery: WebhookDelivery) throws(ProviderError) -> PaymentWebhookEvent {
        throw .rejected("not used")
    }

    let savesCards = true
    /// What a fee charge finds at the provider.
    let feeAnswer = Mutex<FeeChargeResult>(.charged(reference: "pi_fee"))

    func setUpCard(_ request: CardSetupRequest) async throws(ProviderError) -> CardSetupResult {
        let customer = request.customerReference ?? "cus_\(request.customerID)"
        calls.withLock { $0.append("setup \(request.idempotencyKey) \(request.customerReference ?? "new")") }
        return CardSetupResult(
            customerReference: customer, reference: "seti_\(request.bookingID)", clientSecret: "seti_secret")
    }

    func chargeFee(_ request: FeeChargeRequest) async throws(ProviderError) -> FeeChargeResult {
        calls.withLock {
            $0.append("fee \(request.idempotencyKey) \(request.amount.minorUnits) \(request.paymentMethod)")
        }
        return feeAnswer.withLock { $0 }
    }

    var log: [String] { calls.withLock { $0 } }
}

/// Which store the payment jobs run against: every test runs on both.
enum PaymentStoreKind: String, CaseIterable, Sendable {
    case memory
    case sqlite
}

/// A store, a manual clock and a fake provider around `PaymentJobs`.
struct PaymentJobsHarness {
    /// 2030-01-07 08:00 Berlin; the booking starts two days later.
    static let now: Int64 = 1_893_999_600
    static let start: Int64 = now + 2 * 86_400

    let store: any SlotStorage
    let time = ManualTime(now)
    let provider = FakePayments()
    let jobs: PaymentJobs

    init(_ kind: PaymentStoreKind) throws {
        switch kind {
        case .memory:
            store = MemoryBookingStore()
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "payjobs-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteBookingStore(path: directory.appendingPathComponent("slotd.sqlite").path)
        }
        jobs = PaymentJobs(
            store: store, provider: provider, bus: EventBus(), clock: .manual(time), logger: Logger(label: "test"))
    }

    /// A held booking with a 10 EUR deposit, expiring in 15 minutes.
    func hold() async throws -> StoredBooking {
        let new = NewBooking(
            staffID: "alice", services: ["shave"],
            times: BookingTimes(
                start: Self.start, end: Self.start + 1_800,
                footprint: BookingFootprint(segments: [Segment(.active, minutes: 30)])),
            price: Money(minorUnits: 3_000, currency: "EUR"), deposit: Money(minorUnits: 1_000, currency: "EUR"),
            customer: CustomerInfo(name: "Ann", email: "ann@example.com"), holdExpiresAt: Self.now + 900)
        let creation = try await store.createBooking(new, at: time.now, idempotency: nil) { _ in nil as String? }
        return try #require(creation.booking)
    }

    /// A held booking whose deposit job has run: the deposit is created at the provider and recorded.
    func holdWithCreatedDeposit() async throws -> StoredBooking {
        let booking = try await hold()
        try await runPaymentJobs()
        return booking
    }

    /// A held booking whose deposit was created and then paid (the webhook confirmed it).
    func paidHold() async throws -> StoredBooking {
        let booking = try await holdWithCreatedDeposit()
        _ = try await store.applyPaymentWebhook(succeeded(booking), at: time.now)
        return booking
    }

    /// Runs every pending `payment.*` job once, oldest first, and returns their kinds.
    @discardableResult
    func runPaymentJobs() async throws -> [String] {
        var ran: [String] = []
        for job in try await store.outboxJobs(state: .pending, limit: 100) where job.kind.hasPrefix("payment.") {
            _ = try await jobs.run(job)
            ran.append(job.kind)
        }
        return ran
    }

    func succeeded(_ booking: StoredBooking, event: String = "evt_1") -> PaymentWebhookUpdate {
        PaymentWebhookUpdate(
            eventID: event, provider: "stripe", type: "payment_intent.succeeded", bookingID: booking.id,
            reference: "pi_\(booking.id)", status: .succeeded)
    }
}

@Suite("Deposit jobs and payment webhooks in the store, on both stores")
struct PaymentJobsTests {
    static let now = PaymentJobsHarness.now
    static let start = PaymentJobsHarness.start

    @Test(
        "a hold enqueues its deposit with the booking; running the job twice creates and records it once",
        arguments: PaymentStoreKind.allCases)
    func createIsIdempotent(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, provider) = (harness.store, harness.provider)
        let booking = try await harness.hold()
        #expect(try await harness.runPaymentJobs() == [DepositJob.createDeposit.kind])
        try await harness.runPaymentJobs()  // the same job again, as after a crash before it was marked done
        #expect(provider.log == ["create slotd-deposit-\(booking.id) 1000"])
        let payment = try #require(try await store.payment(bookingID: booking.id))
        #expect(payment.status == .pending && payment.reference == "pi_\(booking.id)")
        #expect(payment.clientSecret == "cs_secret")
    }

    @Test(
        "a paid webhook confirms the hold in one transaction; its redelivery changes nothing",
        arguments: PaymentStoreKind.allCases)
    func webhookConfirmsOnce(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, time) = (harness.store, harness.time)
        let booking = try await harness.holdWithCreatedDeposit()
        let outcome = try await store.applyPaymentWebhook(harness.succeeded(booking), at: time.now)
        guard case .applied(_, let events) = outcome else {
            Issue.record("not applied: \(outcome)")
            return
        }
        #expect(events.map(\.type) == ["payment.succeeded", "booking.confirmed"])
        #expect(try await store.booking(id: booking.id)?.status == .confirmed)
        let paid = try #require(try await store.payment(bookingID: booking.id))
        #expect(paid.status == .succeeded && paid.clientSecret == nil)
        let cursor = try await store.latestCursor()
        #expect(try await store.applyPaymentWebhook(harness.succeeded(booking), at: time.now) == .duplicate)
        #expect(try await store.latestCursor() == cursor)
    }

    @Test(
        "an expired hold cancels its PaymentIntent",
        arguments: PaymentStoreKind.allCases)
    func expiryCancels(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, time, provider) = (harness.store, harness.time, harness.provider)
        let booking = try await harness.holdWithCreatedDeposit()
        time.advance(by: 901)
        #expect(try await store.expireHolds(at: time.now).count == 1)
        #expect(try await harness.runPaymentJobs().contains(DepositJob.cancelDeposit.kind))
        #expect(provider.log.last == "cancel slotd-cancel-\(booking.id)")
        #expect(try await store.payment(bookingID: booking.id)?.status == .cancelled)
    }

    @Test(
        "a hold that expires while its deposit is being created has the new PaymentIntent cancelled",
        arguments: PaymentStoreKind.allCases)
    func expiryBeforeCreate(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, time, provider) = (harness.store, harness.time, harness.provider)
        let booking = try await harness.hold()
        time.advance(by: 901)
        _ = try await store.expireHolds(at: time.now)
        // The create job finds the booking expired and creates nothing; the cancel job finds nothing to cancel.
        try await harness.runPaymentJobs()
        #expect(provider.log.isEmpty)
        #expect(try await store.payment(bookingID: booking.id) == nil)
    }

    @Test(
        "cancelled inside the free window: the paid deposit is refunded, once",
        arguments: PaymentStoreKind.allCases)
    func refundInWindow(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, time, provider) = (harness.store, harness.time, harness.provider)
        let booking = try await harness.paidHold()
        let policy = Policies(cancellationWindowMinutes: 24 * 60)
        _ = try await store.cancel(booking.id, at: time.now, policy: policy)
        #expect(try await harness.runPaymentJobs().contains(DepositJob.refund.kind))
        try await harness.runPaymentJobs()
        #expect(provider.log.filter { $0.hasPrefix("refund") } == ["refund slotd-refund-\(booking.id)"])
        let payment = try #require(try await store.payment(bookingID: booking.id))
        #expect(payment.status == .refunded && payment.refundReference == "re_1")
    }

    @Test(
        "a late cancellation keeps the deposit, and an event says so",
        arguments: PaymentStoreKind.allCases)
    func lateCancelKeeps(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, time, provider) = (harness.store, harness.time, harness.provider)
        let booking = try await harness.paidHold()
        time.set(Self.start - 600)
        _ = try await store.cancel(booking.id, at: time.now, policy: Policies(cancellationWindowMinutes: 24 * 60))
        #expect(try await harness.runPaymentJobs().contains(DepositJob.keepDeposit.kind))
        #expect(!provider.log.contains { $0.hasPrefix("refund") })
        #expect(try await store.payment(bookingID: booking.id)?.status == .kept)
        let events = try await store.events(after: 0, typePrefix: "payment.", limit: 10).map(\.type)
        #expect(events == ["payment.succeeded", "payment.kept"])
    }

    @Test(
        "a deposit paid after its hold expired is refunded",
        arguments: PaymentStoreKind.allCases)
    func paidTooLate(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, time, provider) = (harness.store, harness.time, harness.provider)
        let booking = try await harness.holdWithCreatedDeposit()
        time.advance(by: 901)
        _ = try await store.expireHolds(at: time.now)
        // The customer pays just before the cancel reaches the provider.
        provider.cancelAnswer.withLock { $0 = .succeeded }
        try await harness.runPaymentJobs()
        #expect(provider.log.suffix(2) == ["cancel slotd-cancel-\(booking.id)", "refund slotd-refund-\(booking.id)"])
        #expect(try await store.payment(bookingID: booking.id)?.status == .refunded)
        #expect(try await store.booking(id: booking.id)?.status == .expired)
    }

    @Test(
        "a booking without a deposit enqueues no payment jobs",
        arguments: PaymentStoreKind.allCases)
    func noDepositNoJobs(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, time) = (harness.store, harness.time)
        let new = NewBooking(
            staffID: "alice", services: ["haircut"],
            times: BookingTimes(
                start: Self.start, end: Self.start + 1_800,
                footprint: BookingFootprint(segments: [Segment(.active, minutes: 30)])),
            price: Money(minorUnits: 2_000, currency: "EUR"), customer: CustomerInfo(name: "Bo"))
        let booking = try #require(
            try await store.createBooking(new, at: time.now, idempotency: nil) { _ in nil as String? }.booking)
        _ = try await store.cancel(booking.id, at: time.now, policy: Policies())
        let kinds = try await store.outboxJobs(state: nil, limit: 100).map(\.kind)
        #expect(!kinds.contains { $0.hasPrefix("payment.") })
    }
}

extension PaymentJobsTests {
    @Test(
        "a declined attempt keeps the payment pending with its client secret, and says so in an event",
        arguments: PaymentStoreKind.allCases)
    func declinedAttempt(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let (store, time) = (harness.store, harness.time)
        let booking = try await harness.holdWithCreatedDeposit()
        let failed = PaymentWebhookUpdate(
            eventID: "evt_declined", provider: "stripe", type: "payment_intent.payment_failed", bookingID: booking.id,
            reference: "pi_\(booking.id)", status: .failed)
        guard case .applied(_, let events) = try await store.applyPaymentWebhook(failed, at: time.now) else {
            Issue.record("not applied")
            return
        }
        #expect(events.map(\.type) == ["payment.failed"])
        let payment = try #require(try await store.payment(bookingID: booking.id))
        #expect(payment.status == .pending && payment.clientSecret == "cs_secret")
        #expect(try await store.booking(id: booking.id)?.status == .held)
    }

    @Test(
        "a job kind from a newer slotd, or a payload of the wrong shape, fails for good and says which",
        arguments: PaymentStoreKind.allCases)
    func unreadableJobsFailPermanently(_ kind: PaymentStoreKind) async throws {
        let harness = try PaymentJobsHarness(kind)
        let rows = [
            OutboxEnqueue(kind: "payment.split_bill", payload: Data(#"{"booking":"bk_1"}"#.utf8), dueAt: Self.now),
            OutboxEnqueue(kind: "payment.refund", payload: Data(#"{"id":"bk_1"}"#.utf8), dueAt: Self.now),
        ]
        try await harness.store.enqueueJobs(rows, at: Self.now)
        for job in try await harness.store.outboxJobs(state: .pending, limit: 10) {
            do {
                _ = try await harness.jobs.run(job)
                Issue.record("\(job.kind) ran")
            } catch {
                #expect(error.kind == .permanent)
                #expect(error.message.contains("'\(job.kind)'"))
            }
        }
        #expect(harness.provider.log.isEmpty)
    }
}
