import Foundation
import Logging
import PostgresNIO
import SlotEngine
import SlotStore

/// Moves a shop's SQLite store into a PostgreSQL database (`slotctl migrate`, issue 16): every table, row for row,
/// in one transaction that creates the schema, copies, continues the event cursors and id sequences after the
/// copied ones, and checks each table's row count before it commits. A failure leaves the database as it was.
public enum PostgresImport {
    /// The tables moved, parents before children (foreign keys). Every table of the SQLite schema must be here: a
    /// SQLite table this list does not name stops the move (a newer SQLite schema needs a newer slotd here too).
    public static let tables = [
        "customers", "bookings", "events", "outbox", "idempotency_keys", "payments", "webhook_events",
        "calendar_feeds", "cards", "customer_conflicts", "waitlist",
    ]

    /// One table's rows in the SQLite file and in PostgreSQL after the copy (equal, or the move rolls back).
    public struct TableCount: Codable, Hashable, Sendable {
        public var table: String
        public var sqlite: Int
        public var postgres: Int
    }

    /// What the move did.
    public struct Report: Codable, Sendable {
        public var tables: [TableCount]
        /// The event cursor the next event written on PostgreSQL follows.
        public var lastEventCursor: Int64
    }

    /// Copies `dump` into the database at `location`, which must hold no slotd data unless `replace` (then its
    /// slotd tables are emptied first, in the same transaction).
    public static func copy(
        _ dump: SQLiteStoreDump, to location: PostgresLocation, replace: Bool,
        logger: Logger = Logger(label: "slotd.migrate")
    ) async throws(StoreError) -> Report {
        let unknown = dump.tables.keys.filter { !tables.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw StoreError(
                .database,
                "the SQLite store has tables this slotd cannot move: \(unknown.joined(separator: ", ")) — "
                    + "use the slotd version that wrote it")
        }
        let store = PostgresBookingStore(location: location, logger: logger)
        do {
            let report = try await store.client.withTransaction(logger: logger) { connection in
                try await copy(dump, on: connection, place: location.description, replace: replace, logger: logger)
            }
            await store.stop()
            return report
        } catch {
            await store.stop()
            throw PostgresBookingStore.storeError(error)
        }
    }

