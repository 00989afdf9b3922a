import Foundation
import SlotCore

// MARK: - The boundary

/// Customer records beyond what a booking writes: search, history, notes, merges and erasure.
///
/// A booking finds or creates its customer inside `createBooking` (see `CustomerMatching`); this protocol is what
/// the front desk does with the records afterwards. Every write returns the events it appended, to be published
/// after commit.
public protocol CustomerStore: Sendable {
    /// Customers whose name, e-mail or phone contains the search text (case-insensitive), oldest first.
    func searchCustomers(_ search: CustomerSearch) async throws(StoreError) -> [CustomerListing]

    /// The customer with its bookings (oldest first) and open conflicts, or nil when there is no such customer.
    func customerHistory(id: String) async throws(StoreError) -> CustomerHistory?

    /// Replaces the customer's note (empty removes it).
    func setCustomerNote(id: String, note: String, at now: Int64) async throws(StoreError) -> CustomerChange

    /// Moves every booking of `other` to `id`, fills contact details `id` lacks from `other`, joins the notes,
    /// resolves the conflicts between the two and deletes `other`, in one transaction.
    func mergeCustomers(into id: String, from other: String, at now: Int64) async throws(StoreError) -> CustomerChange

    /// Closes every conflict that names the customer (the desk looked and keeps the records apart).
    func resolveCustomerConflicts(id: String, at now: Int64) async throws(StoreError) -> CustomerChange

    /// Removes the customer's personal data (name, e-mail, phone, note; the name, contact and notes its bookings
    /// were made with) and records a `customer.erased` event; the bookings stay, for the shop's books.
    func eraseCustomer(id: String, at now: Int64) async throws(StoreError) -> CustomerChange

    /// Rewrites the phone numbers stored before they were kept in E.164 (customers' and the contact bookings were
    /// made with) as `rewrite` decides, in one transaction; numbers it cannot read stay as they are and are counted.
    func normaliseStoredPhones(_ rewrite: PhoneRewrite, at now: Int64) async throws(StoreError) -> PhoneNormalisation
}

// MARK: - Values

/// What `searchCustomers` selects.
public struct CustomerSearch: Hashable, Sendable {
    /// Part of a name, e-mail or phone number; nil or empty lists everyone.
    public var text: String?
    /// The search text as an E.164 number when it reads as one (`0151 1234567` → `+491511234567`), matched too.
    public var phone: String?
    /// Only customers with an open conflict for the desk.
    public var onlyConflicts: Bool
    public var limit: Int

    public init(text: String? = nil, phone: String? = nil, onlyConflicts: Bool = false, limit: Int = 100) {
        self.text = text
        self.phone = phone
        self.onlyConflicts = onlyConflicts
        self.limit = limit
    }
}

/// One customer in a search answer, with the counts a list shows.
public struct CustomerListing: Hashable, Sendable {
    public var customer: StoredCustomer
    public var bookings: Int
    public var openConflicts: Int

    public init(customer: StoredCustomer, bookings: Int, openConflicts: Int) {
        self.customer = customer
        self.bookings = bookings
        self.openConflicts = openConflicts
    }
}

/// A customer with everything booked under it.
public struct CustomerHistory: Hashable, Sendable {
    public var customer: StoredCustomer
    /// Every booking, oldest start first, as it was made (each with the name it was made with).
    public var bookings: [StoredBooking]
    /// Conflicts that name this customer, oldest first.
    public var conflicts: [CustomerConflict]

    public init(customer: StoredCustomer, bookings: [StoredBooking], conflicts: [CustomerConflict]) {
        self.customer = customer
        self.bookings = bookings
        self.conflicts = conflicts
    }
}

/// A customer record after a write, and the events the write appended.
public struct CustomerChange: Hashable, Sendable {
    public var customer: StoredCustomer
    public var events: [StoredEvent]

    public init(customer: StoredCustomer, events: [StoredEvent]) {
        self.customer = customer
        self.events = events
    }
}

/// A booking whose contact details did not fit one record cleanly: recorded instead of renaming or overwriting,
/// so the desk can merge the records (or leave them apart).
public struct CustomerConflict: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// The phone number belongs to one customer, the e-mail address to another.
        case twoRecords = "two_records"
        /// The contact matched a customer recorded under another name.
        case differentName = "different_name"
        /// Matched by one contact detail, the other differs from the record's.
        case differentContact = "different_contact"
    }

    public var id: Int64
    public var kind: Kind
    /// The customer the booking was filed under.
    public var customerID: String
    /// The other customer, for `twoRecords`.
    public var otherCustomerID: String?
    /// The booking that showed it.
    public var bookingID: String
    /// What differs, in words for the desk.
    public var detail: String
    public var createdAt: Int64

    public init(
        id: Int64, kind: Kind, customerID: String, otherCustomerID: String?, bookingID: String, detail: String,
        createdAt: Int64
    ) {
        self.id = id
        self.kind = kind
        self.customerID = customerID
        self.otherCustomerID = otherCustomerID
        self.bookingID = bookingID
        self.detail = detail
        self.createdAt = createdAt
    }
}

