import Foundation
import PostgresNIO
import SlotCore
import SlotEngine
import SlotStore

extension PostgresBookingStore: CustomerStore {
    public func normaliseStoredPhones(
        _ rewrite: PhoneRewrite, at now: Int64
    ) async throws(StoreError) -> PhoneNormalisation {
        try await write { connection in
            var result = PhoneNormalisation()
            // Only a number that is not `+` and digits can need rewriting: the rest are not read at all.
            let customers = try await connection.query(
                """
                SELECT id, phone FROM customers WHERE phone !~ '^[+][1-9][0-9]*$'
                ORDER BY created_at, id FOR UPDATE
                """, logger: queryLogger
            ).collect()
            for row in customers {
                let (id, phone) = try row.decode((String, String).self)
                switch rewrite.decide(phone) {
                case .keep:
                    break
                case .rewrite(let number):
                    try await connection.query(
                        """
                        UPDATE customers SET phone = \(number), updated_at = greatest(updated_at, \(now))
                        WHERE id = \(id)
                        """, logger: queryLogger)
                    result.customersRewritten += 1
                case .unreadable:
                    result.customersUnreadable += 1
                    if result.unreadableCustomerIDs.count < PhoneNormalisation.unreadableIDLimit {
                        result.unreadableCustomerIDs.append(id)
                    }
                }
            }
            let phones = try await connection.query(
                """
                SELECT customer_phone, count(*) FROM bookings WHERE customer_phone !~ '^[+][1-9][0-9]*$'
                GROUP BY customer_phone
                """, logger: queryLogger
            ).collect()
            for row in phones {
                let (phone, count) = try row.decode((String, Int64).self)
                switch rewrite.decide(phone) {
                case .keep:
                    break
                case .rewrite(let number):
                    try await connection.query(
                        "UPDATE bookings SET customer_phone = \(number) WHERE customer_phone = \(phone)",
                        logger: queryLogger)
                    result.bookingsRewritten += Int(count)
                case .unreadable:
                    result.bookingsUnreadable += Int(count)
                }
            }
            return result
        }
    }

    public func searchCustomers(_ search: CustomerSearch) async throws(StoreError) -> [CustomerListing] {
        var clauses: [String] = []
        var binds = PostgresBindings()
        func parameter(_ value: String) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let text = search.text, !text.isEmpty {
            // LIKE with our own escape character, so `%` and `_` in a search are plain characters.
            let pattern = parameter("%" + Self.likeEscaped(text.lowercased()) + "%")
            var parts = [
                "lower(c.name) LIKE \(pattern) ESCAPE '\\'", "lower(c.email) LIKE \(pattern) ESCAPE '\\'",
                "c.phone LIKE \(pattern) ESCAPE '\\'",
            ]
            if let digits = CustomerMatching.phoneDigits(text) {
                let digitsPattern = parameter("%\(digits)%")
                parts.append("regexp_replace(coalesce(c.phone, ''), '[^0-9]', '', 'g') LIKE \(digitsPattern)")
            }
            if let phone = search.phone {
                parts.append("c.phone LIKE \(parameter("%" + Self.likeEscaped(phone) + "%")) ESCAPE '\\'")
            }
            clauses.append("(" + parts.joined(separator: " OR ") + ")")
        }
        if search.onlyConflicts {
            clauses.append("EXISTS (SELECT 1 FROM customer_conflicts f WHERE f.customer_id = c.id)")
        }
        binds.append(max(0, search.limit))
        let sql = """
            SELECT \(Self.customerColumns),
                (SELECT count(*) FROM bookings b WHERE b.customer_id = c.id),
                (SELECT count(*) FROM customer_conflicts f WHERE f.customer_id = c.id)
            FROM customers c
            """ + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY c.created_at, c.id LIMIT $\(binds.count)"
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await read { connection in
            var listings: [CustomerListing] = []
            for try await row in try await connection.query(statement, logger: queryLogger) {
                let columns = row.makeRandomAccess()
                listings.append(
                    CustomerListing(
                        customer: try Self.decodeCustomer(columns), bookings: Int(try columns[8].decode(Int64.self)),
                        openConflicts: Int(try columns[9].decode(Int64.self))))
            }
            return listings
        }
    }

