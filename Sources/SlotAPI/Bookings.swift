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
    /// A staff id, or `any` / absent for the first free one in declared order.
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

/// `POST /v1/bookings/{id}/reschedule`: move a booking to a new start (same staff member and services).
public struct RescheduleRequest: Codable, Hashable, Sendable {
    public var start: String

    public init(start: String) { self.start = start }
}

/// `POST /v1/bookings/{id}/cancel`: an optional reason (the body may be empty).
public struct CancelRequest: Codable, Hashable, Sendable {
    public var reason: String?

    public init(reason: String? = nil) { self.reason = reason }
}

/// The states of a booking.
public enum BookingStatus: String, Codable, CaseIterable, Sendable {
    case held, confirmed, completed, cancelled, expired
    case noShow = "no_show"
}

/// A booking as the API returns it.
public struct BookingDetails: Codable, Hashable, Sendable {
    /// `bk_…`.
    public var id: String
    /// `held`, `confirmed`, `completed`, `no_show`, `cancelled` or `expired`.
    public var status: String
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

    enum CodingKeys: String, CodingKey {
        case id, status, service, services, variant, staff, start, end, price, deposit, customer, notes
        case holdExpiresAt = "hold_expires_at"
        case cancelReason = "cancel_reason"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public init(
        id: String, status: String, service: String, services: [String], variant: String?, staff: String,
        start: String, end: String, price: Price, deposit: Price?, customer: CustomerDetails, notes: String?,
        holdExpiresAt: String?, cancelReason: String?, createdAt: String, updatedAt: String
    ) {
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
    }
}

/// `GET /v1/bookings`.
public struct BookingList: Codable, Hashable, Sendable {
    public var bookings: [BookingDetails]

    public init(bookings: [BookingDetails]) { self.bookings = bookings }
}
