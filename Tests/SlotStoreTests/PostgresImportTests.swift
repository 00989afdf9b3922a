import Foundation
import SlotCore
import SlotEngine
import SlotRules
@testable import SlotStorePostgres
import Testing

@testable import SlotStore

/// `slotctl migrate`'s copying (issue 16): every SQLite table has a place on PostgreSQL, and a moved store reads the
/// same there and carries on after the moved cursors.
struct PostgresImportTests {
    @Test("the move names every table of the latest SQLite schema, and only those")
    func theMoveKnowsEverySQLiteTable() async throws {
        let path = try TempDirectory().path("slotd.sqlite")
        try SQLiteBookingStore(path: path).close()
        let dump = try await SQLiteStoreDump.read(path: path)
        #expect(Set(dump.tables.keys) == Set(PostgresImport.tables))
        let filled = dump.tables.values.filter { !$0.rows.isEmpty }.map(\.name)
        #expect(filled.isEmpty)
    }

    @Test("a file that is not a slotd store is refused with its path")
    func aMissingFileIsRefused() async throws {
        let path = try TempDirectory().path("nothing.sqlite")
        let error = await storeError { () throws(StoreError) in _ = try await SQLiteStoreDump.read(path: path) }
        #expect(error?.message.contains(path) == true, "\(String(describing: error))")
    }

    @Test(
        "a moved store has the same bookings, events, keys and jobs, continues the cursors, and refuses a second move",
        .enabled(if: PostgresTestDatabase.server != nil, "SLOTD_TEST_POSTGRES is not set"))
    func aMovedStoreReadsTheSame() async throws {
        let path = try TempDirectory().path("slotd.sqlite")
        let sqlite = try SQLiteBookingStore(path: path)
        let first = Fixture.booking(at: 0)
        let created = try await sqlite.createBooking(
            first, at: Fixture.now, idempotency: BookingStoreTests.idempotency("k1"),
            check: Fixture.noOverlap(first.times))
        let held = Fixture.booking(at: 60, hold: Fixture.now + 600, email: "held@example.com")
        _ = try await sqlite.createBooking(
            held, at: Fixture.now, idempotency: nil, check: Fixture.noOverlap(held.times))
        _ = try await sqlite.cancel(try #require(created.booking?.id), at: Fixture.now + 1, policy: Policies())
        // The cancelled booking's time is free again: a new one may overlap it (the exclusion covers active ones).
        let again = Fixture.booking(at: 0, email: "again@example.com")
        _ = try await sqlite.createBooking(
            again, at: Fixture.now, idempotency: nil, check: Fixture.noOverlap(again.times))
        let waiting = try await sqlite.joinWaitlist(WaitlistStoreTests.entry("Anna"), at: Fixture.now)
        let bookings = try await sqlite.bookings(matching: BookingQuery())
        let events = try await sqlite.events(after: 0, typePrefix: nil, limit: 100)
        let jobs = try await sqlite.outboxJobs(state: nil, limit: 100)
        let key = try await sqlite.idempotencyRecord(key: "k1")
        try sqlite.close()

        let location = try await PostgresTestDatabase.fresh()
        let dump = try await SQLiteStoreDump.read(path: path)
        let report = try await PostgresImport.copy(dump, to: location, replace: false)
        #expect(report.lastEventCursor == events.last?.cursor)
        #expect(report.tables.first { $0.table == "bookings" }?.postgres == 3)
        let differing = report.tables.filter { $0.sqlite != $0.postgres }
        #expect(differing.isEmpty)

        let postgres = try await PostgresBookingStore.open(location)
        #expect(try await postgres.bookings(matching: BookingQuery()) == bookings)
        #expect(try await postgres.events(after: 0, typePrefix: nil, limit: 100) == events)
        #expect(try await postgres.outboxJobs(state: nil, limit: 100).map(\.id) == jobs.map(\.id))
        #expect(try await postgres.idempotencyRecord(key: "k1") == key)
        #expect(try await postgres.waitlistEntry(id: waiting.entry.id) == waiting.entry)
        // The next event follows the moved ones, and the database still forbids an overlap of an active booking.
        let next = Fixture.booking(staff: "ben", at: 0, email: "next@example.com")
        let made = try await postgres.createBooking(
            next, at: Fixture.now, idempotency: nil, check: { _ -> String? in nil })
        #expect(made.events.first?.cursor == (events.last?.cursor ?? 0) + 1)
        // A later join takes its place after the moved entries (the position sequence continues).
        let later = try await postgres.joinWaitlist(WaitlistStoreTests.entry("Ben"), at: Fixture.now + 1)
        #expect(later.entry.position > waiting.entry.position)
        let overlap = await storeError { () throws(StoreError) in
            _ = try await postgres.createBooking(
                Fixture.booking(at: 10, email: "x@example.com"), at: Fixture.now, idempotency: nil,
                check: { _ -> String? in nil })
        }
        #expect(overlap?.code == .constraintViolation)
        try await postgres.shutDown()

        // A database with slotd data is refused unless told; told, it is replaced with the file's data.
        let refused = await storeError { () throws(StoreError) in
            _ = try await PostgresImport.copy(dump, to: location, replace: false)
        }
        #expect(refused?.message.contains("--replace") == true, "\(String(describing: refused))")
        let replaced = try await PostgresImport.copy(dump, to: location, replace: true)
        #expect(replaced.tables == report.tables)
    }
}