    public func customerHistory(id: String) async throws(StoreError) -> CustomerHistory? {
        try await read { connection in
            guard let customer = try await Self.fetchCustomer(connection, id: id, forUpdate: false) else { return nil }
            var binds = PostgresBindings()
            binds.append(id)
            let bookings = try await Self.fetchBookings(
                connection,
                PostgresQuery(
                    unsafeSQL: Self.selectBookings + " WHERE b.customer_id = $1 ORDER BY b.start_at, b.id",
                    binds: binds))
            return CustomerHistory(
                customer: customer, bookings: bookings, conflicts: try await Self.fetchConflicts(connection, id))
        }
    }

    public func setCustomerNote(id: String, note: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        try await write { connection in
            guard var customer = try await Self.fetchCustomer(connection, id: id, forUpdate: true) else {
                throw StoreError.customerNotFound(id)
            }
            customer.note = note
            customer.updatedAt = max(customer.updatedAt, now)
            try await connection.query(
                "UPDATE customers SET note = \(note), updated_at = \(customer.updatedAt) WHERE id = \(id)",
                logger: queryLogger)
            let events = try await Self.appendEvents(
                connection, [CustomerMatching.event(.noted, at: now, CustomerEventData(customer: id))])
            return CustomerChange(customer: customer, events: events)
        }
    }

    public func mergeCustomers(
        into id: String, from other: String, at now: Int64
    ) async throws(StoreError) -> CustomerChange {
        try await write { connection in
            // Both rows locked in id order, so two merges of the same pair cannot deadlock.
            var found: [String: StoredCustomer] = [:]
            for each in Set([id, other]).sorted() {
                found[each] = try await Self.fetchCustomer(connection, id: each, forUpdate: true)
            }
            guard let target = found[id] else { throw StoreError.customerNotFound(id) }
            guard let source = found[other] else { throw StoreError.customerNotFound(other) }
            if let error = CustomerMatching.mergeProblem(target, source) { throw error }
            let merged = CustomerMatching.merged(target, with: source, at: max(target.updatedAt, now))
            let moved: Int64 =
                try await Self.single(connection, "SELECT count(*) FROM bookings WHERE customer_id = \(other)") ?? 0
            for statement: PostgresQuery in [
                "UPDATE bookings SET customer_id = \(id) WHERE customer_id = \(other)",
                "UPDATE cards SET customer_id = \(id) WHERE customer_id = \(other)",
                "UPDATE customer_conflicts SET customer_id = \(id) WHERE customer_id = \(other)",
                "UPDATE customer_conflicts SET other_customer_id = \(id) WHERE other_customer_id = \(other)",
                // A conflict between the two is what the merge settles; one about a name stays for the desk.
                "DELETE FROM customer_conflicts WHERE customer_id = \(id) AND other_customer_id = \(id)",
                "DELETE FROM customers WHERE id = \(other)",
                """
                UPDATE customers SET email = \(merged.email), phone = \(merged.phone), note = \(merged.note),
                    updated_at = \(merged.updatedAt) WHERE id = \(id)
                """,
            ] {
                try await connection.query(statement, logger: queryLogger)
            }
            let events = try await Self.appendEvents(
                connection,
                [
                    CustomerMatching.event(
                        .merged, at: now, CustomerEventData(customer: id, other: other, bookings: Int(moved)))
                ])
            return CustomerChange(customer: merged, events: events)
        }
    }

    public func resolveCustomerConflicts(id: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        try await write { connection in
            guard let customer = try await Self.fetchCustomer(connection, id: id, forUpdate: true) else {
                throw StoreError.customerNotFound(id)
            }
            let closed = try await connection.query(
                "DELETE FROM customer_conflicts WHERE customer_id = \(id) OR other_customer_id = \(id) RETURNING id",
                logger: queryLogger
            ).collect().count
            let events = try await Self.appendEvents(
                connection,
                [
                    CustomerMatching.event(
                        .conflictsResolved, at: now, CustomerEventData(customer: id, conflicts: closed))
                ])
            return CustomerChange(customer: customer, events: events)
        }
    }

