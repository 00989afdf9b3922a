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
    /// ISO 8601 with an offset, or a shop-local wall time `YYYY-MM-DDTHH:MM`; a walk-in without one starts now.
    public var start: String?
    public var customer: CustomerDetails
    public var notes: String?
    /// A walk-in at the counter (staff and admin only): no minimum notice, no slot grid.
    public var walkIn: Bool?
    /// A forced booking (staff and admin only): also outside hours and on closed days, with the reason why.
    public var force: ForceBooking?

    enum CodingKeys: String, CodingKey {
        case service, services, variant, staff, start, customer, notes, force
        case walkIn = "walk_in"
    }

    public init(
        service: String? = nil, services: [String]? = nil, variant: String? = nil, staff: String? = nil,
        start: String?, customer: CustomerDetails, notes: String? = nil, walkIn: Bool? = nil,
        force: ForceBooking? = nil
    ) {
        self.service = service
        self.services = services
        self.variant = variant
        self.staff = staff
        self.start = start
        self.customer = customer
        self.notes = notes
        self.walkIn = walkIn
        self.force = force
    }
}

/// `"force": {"reason": "…"}` in a create request: why staff book outside the rules (recorded in the event).
public struct ForceBooking: Codable, Hashable, Sendable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
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

/// `PATCH /v1/bookings/{id}`: the booking's notes (an empty string removes them), the one field changed this way.
public struct BookingUpdateRequest: Codable, Hashable, Sendable {
    public var notes: String?

    public init(notes: String?) { self.notes = notes }

    /// The fields a `PATCH` may carry; any other is refused, not silently ignored.
    public static let fields: Set<String> = ["notes"]
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
    /// The card on file (`policies.card_on_file`; nil when none is saved or being saved) and its fee.
    public var card: CardDetails?
    /// The short code to read out on the phone (`K7MQ4X`), accepted wherever the id is.
    public var code: String?
    /// The customer record the booking is filed under (`cu_…`, `GET /v1/customers/{id}`).
    public var customerID: String?
    /// A walk-in or forced booking: who set which rules aside, and why (nil for a customer's booking).
    public var override: BookingOverrideDetails?

    enum CodingKeys: String, CodingKey {
        case id, status, service, services, variant, staff, start, end, price, deposit, customer, notes, payment, card
        case code, override
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
        payment: PaymentDetails? = nil, code: String? = nil, customerID: String? = nil,
        override: BookingOverrideDetails? = nil
    ) {
        self.code = code
        self.customerID = customerID
        self.override = override
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

/// What staff set aside making a walk-in or forced booking, as the booking keeps it.
public struct BookingOverrideDetails: Codable, Hashable, Sendable {
    /// `walk_in` or `forced`.
    public var kind: String
    /// Why (always given for a forced booking).
    public var reason: String?
    /// Who, for people: `lena (uid 1000)`, `uid 1000`, or `unknown`.
    public var by: String
    /// The peer's uid on the socket, and its user name when the system knows one.
    public var uid: UInt32?
    public var user: String?
    /// The codes of the rule checks the booking failed when it was made (`shop_closed`, `staff_break`, …), which
    /// later rule checks do not count as conflicts; absent for a booking made before slotd kept them (then every
    /// check its kind sets aside).
    public var waived: [String]?

    public init(
        kind: String, reason: String?, by: String, uid: UInt32?, user: String?, waived: [String]?
    ) {
        self.kind = kind
        self.reason = reason
        self.by = by
        self.uid = uid
        self.user = user
        self.waived = waived
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

/// A booking's card on file, as a front end needs it to let the customer save the card, and the fee charged to it.
public struct CardDetails: Codable, Hashable, Sendable {
    /// A late-cancellation or no-show fee charged to the card.
    public struct Fee: Codable, Hashable, Sendable {
        /// `charged` or `declined`.
        public var status: String
        public var amount: Price
        /// The provider's payment id (`pi_…`), when it made one.
        public var reference: String?
        /// Why the card was declined.
        public var reason: String?

        public init(status: String, amount: Price, reference: String?, reason: String?) {
            self.status = status
            self.amount = amount
            self.reference = reference
            self.reason = reason
        }
    }

    /// `stripe`.
    public var provider: String
    /// `pending` (waiting for the customer to enter the card) or `saved`.
    public var status: String
    /// The provider's setup id (`seti_…`), once made.
    public var reference: String?
    /// For Stripe.js `confirmCardSetup`; present only while `pending`.
    public var clientSecret: String?
    public var fee: Fee?

    enum CodingKeys: String, CodingKey {
        case provider, status, reference, fee
        case clientSecret = "client_secret"
    }

    public init(provider: String, status: String, reference: String?, clientSecret: String?, fee: Fee?) {
        self.provider = provider
        self.status = status
        self.reference = reference
        self.clientSecret = clientSecret
        self.fee = fee
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

/// `GET /v1/bookings/{id}/cancellation`: what cancelling the booking now would cost (nothing changes); for a
/// cancelled booking, what its cancellation cost.
public struct CancellationQuoteDetails: Codable, Hashable, Sendable {
    public var booking: String
    /// True when the booking is already cancelled and these are the terms it was cancelled on.
    public var cancelled: Bool
    /// Inside the free window before the start (or after it): the policy's fee applies.
    public var late: Bool
    /// The fee owed; absent when cancelling is free.
    public var fee: Price?
    /// Whole minutes from now (or from the cancellation) to the start; negative once it has passed.
    public var minutesBeforeStart: Int64
    /// The free window (`policies.cancellation.window`), in minutes before the start.
    public var windowMinutes: Int
    /// What happens to the deposit: `refund`, `keep` or `cancel` (not paid yet); absent without one, or once
    /// cancelled.
    public var deposit: String?

    enum CodingKeys: String, CodingKey {
        case booking, cancelled, late, fee, deposit
        case minutesBeforeStart = "minutes_before_start"
        case windowMinutes = "window_minutes"
    }

    public init(
        booking: String, cancelled: Bool, late: Bool, fee: Price?, minutesBeforeStart: Int64, windowMinutes: Int,
        deposit: String?
    ) {
        self.booking = booking
        self.cancelled = cancelled
        self.late = late
        self.fee = fee
        self.minutesBeforeStart = minutesBeforeStart
        self.windowMinutes = windowMinutes
        self.deposit = deposit
    }
}
