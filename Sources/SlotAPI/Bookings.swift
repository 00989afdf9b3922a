/// The customer of a booking.
public struct CustomerDetails: Codable, Hashable, Sendable {
    public var name: String
    public var email: String?
    public var phone: String?

    public init(name: String, email: String? = nil, phone: String? = nil) {
        self.name = name
        self.email = email
        self.phone = phone
    }
}

/// `POST /v1/bookings`: book a start. Send `service` or `services` (several back to back as one booking).
public struct CreateBookingRequest: Codable, Hashable, Sendable {
    public var service: String?
    /// Several services back to back (haircut, then beard) as one booking.
    public var services: [String]?
    public var variant: String?
    /// A staff id, or `any` / absent for a free one, picked by the rules' `assign` policy.
    public var staff: String?
    /// ISO 8601 with an offset, or a shop-local wall time `YYYY-MM-DDTHH:MM`.
    public var start: String
    public var customer: CustomerDetails
    public var notes: String?

    public init(
        service: String? = nil, services: [String]? = nil, variant: String? = nil, staff: String? = nil,
        start: String, customer: CustomerDetails, notes: String? = nil
    ) {
        self.service = service
        self.services = services
        self.variant = variant
        self.staff = staff
        self.start = start
        self.customer = customer
        self.notes = notes
    }
}

/// `POST /v1/bookings/{id}/reschedule`: move a booking to a new start (same services), and to another staff member
/// (`staff`: an id, or `any` for whoever is free then, the current one first; absent keeps the staff member).
public struct RescheduleRequest: Codable, Hashable, Sendable {
    public var start: String
    public var staff: String?

    public init(start: String, staff: String? = nil) {
        self.start = start
        self.staff = staff
    }
}

/// `POST /v1/bookings/{id}/cancel`: an optional reason (the body may be empty).
public struct CancelRequest: Codable, Hashable, Sendable {
    public var reason: String?

    public init(reason: String? = nil) { self.reason = reason }
}

/// Where a booking is in its life, on the wire.
public enum BookingStatus: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case held
    case confirmed
    case completed
    case noShow = "no_show"
    case cancelled
    case expired

    /// The wire spelling (`no_show`).
    public var description: String { rawValue }
}

/// A booking as the API returns it.
public struct BookingDetails: Codable, Hashable, Sendable {
    /// `bk_…`.
    public var id: String
    /// `held`, `confirmed`, `completed`, `no_show`, `cancelled` or `expired`.
    public var status: BookingStatus
    /// The first (or only) service id.
    public var service: String
    /// Every service id, in order.
    public var services: [String]
    public var variant: String?
    public var staff: String
    /// ISO 8601 with the shop's offset.
    public var start: String
    public var end: String
    public var price: Price
    public var deposit: Price?
    public var customer: CustomerDetails
    public var notes: String?
    /// When a `held` booking expires unless its deposit arrives.
    public var holdExpiresAt: String?
    public var cancelReason: String?
    public var createdAt: String
    public var updatedAt: String
    /// The deposit's payment (nil without a deposit): provider, status, amount, reference, client secret.
    public var payment: PaymentDetails?
    /// The short code to read out on the phone (`K7MQ4X`), accepted wherever the id is.
    public var code: String?
    /// The customer record the booking is filed under (`cu_…`, `GET /v1/customers/{id}`).
    public var customerID: String?

    enum CodingKeys: String, CodingKey {
        case id, status, service, services, variant, staff, start, end, price, deposit, customer, notes, payment
        case code
        case customerID = "customer_id"
        case holdExpiresAt = "hold_expires_at"
        case cancelReason = "cancel_reason"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public init(
        id: String, status: BookingStatus, service: String, services: [String], variant: String?, staff: String,
        start: String, end: String, price: Price, deposit: Price?, customer: CustomerDetails, notes: String?,
        holdExpiresAt: String?, cancelReason: String?, createdAt: String, updatedAt: String,
        payment: PaymentDetails? = nil, code: String? = nil, customerID: String? = nil
    ) {
        self.code = code
        self.customerID = customerID
        self.id = id
        self.status = status
        self.service = service
        self.services = services
        self.variant = variant
        self.staff = staff
        self.start = start
        self.end = end
        self.price = price
        self.deposit = deposit
        self.customer = customer
        self.notes = notes
        self.holdExpiresAt = holdExpiresAt
        self.cancelReason = cancelReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.payment = payment
    }
}

/// `GET /v1/bookings`.
public struct BookingList: Codable, Hashable, Sendable {
    public var bookings: [BookingDetails]

    public init(bookings: [BookingDetails]) { self.bookings = bookings }
}

/// A booking's deposit, as a front end needs it to let the customer pay.
public struct PaymentDetails: Codable, Hashable, Sendable {
    /// `stripe`, or `manual` for a deposit due at the shop.
    public var provider: String
    /// `pending`, `succeeded`, `cancelled`, `refunded`, `kept`, `failed`, or `due_at_shop`.
    public var status: String
    public var amount: Price
    /// The provider's id for the payment (`pi_…`), once created.
    public var reference: String?
    /// For Stripe.js `confirmCardPayment`; present only while the payment is `pending`.
    public var clientSecret: String?

    enum CodingKeys: String, CodingKey {
        case provider, status, amount, reference
        case clientSecret = "client_secret"
    }

    public init(
        provider: String, status: String, amount: Price, reference: String? = nil, clientSecret: String? = nil
    ) {
        self.provider = provider
        self.status = status
        self.amount = amount
        self.reference = reference
        self.clientSecret = clientSecret
    }
}

/// The answer to a payment webhook.
public struct WebhookReceipt: Codable, Hashable, Sendable {
    /// The provider's event id.
    public var event: String
    /// `applied`, `duplicate` (seen before, nothing changed) or `ignored` (nothing to change).
    public var outcome: String
    public var booking: String?

    public init(event: String, outcome: String, booking: String?) {
        self.event = event
        self.outcome = outcome
        self.booking = booking
    }
}