/// The `customer.*` events of the log.
public enum CustomerEventType: String, Sendable, CaseIterable {
    /// A booking's contact details conflict with the records (`CustomerConflict`).
    case conflict = "customer.conflict"
    /// The desk changed the customer's note.
    case noted = "customer.noted"
    /// Two records became one.
    case merged = "customer.merged"
    /// The desk closed the customer's conflicts without merging.
    case conflictsResolved = "customer.conflicts_resolved"
    /// The customer's personal data was removed on request.
    case erased = "customer.erased"
}

/// The data of a `customer.*` event: ids and counts only, never personal data, so erasing a customer leaves
/// nothing of them in the log.
package struct CustomerEventData: Encodable, Sendable {
    package var customer: String
    package var other: String? = nil
    package var booking: String? = nil
    package var kind: String? = nil
    package var bookings: Int? = nil
    package var conflicts: Int? = nil

    package init(
        customer: String, other: String? = nil, booking: String? = nil, kind: String? = nil, bookings: Int? = nil,
        conflicts: Int? = nil
    ) {
        self.customer = customer
        self.other = other
        self.booking = booking
        self.kind = kind
        self.bookings = bookings
        self.conflicts = conflicts
    }
}

// MARK: - Phone numbers stored before E.164

/// What a stored phone number becomes: its E.164 form with the shop's country for numbers without `+`, or nil
/// when it cannot be read as a phone number (then it stays as stored). Pure, so every store decides alike.
public struct PhoneRewrite: Sendable {
    /// The country whose calling code a number without `+` or `00` gets (ISO 3166-1 alpha-2, `DE`).
    public var country: String

    public init(country: String) { self.country = country }

    /// What `stored` becomes: `.keep` for a number already in E.164, `.rewrite` with its E.164 form, or
    /// `.unreadable` for a text that is no phone number.
    public func decide(_ stored: String) -> Decision {
        switch PhoneNumber.normalise(stored, defaultCountry: country) {
        case .success(let number): return number.e164 == stored ? .keep : .rewrite(number.e164)
        case .failure: return .unreadable
        }
    }

    /// The answer for one stored number.
    public enum Decision: Hashable, Sendable {
        case keep
        case rewrite(String)
        case unreadable
    }
}

/// What `normaliseStoredPhones` changed and left.
public struct PhoneNormalisation: Hashable, Sendable {
    /// Customer records and bookings whose number was rewritten to E.164.
    public var customersRewritten = 0
    public var bookingsRewritten = 0
    /// Customer records and bookings whose number could not be read (left as stored).
    public var customersUnreadable = 0
    public var bookingsUnreadable = 0
    /// The ids of customers with an unreadable number, oldest first, at most `unreadableIDLimit`.
    public var unreadableCustomerIDs: [String] = []

    /// How many unreadable customers' ids a report names.
    public static let unreadableIDLimit = 10

    public init() {}

    /// Whether nothing was rewritten and nothing is unreadable.
    public var isEmpty: Bool {
        customersRewritten == 0 && bookingsRewritten == 0 && customersUnreadable == 0 && bookingsUnreadable == 0
    }
}

// MARK: - Matching (shared by both stores)

