import Foundation
import GRDB
import SlotCore
import SlotEngine

extension SQLiteBookingStore: CustomerStore {
    public func normaliseStoredPhones(
        _ rewrite: PhoneRewrite, at now: Int64
    ) async throws(StoreError) -> PhoneNormalisation {
        try await run {
            try await self.write { db in
                var result = PhoneNormalisation()
                // Only a number that is not `+` and digits can need rewriting: the rest are not read at all.
                let customers = try Row.fetchAll(
                    db,
                    sql: "SELECT id, phone FROM customers WHERE phone IS NOT NULL AND " + Self.notE164("phone")
                        + " ORDER BY created_at, id")
                for row in customers {
                    let id: String = row["id"]
                    switch rewrite.decide(row["phone"]) {
                    case .keep:
                        break
                    case .rewrite(let number):
                        try db.execute(
                            sql: "UPDATE customers SET phone = ?, updated_at = max(updated_at, ?) WHERE id = ?",
                            arguments: [number, now, id])
                        result.customersRewritten += 1
                    case .unreadable:
                        result.customersUnreadable += 1
                        if result.unreadableCustomerIDs.count < PhoneNormalisation.unreadableIDLimit {
                            result.unreadableCustomerIDs.append(id)
                        }
                    }
                }
                let phones = try String.fetchAll(
                    db,
                    sql: "SELECT DISTINCT customer_phone FROM bookings WHERE customer_phone IS NOT NULL AND "
                        + Self.notE164("customer_phone"))
                for phone in phones {
                    switch rewrite.decide(phone) {
                    case .keep:
                        break
                    case .rewrite(let number):
                        try db.execute(
                            sql: "UPDATE bookings SET customer_phone = ? WHERE customer_phone = ?",
                            arguments: [number, phone])
                        result.bookingsRewritten += db.changesCount
                    case .unreadable:
                        result.bookingsUnreadable += try Int.fetchOne(
                            db, sql: "SELECT count(*) FROM bookings WHERE customer_phone = ?", arguments: [phone]) ?? 0
                    }
                }
                return result
            }
        }
    }

    /// SQL that holds when `column` is not `+` followed by digits, the first not 0 (so may not be E.164).
    static func notE164(_ column: String) -> String {
        "NOT (\(column) GLOB '+[1-9]*' AND \(column) NOT GLOB '?*[^0-9]*')"
    }

    public func searchCustomers(_ search: CustomerSearch) async throws(StoreError) -> [CustomerListing] {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let text = search.text, !text.isEmpty {
            // LIKE with our own escape character, so `%` and `_` in a search are plain characters.
            let pattern = "%" + Self.likeEscaped(text.lowercased()) + "%"
            var parts = [
                "lower(c.name) LIKE ? ESCAPE '\\'", "lower(c.email) LIKE ? ESCAPE '\\'", "c.phone LIKE ? ESCAPE '\\'",
            ]
            arguments += [pattern, pattern, pattern]
            if let digits = CustomerMatching.phoneDigits(text) {
                parts.append(Self.phoneDigitsSQL + " LIKE ?")
                arguments += ["%" + digits + "%"]
            }
            if let phone = search.phone {
                parts.append("c.phone LIKE ? ESCAPE '\\'")
                arguments += ["%" + Self.likeEscaped(phone) + "%"]
            }
            clauses.append("(" + parts.joined(separator: " OR ") + ")")
        }
        if search.onlyConflicts {
            clauses.append("EXISTS (SELECT 1 FROM customer_conflicts f WHERE f.customer_id = c.id)")
        }
        arguments += [max(0, search.limit)]
        let sql = """
            SELECT c.*, (SELECT count(*) FROM bookings b WHERE b.customer_id = c.id) AS booking_count,
                (SELECT count(*) FROM customer_conflicts f WHERE f.customer_id = c.id) AS conflict_count
            FROM customers c
            """ + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY c.created_at, c.id LIMIT ?"
        let finalArguments = arguments
        return try await run {
            try await self.read { db in
                try Row.fetchAll(db, sql: sql, arguments: finalArguments).map { row in
                    CustomerListing(
                        customer: Self.decodeCustomer(row), bookings: row["booking_count"],
                        openConflicts: row["conflict_count"])
                }
            }
        }
    }

    public func customerHistory(id: String) async throws(StoreError) -> CustomerHistory? {
        try await run {
            try await self.read { db in
                guard let customer = try Self.fetchCustomer(db, id: id) else { return nil }
                let bookings = try Self.fetchBookings(
                    db.cachedStatement(sql: Self.selectBookings + " WHERE b.customer_id = ? ORDER BY b.start_at, b.id"),
                    arguments: [id])
                return CustomerHistory(
                    customer: customer, bookings: bookings, conflicts: try Self.fetchConflicts(db, customer: id))
            }
        }
    }

