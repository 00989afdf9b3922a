import Foundation
import Logging
import SlotAPI
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

/// The front desk's use cases on customer records: search, a customer's file (history, totals, conflicts), notes,
/// merges and erasure. HTTP-free, like `BookingService`, whose rules, clock, bus and payments it shares.
struct CustomerService: Sendable {
    let service: BookingService
    /// The store's customer records; nil for a store that keeps none (every route then answers 503).
    let records: (any CustomerStore)?

    init(service: BookingService) {
        self.service = service
        records = service.store as? any CustomerStore
    }

    /// The longest note the desk may keep on a customer.
    static let maximumNoteLength = 2000
    /// The most customers one search answers with.
    static let maximumLimit = 500

    func store() throws(APIError) -> any CustomerStore {
        guard let records else {
            throw APIError(.unavailable, "this store keeps no customer records — run slotd with SQLite or :memory:")
        }
        return records
    }

    /// `GET /v1/customers?q=&conflicts=&limit=`.
    func list(text: String?, conflicts: String?, limit: String?) async throws -> CustomerList {
        var problems: [FieldProblem] = []
        var count = 100
        if let limit {
            if let value = Int(limit), (1...Self.maximumLimit).contains(value) {
                count = value
            } else {
                problems.append(FieldProblem(field: "limit", reason: "a whole number from 1 to \(Self.maximumLimit)"))
            }
        }
        var onlyConflicts = false
        switch conflicts {
        case nil, "false", "0": break
        case "true", "1": onlyConflicts = true
        default: problems.append(FieldProblem(field: "conflicts", reason: "true or false"))
        }
        let trimmed = text?.trimmingCharacters(in: .whitespaces) ?? ""
        if trimmed.count > 200 { problems.append(FieldProblem(field: "q", reason: "at most 200 characters")) }
        if !problems.isEmpty { throw APIError.invalid(problems) }
        // A search that reads as a phone number also finds it as stored (E.164), however it was typed.
        let phone = try? PhoneNumber.normalise(trimmed, defaultCountry: service.phoneCountry).get().e164
        let found = try await store().searchCustomers(
            CustomerSearch(
                text: trimmed.isEmpty ? nil : trimmed, phone: phone, onlyConflicts: onlyConflicts, limit: count))
        let wire = try wire()
        return CustomerList(
            customers: found.map { wire.record($0.customer, bookings: $0.bookings, conflicts: $0.openConflicts) })
    }

    /// `GET /v1/customers/{id}`: the record, every booking, the totals and the open conflicts.
    func file(id: String) async throws -> CustomerFile {
        guard let history = try await store().customerHistory(id: id) else { throw Self.notFound(id) }
        let wire = try wire()
        let bookings = try await service.payments.bookings(history.bookings, wire: wire)
        return CustomerFile(
            customer: wire.record(
                history.customer, bookings: history.bookings.count,
                conflicts: history.conflicts.filter { $0.customerID == id }.count),
            totals: wire.totals(history.bookings), bookings: bookings, conflicts: history.conflicts.map(wire.conflict))
    }

    /// `PATCH /v1/customers/{id}`: the note.
    func update(id: String, _ request: CustomerUpdateRequest) async throws -> CustomerFile {
        guard let note = request.note else {
            throw APIError.invalid("note", "is required: the new note (an empty string removes it)")
        }
        var problems: [FieldProblem] = []
        if note.count > Self.maximumNoteLength {
            problems.append(FieldProblem(field: "note", reason: "at most \(Self.maximumNoteLength) characters"))
        }
        if let problem = BookingService.controlCharacterProblem(note, field: "note", allowingLineBreaks: true) {
            problems.append(problem)
        }
        if !problems.isEmpty { throw APIError.invalid(problems) }
        try await exists(id)
        let change = try await store().setCustomerNote(id: id, note: note, at: service.clock.now())
        publish(change, "customer note changed")
        return try await file(id: id)
    }

    /// `POST /v1/customers/{id}/merge`: `from`'s bookings move to `id`, `from` is deleted.
    func merge(into id: String, _ request: CustomerMergeRequest) async throws -> CustomerFile {
        let from = request.from.trimmingCharacters(in: .whitespaces)
        guard !from.isEmpty else { throw APIError.invalid("from", "name the customer id to merge into this one") }
        guard from != id else { throw APIError.invalid("from", "is this customer: name another customer's id") }
        try await exists(id)
        guard try await store().customerHistory(id: from) != nil else {
            throw APIError.invalid("from", "no customer with id '\(from)' — `slotctl customers` lists them")
        }
        let change = try await store().mergeCustomers(into: id, from: from, at: service.clock.now())
        publish(change, "customers merged")
        return try await file(id: id)
    }

    /// `POST /v1/customers/{id}/resolve`: the desk closes the customer's conflicts and keeps the records apart.
    func resolve(id: String) async throws -> CustomerFile {
        try await exists(id)
        let change = try await store().resolveCustomerConflicts(id: id, at: service.clock.now())
        publish(change, "customer conflicts resolved")
        return try await file(id: id)
    }

    /// `POST /v1/customers/{id}/erase`: personal data removed, bookings kept, an event recorded.
    func erase(id: String) async throws -> CustomerFile {
        try await exists(id)
        let change = try await store().eraseCustomer(id: id, at: service.clock.now())
        publish(change, "customer erased")
        return try await file(id: id)
    }

    // MARK: - Helpers

    private func exists(_ id: String) async throws {
        guard try await store().customerHistory(id: id) != nil else { throw Self.notFound(id) }
    }

    private func publish(_ change: CustomerChange, _ message: Logger.Message) {
        service.bus.publish(change.events)
        service.logger.info(message, metadata: ["customer": "\(change.customer.id)"])
    }

    private func wire() throws -> WireMapping { WireMapping(zone: try service.loaded().ruleSet.shop.timeZone) }

    static func notFound(_ id: String) -> APIError {
        APIError(.notFound, "no customer with id '\(id)' — GET /v1/customers?q= finds one by name, phone or e-mail")
    }
}

extension WireMapping {
    /// A customer record on the wire.
    func record(_ customer: StoredCustomer, bookings: Int, conflicts: Int) -> CustomerRecord {
        CustomerRecord(
            id: customer.id, name: customer.name, email: customer.email, phone: customer.phone, note: customer.note,
            erasedAt: customer.erasedAt.map(time), createdAt: time(customer.createdAt),
            updatedAt: time(customer.updatedAt), bookings: bookings, openConflicts: conflicts)
    }

    func conflict(_ conflict: CustomerConflict) -> CustomerConflictInfo {
        CustomerConflictInfo(
            kind: conflict.kind.rawValue, customer: conflict.customerID, other: conflict.otherCustomerID,
            booking: conflict.bookingID, detail: conflict.detail, createdAt: time(conflict.createdAt))
    }

    /// What a customer's bookings add up to: counts by outcome and the cancellation fees, per currency.
    func totals(_ bookings: [StoredBooking]) -> CustomerTotals {
        var fees: [String: Int] = [:]
        for booking in bookings {
            if let fee = booking.cancellation?.fee { fees[fee.currency, default: 0] += fee.minorUnits }
        }
        return CustomerTotals(
            bookings: bookings.count, completed: bookings.filter { $0.status == .completed }.count,
            noShows: bookings.filter { $0.status == .noShow }.count,
            cancellations: bookings.filter { $0.status == .cancelled }.count,
            lateCancellations: bookings.filter { $0.cancellation?.isLate == true }.count,
            fees: fees.keys.sorted().map { price(Money(minorUnits: fees[$0] ?? 0, currency: $0)) })
    }
}
