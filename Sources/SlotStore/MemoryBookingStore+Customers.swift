import Foundation
import SlotCore

extension MemoryBookingStore: CustomerStore {
    public func searchCustomers(_ search: CustomerSearch) async throws(StoreError) -> [CustomerListing] {
        let text = search.text ?? ""
        return
            customersByID.values
            .filter { text.isEmpty || CustomerMatching.matches($0, text: text, phone: search.phone) }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            .map { customer in
                CustomerListing(
                    customer: customer, bookings: bookingsByID.values.filter { $0.customerID == customer.id }.count,
                    openConflicts: customerConflicts.filter { $0.customerID == customer.id }.count)
            }
            .filter { !search.onlyConflicts || $0.openConflicts > 0 }
            .prefix(max(0, search.limit)).map { $0 }
    }

    public func customerHistory(id: String) async throws(StoreError) -> CustomerHistory? {
        guard let customer = customersByID[id] else { return nil }
        let bookings = bookingsByID.values.filter { $0.customerID == id }
            .sorted { ($0.start, $0.id) < ($1.start, $1.id) }
        return CustomerHistory(
            customer: customer, bookings: bookings,
            conflicts: customerConflicts.filter { $0.customerID == id || $0.otherCustomerID == id })
    }

    public func setCustomerNote(id: String, note: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        guard var customer = customersByID[id] else { throw .customerNotFound(id) }
        customer.note = note
        customer.updatedAt = max(customer.updatedAt, now)
        customersByID[id] = customer
        let events = appendEvents([CustomerMatching.event(.noted, at: now, CustomerEventData(customer: id))])
        return CustomerChange(customer: customer, events: events)
    }

    public func mergeCustomers(
        into id: String, from other: String, at now: Int64
    ) async throws(StoreError) -> CustomerChange {
        guard let target = customersByID[id] else { throw .customerNotFound(id) }
        guard let source = customersByID[other] else { throw .customerNotFound(other) }
        if let error = CustomerMatching.mergeProblem(target, source) { throw error }
        let merged = CustomerMatching.merged(target, with: source, at: max(target.updatedAt, now))
        var moved = 0
        for (bookingID, var booking) in bookingsByID where booking.customerID == other {
            booking.customerID = id
            bookingsByID[bookingID] = booking
            moved += 1
        }
        customerConflicts = customerConflicts.compactMap { conflict in
            var conflict = conflict
            if conflict.customerID == other { conflict.customerID = id }
            if conflict.otherCustomerID == other { conflict.otherCustomerID = id }
            return conflict.customerID == id && conflict.otherCustomerID == id ? nil : conflict
        }
        customersByID[other] = nil
        customersByID[id] = merged
        let events = appendEvents([
            CustomerMatching.event(.merged, at: now, CustomerEventData(customer: id, other: other, bookings: moved))
        ])
        return CustomerChange(customer: merged, events: events)
    }

    public func resolveCustomerConflicts(id: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        guard let customer = customersByID[id] else { throw .customerNotFound(id) }
        let before = customerConflicts.count
        customerConflicts.removeAll { $0.customerID == id || $0.otherCustomerID == id }
        let events = appendEvents([
            CustomerMatching.event(
                .conflictsResolved, at: now,
                CustomerEventData(customer: id, conflicts: before - customerConflicts.count))
        ])
        return CustomerChange(customer: customer, events: events)
    }

    public func eraseCustomer(id: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        guard let customer = customersByID[id] else { throw .customerNotFound(id) }
        let erased = CustomerMatching.erased(customer, at: max(customer.updatedAt, now))
        customersByID[id] = erased
        var count = 0
        for (bookingID, var booking) in bookingsByID where booking.customerID == id {
            booking.customer = CustomerInfo(name: CustomerMatching.erasedName)
            booking.notes = ""
            bookingsByID[bookingID] = booking
            count += 1
        }
        customerConflicts.removeAll { $0.customerID == id || $0.otherCustomerID == id }
        forgetMessagesAndAnswers(ofCustomer: id)
        let events = appendEvents([
            CustomerMatching.event(.erased, at: now, CustomerEventData(customer: id, bookings: count))
        ])
        return CustomerChange(customer: erased, events: events)
    }

    // MARK: - Inside a booking's write

    /// Finds or creates the customer of a new booking, as SQLite's `fileCustomer` does.
    func fileCustomer(
        _ info: CustomerInfo, at now: Int64
    ) -> (id: String, conflicts: [CustomerMatching.PlannedConflict]) {
        let byAge = customersByID.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        let byPhone = info.phone.flatMap { phone in byAge.first { $0.phone == phone } }
        let byEmail = info.email.flatMap { email in
            byAge.first { $0.email.map(CustomerMatching.emailKey) == CustomerMatching.emailKey(email) }
        }
        let matching = CustomerMatching.match(info, byPhone: byPhone, byEmail: byEmail)
        guard let id = matching.customerID, var existing = customersByID[id] else {
            let id = BookingPlanner.newCustomerID()
            customersByID[id] = StoredCustomer(
                id: id, name: info.name, email: info.email, phone: info.phone, createdAt: now, updatedAt: now)
            return (id, [])
        }
        if matching.fillEmail != nil || matching.fillPhone != nil {
            existing.email = existing.email ?? matching.fillEmail
            existing.phone = existing.phone ?? matching.fillPhone
            existing.updatedAt = max(existing.updatedAt, now)
            customersByID[id] = existing
        }
        return (id, matching.conflicts)
    }

    /// Records a new booking's conflicts and their events.
    func recordConflicts(
        _ conflicts: [CustomerMatching.PlannedConflict], booking: String, at now: Int64
    ) -> [StoredEvent] {
        var events: [PendingEvent] = []
        for planned in conflicts {
            customerConflicts.append(
                CustomerConflict(
                    id: nextConflictID, kind: planned.kind, customerID: planned.customerID,
                    otherCustomerID: planned.otherCustomerID, bookingID: booking, detail: planned.detail,
                    createdAt: now))
            nextConflictID += 1
            events.append(planned.event(booking: booking, at: now))
        }
        return appendEvents(events)
    }

    public func normaliseStoredPhones(
        _ rewrite: PhoneRewrite, at now: Int64
    ) async throws(StoreError) -> PhoneNormalisation {
        var result = PhoneNormalisation()
        for customer in customersByID.values.sorted(by: { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) {
            guard let phone = customer.phone else { continue }
            switch rewrite.decide(phone) {
            case .keep:
                break
            case .rewrite(let number):
                var changed = customer
                changed.phone = number
                changed.updatedAt = max(customer.updatedAt, now)
                customersByID[customer.id] = changed
                result.customersRewritten += 1
            case .unreadable:
                result.customersUnreadable += 1
                if result.unreadableCustomerIDs.count < PhoneNormalisation.unreadableIDLimit {
                    result.unreadableCustomerIDs.append(customer.id)
                }
            }
        }
        for (id, var booking) in bookingsByID {
            guard let phone = booking.customer.phone else { continue }
            switch rewrite.decide(phone) {
            case .keep:
                break
            case .rewrite(let number):
                booking.customer.phone = number
                bookingsByID[id] = booking
                result.bookingsRewritten += 1
            case .unreadable:
                result.bookingsUnreadable += 1
            }
        }
        return result
    }
}
