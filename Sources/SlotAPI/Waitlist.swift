/// `POST /v1/waitlist`: a customer joins the line for a service (a staff member or any) on a date or a range.
public struct JoinWaitlistRequest: Codable, Hashable, Sendable {
    public var service: String?
    public var variant: String?
    /// A staff id, or `any` (the default).
    public var staff: String?
    /// `YYYY-MM-DD`, shop-local: the first date that suits.
    public var from: String?
    /// The last date that suits (default: `from`).
    public var to: String?
    /// `HH:MM`: only starts at or after this wall time suit.
    public var after: String?
    /// `HH:MM`: only starts before this wall time suit.
    public var before: String?
    public var customer: CustomerDetails
    public var notes: String?

    public init(
        service: String?, variant: String? = nil, staff: String? = nil, from: String?, to: String? = nil,
        after: String? = nil, before: String? = nil, customer: CustomerDetails, notes: String? = nil
    ) {
        self.service = service
        self.variant = variant
        self.staff = staff
        self.from = from
        self.to = to
        self.after = after
        self.before = before
        self.customer = customer
        self.notes = notes
    }
}

/// An offer made from the waitlist: the held booking, its staff member and start, and when it lapses.
public struct WaitlistOfferInfo: Codable, Hashable, Sendable {
    /// The held booking's id (`bk_…`).
    public var booking: String
    /// Its short code, to read out on the phone.
    public var code: String?
    public var staff: String
    public var start: String
    public var expiresAt: String

    public init(booking: String, code: String?, staff: String, start: String, expiresAt: String) {
        self.booking = booking
        self.code = code
        self.staff = staff
        self.start = start
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case booking, code, staff, start
        case expiresAt = "expires_at"
    }
}

/// A waitlist entry as the API shows it.
public struct WaitlistEntryInfo: Codable, Hashable, Sendable {
    /// `wl_…`.
    public var id: String
    /// The place in line among all entries ever made (smaller is earlier).
    public var position: Int64
    /// `waiting`, `offered`, `booked`, `expired` or `left`.
    public var status: String
    public var service: String
    public var variant: String?
    /// A staff id or `any`.
    public var staff: String
    public var from: String
    public var to: String
    public var after: String?
    public var before: String?
    public var customer: CustomerDetails
    public var notes: String
    /// The current offer (`offered`) or the last one.
    public var offer: WaitlistOfferInfo?
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: String, position: Int64, status: String, service: String, variant: String?, staff: String,
        from: String, to: String, after: String?, before: String?, customer: CustomerDetails, notes: String,
        offer: WaitlistOfferInfo?, createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.position = position
        self.status = status
        self.service = service
        self.variant = variant
        self.staff = staff
        self.from = from
        self.to = to
        self.after = after
        self.before = before
        self.customer = customer
        self.notes = notes
        self.offer = offer
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, position, status, service, variant, staff, from, to, after, before, customer, notes, offer
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// `GET /v1/waitlist`.
public struct WaitlistList: Codable, Hashable, Sendable {
    public var entries: [WaitlistEntryInfo]

    public init(entries: [WaitlistEntryInfo]) { self.entries = entries }
}
