import ArgumentParser
import Foundation
import SlotStore
import SlotStorePostgres

/// `slotctl migrate --from sqlite FILE --to postgres URL`: moves a shop's store from SQLite to PostgreSQL (issue 16).
/// The copying is the stores' own (`SQLiteStoreDump`, `PostgresImport`); this command only parses and prints.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move a shop's SQLite store into an empty PostgreSQL database.",
        discussion: """
            Copies every table of the SQLite file (bookings, customers, events with their cursors, outbox jobs, \
            idempotency keys, payments, webhook events, calendar feeds, cards, customer conflicts) into the \
            PostgreSQL database in one transaction: it creates slotd's schema there, copies row for row, continues \
            the event cursors and ids after the copied ones, and compares each table's row count before it \
            commits. Any failure leaves the database as it was. Then point slotd at the database (database: \
            postgres://… or a postgres: block in slotd.yaml): the event log resumes at the same cursors, and \
            idempotency keys, feeds and outbox jobs carry on.

            Stop slotd first: what it writes to the SQLite file after the copy started is not moved. The file \
            must have this slotd's schema (start this slotd on it once if it is older). The database must hold \
            no slotd data; --replace empties its slotd tables first (in the same transaction).

            Examples:
              slotctl migrate --from sqlite /var/lib/slotd/slotd.sqlite \\
                  --to postgres 'postgres://slotd@db.internal/shop' --password-file /etc/slotd/postgres.password
              slotctl migrate --from sqlite state/slotd.sqlite \\
                  --to postgres 'postgres://slotd@localhost/shop?host=/run/postgresql' --json
            """
    )

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("The store to move: the word sqlite and the database file.", valueName: "sqlite FILE"))
    var from: [String]

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Where to: the word postgres and a postgres:// URL (see README: Running on PostgreSQL).",
            valueName: "postgres URL"))
    var to: [String]

    @Option(
        name: .customLong("password-file"),
        help: ArgumentHelp("A file holding the database user's password (mode 0600), instead of one in the URL.",
                           valueName: "FILE"))
    var passwordFile: String?

    @Flag(help: "Empty the database's slotd tables first instead of refusing a database that holds slotd data.")
    var replace = false

    @Flag(help: "Print the row counts as JSON (for scripts).")
    var json = false

    func validate() throws {
        guard from.count == 2, from[0] == "sqlite" else {
            throw ValidationError(
                "--from takes the word sqlite and a file: --from sqlite /var/lib/slotd/slotd.sqlite")
        }
        guard to.count == 2, to[0] == "postgres" else {
            throw ValidationError(
                "--to takes the word postgres and a URL: --to postgres postgres://USER@HOST/DATABASE")
        }
    }

    func run() throws {
        var location: PostgresLocation
        do {
            location = try PostgresLocation(url: to[1])
        } catch {
            throw ValidationError(error.message)
        }
        if let passwordFile {
            do throws(PostgresPasswordFile.Problem) {
                location.password = try PostgresPasswordFile.read(passwordFile)
            } catch {
                throw ValidationError(error.message)
            }
        }
        let report: PostgresImport.Report
        let (path, target, replace) = (from[1], location, replace)
        switch Self.runToEnd({ () async throws(StoreError) -> PostgresImport.Report in
            let dump = try await SQLiteStoreDump.read(path: path)
            return try await PostgresImport.copy(dump, to: target, replace: replace)
        }) {
        case .success(let moved): report = moved
        case .failure(let error):
            FileHandle.standardError.write(Data("slotctl migrate: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.sortedKeys]
            emitJSON(try encoder.encode(report))
            return
        }
        var table = TextTable("table", "sqlite", "postgres")
        for count in report.tables { table.add(count.table, String(count.sqlite), String(count.postgres)) }
        emit(table.rendered)
        let rows = report.tables.map(\.postgres).reduce(0, +)
        emit(
            "moved \(rows) rows from \(from[1]) to \(location) in one transaction; every count matches. "
                + "The next event's cursor is \(report.lastEventCursor + 1).")
    }

    /// Runs the stores' async move to its end from slotctl's synchronous main thread, which waits for it: slotctl's
    /// other commands block that thread by design (the blocking checks forbid them on Swift's pool), and it is no
    /// thread of the pool, so the move's tasks run beside it.
    static func runToEnd(
        _ work: @escaping @Sendable () async throws(StoreError) -> PostgresImport.Report
    ) -> Result<PostgresImport.Report, StoreError> {
        final class Outcome: @unchecked Sendable {
            // Written by the task before `done.signal()`, read after `done.wait()`: the semaphore orders them.
            var result: Result<PostgresImport.Report, StoreError>?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do throws(StoreError) {
                outcome.result = .success(try await work())
            } catch {
                outcome.result = .failure(error)
            }
            done.signal()
        }
        done.wait()
        return outcome.result ?? .failure(StoreError(.database, "the move ended without an outcome"))
    }
}
