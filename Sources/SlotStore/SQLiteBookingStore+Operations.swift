import Foundation
import GRDB

extension SQLiteBookingStore: OperationsStore {
    /// The schema version this binary writes (`PRAGMA user_version`).
    public static var schemaVersion: Int { StoreSchema.schemaVersion }

    public func appendEvents(_ events: [NewEvent]) async throws(StoreError) -> [StoredEvent] {
        guard !events.isEmpty else { return [] }
        return try await run {
            try await self.write { db in
                var appended: [StoredEvent] = []
                for event in events {
                    try db.execute(
                        sql: "INSERT INTO events (type, at, data) VALUES (?, ?, ?)",
                        arguments: [event.type, event.at, String(decoding: event.data, as: UTF8.self)])
                    appended.append(
                        StoredEvent(cursor: db.lastInsertedRowID, type: event.type, at: event.at, data: event.data))
                }
                return appended
            }
        }
    }

    public func bookingCountsByState() async throws(StoreError) -> [String: Int] {
        try await counts("SELECT status, count(*) FROM bookings GROUP BY status")
    }

    public func outboxCountsByState() async throws(StoreError) -> [String: Int] {
        try await counts("SELECT state, count(*) FROM outbox GROUP BY state")
    }

    private func counts(_ sql: String) async throws(StoreError) -> [String: Int] {
        try await run {
            try await self.read { db in
                var result: [String: Int] = [:]
                for row in try Row.fetchAll(db, sql: sql) {
                    let key: String = row[0]
                    let count: Int = row[1]
                    result[key] = count
                }
                return result
            }
        }
    }

    public func customers() async throws(StoreError) -> [StoredCustomer] {
        try await run {
            try await self.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM customers ORDER BY created_at, id").map { row in
                    StoredCustomer(
                        id: row["id"], name: row["name"], email: row["email"], phone: row["phone"],
                        createdAt: row["created_at"], updatedAt: row["updated_at"])
                }
            }
        }
    }

    public func checkWritable() async throws(StoreError) {
        let version = StoreSchema.schemaVersion
        // Rewriting user_version with its own value is a real write of page 1 (it takes the write lock and commits
        // through the WAL), so a read-only file, a full disk or a stuck lock shows here, not at the next booking.
        try await run {
            try await self.write { db in try db.execute(sql: "PRAGMA user_version = \(version)") }
        }
    }

    public func quickCheck() async throws(StoreError) -> String {
        try await run {
            try await self.read { db in
                try String.fetchAll(db, sql: "PRAGMA quick_check").joined(separator: "; ")
            }
        }
    }
}

/// Checks a database file made by a backup: `PRAGMA integrity_check` on its own connection.
public enum BackupVerifier {
    /// `ok`, or what SQLite found wrong.
    public static func integrityCheck(path: String) throws(StoreError) -> String {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
                .joined(separator: "; ")
        } catch {
            throw StoreError(.database, "cannot check the backup \(path): \(SQLiteBookingStore.describe(error))")
        }
    }
}
