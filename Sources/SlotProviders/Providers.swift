import Foundation

// The provider boundary: what slotd asks of a payment or notification service, as values. Providers run only from
// the outbox, outside every database transaction, so a slow or failing one delays a job, never a booking.

/// Why a provider call failed, and whether trying again can help.
public struct ProviderError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// Network trouble, a timeout, a 5xx or 429: the outbox retries with backoff.
        case temporary
        /// The provider refused the request for good (bad credentials, invalid data): the job parks as `failed`.
        case permanent
        /// An inbound webhook that is forged, stale or malformed: answered 400, nothing changes.
        case rejected
    }

    public var kind: Kind
    /// What went wrong, for the log and `slotctl outbox` (never a secret).
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func temporary(_ message: String) -> ProviderError { ProviderError(.temporary, message) }
    public static func permanent(_ message: String) -> ProviderError { ProviderError(.permanent, message) }
    public static func rejected(_ message: String) -> ProviderError { ProviderError(.rejected, message) }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// An amount in a currency's minor units (cents), as providers take it.
public struct ProviderAmount: Hashable, Sendable {
    public var minorUnits: Int
    /// ISO 4217, upper case (`EUR`).
    public var currency: String

    public init(minorUnits: Int, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }
}

// MARK: - Payments

/// A deposit to collect for a booking.
public struct DepositRequest: Hashable, Sendable {
    public var bookingID: String
    public var amount: ProviderAmount
    /// Shown on the customer's statement and in the provider's dashboard.
    public var description: String
    public var customerName: String
    public var customerEmail: String?
    /// Derived from the booking (`slotd-deposit-<booking>`): a repeated call creates nothing new at the provider.
    public var idempotencyKey: String

    public init(
        bookingID: String, amount: ProviderAmount, description: String, customerName: String,
        customerEmail: String?, idempotencyKey: String
    ) {
        self.bookingID = bookingID
        self.amount = amount
        self.description = description
        self.customerName = customerName
        self.customerEmail = customerEmail
        self.idempotencyKey = idempotencyKey
    }
}

/// Where a payment stands at the provider.
public enum PaymentStatus: String, Hashable, Sendable {
    /// Created, waiting for the customer (card entry, 3-D Secure).
    case pending
    /// The money is collected.
    case succeeded
    /// Cancelled before it succeeded (an expired hold).
    case cancelled
    /// Given back.
    case refunded
    /// The provider declined it.
    case failed
}

/// The provider's answer to a deposit request: what a front end needs to let the customer pay.
public struct DepositResult: Hashable, Sendable {
    /// The provider's id for the payment (a Stripe PaymentIntent id, `pi_…`).
    public var reference: String
    public var status: PaymentStatus
    /// For a front end that collects the card itself (Stripe.js `confirmCardPayment`).
    public var clientSecret: String?
    /// For a front end that redirects the customer to a payment page instead.
    public var paymentURL: String?

    public init(reference: String, status: PaymentStatus, clientSecret: String? = nil, paymentURL: String? = nil) {
        self.reference = reference
        self.status = status
        self.clientSecret = clientSecret
        self.paymentURL = paymentURL
    }
}

/// Give back (part of) a collected deposit, or cancel one not yet collected.
public struct RefundRequest: Hashable, Sendable {
    public var bookingID: String
    /// The payment's `reference` from `DepositResult`.
    public var reference: String
    /// Nil: all of it.
    public var amount: ProviderAmount?
    /// `slotd-refund-<booking>` / `slotd-cancel-<booking>`.
    public var idempotencyKey: String

    public init(bookingID: String, reference: String, amount: ProviderAmount? = nil, idempotencyKey: String) {
        self.bookingID = bookingID
        self.reference = reference
        self.amount = amount
        self.idempotencyKey = idempotencyKey
    }
}

/// The provider's answer to a refund or a cancellation.
public struct RefundResult: Hashable, Sendable {
    /// The refund's id (`re_…`), or the payment's own reference for a cancellation.
    public var reference: String
    public var status: PaymentStatus

    public init(reference: String, status: PaymentStatus) {
        self.reference = reference
        self.status = status
    }
}

