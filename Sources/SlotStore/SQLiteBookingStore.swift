import Foundation
import GRDB
import SlotBlocking
import SlotCore
import SlotEngine
import SlotRules

#if canImport(Glibc)
    import Glibc
#endif

/// The durable `BookingStore`: one SQLite file in WAL mode through a GRDB `DatabasePool` (one writer, concurrent
/// readers).
///
/// Durability: `synchronous = FULL` by default. In WAL mode `NORMAL` keeps the database consistent after a crash but
/// may lose the last transactions on power loss, because the WAL is only synced at checkpoints; a booking the API
/// has acknowledged must survive power loss, so every booking commit (and every commit that appends an event) syncs
/// the WAL. Only the outbox's own bookkeeping commits unsynced (`bookkeepingWrite` says why that loses nothing).
/// `StoreBenchmarks` measures the cost.
public final class SQLiteBookingStore: BookingStore {
    /// How hard each commit waits for the disk.
    public enum Synchronous: String, Sendable, CaseIterable {
        /// Every commit is synced: survives `kill -9` and power loss.
        case full = "FULL"
        /// Synced at checkpoints only: survives `kill -9`, may lose the newest commits on power loss.
        case normal = "NORMAL"
    }

    /// The database file.
    public let path: String
    /// The setting every booking write commits with.
    public let synchronous: Synchronous
    /// Database files that other users could read when the store opened them, now readable by the owner only.
    public let tightenedFiles: [String]
    let pool: DatabasePool

    /// Opens the store from async code: `init` blocks (it opens the file and migrates), so it runs off the
    /// cooperative pool.
    public static func open(path: String, synchronous: Synchronous = .full) async throws(StoreError)
        -> SQLiteBookingStore
    {
        try await BlockingWork.run { () throws(StoreError) in
            try SQLiteBookingStore(path: path, synchronous: synchronous)
        }
    }

