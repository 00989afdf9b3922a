import Foundation
import PostgresNIO
import SlotStore

extension PostgresBookingStore: OperationsStore, SlotStorage {
    public func appendEvents(_ events: [NewEvent]) async throws(StoreError) -> [StoredEvent] {
        guard !events.isEmpty else { return [] }
        return try await write { connection in
            try await Self.appendEvents(connection, events.map { ($0.type, $0.at, $0.data) })
        }
    }

    public func bookingCountsByState() async throws(StoreError) -> [String: Int] {
        try await countsByState("SELECT status, count(*)::int8 FROM bookings GROUP BY status")
    }

    public func outboxCountsByState() async throws(StoreError) -> [String: Int] {
        try await countsByState("SELECT state, count(*)::int8 FROM outbox GROUP BY state")
    }

    func countsByState(_ query: PostgresQuery) async throws(StoreError) -> [String: Int] {
        try await read { connection in
            var counts: [String: Int] = [:]
            for try await (state, count) in try await connection.query(query, logger: queryLogger)
                .decode((String, Int64).self)
            {
                counts[state] = Int(count)
            }
            return counts
        }
    }

    public func customers() async throws(StoreError) -> [StoredCustomer] {
        try await read { connection in
            var customers: [StoredCustomer] = []
            let query: PostgresQuery =
                "SELECT id, name, email, phone, created_at, updated_at FROM customers ORDER BY created_at, id"
            for try await (id, name, email, phone, createdAt, updatedAt) in try await connection.query(
                query, logger: queryLogger
            ).decode((String, String, String?, String?, Int64, Int64).self) {
                customers.append(
                    StoredCustomer(
                        id: id, name: name, email: email, phone: phone, createdAt: createdAt, updatedAt: updatedAt))
            }
            return customers
        }
    }

    public func checkWritable() async throws(StoreError) {
        // A real write that commits (and rolls nothing back): a read-only replica, a full disk or a database that
        // is gone shows here, not at the next booking.
        try await write { connection in
            try await connection.query("UPDATE event_log_head SET last_cursor = last_cursor", logger: queryLogger)
        }
    }

    public func quickCheck() async throws(StoreError) -> String {
        // PostgreSQL checks its pages itself; what slotd can check is that its schema is the one it knows.
        let version = try await databaseSchemaVersion()
        let known = PostgresSchema.schemaVersion
        return version == known ? "ok" : "schema version \(version), expected \(known)"
    }

    public func backup(to destination: String) throws(StoreError) {
        throw StoreError(
            .unavailable,
            "a backup of a PostgreSQL store is PostgreSQL's job — use pg_dump '\(location.description)'"
                + " or continuous archiving; slotd backs up SQLite files only")
    }
}
