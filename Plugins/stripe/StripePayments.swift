import Foundation
import SlotCore
import SlotProviders

/// Stripe deposits: PaymentIntents created, cancelled and refunded over Stripe's form-encoded REST API, and signed
/// webhooks verified. Every call carries an `Idempotency-Key` derived from the booking, so an outbox job that runs
/// twice (a crash between the call and its record) creates, cancels or refunds nothing twice at Stripe.
public struct StripePayments: PaymentProvider {
    public let name: String
    public let collectsOnline = true
    /// `https://api.stripe.com`, or a local fake in tests; no trailing slash.
    public let apiBase: String
    /// Never logged, never part of an error message.
    let secretKey: String
    let webhook: StripeWebhookVerifier
    let timeout: Duration
    let caFile: String?
    /// Performs the HTTP calls (`Curl.perform`; a recording double in tests).
    let transport: @Sendable (HTTPCall) async throws(ProviderError) -> HTTPReply

    /// The settings keys a `type: stripe` entry accepts.
    public static let keys: Set<String> = [
        "api_base", "secret_key_file", "webhook_secret_file", "webhook_tolerance", "timeout", "ca_file",
    ]

    public init(
        name: String, apiBase: String = "https://api.stripe.com", secretKey: String, webhookSecret: String,
        webhookTolerance: Duration = .seconds(300), timeout: Duration = .seconds(15), caFile: String? = nil,
        transport: @escaping @Sendable (HTTPCall) async throws(ProviderError) -> HTTPReply = {
            call throws(ProviderError) in try await Curl.perform(call)
        }
    ) {
        self.name = name
        self.apiBase = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
        self.secretKey = secretKey
        self.webhook = StripeWebhookVerifier(secret: webhookSecret, tolerance: webhookTolerance)
        self.timeout = timeout
        self.caFile = caFile
        self.transport = transport
    }

    /// Builds the provider from its `providers:` entry in slotd.yaml.
    public init(settings: ProviderSettings) throws(ConfigurationError) {
        try settings.rejectUnknownKeys(Self.keys)
        let base = try settings.string("api_base") ?? "https://api.stripe.com"
        guard base.hasPrefix("https://") || base.hasPrefix("http://") else {
            throw settings.error("api_base", "`api_base` must be an http(s) URL like https://api.stripe.com")
        }
        guard let secretKey = try settings.secret(fromFileAt: "secret_key_file") else {
            throw settings.error(nil, "`secret_key_file` is missing — name a file holding the secret key (sk_…)")
        }
        guard let webhookSecret = try settings.secret(fromFileAt: "webhook_secret_file") else {
            throw settings.error(
                nil, "`webhook_secret_file` is missing — name a file holding the webhook signing secret (whsec_…)")
        }
        let tolerance = try settings.duration("webhook_tolerance") ?? .seconds(300)
        if tolerance <= .zero { throw settings.error("webhook_tolerance", "`webhook_tolerance` must be positive") }
        let timeout = try settings.duration("timeout") ?? .seconds(15)
        if timeout <= .zero { throw settings.error("timeout", "`timeout` must be positive") }
        self.init(
            name: settings.name, apiBase: base, secretKey: secretKey, webhookSecret: webhookSecret,
            webhookTolerance: tolerance, timeout: timeout, caFile: try settings.path("ca_file"))
    }

    // MARK: - PaymentProvider

    public func createDeposit(_ request: DepositRequest) async throws(ProviderError) -> DepositResult {
        var fields: [(String, String)] = [
            ("amount", String(request.amount.minorUnits)),
            ("currency", request.amount.currency.lowercased()),
            ("metadata[booking]", request.bookingID),
            ("description", request.description),
        ]
        if let email = request.customerEmail, !email.isEmpty { fields.append(("receipt_email", email)) }
        let object = try await post("/v1/payment_intents", fields, idempotencyKey: request.idempotencyKey)
        guard let id = object["id"]?.stringValue else {
            throw .temporary("Stripe answered a PaymentIntent without an id")
        }
        return DepositResult(
            reference: id, status: Self.paymentStatus(object["status"]?.stringValue) ?? .pending,
            clientSecret: object["client_secret"]?.stringValue)
    }

