import Foundation
import SlotCore
import SlotEngine
import SlotRules

/// Where a booking's deposit stands, as stored: the engine's `PaymentState`.
public typealias StoredPaymentStatus = PaymentState

/// A booking's deposit at an online payment provider.
public struct StoredPayment: Hashable, Sendable {
    public var bookingID: String
    /// The provider's configured name (`stripe`).
    public var provider: String
    /// The provider's id for the payment (`pi_…`), once created.
    public var reference: String?
    public var status: StoredPaymentStatus
    /// What a front end needs to let the customer pay; only while `pending`.
    public var clientSecret: String?
    public var amount: Money
    /// The refund's id at the provider (`re_…`), once refunded.
    public var refundReference: String?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        bookingID: String, provider: String, reference: String?, status: StoredPaymentStatus, clientSecret: String?,
        amount: Money, refundReference: String?, createdAt: Int64, updatedAt: Int64
    ) {
        self.bookingID = bookingID
        self.provider = provider
        self.reference = reference
        self.status = status
        self.clientSecret = clientSecret
        self.amount = amount
        self.refundReference = refundReference
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The lifecycle value for the payment's current state.
    public var lifecycle: PaymentLifecycle {
        PaymentLifecycle(
            state: status, reference: reference, clientSecret: clientSecret, refundReference: refundReference)
    }
}

/// A booking's card on file (`policies.card_on_file`), as stored.
public struct StoredCard: Hashable, Sendable {
    public var bookingID: String
    /// The booking's customer (slotd's id): a later booking of theirs reuses the provider's customer.
    public var customerID: String
    /// The provider's configured name (`stripe`).
    public var provider: String
    /// The card's lifecycle: provider customer, setup, saved card and fee outcome.
    public var card: CardOnFile
    /// The fee tried on the card, once tried.
    public var feeAmount: Money?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        bookingID: String, customerID: String, provider: String, card: CardOnFile, feeAmount: Money?,
        createdAt: Int64, updatedAt: Int64
    ) {
        self.bookingID = bookingID
        self.customerID = customerID
        self.provider = provider
        self.card = card
        self.feeAmount = feeAmount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// How both databases keep a card's fee: its status, reference and decline reason in three columns.
package enum CardFeeColumns {
    /// The reference and the decline reason a fee is stored with.
    package static func encode(_ fee: FeeOutcome?) -> (reference: String?, reason: String?) {
        switch fee {
        case .charged(let reference): return (reference, nil)
        case .declined(let reason, let reference): return (reference, reason)
        case nil: return (nil, nil)
        }
    }

    /// The fee the columns hold; a status slotd does not know is a database error.
    package static func decode(
        status: String?, reference: String?, reason: String?
    ) throws(StoreError) -> FeeOutcome? {
        switch status {
        case "charged"?: return .charged(reference: reference ?? "")
        case "declined"?: return .declined(reason: reason ?? "", reference: reference)
        case nil: return nil
        case let other?: throw StoreError(.database, "a card on file has an unknown fee status '\(other)'")
        }
    }
}

/// A verified payment webhook, as the store applies it.
public struct PaymentWebhookUpdate: Hashable, Sendable {
    /// The provider's event id: recorded with the change, so a redelivery is a no-op.
    public var eventID: String
    public var provider: String
    public var type: String
    /// The booking named in the payment's metadata; nil to find it by `reference`.
    public var bookingID: String?
    public var reference: String?
    /// The payment's new status, or nil for an event that changes nothing (it is still recorded).
    public var status: StoredPaymentStatus?
    /// The card a setup saved (`setup_intent.succeeded`): the update is about the booking's card on file, whose
    /// setup `reference` names, not about its deposit.
    public var savedPaymentMethod: String?

    public init(
        eventID: String, provider: String, type: String, bookingID: String?, reference: String?,
        status: StoredPaymentStatus?, savedPaymentMethod: String? = nil
    ) {
        self.eventID = eventID
        self.provider = provider
        self.type = type
        self.bookingID = bookingID
        self.reference = reference
        self.status = status
        self.savedPaymentMethod = savedPaymentMethod
    }
}

/// What applying a webhook did.
public enum PaymentWebhookOutcome: Hashable, Sendable {
    /// The event id was seen before: nothing changed.
    case duplicate
    /// Recorded; it named no booking slotd knows or no change to make.
    case ignored
    /// Applied: the events appended (publish them).
    case applied(booking: String, events: [StoredEvent])
}

/// Deposits and payment webhooks, next to the bookings they belong to. The store persists what `PaymentLifecycle`
/// decides (through `PaymentPlanner`); it decides nothing itself.
public protocol PaymentStore: Sendable {
    /// The payment of a booking, if one was recorded.
    func payment(bookingID: String) async throws(StoreError) -> StoredPayment?

    /// The payments of several bookings, by booking id.
    func payments(bookingIDs: [String]) async throws(StoreError) -> [String: StoredPayment]

    /// Records a deposit created at the provider; a deposit already recorded with a reference is kept and returned,
    /// so a job that runs twice changes nothing.
    func recordDeposit(
        bookingID: String, provider: String, reference: String, clientSecret: String?, amount: Money, at now: Int64
    ) async throws(StoreError) -> StoredPayment

    /// Moves a payment to `status` (cancelled, refunded, kept, failed) and appends the event `payment.<status>`;
    /// returns the events (none when the payment already had that status).
    func settlePayment(
        bookingID: String, status: StoredPaymentStatus, refundReference: String?, reason: String, at now: Int64
    ) async throws(StoreError) -> [StoredEvent]

    /// Applies a verified webhook in one transaction: records its event id and makes its change (a paid deposit
    /// confirms a held booking, or refunds one that lapsed meanwhile).
    func applyPaymentWebhook(_ update: PaymentWebhookUpdate, at now: Int64) async throws(StoreError)
        -> PaymentWebhookOutcome

    /// The card on file of a booking, if one was set up.
    func card(bookingID: String) async throws(StoreError) -> StoredCard?

    /// The cards on file of several bookings, by booking id.
    func cards(bookingIDs: [String]) async throws(StoreError) -> [String: StoredCard]

    /// The provider's customer (`cus_…`) made for `customerID` at `provider` for an earlier booking, if any.
    func providerCustomer(customerID: String, provider: String) async throws(StoreError) -> String?

    /// Records the setup of a booking's card at the provider; a card already recorded is kept and returned, so a job
    /// that runs twice changes nothing.
    func recordCardSetup(
        bookingID: String, provider: String, customerReference: String, setupReference: String,
        clientSecret: String?, at now: Int64
    ) async throws(StoreError) -> StoredCard

    /// Records what became of the fee charged to a booking's card and appends `payment.fee_charged` or
    /// `payment.fee_declined`; returns the events (none when an outcome is recorded already).
    func recordFee(bookingID: String, outcome: FeeOutcome, amount: Money, at now: Int64) async throws(StoreError)
        -> [StoredEvent]
}
