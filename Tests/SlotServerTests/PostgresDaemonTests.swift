import Foundation
import SlotAPI
import SlotBlocking
import SlotClient
import SlotServer
import Testing

/// `database: postgres://…` (issue 16): the configuration keeps the URL as it is and refuses a bad one with its place;
/// the daemon runs on PostgreSQL with the same routes, outbox and manual clock as on SQLite.
@Suite("the daemon on PostgreSQL")
struct PostgresDaemonTests {
    static let server = ProcessInfo.processInfo.environment["SLOTD_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    @Test("a postgres:// database setting is kept as it is, not resolved as a file beside the configuration")
    func configurationKeepsTheURL() throws {
        let base = DaemonConfiguration.development(directory: "/srv/shop")
        let url = "postgres://slotd:secret@db.internal:5433/shop?pool=4"
        let configuration = try ConfigurationFile.parse(
            "database: \"\(url)\"\n", file: "slotd.yaml", relativeTo: "/etc/slotd", over: base)
        #expect(configuration.databasePath == url)
        #expect(DaemonConfiguration.databasePath(url, relativeTo: "/srv") == url)
    }

    @Test(
        "a bad PostgreSQL URL is a configuration error on its line, saying what is wrong and what a good one looks like",
        arguments: [
            ("postgres://db.internal/shop", "names no user"),
            ("postgres://slotd@db.internal/", "names no database"),
            ("postgres://slotd@db.internal/shop?pool=0", "pool '0'"),
            ("postgres://slotd@db.internal/shop?sslmode=maybe", "sslmode 'maybe'"),
            ("postgres://slotd@db.internal/shop?colour=blue", "unknown parameter 'colour'"),
        ])
    func aBadURLIsAConfigurationError(url: String, problem: String) {
        let base = DaemonConfiguration.development(directory: "/srv/shop")
        do {
            _ = try ConfigurationFile.parse(
                "log_level: info\ndatabase: \"\(url)\"\n", file: "slotd.yaml", relativeTo: "/etc/slotd", over: base)
            Issue.record("\(url) must be refused")
        } catch {
            #expect(error.problems.map(\.line) == [2])
            let text = "\(error)"
            #expect(text.contains(problem), "\(text)")
            #expect(text.contains("use postgres://USER"), "\(text)")
        }
    }

    @Test(
        "on PostgreSQL a hold is booked, takes its slot, and its durable expiry job frees it",
        .enabled(if: server != nil, "SLOTD_TEST_POSTGRES is not set: the daemon is not tested on PostgreSQL"))
    func holdLifecycleOnPostgres() async throws {
        // A password the cluster does not ask for (trust on its socket), to see it stays out of what is shown.
        let url = try await freshDatabase() + "&password=secret"
        let daemon = try await TestDaemon { $0.databasePath = url }
        let client = daemon.client
        try await daemon.expectAHoldTakesItsSlotUntilItsExpiryJobRuns()
        let status = try await client.get("/v1/status")
        #expect(status.status == 200)
        let shown = String(decoding: status.body, as: UTF8.self)
        #expect(shown.contains("postgres://") && !shown.contains("secret"), "\(shown)")
        #expect(try await client.get("/v1/backup").status == 503, "pg_dump's job")
        try await daemon.stop()
    }

    /// A new database on the test cluster, through psql (as the integration tests make theirs), with a minute's
    /// patience: the store's 10 s default, opening included (its migrations), was too short for a loaded machine
    /// (seen three times, the last in the relay's test at a load average of 13).
    func freshDatabase() async throws -> String {
        let server = try #require(Self.server)
        let name = "slotd_daemon_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        // psql waits for its process: off the cooperative pool.
        let status = try await BlockingWork.run { () throws -> Int32 in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            process.arguments = [server, "-X", "-q", "-c", "CREATE DATABASE \(name)"]
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(status == 0)
        let query = server.firstIndex(of: "?") ?? server.endIndex
        let parameters = server[query...].isEmpty ? "?timeout=60" : server[query...] + "&timeout=60"
        return server[..<query].replacingOccurrences(of: "/postgres", with: "/\(name)") + parameters
    }
}

extension TestDaemon {
    /// A `shave` (deposit: held) is booked and takes its slot; 16 minutes on, its durable expiry job frees it. The
    /// same on every store the daemon runs on.
    func expectAHoldTakesItsSlotUntilItsExpiryJobRuns() async throws {
        let created = try await client.post("/v1/bookings", json: TestDaemon.booking(service: "shave"))
        #expect(created.status == 201)
        let held = try JSONDecoder().decode(BookingDetails.self, from: created.body)
        #expect(held.status == .held)
        let taken = try await client.post("/v1/bookings", json: TestDaemon.booking(service: "shave", name: "Bo"))
        #expect(taken.status == 409, "the hold takes its slot")
        time.advance(by: 16 * 60)
        // The worker's own lanes may take the due expiry job first; this returns once nothing is in flight.
        await daemon.runDueJobsNow()
        let expired = try JSONDecoder().decode(
            BookingDetails.self, from: try await client.get("/v1/bookings/\(held.id)").body)
        #expect(expired.status == .expired)
        let again = try await client.post("/v1/bookings", json: TestDaemon.booking(service: "shave", name: "Bo"))
        #expect(again.status == 201, "the expired hold freed its slot")
    }
}