    static func copy(
        _ dump: SQLiteStoreDump, on connection: PostgresConnection, place: String, replace: Bool, logger: Logger
    ) async throws -> Report {
        try await requireEmpty(connection, place: place, replace: replace, logger: logger)
        try await PostgresBookingStore.migrate(connection, place: place, logger: logger)
        if replace {
            let list = tables.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: "TRUNCATE \(list) RESTART IDENTITY"), logger: logger)
        }
        for table in tables {
            guard let rows = dump.tables[table] else { continue }
            try await insert(rows, on: connection, logger: logger)
        }
        // Continue after the copied cursors and ids: the next event is max + 1, as it would have been on SQLite.
        let copiedCursor: Int64 =
            try await PostgresBookingStore.single(connection, "SELECT coalesce(max(cursor), 0)::int8 FROM events") ?? 0
        let lastCursor = max(dump.sequences["events"] ?? 0, copiedCursor)
        try await connection.query("UPDATE event_log_head SET last_cursor = \(lastCursor)", logger: logger)
        for (table, column) in [("outbox", "id"), ("customer_conflicts", "id"), ("waitlist", "position")] {
            let copied: Int64 = try await PostgresBookingStore.single(
                connection, PostgresQuery(unsafeSQL: "SELECT coalesce(max(\(column)), 0)::int8 FROM \(table)")) ?? 0
            let last = max(copied, dump.sequences[table] ?? 0)
            // setval(…, false) with 1 for an empty table: its first id stays 1.
            try await connection.query(
                "SELECT setval(pg_get_serial_sequence(\(table), \(column)), \(max(last, 1)), \(last > 0))",
                logger: logger)
        }
        var counts: [TableCount] = []
        for table in tables {
            let inPostgres: Int64 = try await PostgresBookingStore.single(
                connection, PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")) ?? 0
            let count = TableCount(table: table, sqlite: dump.tables[table]?.rows.count ?? 0, postgres: Int(inPostgres))
            guard count.sqlite == count.postgres else {
                throw StoreError(
                    .database,
                    "table \(table): \(count.sqlite) rows in the SQLite file but \(count.postgres) in \(place) after "
                        + "the copy — nothing was committed")
            }
            counts.append(count)
        }
        return Report(tables: counts, lastEventCursor: lastCursor)
    }

    /// Refuses a database that holds slotd data (unless `replace`) or tables that are not slotd's.
    static func requireEmpty(_ connection: PostgresConnection, place: String, replace: Bool, logger: Logger)
        async throws
    {
        let rows = try await connection.query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1", logger: logger
        ).collect()
        let present = try rows.map { try $0.decode(String.self) }
        let ours = Set(tables + ["slotd_schema", "event_log_head"])
        let foreign = present.filter { !ours.contains($0) }
        guard foreign.isEmpty else {
            throw StoreError(
                .database,
                "\(place) holds tables that are not slotd's (\(foreign.joined(separator: ", "))) — migrate into a "
                    + "new database: createdb -O USER shop")
        }
        var filled: [String] = []
        for table in tables where present.contains(table) {
            let any: Bool = try await PostgresBookingStore.single(
                connection, PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table))")) ?? false
            if any { filled.append(table) }
        }
        if !filled.isEmpty && !replace {
            throw StoreError(
                .database,
                "\(place) already holds slotd data (in \(filled.joined(separator: ", "))) — migrate into an empty "
                    + "database, or pass --replace to empty its slotd tables first")
        }
    }

    /// Inserts every row of `table` with PostgreSQL's column types (each value sent as text or bytes and cast), in
    /// statements of many rows; bookings get their staff-busy multirange from their stored footprint.
    static func insert(_ table: TableDump, on connection: PostgresConnection, logger: Logger) async throws {
        let typeRows = try await connection.query(
            """
            SELECT column_name::text, format_type(a.atttypid, a.atttypmod)
            FROM information_schema.columns c
            JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_name))::regclass AND a.attname = c.column_name
            WHERE c.table_schema = current_schema() AND c.table_name = \(table.name) AND c.is_generated = 'NEVER'
            """, logger: logger
        ).collect()
        var types: [String: String] = [:]
        for row in typeRows {
            let (name, type) = try row.decode((String, String).self)
            types[name] = type
        }
        let missing = table.columns.filter { types[$0] == nil }
        guard missing.isEmpty else {
            throw StoreError(
                .database,
                "table \(table.name): PostgreSQL has no column \(missing.joined(separator: ", ")) — use the slotd "
                    + "version that wrote the SQLite file")
        }
        let derivesBusy = table.name == "bookings"
        let columns = table.columns + (derivesBusy ? ["staff_busy"] : [])
        let perRow = columns.count
        let rowsPerStatement = max(1, min(500, 30_000 / perRow))
        var start = 0
        while start < table.rows.count {
            let batch = table.rows[start..<min(start + rowsPerStatement, table.rows.count)]
            var binds = PostgresBindings()
            var tuples: [String] = []
            for row in batch {
                var placeholders: [String] = []
                for (index, column) in table.columns.enumerated() {
                    let type = types[column] ?? "text"
                    try append(row[index], as: type, to: &binds)
                    placeholders.append("$\(binds.count)::\(type)")
                }
                if derivesBusy {
                    binds.append(try staffBusyBounds(table, row))
                    placeholders.append("slotd_staff_busy($\(binds.count)::int8[])")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES "
                + tuples.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            start += batch.count
        }
    }

    /// A SQLite value bound for a column of PostgreSQL type `type`: bytes for `bytea`, else its text (PostgreSQL
    /// parses it as the column's type: `1` as true, JSON text as json).
    static func append(_ cell: StoredCell, as type: String, to binds: inout PostgresBindings) throws {
        let text: String
        switch cell {
        case .null:
            binds.appendNull()
            return
        case .blob(let data) where type == "bytea":
            try binds.append(data)
            return
        case .integer(let number): text = String(number)
        case .real(let number): text = String(number)
        case .text(let value): text = value
        case .blob(let data): text = String(decoding: data, as: UTF8.self)
        }
        if type == "bytea" { try binds.append(Data(text.utf8)) } else { binds.append(text) }
    }

    /// The instants a booking row's staff member works (its segments with buffers, shifted to its start), as the
    /// `[lower, upper, …]` bounds `slotd_staff_busy` takes: the same `BookedSpan` the store writes.
    static func staffBusyBounds(_ table: TableDump, _ row: [StoredCell]) throws -> [Int64] {
        func integer(_ column: String) throws -> Int64 {
            guard case .integer(let value) = table.cell(row, column) else {
                throw StoreError(.database, "a booking row has no whole number in \(column)")
            }
            return value
        }
        func text(_ column: String) throws -> String {
            guard case .text(let value) = table.cell(row, column) else {
                throw StoreError(.database, "a booking row has no text in \(column)")
            }
            return value
        }
        let span = BookedSpan(
            id: try text("id"), staff: try text("staff_id"), start: try integer("start_at"),
            segments: SQLiteBookingStore.decodeSegments(try text("segments")),
            bufferBeforeMinutes: Int(try integer("buffer_before_min")),
            bufferAfterMinutes: Int(try integer("buffer_after_min")),
            resources: SQLiteBookingStore.decodeResources(try text("resources")))
        return span.staffBusy.intervals.flatMap { [$0.lower, $0.upper] }
    }
}