    public func cancelDeposit(_ request: RefundRequest) async throws(ProviderError) -> RefundResult {
        do {
            let object = try await call(
                "/v1/payment_intents/\(Self.pathSegment(request.reference))/cancel", [],
                idempotencyKey: request.idempotencyKey)
            return RefundResult(
                reference: request.reference, status: Self.paymentStatus(object["status"]?.stringValue) ?? .cancelled)
        } catch {
            // Already cancelled or already paid: Stripe says so with the PaymentIntent attached; report its state
            // (a paid one is then refunded by the caller) instead of failing the job forever.
            if let status = error.paymentIntentStatus.flatMap(Self.paymentStatus) {
                return RefundResult(reference: request.reference, status: status)
            }
            throw error.providerError
        }
    }

    public func refund(_ request: RefundRequest) async throws(ProviderError) -> RefundResult {
        var fields: [(String, String)] = [("payment_intent", request.reference)]
        if let amount = request.amount { fields.append(("amount", String(amount.minorUnits))) }
        fields.append(("metadata[booking]", request.bookingID))
        let object = try await post("/v1/refunds", fields, idempotencyKey: request.idempotencyKey)
        guard let id = object["id"]?.stringValue else { throw .temporary("Stripe answered a refund without an id") }
        let status = object["status"]?.stringValue
        // A refund is `pending` for some payment methods; Stripe completes it on its own.
        return RefundResult(reference: id, status: status == "failed" || status == "canceled" ? .failed : .refunded)
    }

    public func verifyWebhook(_ delivery: WebhookDelivery) throws(ProviderError) -> PaymentWebhookEvent {
        try webhook.verify(delivery)
    }

    // MARK: - Cards on file

    public var savesCards: Bool { true }

    /// The `metadata[purpose]` of a fee's PaymentIntent, so its webhooks are not taken for a deposit's.
    static let feePurpose = "slotd_fee"

    /// A Customer (unless one is known for the customer) and a SetupIntent for off-session use.
    public func setUpCard(_ request: CardSetupRequest) async throws(ProviderError) -> CardSetupResult {
        var customer = request.customerReference
        if customer == nil {
            var fields: [(String, String)] = [
                ("name", request.customerName), ("metadata[customer]", request.customerID),
            ]
            if let email = request.customerEmail, !email.isEmpty { fields.append(("email", email)) }
            let object = try await post(
                "/v1/customers", fields, idempotencyKey: "slotd-customer-\(request.customerID)-\(request.bookingID)")
            customer = object["id"]?.stringValue
        }
        guard let customer else { throw .temporary("Stripe answered a Customer without an id") }
        let object = try await post(
            "/v1/setup_intents",
            [("customer", customer), ("usage", "off_session"), ("metadata[booking]", request.bookingID)],
            idempotencyKey: request.idempotencyKey)
        guard let id = object["id"]?.stringValue else {
            throw .temporary("Stripe answered a SetupIntent without an id")
        }
        return CardSetupResult(
            customerReference: customer, reference: id, clientSecret: object["client_secret"]?.stringValue)
    }

    /// A PaymentIntent confirmed at once, off-session, on the saved card. A decline (402, or a bank asking for the
    /// customer to authenticate) is a result the job records; other failures are errors as for every call.
    public func chargeFee(_ request: FeeChargeRequest) async throws(ProviderError) -> FeeChargeResult {
        let fields: [(String, String)] = [
            ("amount", String(request.amount.minorUnits)),
            ("currency", request.amount.currency.lowercased()),
            ("customer", request.customerReference),
            ("payment_method", request.paymentMethod),
            ("off_session", "true"),
            ("confirm", "true"),
            ("metadata[booking]", request.bookingID),
            ("metadata[purpose]", Self.feePurpose),
            ("description", request.description),
        ]
        let object: JSONValue
        do {
            object = try await call("/v1/payment_intents", fields, idempotencyKey: request.idempotencyKey)
        } catch {
            if let decline = error.decline { return .declined(reason: decline, reference: error.paymentIntentID) }
            throw error.providerError
        }
        let id = object["id"]?.stringValue
        switch object["status"]?.stringValue {
        case "succeeded", "processing":
            guard let id else { throw .temporary("Stripe answered a PaymentIntent without an id") }
            return .charged(reference: id)
        case "requires_action":
            return .declined(
                reason: "the card's bank asks the customer to authenticate the charge (3-D Secure); collect the fee "
                    + "at the shop", reference: id)
        case let status:
            return .declined(reason: "the payment is \(status ?? "in no known state") at Stripe", reference: id)
        }
    }

