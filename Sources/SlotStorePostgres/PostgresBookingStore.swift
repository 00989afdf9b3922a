import Foundation
import Logging
import PostgresNIO
import SlotCore
import SlotEngine
import SlotEventLoops
import SlotRules
import SlotStore
import Synchronization

/// The store protocols on PostgreSQL, for several slotd processes sharing one database (issue 16).
///
/// What keeps them from double booking:
/// - **The database itself**: every active booking's staff-busy instants (a `tstzmultirange`) sit under
///   `EXCLUDE USING gist (staff_id WITH =, staff_busy WITH &&) WHERE (active)`, so two overlapping active bookings
///   of one staff member cannot both commit, whatever the application does.
/// - **A lock scheme for what a constraint cannot say** (resource counts, daily limits, the engine's whole check): a
///   booking write first takes transaction-scoped advisory locks on its staff member and on every resource it needs
///   (in one sorted order, so two writers cannot deadlock on them), then reads the bookings that could conflict
///   and runs the engine's check. Writers that could conflict run one after the other, exactly as under SQLite's one
///   writer; writers for other staff and resources run at once. Chosen over `SERIALIZABLE`: fifty clients racing
///   for one slot would make forty-nine transactions fail and retry, each retry racing again, where here they
///   queue once and each sees the winner's row. A serialization failure, deadlock or exclusion violation that still
///   happens (a hand-written row, a lock scheme bug) rolls the transaction back and runs it again, at most
///   `maxAttempts` times, so the check sees the row that won and answers with its usual conflict.
/// - Transitions lock their booking's row (`FOR UPDATE`), so two cancellations cannot both apply.
///
/// Nothing here blocks a thread: postgres-nio is asynchronous, so no call needs `BlockingWork`.
public final class PostgresBookingStore: Sendable {
    /// Where the store is.
    public let location: PostgresLocation
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger
    /// Expires operations past `operationTimeout` (`withDeadline`); its task runs as long as `runner`.
    let deadlines = DeadlineWatch()
    let deadlineRunner: Task<Void, Never>

    /// How often a transaction runs at most when PostgreSQL aborts it for a conflict with another writer.
    static let maxAttempts = 5
    /// How long one store operation may take (waiting for a connection included) before it answers `unavailable`.
    let operationTimeout: Duration

    /// This store's name on its connections (`application_name`, in `pg_stat_activity` too): the writer an
    /// `EventLogNotice` names, so the event relay knows its own appends from other daemons'.
    let writer: String

    /// What a booking's creation leases to this daemon's outbox worker (`leaseOwnJobs`); nil: nothing.
    let ownJobs = Mutex<OwnJobLease?>(nil)

    init(location: PostgresLocation, logger: Logger) {
        self.location = location
        operationTimeout = .seconds(location.operationTimeoutSeconds)
        self.logger = logger
        writer = "slotd " + String(UInt64.random(in: .min ... .max), radix: 16)
        var configuration = location.clientConfiguration
        configuration.options.additionalStartupParameters = [("application_name", writer)]
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        // The client's connection pool lives as long as this task; `shutDown` cancels it.
        runner = Task { await client.run() }
        deadlineRunner = Task { [deadlines] in await deadlines.run() }
    }

    /// Connects, migrates (under an advisory lock, so daemons starting together migrate once) and returns the
    /// store; refuses a database whose schema is newer than this slotd knows.
    public static func open(
        _ location: PostgresLocation, logger: Logger = Logger(label: "slotd.postgres")
    ) async throws(StoreError) -> PostgresBookingStore {
        let store = PostgresBookingStore(location: location, logger: logger)
        do {
            try await store.migrate()
        } catch {
            await store.stop()
            throw error
        }
        return store
    }

    /// The schema version this binary writes.
    public static var schemaVersion: Int { PostgresSchema.schemaVersion }

    /// Closes every connection; later calls fail with `database_error`.
    public func shutDown() async throws(StoreError) { await stop() }

    func stop() async {
        runner.cancel()
        deadlineRunner.cancel()
        await runner.value
        await deadlineRunner.value
    }

    // MARK: - Migrations

    func migrate() async throws(StoreError) {
        let place = location.description
        try await write { connection in try await Self.migrate(connection, place: place, logger: self.logger) }
    }

