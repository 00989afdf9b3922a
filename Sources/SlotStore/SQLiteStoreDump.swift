import Foundation
import GRDB
import SlotBlocking

/// One value of a SQLite row, as SQLite stored it.
public enum StoredCell: Hashable, Sendable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
    case null
}

/// Every row of one table of a SQLite store, with its columns (generated columns left out: they are derived).
public struct TableDump: Sendable {
    public var name: String
    public var columns: [String]
    public var rows: [[StoredCell]]

    /// The value of `column` in `row`, or nil when the table has no such column.
    public func cell(_ row: [StoredCell], _ column: String) -> StoredCell? {
        columns.firstIndex(of: column).map { row[$0] }
    }
}

/// A shop's whole SQLite store, read in one read transaction, so the tables agree with each other: what
/// `slotctl migrate` moves to PostgreSQL (issue 16). The file is opened read-only and must have the schema this
/// slotd writes (an older one: start this slotd on it once, which migrates it).
public struct SQLiteStoreDump: Sendable {
    /// The file read.
    public var path: String
    /// Its tables by name; SQLite's and GRDB's own bookkeeping tables left out.
    public var tables: [String: TableDump]
    /// The last value each AUTOINCREMENT table handed out (`sqlite_sequence`), which may exceed its largest row id.
    public var sequences: [String: Int64]

    /// Reads the file at `path` (off Swift's cooperative pool).
    public static func read(path: String) async throws(StoreError) -> SQLiteStoreDump {
        try await BlockingWork.run { () throws(StoreError) in try readBlocking(path: path) }
    }

    /// Reads the file at `path`; blocking.
    public static func readBlocking(path: String) throws(StoreError) -> SQLiteStoreDump {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.notFound, "no SQLite database at \(path) — name slotd's database file (slotd.sqlite)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db throws -> SQLiteStoreDump in
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                let known = StoreSchema.schemaVersion
                guard version == known else {
                    throw StoreError(
                        version > known ? .schemaTooNew : .database,
                        "the database at \(path) has schema version \(version), this slotd moves version \(known) — "
                            + (version > known
                                ? "use the slotd that wrote it"
                                : "start this slotd on it once (it migrates the file), stop it, then migrate"))
                }
                let names = try String.fetchAll(
                    db,
                    sql: """
                        SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                            AND name <> 'grdb_migrations' ORDER BY name
                        """)
                var tables: [String: TableDump] = [:]
                for name in names { tables[name] = try dump(db, table: name) }
                var sequences: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT name, seq FROM sqlite_sequence") {
                    let name: String = row[0]
                    let last: Int64 = row[1]
                    sequences[name] = last
                }
                return SQLiteStoreDump(path: path, tables: tables, sequences: sequences)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "cannot read the database at \(path): \(SQLiteBookingStore.describe(error))")
        }
    }

    /// One table's stored columns (`table_xinfo`'s `hidden` marks generated ones) and rows, in rowid or key order.
    static func dump(_ db: Database, table: String) throws -> TableDump {
        let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        // cid, name, type, notnull, dflt_value, pk, hidden
        let info: [(name: String, key: Int, hidden: Int)] = try Row.fetchAll(
            db, sql: "PRAGMA table_xinfo(\(quoted))"
        ).map { row in
            let name: String = row["name"]
            let key: Int = row["pk"]
            let hidden: Int = row["hidden"]
            return (name, key, hidden)
        }
        let columns = info.filter { $0.hidden == 0 }.map(\.name)
        let list = columns.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            .joined(separator: ", ")
        let keys = info.filter { $0.key > 0 }.sorted { $0.key < $1.key }.map(\.name)
        let order = keys.isEmpty ? "rowid" : keys.map { "\"\($0)\"" }.joined(separator: ", ")
        let rows = try Row.fetchAll(db, sql: "SELECT \(list) FROM \(quoted) ORDER BY \(order)").map { row in
            Array(row.databaseValues).map { value -> StoredCell in
                switch value.storage {
                case .null: .null
                case .int64(let number): .integer(number)
                case .double(let number): .real(number)
                case .string(let text): .text(text)
                case .blob(let data): .blob(data)
                }
            }
        }
        return TableDump(name: table, columns: columns, rows: rows)
    }
}