/// An inbound webhook request as the HTTP layer received it.
public struct WebhookDelivery: Hashable, Sendable {
    /// Header names in lower case.
    public var headers: [String: String]
    /// The raw body, byte for byte (signatures cover the exact bytes).
    public var body: Data
    /// When it arrived (seconds since the epoch, from the daemon's clock) for the timestamp tolerance.
    public var receivedAt: Int64

    public init(headers: [String: String], body: Data, receivedAt: Int64) {
        self.headers = headers
        self.body = body
        self.receivedAt = receivedAt
    }
}

/// What a verified payment webhook says happened.
public struct PaymentWebhookEvent: Hashable, Sendable {
    /// The provider's event id (`evt_…`): recorded with the change it causes, so a redelivery is a no-op.
    public var eventID: String
    /// The provider's event type (`payment_intent.succeeded`).
    public var type: String
    /// The booking named in the payment's metadata, if any.
    public var bookingID: String?
    /// The payment's reference.
    public var reference: String?
    /// The payment's new status, or nil for an event slotd does not act on.
    public var status: PaymentStatus?
    /// The card a setup saved (`setup_intent.succeeded`, with `reference` the setup's id); nil for other events.
    public var savedPaymentMethod: String?

    public init(
        eventID: String, type: String, bookingID: String?, reference: String?, status: PaymentStatus?,
        savedPaymentMethod: String? = nil
    ) {
        self.eventID = eventID
        self.type = type
        self.bookingID = bookingID
        self.reference = reference
        self.status = status
        self.savedPaymentMethod = savedPaymentMethod
    }
}

/// Save a customer's card for later off-session charges (`policies.card_on_file`).
public struct CardSetupRequest: Hashable, Sendable {
    public var bookingID: String
    /// slotd's customer id, kept in the provider customer's metadata.
    public var customerID: String
    /// The provider's customer made for an earlier booking of the same customer; nil makes one.
    public var customerReference: String?
    public var customerName: String
    public var customerEmail: String?
    /// Derived from the booking (`slotd-setup-<booking>`); the customer's own from the customer.
    public var idempotencyKey: String

    public init(
        bookingID: String, customerID: String, customerReference: String?, customerName: String,
        customerEmail: String?, idempotencyKey: String
    ) {
        self.bookingID = bookingID
        self.customerID = customerID
        self.customerReference = customerReference
        self.customerName = customerName
        self.customerEmail = customerEmail
        self.idempotencyKey = idempotencyKey
    }
}

/// The provider's answer to a card setup: what a front end needs to let the customer enter the card.
public struct CardSetupResult: Hashable, Sendable {
    /// The provider's customer (`cus_…`).
    public var customerReference: String
    /// The setup's id (a Stripe SetupIntent, `seti_…`).
    public var reference: String
    /// For Stripe.js `confirmCardSetup`.
    public var clientSecret: String?

    public init(customerReference: String, reference: String, clientSecret: String?) {
        self.customerReference = customerReference
        self.reference = reference
        self.clientSecret = clientSecret
    }
}

/// Charge a fee to a saved card without the customer present.
public struct FeeChargeRequest: Hashable, Sendable {
    public var bookingID: String
    public var amount: ProviderAmount
    public var customerReference: String
    /// The saved card (`pm_…`).
    public var paymentMethod: String
    /// Shown on the customer's statement and in the provider's dashboard.
    public var description: String
    /// One per outbox job (`slotd-fee-<job id>`): a job that runs twice charges once.
    public var idempotencyKey: String

    public init(
        bookingID: String, amount: ProviderAmount, customerReference: String, paymentMethod: String,
        description: String, idempotencyKey: String
    ) {
        self.bookingID = bookingID
        self.amount = amount
        self.customerReference = customerReference
        self.paymentMethod = paymentMethod
        self.description = description
        self.idempotencyKey = idempotencyKey
    }
}

/// The provider's answer to a fee charge: charged, or declined for a reason worth telling the shop.
public enum FeeChargeResult: Hashable, Sendable {
    /// Charged; the payment's id (`pi_…`).
    case charged(reference: String)
    /// Declined by the card's bank (or it asks for the customer to authenticate): not retried.
    case declined(reason: String, reference: String?)
}