/// How a booking's contact details find their customer. Pure, so both stores decide alike.
///
/// A customer is matched by phone (E.164, normalised by the caller) or by e-mail (case-insensitive); the record's
/// name never changes, and the booking keeps the name it was made with. What does not fit cleanly becomes a
/// `CustomerConflict` for the desk instead of an overwrite.
package struct CustomerMatching: Hashable, Sendable {
    /// The customer to file the booking under; nil makes a new one.
    package var customerID: String?
    /// A contact detail the matched record lacks and the booking gives (nobody else has it): filled in.
    package var fillEmail: String?
    package var fillPhone: String?
    package var conflicts: [PlannedConflict]

    package struct PlannedConflict: Hashable, Sendable {
        package var kind: CustomerConflict.Kind
        package var customerID: String
        package var otherCustomerID: String?
        package var detail: String

        /// Its `customer.conflict` event, once `booking` exists.
        package func event(booking: String, at now: Int64) -> PendingEvent {
            CustomerMatching.event(
                .conflict, at: now,
                CustomerEventData(
                    customer: customerID, other: otherCustomerID, booking: booking, kind: kind.rawValue))
        }
    }

    /// The key an e-mail address is matched by.
    package static func emailKey(_ email: String) -> String {
        email.trimmingWhitespace().lowercased()
    }

    /// Names that differ only in case or spacing are the same name.
    package static func nameKey(_ name: String) -> String {
        name.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Decides for `info`, given the oldest customer with its phone and the oldest with its e-mail.
    package static func match(
        _ info: CustomerInfo, byPhone: StoredCustomer?, byEmail: StoredCustomer?
    ) -> CustomerMatching {
        guard let primary = byPhone ?? byEmail else {
            return CustomerMatching(customerID: nil, conflicts: [])
        }
        var matching = CustomerMatching(customerID: primary.id, conflicts: [])
        func conflict(_ kind: CustomerConflict.Kind, other: String? = nil, _ detail: String) {
            matching.conflicts.append(
                PlannedConflict(kind: kind, customerID: primary.id, otherCustomerID: other, detail: detail))
        }
        if let byPhone, let byEmail, byPhone.id != byEmail.id {
            conflict(
                .twoRecords, other: byEmail.id,
                "phone \(info.phone ?? "") belongs to \(byPhone.id) (\(byPhone.name)), e-mail \(info.email ?? "") to "
                    + "\(byEmail.id) (\(byEmail.name)): the booking was filed under \(byPhone.id); merge them if "
                    + "they are one person")
        }
        if nameKey(info.name) != nameKey(primary.name) {
            conflict(
                .differentName,
                "booked as '\(info.name)', but the record is '\(primary.name)': the record keeps its name; merge "
                    + "or leave apart")
        }
        if byPhone != nil, byEmail == nil, let email = info.email {
            if let recorded = primary.email {
                if emailKey(recorded) != emailKey(email) {
                    conflict(.differentContact, "booked with e-mail \(email), the record has \(recorded)")
                }
            } else {
                matching.fillEmail = email
            }
        }
        if byEmail != nil, byPhone == nil, let phone = info.phone {
            if let recorded = primary.phone {
                if recorded != phone {
                    conflict(.differentContact, "booked with phone \(phone), the record has \(recorded)")
                }
            } else {
                matching.fillPhone = phone
            }
        }
        return matching
    }

    /// The customer after `CustomerStore.mergeCustomers`: `into`'s name, its contact filled from `from`, notes
    /// joined.
    package static func merged(_ into: StoredCustomer, with from: StoredCustomer, at now: Int64) -> StoredCustomer {
        var merged = into
        merged.email = into.email ?? from.email
        merged.phone = into.phone ?? from.phone
        merged.note = [into.note, from.note].filter { !$0.isEmpty }.joined(separator: "\n")
        merged.updatedAt = now
        return merged
    }

    /// Why two records cannot be merged, or nil.
    package static func mergeProblem(_ into: StoredCustomer, _ from: StoredCustomer) -> StoreError? {
        if into.id == from.id {
            return StoreError(
                .constraintViolation, "a customer cannot be merged with itself — name two different ids")
        }
        return nil
    }

    /// The customer after erasure: no personal data left.
    package static func erased(_ customer: StoredCustomer, at now: Int64) -> StoredCustomer {
        var erased = customer
        erased.name = erasedName
        erased.email = nil
        erased.phone = nil
        erased.note = ""
        erased.erasedAt = now
        erased.updatedAt = now
        return erased
    }

    /// What an erased customer and their bookings are called (the schema wants a name).
    package static let erasedName = "(erased)"

    /// A search text's digits, for matching phone numbers however they were typed (nil when too few to mean one).
    package static func phoneDigits(_ text: String) -> String? {
        let digits = text.filter(\.isASCII).filter(\.isNumber)
        return digits.count >= 3 ? digits : nil
    }

    /// Whether `customer` matches a search text (what SQLite's LIKE does, in Swift for the memory twin).
    package static func matches(_ customer: StoredCustomer, text: String, phone number: String?) -> Bool {
        if let number, let phone = customer.phone, phone.contains(number) { return true }
        let needle = text.lowercased()
        if customer.name.lowercased().contains(needle) { return true }
        if let email = customer.email, email.lowercased().contains(needle) { return true }
        if let phone = customer.phone {
            if phone.contains(text) { return true }
            if let digits = phoneDigits(text), phone.filter(\.isNumber).contains(digits) { return true }
        }
        return false
    }

    /// A `customer.*` event to append.
    package static func event(_ type: CustomerEventType, at now: Int64, _ data: CustomerEventData) -> PendingEvent {
        PendingEvent(type: type.rawValue, at: now, data: StoreJSON.encode(data))
    }
}

extension StoreError {
    package static let codesExhausted = StoreError(
        .database, "no free booking code found in 32 draws — the code space is exhausted")

    package static func customerNotFound(_ id: String) -> StoreError {
        StoreError(.notFound, "no customer with id '\(id)' — `slotctl customers` lists them")
    }
}