    public func setCustomerNote(id: String, note: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        try await run {
            try await self.write { db in
                guard var customer = try Self.fetchCustomer(db, id: id) else { throw StoreError.customerNotFound(id) }
                customer.note = note
                customer.updatedAt = max(customer.updatedAt, now)
                try db.execute(
                    sql: "UPDATE customers SET note = ?, updated_at = ? WHERE id = ?",
                    arguments: [note, customer.updatedAt, id])
                let events = try Self.appendEvents(
                    db, [CustomerMatching.event(.noted, at: now, CustomerEventData(customer: id))])
                return CustomerChange(customer: customer, events: events)
            }
        }
    }

    public func mergeCustomers(
        into id: String, from other: String, at now: Int64
    ) async throws(StoreError) -> CustomerChange {
        try await run {
            try await self.write { db in
                guard let target = try Self.fetchCustomer(db, id: id) else { throw StoreError.customerNotFound(id) }
                guard let source = try Self.fetchCustomer(db, id: other) else {
                    throw StoreError.customerNotFound(other)
                }
                if let error = CustomerMatching.mergeProblem(target, source) { throw error }
                let merged = CustomerMatching.merged(target, with: source, at: max(target.updatedAt, now))
                let moved = try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM bookings WHERE customer_id = ?", arguments: [other]) ?? 0
                try db.execute(sql: "UPDATE bookings SET customer_id = ? WHERE customer_id = ?", arguments: [id, other])
                try db.execute(
                    sql: "UPDATE customer_conflicts SET customer_id = ? WHERE customer_id = ?", arguments: [id, other])
                try db.execute(
                    sql: "UPDATE customer_conflicts SET other_customer_id = ? WHERE other_customer_id = ?",
                    arguments: [id, other])
                // A conflict between the two is what the merge settles; one about a name stays for the desk.
                try db.execute(
                    sql: "DELETE FROM customer_conflicts WHERE customer_id = ? AND other_customer_id = ?",
                    arguments: [id, id])
                try db.execute(sql: "DELETE FROM customers WHERE id = ?", arguments: [other])
                try db.execute(
                    sql: "UPDATE customers SET email = ?, phone = ?, note = ?, updated_at = ? WHERE id = ?",
                    arguments: [merged.email, merged.phone, merged.note, merged.updatedAt, id])
                let events = try Self.appendEvents(
                    db,
                    [
                        CustomerMatching.event(
                            .merged, at: now, CustomerEventData(customer: id, other: other, bookings: moved))
                    ])
                return CustomerChange(customer: merged, events: events)
            }
        }
    }

    public func resolveCustomerConflicts(id: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        try await run {
            try await self.write { db in
                guard let customer = try Self.fetchCustomer(db, id: id) else { throw StoreError.customerNotFound(id) }
                try db.execute(
                    sql: "DELETE FROM customer_conflicts WHERE customer_id = ? OR other_customer_id = ?",
                    arguments: [id, id])
                let closed = db.changesCount
                let events = try Self.appendEvents(
                    db,
                    [
                        CustomerMatching.event(
                            .conflictsResolved, at: now, CustomerEventData(customer: id, conflicts: closed))
                    ])
                return CustomerChange(customer: customer, events: events)
            }
        }
    }

    public func eraseCustomer(id: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        try await run {
            try await self.write { db in
                guard let customer = try Self.fetchCustomer(db, id: id) else { throw StoreError.customerNotFound(id) }
                let erased = CustomerMatching.erased(customer, at: max(customer.updatedAt, now))
                try db.execute(
                    sql: """
                        UPDATE customers SET name = ?, email = NULL, phone = NULL, note = '', erased_at = ?,
                            updated_at = ? WHERE id = ?
                        """,
                    arguments: [erased.name, now, erased.updatedAt, id])
                let count = try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM bookings WHERE customer_id = ?", arguments: [id]) ?? 0
                try db.execute(
                    sql: """
                        UPDATE bookings SET customer_name = ?, customer_email = NULL, customer_phone = NULL, notes = ''
                        WHERE customer_id = ?
                        """,
                    arguments: [CustomerMatching.erasedName, id])
                // A conflict's detail quotes names and contact details; a message job (sent or not) holds the
                // recipient and the rendered text; a stored idempotent answer holds the booking as answered.
                try db.execute(
                    sql: "DELETE FROM customer_conflicts WHERE customer_id = ? OR other_customer_id = ?",
                    arguments: [id, id])
                try db.execute(
                    sql: """
                        DELETE FROM outbox WHERE substr(kind, 1, ?) = ?
                            AND booking_id IN (SELECT id FROM bookings WHERE customer_id = ?)
                        """,
                    arguments: [NotificationJob.deliveryPrefix.utf8.count, NotificationJob.deliveryPrefix, id])
                try db.execute(
                    sql: """
                        DELETE FROM idempotency_keys WHERE booking_id IN (SELECT id FROM bookings WHERE customer_id = ?)
                        """,
                    arguments: [id])
                let events = try Self.appendEvents(
                    db, [CustomerMatching.event(.erased, at: now, CustomerEventData(customer: id, bookings: count))])
                return CustomerChange(customer: erased, events: events)
            }
        }
    }