    /// Brings the schema on `connection` to this binary's version inside the caller's transaction, under the
    /// migration lock; refuses a newer one. `place` names the database in errors.
    static func migrate(_ connection: PostgresConnection, place: String, logger: Logger) async throws {
        let known = PostgresSchema.schemaVersion
        try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))", logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.versionTable), logger: logger)
        let rows = try await connection.query(
            "SELECT coalesce(max(version), 0)::int8 FROM slotd_schema", logger: logger
        ).collect()
        let version = try rows.first.map { try $0.decode(Int64.self) } ?? 0
        if version > known {
            throw StoreError(
                .schemaTooNew,
                "the database at \(place) has schema version \(version), newer than this slotd knows (\(known));"
                    + " run the slotd that wrote it, or restore a backup made for this version")
        }
        for (index, migration) in PostgresSchema.migrations.enumerated() where index + 1 > version {
            for statement in PostgresSchema.statements(migration.sql) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await PostgresSchema.migrationSteps[migration.identifier]?(connection)
            try await connection.query(
                "INSERT INTO slotd_schema (version, identifier) VALUES (\(index + 1), \(migration.identifier))",
                logger: logger)
        }
    }

    /// The schema version the database has.
    public func databaseSchemaVersion() async throws(StoreError) -> Int {
        try await read { connection in
            let rows = try await connection.query(
                "SELECT coalesce(max(version), 0)::int8 FROM slotd_schema", logger: self.logger
            ).collect()
            return Int(try rows.first.map { try $0.decode(Int64.self) } ?? 0)
        }
    }

    // MARK: - Running queries

    /// Runs `body` in one transaction (READ COMMITTED; the lock scheme above orders conflicting writers), again
    /// when PostgreSQL aborts it for a conflict with a concurrent transaction, at most `maxAttempts` times.
    /// `inTransaction: false` is for a body of one statement, atomic on its own: it saves the `BEGIN` and `COMMIT`
    /// round trips.
    @discardableResult
    func write<T: Sendable>(
        inTransaction: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        var attempt = 1
        while true {
            do {
                return try await withDeadline {
                    try await self.client.withConnection { connection in
                        try await Self.onLoop(of: connection) {
                            guard inTransaction else { return try await body(connection) }
                            return try await connection.withTransaction(logger: self.logger) { try await body($0) }
                        }
                    }
                }
            } catch {
                if let refusal = Self.storeRefusal(error) { throw refusal }
                if attempt < Self.maxAttempts, Self.isRetryable(error) {
                    attempt += 1
                    continue
                }
                throw Self.storeError(error)
            }
        }
    }

    /// Runs `body` on one pooled connection, outside an explicit transaction.
    func read<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await withDeadline {
                try await self.client.withConnection { connection in
                    try await Self.onLoop(of: connection) { try await body(connection) }
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` on the event loop of `connection`'s socket (`EventLoopTaskExecutor`): each answer resumes it on
    /// the thread that read the answer, which writes the next query itself. Without it a round trip took two hops
    /// between that thread and Swift's task pool: 62–64 context switches per booking in three daemons under 16
    /// clients, 38 with it (docs/benchmarks.md, "PostgreSQL: fifth round").
    static func onLoop<T>(of connection: PostgresConnection, _ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(EventLoopTaskExecutor.of(connection.eventLoop)) { try await body() }
    }

    /// Runs `operation`, or gives up after `operationTimeout` with `unavailable` (a 503 for the client): while
    /// PostgreSQL is down the connection pool keeps trying to connect and a request would otherwise wait forever.
    ///
    /// The deadline holds even when `operation` does not end on cancellation. A query written to a connection just
    /// as the server shut down can wait for an answer that never comes (seen when PostgreSQL stopped under a
    /// daemon: an outbox job's read hung past every timeout, and with it the worker's graceful shutdown, so SIGTERM
    /// left the daemon running). A task group would wait for such a child before returning, so the operation runs
    /// in a task of its own: on the deadline it is cancelled and left to end when its connection closes, at the
    /// latest when the store shuts down and closes every connection. The deadline itself is an entry in the store's
    /// `DeadlineWatch`, not a timer task per operation.
    func withDeadline<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = operationTimeout
        let place = location.description
        let race = DeadlineRace<T>()
        let deadline = deadlines.register(after: timeout) {
            race.settle(
                .failure(
                    StoreError(
                        .unavailable,
                        "the database \(place) did not answer within \(timeout) — it may be down or overloaded; "
                            + "try again")))
        }
        // On the caller's event loop, if it runs on one (a request's task does): no hop to the task pool to start.
        let work = Task(executorPreference: EventLoopTaskExecutor.current) {
            do { race.settle(.success(try await operation())) } catch { race.settle(.failure(error)) }
        }
        defer {
            work.cancel()
            deadlines.remove(deadline)
        }
        return try await withTaskCancellationHandler {
            try await race.value()
        } onCancel: {
            race.settle(.failure(CancellationError()))
        }
    }

    /// The SQLSTATE of a server error (`23P01`), if it is one.
    static func sqlState(_ error: any Error) -> String? {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] }
        if let error = error as? PostgresTransactionError {
            return error.closureError.flatMap(sqlState) ?? error.beginError.flatMap(sqlState)
                ?? error.commitError.flatMap(sqlState)
        }
        return nil
    }

    /// Serialization failure, deadlock, exclusion violation, or a unique key another writer took first (customers'
    /// e-mails, idempotency keys): running the transaction again sees the other writer's row.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return ["40001", "40P01", "23P01", "23505"].contains(state)
    }

    /// A `StoreError` the transaction's body threw (a refusal, not a database failure), unwrapped.
    static func storeRefusal(_ error: any Error) -> StoreError? {
        if let error = error as? StoreError { return error }
        return (error as? PostgresTransactionError)?.closureError as? StoreError
    }

    static func storeError(_ error: any Error) -> StoreError {
        if let refusal = storeRefusal(error) { return refusal }
        let message = describe(error)
        if let state = sqlState(error), state.hasPrefix("23") {
            return StoreError(.constraintViolation, "the database refused the write: \(message)")
        }
        if isConnectionLoss(error) {
            return StoreError(.unavailable, "the database is unreachable (\(message)); try again shortly")
        }
        return StoreError(.database, message)
    }

    /// A lost or refused connection, or a server shutting down (SQLSTATE classes 08 and 57P): the database is not
    /// there right now, which is a 503, not a failure of the request.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        if let state = sqlState(error) { return state.hasPrefix("08") || state.hasPrefix("57P") }
        if let error = error as? PostgresTransactionError {
            return [error.beginError, error.closureError, error.commitError].contains { $0.map(isConnectionLoss) ?? false }
        }
        guard let error = error as? PSQLError else { return false }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown]
            .contains(error.code)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
                return "PostgreSQL: \(message)\(detail)"
            }
            return "PostgreSQL connection: \(error.code)"
                + (error.underlying.map { " (\(String(describing: $0)))" } ?? "")
        }
        if let error = error as? PostgresTransactionError {
            for inner in [error.closureError, error.beginError, error.commitError, error.rollbackError] {
                if let inner { return describe(inner) }
            }
        }
        return String(describing: error)
    }
}

extension PostgresSchema {
    /// A migration's statements, one each: the extended query protocol runs one statement per query. Statements
    /// end with `;` at the end of a line (none of the schema's SQL has one inside a statement).
    static func statements(_ sql: String) -> [String] {
        sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
    }
}

/// The first of several outcomes (an operation's result, its deadline, the caller's cancellation), handed to the one
/// caller waiting for it; later ones are dropped.
final class DeadlineRace<T: Sendable>: Sendable {
    private enum State {
        case pending(CheckedContinuation<T, any Error>?)
        case settled(Result<T, any Error>)
        case taken
    }

    private let state = Mutex<State>(.pending(nil))

    /// Settles the race unless it is settled already.
    func settle(_ outcome: Result<T, any Error>) {
        let waiter: CheckedContinuation<T, any Error>? = state.withLock { state in
            guard case .pending(let waiter) = state else { return nil }
            if let waiter {
                state = .taken
                return waiter
            }
            state = .settled(outcome)
            return nil
        }
        waiter?.resume(with: outcome)
    }

    /// The first outcome, once there is one; called once.
    func value() async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let ready: Result<T, any Error>? = state.withLock { state in
                switch state {
                case .settled(let outcome):
                    state = .taken
                    return outcome
                case .pending:
                    state = .pending(continuation)
                    return nil
                case .taken:
                    return .failure(CancellationError())
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// The logger of statements run inside the store (postgres-nio logs at debug and trace only).
let queryLogger = Logger(label: "slotd.postgres")