    /// Opens (creating if needed) and migrates the database at `path`; refuses a file written by a newer slotd.
    /// Blocking: from async code use `open(path:synchronous:)`.
    public init(path: String, synchronous: Synchronous = .full) throws(StoreError) {
        self.path = path
        self.synchronous = synchronous
        tightenedFiles = try Self.keepPrivate(path)
        var configuration = Configuration()
        // Another process (slotctl's offline tools, sqlite3, a backup) may hold the write lock briefly: wait for
        // it instead of failing at once with "database is locked".
        configuration.busyMode = .timeout(5)
        configuration.foreignKeysEnabled = true
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // Not in `prepareDatabase`: DatabasePool switches the writer to WAL *after* that hook and then sets
            // `synchronous = NORMAL` itself, silently undoing it. The pool keeps this one writer connection for its
            // whole life, and `synchronous` is per connection, so setting it once here holds for every write.
            let pragma = "PRAGMA synchronous = \(synchronous.rawValue)"
            try pool.writeWithoutTransaction { db in try db.execute(sql: pragma) }
        } catch {
            throw StoreError(.database, "cannot open the database at \(path): \(Self.describe(error))")
        }
        try Self.migrate(pool, path: path)
    }

    /// Makes the database readable and writable by its owner only (customers' names, phones and e-mails are in
    /// it): a new file is created `0600`, and SQLite gives its `-wal` and `-shm` files the database file's mode; an
    /// existing file (and its `-wal`, `-shm`) that others could read is narrowed to `0600`. Returns what it narrowed.
    static func keepPrivate(_ path: String) throws(StoreError) -> [String] {
        let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            Glibc.close(descriptor)
            return []
        }
        guard errno == EEXIST else {
            throw StoreError(
                .database, "cannot create the database at \(path): \(String(cString: strerror(errno)))")
        }
        var narrowed: [String] = []
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o077 != 0 else {
                continue
            }
            if chmod(file, 0o600) == 0 { narrowed.append(file) }
        }
        return narrowed
    }

    /// Checks the schema version, then applies the migrations this binary knows and the file lacks.
    static func migrate(_ pool: DatabasePool, path: String) throws(StoreError) {
        let migrator = StoreSchema.migrator
        let known = StoreSchema.schemaVersion
        do {
            // On the writer, not a reader: a reader connection opened before the migration would keep the old
            // schema's `b.*` in the statements it prepares next, and read rows without the new columns.
            let (version, superseded) = try pool.writeWithoutTransaction { db in
                (try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0, try migrator.hasBeenSuperseded(db))
            }
            if version > known || superseded {
                throw StoreError(
                    .schemaTooNew,
                    "the database at \(path) has schema version \(version), newer than this slotd knows (\(known));"
                        + " run the slotd that wrote it, or restore a backup made for this version")
            }
            try migrator.migrate(pool)
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(known)") }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "cannot migrate the database at \(path): \(Self.describe(error))")
        }
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE` … `COMMIT`) on the writer connection: the only way
    /// this store writes.
    ///
    /// GRDB's `write` does the same, but compiles its `BEGIN` and `COMMIT` statements afresh for every transaction
    /// (each a parse and code generation by SQLite, and GRDB's own SQL scan): a few per cent of a booking's CPU.
    /// Here both are cached statements of the writer connection.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in try Self.transaction(db, body) }
    }

    /// `body` between a cached `BEGIN IMMEDIATE` and `COMMIT`; on any error the transaction is rolled back (when
    /// SQLite has not already done so) and the error rethrown.
    static func transaction<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
        do {
            let result = try body(db)
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return result
        } catch {
            // The first error is the one to report, as with GRDB's `inTransaction`; `rollback` does nothing when
            // SQLite already rolled back (after an I/O error, say).
            try? db.rollback()
            throw error
        }
    }

    /// Runs a write of the outbox's own bookkeeping (a claim, a job's outcome) committed without waiting for the
    /// disk, then restores the store's setting for the next write.
    ///
    /// Losing such a write to a power cut only runs a job once more, which at-least-once delivery allows anyway
    /// (message ids and idempotency keys make the repeat harmless), and the WAL keeps commits in order: the next
    /// booking's synced commit makes every earlier one durable too, so a booking never depends on a lost claim.
    /// Every commit that appends an event stays synced: a cursor a client has seen must never be handed out again.
    /// With these writes unsynced, the worker's three commits per booking cost no `fdatasync` each.
    func bookkeepingWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        guard synchronous == .full else { return try await self.write(body) }
        return try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            let result: T
            do {
                result = try Self.transaction(db, body)
            } catch {
                try db.execute(sql: "PRAGMA synchronous = FULL")
                throw error
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return result
        }
    }

    /// Runs a read on one of GRDB's reader connections and resumes the caller when it is done.
    ///
    /// The only way this store reads. A synchronous `pool.read` waits on a semaphore for a free reader, and GRDB's
    /// async `read` gives its reader back only once the awaiting task runs again on the cooperative pool: with both,
    /// a few concurrent slot queries took every pool thread waiting for readers that only a pool thread could
    /// release, and the daemon stopped for good. Here the wait for a reader happens on GRDB's own queue and the
    /// reader is released on its own queue, right after `body`, before the caller is resumed.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.asyncRead { database in
                continuation.resume(with: Result { try body(database.get()) })
            }
        }
    }

    /// The synchronous setting in effect on the writer connection (`FULL` is 2, `NORMAL` 1).
    public func synchronousSetting() async throws(StoreError) -> Int {
        try await run { try await self.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 } }
    }

    /// The journal mode (`wal`).
    public func journalMode() async throws(StoreError) -> String {
        try await run { try await self.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" } }
    }

    /// Copies the whole database to `destination` with SQLite's online backup API, while readers and writers go on.
    /// Blocking: the daemon calls it through `BlockingWork.run`.
    public func backup(to destination: String) throws(StoreError) {
        do {
            let target = try DatabaseQueue(path: destination)
            try pool.backup(to: target)
            try target.close()
        } catch {
            throw StoreError(.database, "backup to \(destination) failed: \(Self.describe(error))")
        }
    }

    /// Closes the database (pending writes have committed); later calls fail with `database_error`.
    /// Blocking: the daemon calls it through `BlockingWork.run`.
    public func close() throws(StoreError) {
        do { try pool.close() } catch { throw StoreError(.database, "cannot close \(path): \(Self.describe(error))") }
    }

    // MARK: - BookingStore

    public func createBooking<Rejection: Sendable>(
        _ new: NewBooking, at now: Int64, idempotency: IdempotencyRequest?,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> BookingCreation<Rejection> {
        if let error = BookingPlanner.validate(new) { throw error }
        let bookingID = BookingPlanner.newBookingID()
        let freshCustomerID = BookingPlanner.newCustomerID()
        return try await run {
            try await self.write { db -> BookingCreation<Rejection> in
                if let idempotency, let record = try Self.idempotencyRecord(db, key: idempotency.key) {
                    guard record.fingerprint == idempotency.fingerprint else {
                        throw StoreError.reused(idempotency.key)
                    }
                    return .replayed(record)
                }
                // The check runs inside this write transaction, so no other writer can book in between.
                let conflicting = try Self.candidates(
                    db, staffID: new.staffID, resources: new.times.footprint.resources, window: new.times.window,
                    excluding: nil)
                if let rejection = check(conflicting) { return .rejected(rejection) }
                let (booking, events) = try Self.insertBooking(
                    db, new, id: bookingID, freshCustomerID: freshCustomerID, at: now)
                var response: IdempotentResponse?
                if let idempotency {
                    let rendered = idempotency.respond(booking)
                    response = rendered
                    try db.execute(
                        sql: """
                            INSERT INTO idempotency_keys (key, fingerprint, response_status, response_body, booking_id,
                                created_at) VALUES (?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            idempotency.key, idempotency.fingerprint, rendered.status, rendered.body, booking.id, now,
                        ])
                }
                return .created(booking, events: events, response: response)
            }
        }
    }

    public func booking(id: String) async throws(StoreError) -> StoredBooking? {
        try await run { try await self.read { db in try Self.fetchBooking(db, id: id) } }
    }

    public func bookings(matching query: BookingQuery) async throws(StoreError) -> [StoredBooking] {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let from = query.from {
            clauses.append("b.start_at >= ?")
            arguments += [from]
        }
        if let to = query.to {
            clauses.append("b.start_at < ?")
            arguments += [to]
        }
        if let staff = query.staffID {
            clauses.append("b.staff_id = ?")
            arguments += [staff]
        }
        if !query.statuses.isEmpty {
            clauses.append("b.status IN (" + query.statuses.map { _ in "?" }.joined(separator: ", ") + ")")
            for status in query.statuses { arguments += [status.rawValue] }
        }
        arguments += [max(0, query.limit)]
        let sql = Self.selectBookings + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY b.start_at, b.id LIMIT ?"
        let finalArguments = arguments
        return try await run {
            try await self.read { db in
                try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.decodeBooking)
            }
        }
    }

    public func bookedSpans(_ query: SpanQuery) async throws(StoreError) -> [BookedSpan] {
        var sql = Self.selectSpans + " WHERE " + Self.activeOverlap
        var arguments: StatementArguments = [
            query.window.upper, query.window.lower - StoreSchema.maxBusySeconds, query.window.lower,
        ]
        if let staff = query.staff {
            let (filter, filterArguments) = Self.staffOrResources(staff: staff, resources: query.resources)
            sql += " AND " + filter
            arguments += filterArguments
        }
        // No ORDER BY: sorting thousands of spans cost more than reading them, and availability does not need an
        // order (the index gives each staff member's spans by busy start).
        let finalSQL = sql
        let finalArguments = arguments
        return try await run {
            try await self.read { db in
                try Self.fetchSpans(db.cachedStatement(sql: finalSQL), arguments: finalArguments)
            }
        }
    }

    public func transition(
        _ id: String, _ input: BookingInput, at now: Int64, policy: Policies, reason: String
    ) async throws(StoreError) -> TransitionOutcome {
        try await run {
            try await self.write { db in
                guard let booking = try Self.fetchBooking(db, id: id) else { throw StoreError.notFound(id) }
                let plan = try BookingPlanner.transition(booking, input, at: now, policy: policy, reason: reason).get()
                try Self.update(db, plan.booking)
                return TransitionOutcome(booking: plan.booking, events: try Self.append(db, plan))
            }
        }
    }

    public func reschedule<Rejection: Sendable>(
        _ id: String, to times: BookingTimes, staff staffID: String?, at now: Int64,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> RescheduleOutcome<Rejection> {
        try await run {
            try await self.write { db -> RescheduleOutcome<Rejection> in
                guard let booking = try Self.fetchBooking(db, id: id) else { throw StoreError.notFound(id) }
                let plan = try BookingPlanner.reschedule(booking, to: times, staff: staffID, at: now).get()
                let conflicting = try Self.candidates(
                    db, staffID: plan.booking.staffID, resources: times.footprint.resources, window: times.window,
                    excluding: id)
                if let rejection = check(conflicting) { return .rejected(rejection) }
                try Self.update(db, plan.booking)
                return .rescheduled(TransitionOutcome(booking: plan.booking, events: try Self.append(db, plan)))
            }
        }
    }

    public func setNotes(_ id: String, to notes: String, at now: Int64) async throws(StoreError) -> TransitionOutcome {
        try await run {
            try await self.write { db in
                guard let booking = try Self.fetchBooking(db, id: id) else { throw StoreError.notFound(id) }
                guard let plan = BookingPlanner.note(booking, notes, at: now) else {
                    return TransitionOutcome(booking: booking, events: [])
                }
                try Self.update(db, plan.booking)
                return TransitionOutcome(booking: plan.booking, events: try Self.append(db, plan))
            }
        }
    }

    public func expireHolds(at now: Int64) async throws(StoreError) -> [TransitionOutcome] {
        try await run {
            try await self.write { db in
                let due = try Row.fetchAll(
                    db,
                    sql: Self.selectBookings
                        + " WHERE b.status = 'held' AND b.hold_expires_at <= ? ORDER BY b.hold_expires_at, b.id",
                    arguments: [now]
                ).map(Self.decodeBooking)
                var outcomes: [TransitionOutcome] = []
                for booking in due {
                    let plan = try BookingPlanner.transition(
                        booking, .expire, at: now, policy: Policies(), reason: ""
                    ).get()
                    try Self.update(db, plan.booking)
                    outcomes.append(TransitionOutcome(booking: plan.booking, events: try Self.append(db, plan)))
                }
                return outcomes
            }
        }
    }

    public func events(after cursor: Int64, typePrefix: String?, limit: Int) async throws(StoreError) -> [StoredEvent] {
        try await run {
            try await self.read { db in
                var sql = "SELECT cursor, type, at, data FROM events WHERE cursor > ?"
                var arguments: StatementArguments = [cursor]
                if let typePrefix, !typePrefix.isEmpty {
                    // substr, not LIKE: a prefix may contain `_` or `%`, which LIKE would read as wildcards.
                    sql += " AND substr(type, 1, ?) = ?"
                    arguments += [typePrefix.utf8.count, typePrefix]
                }
                arguments += [max(0, limit)]
                return try Row.fetchAll(db, sql: sql + " ORDER BY cursor LIMIT ?", arguments: arguments).map { row in
                    StoredEvent(
                        cursor: row["cursor"], type: row["type"], at: row["at"],
                        data: Data((row["data"] as String).utf8))
                }
            }
        }
    }

    public func latestCursor() async throws(StoreError) -> Int64 {
        try await run {
            try await self.read { db in try Int64.fetchOne(db, sql: "SELECT max(cursor) FROM events") ?? 0 }
        }
    }

    public func outboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob] {
        try await run {
            try await self.read { db in
                let sql = "SELECT * " + Self.jobsIn(state) + " ORDER BY id LIMIT ?"
                return try Row.fetchAll(db, sql: sql, arguments: [max(0, limit)]).map { row in
                    OutboxJob(
                        id: row["id"], kind: row["kind"], payload: Data((row["payload"] as String).utf8),
                        dueAt: row["due_at"], attempts: row["attempts"],
                        state: OutboxState(rawValue: row["state"]) ?? .failed, lastError: row["last_error"],
                        createdAt: row["created_at"])
                }
            }
        }
    }

    public func idempotencyRecord(key: String) async throws(StoreError) -> IdempotencyRecord? {
        try await run { try await self.read { db in try Self.idempotencyRecord(db, key: key) } }
    }

    // MARK: - Error mapping

    /// Runs a database operation, turning every error into a `StoreError`.
    func run<T>(_ body: () async throws -> T) async throws(StoreError) -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError(.constraintViolation, "the database refused the write: \(Self.describe(error))")
        } catch {
            throw StoreError(.database, Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return [error.message, error.sql.map { "(in: \($0.prefix(80)))" }].compactMap { $0 }.joined(separator: " ")
                .replacingOccurrences(of: "\n", with: " ")
        }
        return String(describing: error)
    }
}

// MARK: - Rows

extension SQLiteBookingStore {
    /// A booking row carries the customer's name and contact as booked (no join with `customers`).
    static let selectBookings = "SELECT b.* FROM bookings b"


    /// Active and busy inside the window (arguments: window end, window start − `maxBusySeconds`, window start).
    /// The middle bound is implied by the others, but it bounds the index range on `busy_start` from below, since
    /// no booking blocks longer than `maxBusySeconds` (a CHECK in the schema).
    static let activeOverlap = """
        b.status IN ('held', 'confirmed') AND b.busy_start < ? AND b.busy_start > ? AND b.busy_end > ?
        """

    /// What `bookedSpans` reads: only the columns availability needs, no customer join.
    static let selectSpans = """
        SELECT b.id, b.staff_id, b.start_at, b.segments, b.buffer_before_min, b.buffer_after_min, b.resources
        FROM bookings b
        """

    /// `(b.staff_id IN (…) OR <holds one of the resources>)` and its arguments.
    static func staffOrResources(staff: [String], resources: [String]) -> (String, StatementArguments) {
        var arguments = StatementArguments()
        var parts: [String] = []
        if !staff.isEmpty {
            parts.append("b.staff_id IN (" + staff.map { _ in "?" }.joined(separator: ", ") + ")")
            for id in staff { arguments += [id] }
        }
        let names = Array(Set(resources)).sorted()
        if !names.isEmpty {
            parts.append(
                "EXISTS (SELECT 1 FROM json_each(b.resources) r WHERE json_extract(r.value, '$.resource') IN ("
                    + names.map { _ in "?" }.joined(separator: ", ") + ") AND json_extract(r.value, '$.count') > 0)")
            for name in names { arguments += [name] }
        }
        return (parts.isEmpty ? "0" : "(" + parts.joined(separator: " OR ") + ")", arguments)
    }

    /// Active bookings that share the staff member or a resource and are busy inside `window`, as the check sees
    /// them. Spans, not whole bookings: the window is the booking's whole local day (for daily limits), and reading
    /// and decoding every column of each of that day's bookings was the largest part of a create's transaction.
    static func candidates(
        _ db: Database, staffID: String, resources: [ResourceNeed], window: Interval, excluding id: String?
    ) throws -> [BookedSpan] {
        let (filter, filterArguments) = staffOrResources(
            staff: [staffID], resources: resources.filter { $0.count > 0 }.map(\.resource))
        var sql = selectSpans + " WHERE " + activeOverlap + " AND " + filter
        var arguments: StatementArguments = [window.upper, window.lower - StoreSchema.maxBusySeconds, window.lower]
        arguments += filterArguments
        if let id {
            sql += " AND b.id <> ?"
            arguments += [id]
        }
        // Cached: compiling the statement (with GRDB's authorizer) cost more than running it, on every booking.
        return try fetchSpans(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// The spans a `selectSpans` statement selects, in no particular order.
    static func fetchSpans(_ statement: Statement, arguments: StatementArguments) throws -> [BookedSpan] {
        // A cursor's rows are views on the statement: no copy of every column of every row.
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var spans: [BookedSpan] = []
        var shapes = SpanShapes()
        while let row = try rows.next() { spans.append(shapes.span(row)) }
        return spans
    }

    /// The booking with that id, or with that code when `id` is a booking code.
    static func fetchBooking(_ db: Database, id: String) throws -> StoredBooking? {
        if !id.hasPrefix("bk_"), let code = BookingCode.normalise(id) {
            return try fetchBookings(db.cachedStatement(sql: selectBookings + " WHERE b.code = ?"), arguments: [code])
                .first
        }
        return try fetchBookings(db.cachedStatement(sql: selectBookings + " WHERE b.id = ?"), arguments: [id]).first
    }

    static func idempotencyRecord(_ db: Database, key: String) throws -> IdempotencyRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM idempotency_keys WHERE key = ?"), arguments: [key])
            .map { row in
                IdempotencyRecord(
                    key: row["key"], fingerprint: row["fingerprint"],
                    response: IdempotentResponse(status: row["response_status"], body: row["response_body"]),
                    bookingID: row["booking_id"], createdAt: row["created_at"])
            }
    }

    static func insert(_ db: Database, _ booking: StoredBooking) throws {
        var columns = bookingColumns(booking)
        columns.append(("id", booking.id.databaseValue))
        columns.append(("customer_id", booking.customerID.databaseValue))
        columns.append(("created_at", booking.createdAt.databaseValue))
        // The booking keeps the name and contact it was made with, whatever its customer record says later.
        columns.append(("customer_name", booking.customer.name.databaseValue))
        columns.append(("customer_email", booking.customer.email.databaseValue))
        columns.append(("customer_phone", booking.customer.phone.databaseValue))
        columns.append(("code", booking.code.databaseValue))
        let sql = "INSERT INTO bookings (" + columns.map(\.0).joined(separator: ", ") + ") VALUES ("
            + columns.map { _ in "?" }.joined(separator: ", ") + ")"
        try db.cachedStatement(sql: sql).execute(arguments: positional(columns.map(\.1)))
    }

    static func update(_ db: Database, _ booking: StoredBooking) throws {
        let columns = bookingColumns(booking)
        let sql = "UPDATE bookings SET " + columns.map { "\($0.0) = ?" }.joined(separator: ", ") + " WHERE id = ?"
        try db.cachedStatement(sql: sql).execute(
            arguments: positional(columns.map(\.1) + [booking.id.databaseValue]))
    }

    /// Positional arguments from database values. GRDB's initialiser for a sequence of one concrete type is generic
    /// and not specialised here: it instantiated and applied a key path for every value, ~2 % of a booking's CPU.
    static func positional(_ values: [DatabaseValue]) -> StatementArguments {
        StatementArguments(values.map { $0 as (any DatabaseValueConvertible)? })
    }

    /// The columns a write sets (all but the id, the code, the customer and the creation time, which never change).
    static func bookingColumns(_ booking: StoredBooking) -> [(String, DatabaseValue)] {
        let busy = booking.busy
        let cancellation = booking.cancellation
        return [
            ("status", booking.status.rawValue.databaseValue),
            ("staff_id", booking.staffID.databaseValue),
            ("services", StoreJSON.array(of: booking.services).databaseValue),
            ("variant", booking.variant.databaseValue),
            ("start_at", booking.start.databaseValue),
            ("end_at", booking.end.databaseValue),
            ("busy_start", busy.lower.databaseValue),
            ("busy_end", busy.upper.databaseValue),
            ("segments", encodeSegments(booking.footprint.segments).databaseValue),
            ("buffer_before_min", booking.footprint.bufferBeforeMinutes.databaseValue),
            ("buffer_after_min", booking.footprint.bufferAfterMinutes.databaseValue),
            ("resources", encodeResources(booking.footprint.resources).databaseValue),
            ("price_minor", booking.price.minorUnits.databaseValue),
            ("deposit_minor", booking.deposit?.minorUnits.databaseValue ?? .null),
            ("currency", booking.price.currency.databaseValue),
            ("notes", booking.notes.databaseValue),
            ("hold_expires_at", booking.holdExpiresAt.databaseValue),
            ("updated_at", booking.updatedAt.databaseValue),
            ("revision", booking.revision.databaseValue),
            ("staff_override", booking.override.map { String(decoding: StoreJSON.encode($0), as: UTF8.self) }
                .databaseValue),
            ("cancel_reason", cancellation?.reason.databaseValue ?? .null),
            ("cancel_late", cancellation.map { ($0.isLate ? 1 : 0).databaseValue } ?? .null),
            ("cancel_fee_minor", cancellation?.fee?.minorUnits.databaseValue ?? .null),
            ("cancel_minutes_before", cancellation?.minutesBeforeStart.databaseValue ?? .null),
        ]
    }

    /// Files the customer, plans a booking that passed its check and inserts it with a fresh code, in the caller's
    /// write transaction; `amend` sees the plan before it is written and may change it or refuse (the transaction
    /// then rolls back).
    static func insertBooking(
        _ db: Database, _ new: NewBooking, id: String, freshCustomerID: String, at now: Int64,
        amend: (inout BookingPlan) throws -> Void = { _ in }
    ) throws -> (StoredBooking, [StoredEvent]) {
        let customer = try fileCustomer(db, new.customer, freshID: freshCustomerID, at: now)
        var plan = try BookingPlanner.create(new, id: id, customerID: customer.id, at: now).get()
        guard let code = try BookingPlanner.newBookingCode(isTaken: { try codeIsTaken(db, $0) }) else {
            throw StoreError.codesExhausted
        }
        plan.booking.code = code
        try amend(&plan)
        try insert(db, plan.booking)
        var events = try append(db, plan)
        events += try recordConflicts(db, customer.conflicts, booking: plan.booking.id, at: now)
        return (plan.booking, events)
    }

    /// Appends the plan's events and enqueues its jobs, with what it means for the waitlist
    /// (`followWaitlist`); returns the events with their cursors.
    static func append(_ db: Database, _ plan: BookingPlan) throws -> [StoredEvent] {
        var plan = plan
        let waitlist = try followWaitlist(db, &plan)
        var appended = try appendEvents(db, plan.events)
        try insertPendingJobs(db, plan.jobs, createdAt: plan.booking.updatedAt)
        if let waitlist { appended += try writeWaitlist(db, waitlist) }
        return appended
    }

    /// Appends events to the log; returns them with their cursors.
    static func appendEvents(_ db: Database, _ events: [PendingEvent]) throws -> [StoredEvent] {
        var appended: [StoredEvent] = []
        for event in events {
            let data = String(decoding: event.data, as: UTF8.self)
            try db.cachedStatement(sql: "INSERT INTO events (type, at, data) VALUES (?, ?, ?)")
                .execute(arguments: [event.type, event.at, data])
            appended.append(StoredEvent(cursor: db.lastInsertedRowID, type: event.type, at: event.at, data: event.data))
        }
        return appended
    }

    /// Enqueues a plan's jobs.
    static func insertPendingJobs(_ db: Database, _ jobs: [PendingJob], createdAt: Int64) throws {
        for job in jobs {
            try db.cachedStatement(sql: "INSERT INTO outbox (kind, payload, due_at, created_at) VALUES (?, ?, ?, ?)")
                .execute(arguments: [job.kind, String(decoding: job.payload, as: UTF8.self), job.dueAt, createdAt])
        }
    }

    /// The bookings a statement selects (`selectBookings` columns), with column positions looked up once.
    static func fetchBookings(_ statement: Statement, arguments: StatementArguments) throws -> [StoredBooking] {
        let columns = ColumnPositions(statement.columnNames)
        // A cursor's rows are views on the statement: the decoder reads each column once, where `fetchAll` first
        // copied every column of every row (the conflict check reads a whole day of bookings on every create).
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var bookings: [StoredBooking] = []
        while let row = try rows.next() { bookings.append(try decodeBooking(ColumnReader(row: row, columns: columns))) }
        return bookings
    }

    static func decodeBooking(_ row: Row) throws -> StoredBooking {
        try decodeBooking(ColumnReader(row: row, columns: nil))
    }

    /// Reads `selectSpans` rows (by position) as availability sees them. The bookings of one service share their
    /// footprint, so it is built once per distinct shape and copied: building it was most of a span's cost, and
    /// next to it, making the cache key; a run of rows of one shape compares their columns with the last row's.
    struct SpanShapes {
        private var last: (segments: String, before: Int, after: Int, resources: String, span: BookedSpan)?

        mutating func span(_ row: Row) -> BookedSpan {
            let segments: String = row[3]
            let before: Int = row[4]
            let after: Int = row[5]
            let resources: String = row[6]
            var span: BookedSpan
            if let last, last.before == before, last.after == after, last.segments == segments,
                last.resources == resources
            {
                span = last.span
            } else {
                span = StoreJSON.spanShapes.value(for: "\(before) \(after) \(segments) \(resources)") { _ in
                    BookedSpan(
                        id: "", staff: "", start: 0, segments: decodeSegments(segments), bufferBeforeMinutes: before,
                        bufferAfterMinutes: after, resources: decodeResources(resources))
                }
                last = (segments, before, after, resources, span)
            }
            span.id = row[0]
            span.staff = row[1]
            span.start = row[2]
            return span
        }
    }

    static func decodeBooking(_ row: ColumnReader) throws -> StoredBooking {
        let id: String = row["id"]
        let statusText: String = row["status"]
        guard let status = BookingState(rawValue: statusText) else {
            throw StoreError(.database, "booking \(id) has an unknown status '\(statusText)'")
        }
        let currency: String = row["currency"]
        let servicesText: String = row["services"]
        let services = StoreJSON.services.value(for: servicesText) { StoreJSON.decode([String].self, $0) ?? [] }
        let footprint = BookingFootprint(
            segments: decodeSegments(row["segments"]), bufferBeforeMinutes: row["buffer_before_min"],
            bufferAfterMinutes: row["buffer_after_min"], resources: decodeResources(row["resources"]))
        var cancellation: CancellationTerms?
        if status == .cancelled, let late: Int = row["cancel_late"] {
            let fee: Int? = row["cancel_fee_minor"]
            cancellation = CancellationTerms(
                minutesBeforeStart: row["cancel_minutes_before"] ?? 0, isLate: late != 0,
                fee: fee.map { Money(minorUnits: $0, currency: currency) }, reason: row["cancel_reason"] ?? "")
        }
        let deposit: Int? = row["deposit_minor"]
        var booking = StoredBooking(
            id: id, status: status, staffID: row["staff_id"], services: services, variant: row["variant"],
            start: row["start_at"], end: row["end_at"], footprint: footprint,
            price: Money(minorUnits: row["price_minor"], currency: currency),
            deposit: deposit.map { Money(minorUnits: $0, currency: currency) }, customerID: row["customer_id"],
            customer: CustomerInfo(
                name: row["customer_name"], email: row["customer_email"], phone: row["customer_phone"]),
            notes: row["notes"], holdExpiresAt: row["hold_expires_at"], createdAt: row["created_at"],
            updatedAt: row["updated_at"], cancellation: cancellation, revision: row["revision"])
        booking.code = row["code"] ?? ""
        let override: String? = row["staff_override"]
        booking.override = override.flatMap { StoreJSON.decode(BookingOverride.self, $0) }
        return booking
    }

    package static func encodeSegments(_ segments: [Segment]) -> String {
        StoreJSON.array(of: segments.map { ["kind": .text($0.kind.rawValue), "minutes": .number($0.minutes)] })
    }

    package static func decodeSegments(_ text: String) -> [Segment] {
        StoreJSON.segments.value(for: text) { text in
            let rows = StoreJSON.decode([StoreJSON.SegmentRow].self, text) ?? []
            return rows.compactMap { row in Segment.Kind(rawValue: row.kind).map { Segment($0, minutes: row.minutes) } }
        }
    }

    package static func encodeResources(_ resources: [ResourceNeed]) -> String {
        StoreJSON.array(of: resources.map { ["count": .number($0.count), "resource": .text($0.resource)] })
    }

    package static func decodeResources(_ text: String) -> [ResourceNeed] {
        StoreJSON.resources.value(for: text) { text in
            let rows = StoreJSON.decode([StoreJSON.ResourceRow].self, text) ?? []
            return rows.map { ResourceNeed(resource: $0.resource, count: $0.count) }
        }
    }
}
