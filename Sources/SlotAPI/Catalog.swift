/// An amount of money in minor units (cents) with its currency and a display form.
public struct Price: Codable, Hashable, Sendable {
    /// Minor units (cents for EUR).
    public var amount: Int
    /// ISO 4217 code.
    public var currency: String
    /// `25.00 EUR`.
    public var display: String

    public init(amount: Int, currency: String, display: String) {
        self.amount = amount
        self.currency = currency
        self.display = display
    }
}

/// A service as `GET /v1/services` lists it.
public struct ServiceInfo: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var durationMinutes: Int
    public var price: Price
    public var deposit: Price?
    public var bufferBeforeMinutes: Int
    public var bufferAfterMinutes: Int
    public var variants: [VariantInfo]
    /// When it may start (an hour expression), when only at some hours.
    public var available: String?
    /// Staff members whose price, deposit or duration differ from the service's, in declared staff order.
    public var staffTerms: [StaffTermsInfo]

    enum CodingKeys: String, CodingKey {
        case id, name, price, deposit, variants, available
        case durationMinutes = "duration_minutes"
        case bufferBeforeMinutes = "buffer_before_minutes"
        case bufferAfterMinutes = "buffer_after_minutes"
        case staffTerms = "staff_terms"
    }

    public init(
        id: String, name: String, durationMinutes: Int, price: Price, deposit: Price?,
        bufferBeforeMinutes: Int, bufferAfterMinutes: Int, variants: [VariantInfo], available: String? = nil,
        staffTerms: [StaffTermsInfo] = []
    ) {
        self.available = available
        self.staffTerms = staffTerms
        self.id = id
        self.name = name
        self.durationMinutes = durationMinutes
        self.price = price
        self.deposit = deposit
        self.bufferBeforeMinutes = bufferBeforeMinutes
        self.bufferAfterMinutes = bufferAfterMinutes
        self.variants = variants
    }
}

/// A service as one staff member performs it: their duration, price and deposit.
public struct StaffTermsInfo: Codable, Hashable, Sendable {
    public var staff: String
    public var durationMinutes: Int
    public var price: Price
    public var deposit: Price?

    enum CodingKeys: String, CodingKey {
        case staff, price, deposit
        case durationMinutes = "duration_minutes"
    }

    public init(staff: String, durationMinutes: Int, price: Price, deposit: Price?) {
        self.staff = staff
        self.durationMinutes = durationMinutes
        self.price = price
        self.deposit = deposit
    }
}

/// A variant of a service (short hair / long hair).
public struct VariantInfo: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var durationMinutes: Int
    public var price: Price
    public var deposit: Price?
    /// Staff members whose price, deposit or duration for this variant differ from its own (absent when none).
    public var staffTerms: [StaffTermsInfo]?

    enum CodingKeys: String, CodingKey {
        case id, name, price, deposit
        case durationMinutes = "duration_minutes"
        case staffTerms = "staff_terms"
    }

    public init(
        id: String, name: String, durationMinutes: Int, price: Price, deposit: Price?,
        staffTerms: [StaffTermsInfo]? = nil
    ) {
        self.id = id
        self.name = name
        self.durationMinutes = durationMinutes
        self.price = price
        self.deposit = deposit
        self.staffTerms = staffTerms
    }
}

/// `GET /v1/services`.
public struct ServiceList: Codable, Hashable, Sendable {
    public var services: [ServiceInfo]

    public init(services: [ServiceInfo]) { self.services = services }
}

/// A staff member as `GET /v1/staff` lists them.
public struct StaffInfo: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    /// Ids of the services they perform.
    public var services: [String]

    public init(id: String, name: String, services: [String]) {
        self.id = id
        self.name = name
        self.services = services
    }
}

/// `GET /v1/staff`, in declared order (the order ties of "any" go in).
public struct StaffList: Codable, Hashable, Sendable {
    public var staff: [StaffInfo]

    public init(staff: [StaffInfo]) { self.staff = staff }
}
