/// A customer record as the API shows it.
public struct CustomerRecord: Codable, Hashable, Sendable {
    /// `cu_…`.
    public var id: String
    /// The name of the record (the first booking's); a later booking under another name never changes it.
    public var name: String
    public var email: String?
    /// E.164 (`+4915112345678`).
    public var phone: String?
    /// The desk's note (empty when none).
    public var note: String
    /// Set once the customer's personal data was erased on request.
    public var erasedAt: String?
    public var createdAt: String
    public var updatedAt: String
    /// How many bookings are filed under the record.
    public var bookings: Int
    /// Conflicts waiting for the desk (`GET /v1/customers/{id}` lists them).
    public var openConflicts: Int

    enum CodingKeys: String, CodingKey {
        case id, name, email, phone, note, bookings
        case erasedAt = "erased_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case openConflicts = "open_conflicts"
    }

    public init(
        id: String, name: String, email: String?, phone: String?, note: String, erasedAt: String?,
        createdAt: String, updatedAt: String, bookings: Int, openConflicts: Int
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.phone = phone
        self.note = note
        self.erasedAt = erasedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.bookings = bookings
        self.openConflicts = openConflicts
    }
}

/// `GET /v1/customers`.
public struct CustomerList: Codable, Hashable, Sendable {
    public var customers: [CustomerRecord]

    public init(customers: [CustomerRecord]) { self.customers = customers }
}

/// A booking whose contact details did not fit one record cleanly, for the desk to merge or leave.
public struct CustomerConflictInfo: Codable, Hashable, Sendable {
    /// `two_records`, `different_name` or `different_contact`.
    public var kind: String
    public var customer: String
    /// The other record, for `two_records`.
    public var other: String?
    public var booking: String
    public var detail: String
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case kind, customer, other, booking, detail
        case createdAt = "created_at"
    }

    public init(
        kind: String, customer: String, other: String?, booking: String, detail: String, createdAt: String
    ) {
        self.kind = kind
        self.customer = customer
        self.other = other
        self.booking = booking
        self.detail = detail
        self.createdAt = createdAt
    }
}

/// What a customer's bookings add up to.
public struct CustomerTotals: Codable, Hashable, Sendable {
    public var bookings: Int
    public var completed: Int
    public var noShows: Int
    public var cancellations: Int
    /// Cancellations inside the policy's window.
    public var lateCancellations: Int
    /// The cancellation fees charged, per currency.
    public var fees: [Price]

    enum CodingKeys: String, CodingKey {
        case bookings, completed, cancellations, fees
        case noShows = "no_shows"
        case lateCancellations = "late_cancellations"
    }

    public init(
        bookings: Int, completed: Int, noShows: Int, cancellations: Int, lateCancellations: Int, fees: [Price]
    ) {
        self.bookings = bookings
        self.completed = completed
        self.noShows = noShows
        self.cancellations = cancellations
        self.lateCancellations = lateCancellations
        self.fees = fees
    }
}

/// `GET /v1/customers/{id}` (and the answer of a note, merge or erase): the record, its history and conflicts.
public struct CustomerFile: Codable, Hashable, Sendable {
    public var customer: CustomerRecord
    public var totals: CustomerTotals
    /// Every booking, oldest first, each with the name it was made with.
    public var bookings: [BookingDetails]
    public var conflicts: [CustomerConflictInfo]

    public init(
        customer: CustomerRecord, totals: CustomerTotals, bookings: [BookingDetails], conflicts: [CustomerConflictInfo]
    ) {
        self.customer = customer
        self.totals = totals
        self.bookings = bookings
        self.conflicts = conflicts
    }
}

/// `PATCH /v1/customers/{id}`: the desk's note (empty removes it).
public struct CustomerUpdateRequest: Codable, Hashable, Sendable {
    public var note: String?

    public init(note: String?) { self.note = note }
}

/// `POST /v1/customers/{id}/merge`: the record to merge into `{id}` (it is deleted; its bookings move).
public struct CustomerMergeRequest: Codable, Hashable, Sendable {
    public var from: String

    public init(from: String) { self.from = from }
}