    public func eraseCustomer(id: String, at now: Int64) async throws(StoreError) -> CustomerChange {
        try await write { connection in
            guard let customer = try await Self.fetchCustomer(connection, id: id, forUpdate: true) else {
                throw StoreError.customerNotFound(id)
            }
            let erased = CustomerMatching.erased(customer, at: max(customer.updatedAt, now))
            let count: Int64 =
                try await Self.single(connection, "SELECT count(*) FROM bookings WHERE customer_id = \(id)") ?? 0
            let prefix = NotificationJob.deliveryPrefix
            for statement: PostgresQuery in [
                """
                UPDATE customers SET name = \(erased.name), email = NULL, phone = NULL, note = '',
                    erased_at = \(now), updated_at = \(erased.updatedAt) WHERE id = \(id)
                """,
                """
                UPDATE bookings SET customer_name = \(CustomerMatching.erasedName), customer_email = NULL,
                    customer_phone = NULL, notes = '' WHERE customer_id = \(id)
                """,
                // A conflict's detail quotes names and contact details; a message job (sent or not) holds the
                // recipient and the rendered text; a stored idempotent answer holds the booking as answered.
                "DELETE FROM customer_conflicts WHERE customer_id = \(id) OR other_customer_id = \(id)",
                """
                DELETE FROM outbox WHERE left(kind, char_length(\(prefix))) = \(prefix)
                    AND booking_id IN (SELECT b.id FROM bookings b WHERE b.customer_id = \(id))
                """,
                """
                DELETE FROM idempotency_keys
                WHERE booking_id IN (SELECT b.id FROM bookings b WHERE b.customer_id = \(id))
                """,
            ] {
                try await connection.query(statement, logger: queryLogger)
            }
            let events = try await Self.appendEvents(
                connection,
                [CustomerMatching.event(.erased, at: now, CustomerEventData(customer: id, bookings: Int(count)))])
            return CustomerChange(customer: erased, events: events)
        }
    }

    // MARK: - Inside a booking's transaction

