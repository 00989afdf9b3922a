import Foundation
import SlotCore
import SlotProviders

/// Checks a Stripe webhook: `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]`, where each `v1` is the
/// HMAC-SHA256 of `"<t>.<raw body>"` under the endpoint's signing secret. Several `v1` entries appear while a
/// secret is being rolled; one match is enough. A timestamp outside the tolerance is refused, so a captured request
/// cannot be replayed later; a replay inside the tolerance carries an event id already recorded, which the store
/// turns into a no-op.
public struct StripeWebhookVerifier: Sendable {
    let secret: String
    /// How far the signature's time may be from the daemon's clock, either way.
    public let tolerance: Duration

    public init(secret: String, tolerance: Duration = .seconds(300)) {
        self.secret = secret
        self.tolerance = tolerance
    }

    /// The event a genuine, fresh delivery reports; `.rejected` with the reason otherwise.
    public func verify(_ delivery: WebhookDelivery) throws(ProviderError) -> PaymentWebhookEvent {
        guard let header = delivery.headers["stripe-signature"], !header.isEmpty else {
            throw .rejected("no Stripe-Signature header — the request did not come from Stripe")
        }
        var timestamp: Int64?
        var signatures: [Data] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t": timestamp = Int64(pair[1])
            case "v1": if let bytes = Self.bytes(hex: pair[1]) { signatures.append(bytes) }
            default: break  // v0 (test-mode legacy) and future schemes are ignored.
            }
        }
        guard let timestamp else { throw .rejected("the Stripe-Signature header has no valid timestamp `t=`") }
        guard !signatures.isEmpty else { throw .rejected("the Stripe-Signature header has no `v1=` signature") }
        let expected = Self.signature(secret: secret, timestamp: timestamp, body: delivery.body)
        guard signatures.contains(where: { Signatures.constantTimeEqual($0, expected) }) else {
            throw .rejected("the webhook signature does not match — check webhook_secret_file")
        }
        let skew = abs(delivery.receivedAt - timestamp)
        guard skew <= tolerance.components.seconds else {
            throw .rejected(
                "the webhook was signed \(skew) s away from now, more than the tolerance of "
                    + "\(tolerance.components.seconds) s (a replay, or the clocks disagree)")
        }
        return try Self.event(from: delivery.body)
    }

    /// The `v1` signature of a payload: what Stripe sends, and what tests sign with.
    public static func signature(secret: String, timestamp: Int64, body: Data) -> Data {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        return Signatures.hmacSHA256(key: Data(secret.utf8), message: message)
    }

    /// A `Stripe-Signature` header for a payload (tests and tools).
    public static func header(secret: String, timestamp: Int64, body: Data) -> String {
        "t=\(timestamp),v1=" + Signatures.hex(signature(secret: secret, timestamp: timestamp, body: body))
    }

    /// Parses a verified event: its id and type, and for a PaymentIntent (or a refunded charge) the payment's
    /// reference, new status and booking; for a succeeded SetupIntent the card it saved.
    static func event(from body: Data) throws(ProviderError) -> PaymentWebhookEvent {
        guard let root = try? StableJSON.decoder.decode(JSONValue.self, from: body), root.isObject else {
            throw .rejected("the webhook body is not a JSON object")
        }
        guard let id = root["id"]?.stringValue, !id.isEmpty, let type = root["type"]?.stringValue else {
            throw .rejected("the webhook event has no `id` or `type`")
        }
        let object = root["data"]?["object"] ?? .object([:])
        let booking = object["metadata"]?["booking"]?.stringValue
        switch object["object"]?.stringValue {
        case "payment_intent":
            let status: PaymentStatus?
            switch type {
            case _ where object["metadata"]?["purpose"]?.stringValue == StripePayments.feePurpose:
                // A fee charged to a card on file: its job records the outcome; it is no deposit.
                status = nil
            case "payment_intent.succeeded": status = .succeeded
            case "payment_intent.canceled": status = .cancelled
            case "payment_intent.payment_failed": status = .failed
            default: status = nil
            }
            return PaymentWebhookEvent(
                eventID: id, type: type, bookingID: booking, reference: object["id"]?.stringValue, status: status)
        case "setup_intent":
            // The customer's card is saved for later (`card_on_file`); other setup events change nothing.
            let method = object["payment_method"]?.stringValue ?? object["payment_method"]?["id"]?.stringValue
            return PaymentWebhookEvent(
                eventID: id, type: type, bookingID: booking, reference: object["id"]?.stringValue, status: nil,
                savedPaymentMethod: type == "setup_intent.succeeded" ? method : nil)
        case "charge":
            let refunded = type == "charge.refunded" && object["refunded"] == .bool(true)
            return PaymentWebhookEvent(
                eventID: id, type: type, bookingID: booking, reference: object["payment_intent"]?.stringValue,
                status: refunded ? .refunded : nil)
        default:
            return PaymentWebhookEvent(eventID: id, type: type, bookingID: booking, reference: nil, status: nil)
        }
    }

    static func bytes(hex: String) -> Data? {
        guard hex.count % 2 == 0 else { return nil }
        var data = Data(capacity: hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}