/// Collects deposits and gives them back.
public protocol PaymentProvider: Sendable {
    /// The configured name (`stripe`, `manual`, an exec plugin's name).
    var name: String { get }
    /// Whether a booking with a deposit waits `held` for this provider to collect it. `manual` (pay at the shop)
    /// does not: the booking is confirmed and the deposit is due at the shop.
    var collectsOnline: Bool { get }
    /// Starts collecting a deposit.
    func createDeposit(_ request: DepositRequest) async throws(ProviderError) -> DepositResult
    /// Cancels a deposit that has not succeeded (the hold expired or the booking was cancelled first).
    func cancelDeposit(_ request: RefundRequest) async throws(ProviderError) -> RefundResult
    /// Refunds a collected deposit.
    func refund(_ request: RefundRequest) async throws(ProviderError) -> RefundResult
    /// Checks a webhook's signature and freshness and says what it reports; `.rejected` when it is not genuine.
    func verifyWebhook(_ delivery: WebhookDelivery) throws(ProviderError) -> PaymentWebhookEvent
    /// Whether the provider can save cards and charge them later (`policies.card_on_file`).
    var savesCards: Bool { get }
    /// Sets up saving the customer's card (reusing or making the provider's customer).
    func setUpCard(_ request: CardSetupRequest) async throws(ProviderError) -> CardSetupResult
    /// Charges a fee to a saved card off-session; a decline is a result, not an error.
    func chargeFee(_ request: FeeChargeRequest) async throws(ProviderError) -> FeeChargeResult
}

extension PaymentProvider {
    /// Providers that take no cards (`manual`, exec plugins) say so.
    public var savesCards: Bool { false }

    public func setUpCard(_ request: CardSetupRequest) async throws(ProviderError) -> CardSetupResult {
        throw .permanent("payments '\(name)' cannot save cards — use a stripe provider for `card_on_file`")
    }

    public func chargeFee(_ request: FeeChargeRequest) async throws(ProviderError) -> FeeChargeResult {
        throw .permanent("payments '\(name)' cannot charge saved cards — use a stripe provider for `card_on_file`")
    }
}

// MARK: - Notifications

/// Who a message goes to.
public struct Recipient: Hashable, Sendable, Codable {
    public var name: String
    public var email: String?
    public var phone: String?

    public init(name: String, email: String? = nil, phone: String? = nil) {
        self.name = name
        self.email = email
        self.phone = phone
    }
}

/// One message to deliver, already rendered from its template.
public struct OutgoingMessage: Hashable, Sendable {
    /// What it is about: `booking.created`, `booking.reminder`, …
    public var event: String
    /// Unique per message (`<job id>-<provider>` or derived from the booking and event): receivers deduplicate
    /// on it (`webhook-id`, `Message-ID`, the plugin's `id`), so a retried job is not a second message.
    public var id: String
    public var recipient: Recipient
    public var subject: String
    public var body: String
    /// The booking's fields as JSON (a webhook's payload, a plugin's `data`).
    public var data: Data

    public init(event: String, id: String, recipient: Recipient, subject: String, body: String, data: Data) {
        self.event = event
        self.id = id
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.data = data
    }
}

/// Delivers messages: email, webhooks, SMS, a log line.
public protocol NotificationProvider: Sendable {
    /// The configured name (`mail`, `frontdesk`, `sms`).
    var name: String { get }
    /// Sends one message; throws `.temporary` to be retried, `.permanent` to park the job.
    func send(_ message: OutgoingMessage) async throws(ProviderError)
}

/// A notification provider that makes no call (a log line): sending cannot fail or wait, so the fan-out that renders
/// a message sends it at once and records the delivery done, instead of queueing a job to claim and finish later.
public protocol InstantNotificationProvider: NotificationProvider {
    /// Sends one message at once; it must not block (no network, no file beyond the log).
    func sendNow(_ message: OutgoingMessage)
}

extension InstantNotificationProvider {
    /// `sendNow`, for a delivery job written before this provider was instant (or retried by an operator).
    public func send(_ message: OutgoingMessage) async throws(ProviderError) { sendNow(message) }
}