    /// Matches a new booking's customer (`CustomerMatching`) against the oldest record with its phone and the oldest
    /// with its e-mail, read in one query (none without a phone or e-mail). The caller holds the contact's advisory
    /// locks (`lockConflictKeys`).
    static func matchCustomer(_ connection: PostgresConnection, _ info: CustomerInfo) async throws -> CustomerMatching {
        guard info.phone != nil || info.email != nil else {
            return CustomerMatching.match(info, byPhone: nil, byEmail: nil)
        }
        let rows = try await connection.query(
            """
            (SELECT \(unescaped: customerColumns), 'phone' FROM customers c WHERE c.phone = \(info.phone)
                ORDER BY c.created_at, c.id LIMIT 1)
            UNION ALL
            (SELECT \(unescaped: customerColumns), 'email' FROM customers c
                WHERE c.email IS NOT NULL AND lower(c.email) = \(info.email.map(CustomerMatching.emailKey))
                ORDER BY c.created_at, c.id LIMIT 1)
            """, logger: queryLogger)
        var byPhone: StoredCustomer?
        var byEmail: StoredCustomer?
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let customer = try decodeCustomer(columns)
            if try columns[8].decode(String.self) == "phone" { byPhone = customer } else { byEmail = customer }
        }
        return CustomerMatching.match(info, byPhone: byPhone, byEmail: byEmail)
    }

    /// The write that files a new booking's customer, for a `WriteBatch`: a new record under `freshID` when none
    /// matched, the matched record's missing phone or e-mail filled in, or nothing.
    static func customerWrite(
        _ matching: CustomerMatching, _ info: CustomerInfo, freshID: String, at now: Int64
    ) -> SQLFragment? {
        guard let id = matching.customerID else {
            return """
                INSERT INTO customers (id, name, email, phone, created_at, updated_at)
                VALUES (\(freshID), \(info.name), \(info.email), \(info.phone), \(now), \(now))
                """
        }
        guard matching.fillEmail != nil || matching.fillPhone != nil else { return nil }
        return """
            UPDATE customers SET email = coalesce(email, \(matching.fillEmail)),
                phone = coalesce(phone, \(matching.fillPhone)), updated_at = greatest(updated_at, \(now))
            WHERE id = \(id)
            """
    }

    /// Adds a new booking's conflicts to `batch`; returns their events, to append with the booking's.
    static func addConflicts(
        _ conflicts: [CustomerMatching.PlannedConflict], booking: String, at now: Int64, to batch: inout WriteBatch
    ) -> [PendingEvent] {
        for conflict in conflicts {
            batch.add(
                """
                INSERT INTO customer_conflicts (kind, customer_id, other_customer_id, booking_id, detail, created_at)
                VALUES (\(conflict.kind.rawValue), \(conflict.customerID), \(conflict.otherCustomerID), \(booking),
                    \(conflict.detail), \(now))
                """)
        }
        return conflicts.map { $0.event(booking: booking, at: now) }
    }

    /// Whether a booking already has `code`.
    static func codeIsTaken(_ connection: PostgresConnection, _ code: String) async throws -> Bool {
        let rows = try await connection.query("SELECT 1 FROM bookings WHERE code = \(code)", logger: queryLogger)
        return try await !rows.collect().isEmpty
    }

    /// The v2 migration's step: gives every booking without a code one (drawn again on a collision), then makes
    /// codes unique.
    @Sendable static func giveBookingsCodes(_ connection: PostgresConnection) async throws {
        var ids: [String] = []
        var taken = Set<String>()
        for try await (id, code) in try await connection.query(
            "SELECT id, code FROM bookings", logger: queryLogger
        ).decode((String, String?).self) {
            if let code { taken.insert(code) } else { ids.append(id) }
        }
        for id in ids.sorted() {
            guard let code = BookingPlanner.newBookingCode(isTaken: { taken.contains($0) }) else {
                throw StoreError.codesExhausted
            }
            taken.insert(code)
            try await connection.query("UPDATE bookings SET code = \(code) WHERE id = \(id)", logger: queryLogger)
        }
        try await connection.query("CREATE UNIQUE INDEX bookings_code ON bookings(code)", logger: queryLogger)
    }

    // MARK: - Rows

    static let customerColumns = "c.id, c.name, c.email, c.phone, c.created_at, c.updated_at, c.note, c.erased_at"

    /// `%`, `_` and the escape character itself, escaped for `LIKE … ESCAPE '\'`.
    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    static func fetchCustomer(
        _ connection: PostgresConnection, id: String, forUpdate: Bool
    ) async throws -> StoredCustomer? {
        try await fetchCustomers(
            connection,
            """
            SELECT \(unescaped: customerColumns) FROM customers c WHERE c.id = \(id)
            \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """
        ).first
    }

    static func fetchCustomers(_ connection: PostgresConnection, _ query: PostgresQuery) async throws
        -> [StoredCustomer]
    {
        var customers: [StoredCustomer] = []
        for try await row in try await connection.query(query, logger: queryLogger) {
            customers.append(try decodeCustomer(row.makeRandomAccess()))
        }
        return customers
    }

    /// A customer from `customerColumns`' first eight columns.
    static func decodeCustomer(_ row: PostgresRandomAccessRow) throws -> StoredCustomer {
        var customer = StoredCustomer(
            id: try row[0].decode(String.self), name: try row[1].decode(String.self),
            email: try row[2].decode(String?.self), phone: try row[3].decode(String?.self),
            createdAt: try row[4].decode(Int64.self), updatedAt: try row[5].decode(Int64.self))
        customer.note = try row[6].decode(String.self)
        customer.erasedAt = try row[7].decode(Int64?.self)
        return customer
    }

    static func fetchConflicts(_ connection: PostgresConnection, _ id: String) async throws -> [CustomerConflict] {
        var conflicts: [CustomerConflict] = []
        let rows = try await connection.query(
            """
            SELECT id, kind, customer_id, other_customer_id, booking_id, detail, created_at FROM customer_conflicts
            WHERE customer_id = \(id) OR other_customer_id = \(id) ORDER BY id
            """, logger: queryLogger)
        for try await (conflictID, kind, customer, other, booking, detail, createdAt) in rows.decode(
            (Int64, String, String, String?, String, String, Int64).self)
        {
            conflicts.append(
                CustomerConflict(
                    id: conflictID, kind: CustomerConflict.Kind(rawValue: kind) ?? .differentContact,
                    customerID: customer, otherCustomerID: other, bookingID: booking, detail: detail,
                    createdAt: createdAt))
        }
        return conflicts
    }
}