    // MARK: - Calls

    /// A failed Stripe call, keeping what the caller may act on.
    struct StripeCallError: Error {
        var providerError: ProviderError
        var paymentIntentStatus: String?
        /// The PaymentIntent the error names, if any.
        var paymentIntentID: String? = nil
        /// For a card error (402), what the bank said: a decline, not worth retrying.
        var decline: String? = nil
    }

    private func post(
        _ path: String, _ fields: [(String, String)], idempotencyKey: String
    ) async throws(ProviderError) -> JSONValue {
        do {
            return try await call(path, fields, idempotencyKey: idempotencyKey)
        } catch {
            throw error.providerError
        }
    }

    private func call(
        _ path: String, _ fields: [(String, String)], idempotencyKey: String
    ) async throws(StripeCallError) -> JSONValue {
        let http = HTTPCall(
            method: "POST", url: apiBase + path,
            headers: [
                ("Authorization", "Bearer " + secretKey),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Idempotency-Key", idempotencyKey),
                ("Stripe-Version", Self.apiVersion),
            ],
            body: Data(StripeForm.encode(fields).utf8), timeout: timeout, caFile: caFile)
        let reply: HTTPReply
        do { reply = try await transport(http) } catch {
            throw StripeCallError(providerError: error, paymentIntentStatus: nil)
        }
        let answer = try? StableJSON.decoder.decode(JSONValue.self, from: reply.body)
        guard reply.isSuccess else {
            throw Self.failure(status: reply.status, body: answer, path: path)
        }
        guard let object = answer, object.isObject else {
            throw StripeCallError(
                providerError: .temporary("POST \(path): Stripe answered \(reply.status) without a JSON object"),
                paymentIntentStatus: nil)
        }
        return object
    }

    /// The API version slotd speaks, pinned so an account's default cannot change the answers' shape.
    static let apiVersion = "2024-06-20"

    /// Maps a Stripe error answer to a retry decision: 409 (a concurrent request with the same key), 429 and 5xx
    /// are temporary; other 4xx (invalid request, card declined, bad key) are permanent.
    static func failure(status: Int, body: JSONValue?, path: String) -> StripeCallError {
        let error = body?["error"]
        let type = error?["type"]?.stringValue
        let code = error?["code"]?.stringValue
        let message = error?["message"]?.stringValue ?? "no message"
        let intent = error?["payment_intent"]
        let details = [type, code].compactMap { $0 }.joined(separator: "/")
        let text = "POST \(path): Stripe answered \(status)\(details.isEmpty ? "" : " (\(details))"): \(message)"
        let temporary = status == 409 || status == 429 || status >= 500 || status == 408 || type == "api_error"
            || code == "lock_timeout" || code == "rate_limit"
        let decline = status == 402 || type == "card_error"
            ? [message, error?["decline_code"]?.stringValue ?? code].compactMap { $0 }.joined(separator: " — ") : nil
        return StripeCallError(
            providerError: temporary ? .temporary(text) : .permanent(text),
            paymentIntentStatus: intent?["status"]?.stringValue, paymentIntentID: intent?["id"]?.stringValue,
            decline: decline)
    }

    /// A PaymentIntent status as slotd's payment status; nil for a state still waiting on the customer.
    static func paymentStatus(_ status: String?) -> PaymentStatus? {
        switch status {
        case "succeeded": return .succeeded
        case "canceled": return .cancelled
        case "requires_payment_method", "requires_confirmation", "requires_action", "processing",
            "requires_capture":
            return .pending
        default: return nil
        }
    }

    /// An id as a path segment (ids are `pi_…`; anything else is percent-encoded rather than trusted).
    static func pathSegment(_ id: String) -> String { StripeForm.escape(id) }
}

/// `application/x-www-form-urlencoded` as Stripe reads it: nested keys in brackets, everything but the unreserved
/// characters percent-encoded (a space is `%20`, which every form decoder accepts).
public enum StripeForm {
    /// `amount=500&metadata%5Bbooking%5D=bk_1`, in the given order.
    public static func encode(_ fields: [(String, String)]) -> String {
        fields.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Percent-encodes all but `A-Z a-z 0-9 - . _ ~` (UTF-8 bytes).
    public static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
