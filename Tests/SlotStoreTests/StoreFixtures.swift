import Foundation
import Logging
import PostgresNIO
import SlotCore
import SlotEngine
import SlotRules
import Testing

@testable import SlotStore
import SlotStorePostgres

/// Which implementation a behavioural test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The kinds this run tests: PostgreSQL only when `SLOTD_TEST_POSTGRES` names a cluster (scripts/test starts
    /// one); without it, `PostgresStoreTests.theSuiteRanOnPostgres` is skipped with the reason.
    static var tested: [StoreKind] { PostgresTestDatabase.server == nil ? [.memory, .sqlite] : allCases }

    /// A fresh, empty store (SQLite in a new temporary directory, PostgreSQL in a new database).
    func make() async throws -> any SlotStorage {
        switch self {
        case .memory: return MemoryBookingStore()
        case .sqlite: return try SQLiteBookingStore(path: TempDirectory().path("slotd.db"))
        case .postgres: return try await PostgresBookingStore.open(PostgresTestDatabase.fresh())
        }
    }
}

/// Fresh databases on the cluster `SLOTD_TEST_POSTGRES` names (`postgres://USER@localhost/postgres?host=DIR`).
enum PostgresTestDatabase {
    /// The cluster, or nil when the variable is unset.
    static var server: PostgresLocation? {
        guard let url = ProcessInfo.processInfo.environment["SLOTD_TEST_POSTGRES"], !url.isEmpty else { return nil }
        return try? PostgresLocation(url: url)
    }

    /// A new, empty database (`CREATE DATABASE`), with a pool of four connections so many tests at once stay under
    /// the cluster's connection limit, and a minute's patience: the whole suite runs the store cases at once, and on
    /// a loaded machine the default ten seconds failed tests that pass alone.
    static func fresh() async throws -> PostgresLocation {
        let server = try #require(server, "SLOTD_TEST_POSTGRES is not set: run the tests through scripts/test")
        let name = "slotd_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await withAdminConnection(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: testLogger)
        }
        var location = server.with(database: name)
        location.poolSize = 4
        location.operationTimeoutSeconds = 60
        return location
    }

    /// Runs `body` on one connection to the cluster's maintenance database.
    static func withAdminConnection(
        _ server: PostgresLocation, _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let configuration = PostgresConnection.Configuration(
            unixSocketPath: (server.socketDirectory ?? "/var/run/postgresql") + "/.s.PGSQL.\(server.port)",
            username: server.user, password: server.password, database: server.database)
        let connection = try await PostgresConnection.connect(
            configuration: configuration, id: 1, logger: testLogger)
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    static let testLogger = Logger(label: "slotd.tests.postgres")
}

/// A new directory under the system's temporary directory.
struct TempDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("slotstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

enum Fixture {
    /// 2027-01-15T08:00:00Z, a Friday.
    static let day: Int64 = 1_800_000_000 - 1_800_000_000 % 86_400 + 8 * 3_600
    static let now: Int64 = day - 7 * 86_400
    static let eur = Money(minorUnits: 2_500, currency: "EUR")

    static let haircut = BookingFootprint(
        segments: [Segment(.active, minutes: 30)], bufferBeforeMinutes: 0, bufferAfterMinutes: 10)
    /// A haircut that needs the shop's one special chair.
    static let chairCut = BookingFootprint(
        segments: [Segment(.active, minutes: 30)], bufferAfterMinutes: 10,
        resources: [ResourceNeed(resource: "chair", count: 1)])
    static let wash = BookingFootprint(
        segments: [Segment(.active, minutes: 20)], resources: [ResourceNeed(resource: "basin", count: 1)])

    /// A 30-minute haircut for `staff` starting `minutes` after `day`.
    static func booking(
        staff: String = "ana", at minutes: Int64 = 0, footprint: BookingFootprint = haircut, hold: Int64? = nil,
        customer: String = "Kim", email: String? = "kim@example.com", phone: String? = "+49 30 1234"
    ) -> NewBooking {
        let start = day + minutes * 60
        return NewBooking(
            staffID: staff, services: ["haircut"], times: times(start, footprint), price: eur,
            deposit: hold == nil ? nil : Money(minorUnits: 500, currency: "EUR"),
            customer: CustomerInfo(name: customer, email: email, phone: phone), notes: "short",
            holdExpiresAt: hold)
    }

    static func times(_ start: Int64, _ footprint: BookingFootprint = haircut) -> BookingTimes {
        BookingTimes(start: start, end: start + footprint.durationSeconds, footprint: footprint)
    }

    /// The simplest rule: refuse when a booking of the same staff member, or one holding a resource the candidate
    /// needs (every resource has one unit), is busy during the candidate's busy span.
    static func noOverlap(
        _ times: BookingTimes, staff: String = "ana"
    ) -> @Sendable ([BookedSpan]) -> String? {
        let busy = times.busy
        let needed = Set(times.footprint.resources.map(\.resource))
        return { conflicting in
            conflicting.first { other in
                other.staffBusy.overlaps(busy)
                    && (other.staff == staff || other.resources.contains { needed.contains($0.resource) })
            }.map { "overlaps \($0.id)" }
        }
    }

    /// Creates `new` under the no-overlap rule, without an idempotency key.
    static func create(
        _ store: any BookingStore, _ new: NewBooking, at now: Int64 = now
    ) async throws -> BookingCreation<String> {
        try await store.createBooking(new, at: now, idempotency: nil, check: noOverlap(new.times, staff: new.staffID))
    }

    /// Creates `new`, which must succeed, and returns the booking.
    static func book(_ store: any BookingStore, _ new: NewBooking) async throws -> StoredBooking {
        let creation = try await create(store, new)
        return try #require(creation.booking, "expected a booking, got \(creation)")
    }
}

/// Runs `body` and returns the `StoreError` it threw, or nil.
func storeError(_ body: () async throws(StoreError) -> Void) async -> StoreError? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}
