import Foundation
import GRDB
import SlotCore
import SlotEngine
import SlotRules
import Testing

@testable import SlotStore

/// What only the SQLite file does: durability, migrations, the settings, SQL constraints, backup.
struct SQLiteBookingStoreTests {
    @Test func aReopenedFileHasEverything() async throws {
        let directory = try TempDirectory()
        let path = directory.path("slotd.db")
        var store: SQLiteBookingStore? = try SQLiteBookingStore(path: path)
        let booking = try await Fixture.book(try #require(store), Fixture.booking(hold: Fixture.now + 900))
        _ = try await store?.confirm(booking.id, at: Fixture.now + 1)
        try store?.close()
        store = nil

        let reopened = try SQLiteBookingStore(path: path)
        let read = try #require(try await reopened.booking(id: booking.id))
        #expect(read.status == .confirmed)
        #expect(read.customer == booking.customer)
        #expect(read.footprint == booking.footprint)
        #expect(try await reopened.events(after: 0, typePrefix: nil, limit: 10).map(\.type) == [
            "booking.created", "booking.confirmed",
        ])
        // The cursor keeps counting after a reopen (AUTOINCREMENT never reuses).
        let next = try await Fixture.book(reopened, Fixture.booking(staff: "bo"))
        #expect(try await reopened.latestCursor() == 3)
        #expect(next.id != booking.id)
    }

    @Test("the claim and the conflict check read a range of an index: no scan of all pending jobs or all bookings")
    func queriesReadIndexRanges() async throws {
        let store = try SQLiteBookingStore(path: try TempDirectory().path("plan.db"))
        func plan(_ sql: String) async throws -> String {
            try await store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }.joined(separator: "; ")
        }
        let claim = try await plan(
            SQLiteBookingStore.claimSQL.replacingOccurrences(of: "?", with: "1"))
        #expect(claim.contains("outbox_pending_due (due_at<?)"), "\(claim)")
        #expect(!claim.contains("TEMP B-TREE"), "\(claim)")
        // Listings of pending and failed jobs read those jobs only, not every job ever done.
        for (state, index) in [(OutboxState.pending, "outbox_pending_due"), (.failed, "outbox_failed")] {
            let listing = try await plan("SELECT id " + SQLiteBookingStore.jobsIn(state) + " ORDER BY id LIMIT 5")
            #expect(listing.contains("USING INDEX \(index)"), "\(listing)")
        }
        // The check reads spans, like a slot query: the index alone, no table row.
        let check = try await plan(
            SQLiteBookingStore.selectSpans + " WHERE "
                + SQLiteBookingStore.activeOverlap.replacingOccurrences(of: "?", with: "1")
                + " AND (b.staff_id = 'anna')")
        #expect(
            check.contains("COVERING INDEX bookings_staff_active_spans (staff_id=? AND busy_start>? AND busy_start<?)"),
            "\(check)")
        // A slot query reads the spans of the staff asked for, in the window asked for: an index range per staff
        // member, never a scan of every booking (a shop that never completes bookings keeps them active).
        let (filter, _) = SQLiteBookingStore.staffOrResources(staff: ["anna", "ben"], resources: [])
        let spans = try await plan(
            SQLiteBookingStore.selectSpans + " WHERE "
                + SQLiteBookingStore.activeOverlap.replacingOccurrences(of: "?", with: "1") + " AND "
                + filter.replacingOccurrences(of: "?", with: "'x'"))
        #expect(
            spans.contains("COVERING INDEX bookings_staff_active_spans (staff_id=? AND busy_start>? AND busy_start<?)"),
            "\(spans)")
        #expect(!spans.contains("SCAN") && !spans.contains("TEMP B-TREE"), "\(spans)")
        let anyone = try await plan(
            SQLiteBookingStore.selectSpans + " WHERE "
                + SQLiteBookingStore.activeOverlap.replacingOccurrences(of: "?", with: "1"))
        #expect(anyone.contains("bookings_active_busy (busy_start>? AND busy_start<?)"), "\(anyone)")
    }

    /// Each index a new row belongs to is one more page the commit writes to the WAL and syncs: at 15 pages per
    /// booking (schema v11) that was a quarter of a create's CPU (issue 11). A new index on `bookings` or `outbox`
    /// must earn its page.
    @Test("a booking's commit writes few pages to the WAL")
    func aBookingCommitWritesFewPages() async throws {
        let store = try SQLiteBookingStore(path: try TempDirectory().path("pages.db"))
        var frames: [Int] = []
        for index in 0..<15 {
            try await store.pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            _ = try await Fixture.book(store, Fixture.booking(at: Int64(index) * 60))
            let log = try await store.pool.writeWithoutTransaction { db in
                try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")?[1] as Int?
            }
            frames.append(try #require(log))
        }
        // The booking (its row and 6 indexes), its event (and AUTOINCREMENT's counter), its job (and the pending jobs'
        // index): 11 pages, more when a page splits.
        #expect(frames.sorted()[frames.count / 2] <= 11, "WAL frames per booking: \(frames)")
    }

    @Test("the database and its -wal and -shm are readable by their owner only; an open one is narrowed")
    func theDatabaseFilesArePrivate() async throws {
        func mode(_ path: String) -> mode_t {
            var info = stat()
            return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
        }
        let path = try TempDirectory().path("private.db")
        let store = try SQLiteBookingStore(path: path)
        _ = try await Fixture.book(store, Fixture.booking())
        #expect(store.tightenedFiles.isEmpty)
        for file in [path, path + "-wal", path + "-shm"] { #expect(mode(file) == 0o600, "\(file)") }
        try store.close()

        #expect(chmod(path, 0o644) == 0)
        let reopened = try SQLiteBookingStore(path: path)
        #expect(reopened.tightenedFiles == [path])
        #expect(mode(path) == 0o600)
        try reopened.close()
    }

    @Test func theDatabaseIsWALWithFullSyncAndTheSchemaVersionIsRecorded() async throws {
        let path = try TempDirectory().path("slotd.db")
        let store = try SQLiteBookingStore(path: path)
        #expect(try await store.journalMode() == "wal")
        #expect(try await store.synchronousSetting() == 2)
        let normal = try SQLiteBookingStore(path: try TempDirectory().path("n.db"), synchronous: .normal)
        #expect(try await normal.synchronousSetting() == 1)
        let version = try await store.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") }
        #expect(version == StoreSchema.schemaVersion)
        let foreignKeys = try await store.pool.read { db in try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(foreignKeys == true)
    }

    /// A database from before bookings kept their override (schema v9) opens with each walk-in's and forced
    /// booking's override taken from its `booking.created` event, except for a booking moved since.
    @Test func theMigrationKeepsOldOverridesFromTheirEvents() throws {
        let directory = try TempDirectory()
        let path = directory.path("old.db")
        do {
            let queue = try DatabaseQueue(path: path)
            try StoreSchema.migrator.migrate(queue, upTo: "v9-customer-records-booking-codes")
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO customers (id, name, created_at, updated_at) VALUES ('cu_old', 'Old', 1, 1);
                        """)
                for (index, id) in ["bk_forced", "bk_moved", "bk_plain"].enumerated() {
                    try db.execute(
                        sql: """
                            INSERT INTO bookings (id, status, staff_id, services, start_at, end_at, busy_start,
                                busy_end, segments, price_minor, currency, customer_id, customer_name, created_at,
                                updated_at)
                            VALUES (?, 'confirmed', 'ana', '["haircut"]', ?, ?, ?, ?, '[]', 2500, 'EUR', 'cu_old',
                                'Old', 1, 1)
                            """,
                        arguments: [id, 1000 * index + 100, 1000 * index + 200, 1000 * index + 100,
                                    1000 * index + 200])
                }
                let events = [
                    (
                        "booking.created",
                        #"{"booking":"bk_forced","override":{"kind":"forced","reason":"late","uid":7}}"#
                    ),
                    ("booking.created", #"{"booking":"bk_moved","override":{"kind":"walk_in","uid":7}}"#),
                    ("booking.rescheduled", #"{"booking":"bk_moved"}"#),
                    ("booking.created", #"{"booking":"bk_plain"}"#),
                ]
                for (type, data) in events {
                    try db.execute(
                        sql: "INSERT INTO events (type, at, data) VALUES (?, 1, ?)", arguments: [type, data])
                }
            }
            try queue.close()
        }
        let store = try SQLiteBookingStore(path: path)
        let bookings = try store.pool.read { db in
            try SQLiteBookingStore.fetchBookings(
                db.makeStatement(sql: SQLiteBookingStore.selectBookings + " ORDER BY b.id"), arguments: [])
        }
        #expect(bookings.map(\.id) == ["bk_forced", "bk_moved", "bk_plain"])
        #expect(bookings[0].override == BookingOverride(waiver: .forced, reason: "late", uid: 7, waived: nil))
        #expect(bookings[1].override == nil, "moved since: checked against the rules in full")
        #expect(bookings[2].override == nil)
        // The database refuses an override that is not one.
        #expect(throws: (any Error).self) {
            try store.pool.write { db in
                try db.execute(sql: #"UPDATE bookings SET staff_override = '{"kind":"none"}' WHERE id = 'bk_plain'"#)
            }
        }
    }

    @Test func aNewerSchemaRefusesToOpen() async throws {
        let path = try TempDirectory().path("slotd.db")
        let store = try SQLiteBookingStore(path: path)
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
        }
        try store.close()
        do {
            _ = try SQLiteBookingStore(path: path)
            Issue.record("a newer database opened")
        } catch {
            #expect(error.code == .schemaTooNew)
            #expect(error.message.contains("newer than this slotd knows"))
        }

        let other = try TempDirectory().path("other.db")
        let second = try SQLiteBookingStore(path: other)
        try await second.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = 99") }
        try second.close()
        #expect(throws: StoreError.self) { _ = try SQLiteBookingStore(path: other) }
    }

    @Test func aFileThatIsNotADatabaseIsAnErrorValue() throws {
        let path = try TempDirectory().path("junk.db")
        try Data(repeating: 0x41, count: 4_096).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteBookingStore(path: path)
            Issue.record("junk opened")
        } catch {
            #expect(error.code == .database)
        }
    }

    struct BadRow: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String
        var testDescription: String { name }
    }

    static let customer =
        "INSERT INTO customers (id, name, email, phone, created_at, updated_at) VALUES ('cu_1', 'Kim', NULL, NULL, 0, 0);"
    static func bookingInsert(status: String = "'confirmed'", start: String = "100", end: String = "200",
                              hold: String = "NULL", customer: String = "'cu_1'") -> String {
        """
        INSERT INTO bookings (id, status, staff_id, services, start_at, end_at, busy_start, busy_end, segments,
            price_minor, currency, customer_id, hold_expires_at, created_at, updated_at)
        VALUES ('bk_x', \(status), 'ana', '["haircut"]', \(start), \(end), 100, 200, '[]', 100, 'EUR', \(customer),
            \(hold), 0, 0)
        """
    }

    static let badRows: [BadRow] = [
        BadRow(name: "unknown status", sql: bookingInsert(status: "'booked'")),
        BadRow(name: "end before start", sql: bookingInsert(start: "200", end: "100")),
        BadRow(name: "held without expiry", sql: bookingInsert(status: "'held'")),
        BadRow(name: "confirmed with an expiry", sql: bookingInsert(hold: "50")),
        BadRow(name: "unknown customer", sql: bookingInsert(customer: "'cu_nobody'")),
        BadRow(name: "cancelled without terms", sql: bookingInsert(status: "'cancelled'")),
        BadRow(name: "empty customer name", sql: "INSERT INTO customers (id, name, email, phone, created_at, updated_at) "
                + "VALUES ('cu_2', ' ', NULL, NULL, 0, 0)"),
        BadRow(name: "bad outbox state",
               sql: "INSERT INTO outbox (kind, payload, due_at, state, created_at) VALUES ('k', '{}', 0, 'x', 0)"),
        BadRow(name: "event data not JSON", sql: "INSERT INTO events (type, at, data) VALUES ('t', 0, 'nope')"),
    ]

    @Test(arguments: badRows)
    func theSchemaRefusesWhatTheCodeWouldMisread(_ row: BadRow) async throws {
        let store = try SQLiteBookingStore(path: try TempDirectory().path("slotd.db"))
        try await store.pool.write { db in try db.execute(sql: Self.customer) }
        let error = await storeError { () async throws(StoreError) in
            _ = try await store.run { try await store.pool.write { db in try db.execute(sql: row.sql) } }
        }
        #expect(error?.code == .constraintViolation)
        #expect(try await store.bookings(matching: BookingQuery()).isEmpty)
    }

    @Test func aDuplicateIdempotencyKeyIsRefusedByTheDatabase() async throws {
        let store = try SQLiteBookingStore(path: try TempDirectory().path("slotd.db"))
        let insert = """
            INSERT INTO idempotency_keys (key, fingerprint, response_status, response_body, created_at)
            VALUES ('k', 'f', 201, x'00', 0)
            """
        try await store.pool.write { db in try db.execute(sql: insert) }
        let error = await storeError { () async throws(StoreError) in
            _ = try await store.run { try await store.pool.write { db in try db.execute(sql: insert) } }
        }
        #expect(error?.code == .constraintViolation)
    }

    @Test("a write whose body fails leaves nothing behind, and the next write commits on the same connection")
    func aFailedWriteRollsBackAndTheNextCommits() async throws {
        let store = try SQLiteBookingStore(path: try TempDirectory().path("slotd.db"))
        try await store.write { db in try db.execute(sql: Self.customer) }
        let insert = """
            INSERT INTO idempotency_keys (key, fingerprint, response_status, response_body, created_at)
            VALUES (?, 'f', 201, x'00', 0)
            """
        struct Refused: Error {}
        // A thrown error after a statement ran, and a constraint failure after one ran: both roll back.
        await #expect(throws: Refused.self) {
            try await store.write { db in
                try db.execute(sql: insert, arguments: ["thrown"])
                throw Refused()
            }
        }
        await #expect(throws: DatabaseError.self) {
            try await store.write { db in
                try db.execute(sql: insert, arguments: ["twice"])
                try db.execute(sql: insert, arguments: ["twice"])
            }
        }
        let keys = try await store.write { db in try String.fetchAll(db, sql: "SELECT key FROM idempotency_keys") }
        #expect(keys.isEmpty)
        #expect(try await store.pool.writeWithoutTransaction { db in db.isInsideTransaction } == false)
        // The cached BEGIN and COMMIT serve the next transactions as well.
        for key in ["a", "b"] { try await store.write { db in try db.execute(sql: insert, arguments: [key]) } }
        #expect(try await store.idempotencyRecord(key: "b") != nil)
    }

    @Test func aBackupIsACompleteDatabase() async throws {
        let directory = try TempDirectory()
        let store = try SQLiteBookingStore(path: directory.path("slotd.db"))
        let booking = try await Fixture.book(store, Fixture.booking())
        let copy = directory.path("backup.db")
        try store.backup(to: copy)
        let restored = try SQLiteBookingStore(path: copy)
        #expect(try await restored.booking(id: booking.id) == booking)
        #expect(try await restored.latestCursor() == 1)
        let error = await storeError { () async throws(StoreError) in
            try store.backup(to: directory.path("missing/dir/backup.db"))
        }
        #expect(error?.code == .database)
    }

    @Test func twoStoresOnOneFileStillBookOnce() async throws {
        // Two connections pools (as two processes would have) racing: SQLite's write lock plus the busy timeout
        // serialise them, and the check inside the transaction sees the other's commit.
        let path = try TempDirectory().path("slotd.db")
        let first = try SQLiteBookingStore(path: path)
        let second = try SQLiteBookingStore(path: path)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                let store = index.isMultiple(of: 2) ? first : second
                group.addTask {
                    try await Fixture.create(store, Fixture.booking(email: "r\(index)@example.com")).booking != nil
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(try await first.bookings(matching: BookingQuery()).count == 1)
    }
}
