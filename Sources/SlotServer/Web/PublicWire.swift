import Foundation
import SlotAPI

/// `GET /public/v1/shop`: branding, policies in numbers, and what the page needs for Stripe.
struct PublicShop: Encodable, Sendable {
    struct Legal: Encodable, Sendable {
        var imprint: String?
        var privacy: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(imprint, forKey: .imprint)
            try container.encode(privacy, forKey: .privacy)
        }

        enum CodingKeys: String, CodingKey { case imprint, privacy }
    }

    struct Policies: Encodable, Sendable {
        var cancellationWindowMinutes: Int
        /// A fixed fee; nil when the fee is a percentage of the price (then `cancellationFeePercent`) or none.
        var cancellationFeeCents: Int?
        var cancellationFeePercent: Int?
        var cardOnFile: Bool
        var holdMinutes: Int

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(cancellationWindowMinutes, forKey: .cancellationWindowMinutes)
            try container.encode(cancellationFeeCents, forKey: .cancellationFeeCents)
            try container.encode(cancellationFeePercent, forKey: .cancellationFeePercent)
            try container.encode(cardOnFile, forKey: .cardOnFile)
            try container.encode(holdMinutes, forKey: .holdMinutes)
        }

        enum CodingKeys: String, CodingKey {
            case cancellationWindowMinutes = "cancellation_window_minutes"
            case cancellationFeeCents = "cancellation_fee_cents"
            case cancellationFeePercent = "cancellation_fee_percent"
            case cardOnFile = "card_on_file"
            case holdMinutes = "hold_minutes"
        }
    }

    struct Stripe: Encodable, Sendable {
        var publishableKey: String
        var jsURL: String

        enum CodingKeys: String, CodingKey {
            case publishableKey = "publishable_key"
            case jsURL = "js_url"
        }
    }

    var title: String
    var locale: String
    var accentColour: String
    var logoURL: String?
    var legal: Legal
    var timeZone: String
    var currency: String
    var country: String
    var policies: Policies
    var stripe: Stripe?

    enum CodingKeys: String, CodingKey {
        case title, locale, legal, currency, country, policies, stripe
        case accentColour = "accent_colour"
        case logoURL = "logo_url"
        case timeZone = "time_zone"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(title, forKey: .title)
        try container.encode(locale, forKey: .locale)
        try container.encode(accentColour, forKey: .accentColour)
        try container.encode(logoURL, forKey: .logoURL)
        try container.encode(legal, forKey: .legal)
        try container.encode(timeZone, forKey: .timeZone)
        try container.encode(currency, forKey: .currency)
        try container.encode(country, forKey: .country)
        try container.encode(policies, forKey: .policies)
        try container.encode(stripe, forKey: .stripe)
    }
}

/// `GET /public/v1/days`: which days of a month have a free start.
struct PublicDays: Encodable, Sendable {
    struct Day: Encodable, Sendable {
        var date: String
        var free: Bool
    }

    var month: String
    var days: [Day]
}

/// A booking as a customer sees it, with the link that manages it.
struct PublicBookingAnswer: Encodable, Sendable {
    /// What cancelling now would cost and give back.
    struct Cancellation: Encodable, Sendable {
        var feeCents: Int
        var refundCents: Int
        var insideWindow: Bool
        /// Whether the booking can still be cancelled (held or confirmed).
        var possible: Bool

        enum CodingKeys: String, CodingKey {
            case feeCents = "fee_cents"
            case refundCents = "refund_cents"
            case insideWindow = "inside_window"
            case possible
        }
    }

    /// What the page needs to take the payment: the PaymentIntent's client secret.
    struct PaymentStart: Encodable, Sendable {
        var clientSecret: String
        var kind: String

        enum CodingKeys: String, CodingKey {
            case clientSecret = "client_secret"
            case kind
        }
    }

    /// The booking JSON of the socket without internal fields (its id, the provider's payment reference).
    var booking: JSONValue
    var token: String
    var manageURL: String
    var icsURL: String
    /// Only in the answer to `POST /public/v1/bookings` (null when nothing is to be paid now).
    var payment: PaymentStart??
    /// Only in the answers about an existing booking.
    var cancellation: Cancellation?
    /// Only while the booking is a waitlist offer waiting for the customer's answer.
    var offer: Offer?

    /// A start that came free for a customer in line: held for them until `expiresAt`, theirs if they accept.
    struct Offer: Encodable, Sendable {
        var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case expiresAt = "expires_at"
        }
    }

    enum CodingKeys: String, CodingKey {
        case booking, token, payment, cancellation, offer
        case manageURL = "manage_url"
        case icsURL = "ics_url"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(booking, forKey: .booking)
        try container.encode(token, forKey: .token)
        try container.encode(manageURL, forKey: .manageURL)
        try container.encode(icsURL, forKey: .icsURL)
        if let payment { try container.encode(payment, forKey: .payment) }
        try container.encodeIfPresent(cancellation, forKey: .cancellation)
        try container.encodeIfPresent(offer, forKey: .offer)
    }

    /// The socket's booking JSON without what a customer must not see.
    static func customerView(_ details: BookingDetails) throws -> JSONValue {
        var value = try JSONCoding.decoder.decode(JSONValue.self, from: try JSONCoding.encoder.encode(details))
        guard case .object(var members) = value else { return value }
        members["id"] = nil
        // The customer keeps the booking's code (to read out when calling the shop), not the shop's record id.
        members["customer_id"] = nil
        if case .object(var payment) = members["payment"] {
            payment["reference"] = nil
            members["payment"] = .object(payment)
        }
        // The card's provider ids (setup, fee payment) stay with the shop; status, secret and fee are the customer's.
        if case .object(var card) = members["card"] {
            card["reference"] = nil
            if case .object(var fee) = card["fee"] {
                fee["reference"] = nil
                card["fee"] = .object(fee)
            }
            members["card"] = .object(card)
        }
        value = .object(members)
        return value
    }
}

/// The page's booking request: the socket's body plus the customer's consent to the policies.
struct PublicConsent: Decodable, Sendable {
    var consent: Bool?
}

/// `POST /public/v1/bookings/{token}/reschedule`.
struct PublicRescheduleRequest: Decodable, Sendable {
    var start: String
    var staff: String?
}
