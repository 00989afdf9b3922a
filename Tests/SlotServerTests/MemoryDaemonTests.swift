import Foundation
import SlotAPI
import SlotClient
import SlotServer
import Testing

/// The daemon on the in-memory store (`--db :memory:`): built by the same `buildDaemon`, the same routes and the
/// same outbox, with a manual clock and no database file.
@Suite("the daemon on the in-memory store")
struct MemoryDaemonTests {
    @Test("a hold is booked, its slot taken, and its expiry job frees it again, with nothing written to disk")
    func holdLifecycleInMemory() async throws {
        let daemon = try await TestDaemon { $0.databasePath = ":memory:" }
        let client = daemon.client
        try await daemon.expectAHoldTakesItsSlotUntilItsExpiryJobRuns()

        let backup = try await client.get("/v1/backup")
        #expect(backup.status == 503)
        #expect(!FileManager.default.fileExists(atPath: daemon.directory + "/slotd.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: daemon.directory + "/:memory:"))
        try await daemon.stop()
    }

    @Test("`database: \":memory:\"` in slotd.yaml names the in-memory store, not a file beside the configuration")
    func configurationNamesTheMemoryStore() throws {
        let base = DaemonConfiguration.development(directory: "/srv/shop")
        let configuration = try ConfigurationFile.parse(
            "database: \":memory:\"\n", file: "slotd.yaml", relativeTo: "/etc/slotd", over: base)
        #expect(configuration.databasePath == ":memory:")
        #expect(DaemonConfiguration.databasePath(":memory:", relativeTo: "/srv") == ":memory:")
        #expect(DaemonConfiguration.databasePath("state/x.sqlite", relativeTo: "/srv") == "/srv/state/x.sqlite")
    }
}