    // MARK: - Inside a booking's transaction

    /// Finds or creates the customer of a new booking (`CustomerMatching`); returns its id and the conflicts to
    /// record once the booking exists.
    static func fileCustomer(
        _ db: Database, _ info: CustomerInfo, freshID: String, at now: Int64
    ) throws -> (id: String, conflicts: [CustomerMatching.PlannedConflict]) {
        let byPhone = try info.phone.flatMap { phone in
            try Row.fetchOne(db.cachedStatement(sql: customerByPhone), arguments: [phone]).map(decodeCustomer)
        }
        let byEmail = try info.email.flatMap { email in
            try Row.fetchOne(db.cachedStatement(sql: customerByEmail), arguments: [CustomerMatching.emailKey(email)])
                .map(decodeCustomer)
        }
        let matching = CustomerMatching.match(info, byPhone: byPhone, byEmail: byEmail)
        guard let id = matching.customerID else {
            try db.cachedStatement(
                sql: "INSERT INTO customers (id, name, email, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            ).execute(arguments: [freshID, info.name, info.email, info.phone, now, now])
            return (freshID, [])
        }
        if matching.fillEmail != nil || matching.fillPhone != nil {
            try db.cachedStatement(
                sql: """
                    UPDATE customers SET email = coalesce(email, ?), phone = coalesce(phone, ?),
                        updated_at = max(updated_at, ?) WHERE id = ?
                    """
            ).execute(arguments: [matching.fillEmail, matching.fillPhone, now, id])
        }
        return (id, matching.conflicts)
    }

    /// The oldest customer with a phone (through the partial index `customers_phone`).
    static let customerByPhone = "SELECT * FROM customers WHERE phone = ? ORDER BY created_at, id LIMIT 1"

    /// The oldest customer with an e-mail in any case. `email IS NOT NULL` is what lets SQLite use the partial index
    /// `customers_email_key`: it does not infer it from `lower(email) = ?`, and scanned every customer instead.
    static let customerByEmail = """
        SELECT * FROM customers WHERE email IS NOT NULL AND lower(email) = ? ORDER BY created_at, id LIMIT 1
        """

    /// Records a new booking's conflicts and their events.
    static func recordConflicts(
        _ db: Database, _ conflicts: [CustomerMatching.PlannedConflict], booking: String, at now: Int64
    ) throws -> [StoredEvent] {
        var events: [PendingEvent] = []
        for conflict in conflicts {
            try db.cachedStatement(
                sql: """
                    INSERT INTO customer_conflicts (kind, customer_id, other_customer_id, booking_id, detail,
                        created_at) VALUES (?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                conflict.kind.rawValue, conflict.customerID, conflict.otherCustomerID, booking, conflict.detail, now,
            ])
            events.append(conflict.event(booking: booking, at: now))
        }
        return try appendEvents(db, events)
    }

    /// Whether a booking already has `code`.
    static func codeIsTaken(_ db: Database, _ code: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM bookings WHERE code = ?"), arguments: [code]) ?? false
    }

    // MARK: - Rows


    /// `%`, `_` and the escape character itself, escaped for `LIKE … ESCAPE '\'`.
    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    /// The customer's phone with its separators and `+` removed, so `151 12` finds `+4915112…`.
    static let phoneDigitsSQL = """
        replace(replace(replace(replace(replace(replace(coalesce(c.phone, ''), '+', ''), ' ', ''), '-', ''), '/', ''),
            '(', ''), ')', '')
        """

    static func fetchCustomer(_ db: Database, id: String) throws -> StoredCustomer? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM customers WHERE id = ?"), arguments: [id])
            .map(decodeCustomer)
    }

    static func decodeCustomer(_ row: Row) -> StoredCustomer {
        var customer = StoredCustomer(
            id: row["id"], name: row["name"], email: row["email"], phone: row["phone"], createdAt: row["created_at"],
            updatedAt: row["updated_at"])
        customer.note = row["note"] ?? ""
        customer.erasedAt = row["erased_at"]
        return customer
    }

    static func fetchConflicts(_ db: Database, customer id: String) throws -> [CustomerConflict] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM customer_conflicts WHERE customer_id = ? OR other_customer_id = ? ORDER BY id
                """,
            arguments: [id, id]
        ).map { row in
            CustomerConflict(
                id: row["id"], kind: CustomerConflict.Kind(rawValue: row["kind"]) ?? .differentContact,
                customerID: row["customer_id"], otherCustomerID: row["other_customer_id"],
                bookingID: row["booking_id"], detail: row["detail"], createdAt: row["created_at"])
        }
    }
}
