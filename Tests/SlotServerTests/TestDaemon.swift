import Foundation
import SlotClient
import Logging
import SlotProviders
import SlotServer
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real daemon built through `buildDaemon` on a temporary socket, SQLite file and rules directory.
final class TestDaemon: Sendable {
    /// Monday 2030-01-07 08:00 in Berlin (07:00Z): the shop opens at 09:00.
    static let monday0800: Int64 = 1_893_999_600

    static let rules = """
        shop:
          name: Test Shop
          timezone: Europe/Berlin
          currency: EUR
          slot_step: 30m
          min_notice: 0m
          horizon: 60d
        hours: Mo-Su 09:00-17:00
        policies:
          hold: 15m
        services:
          - id: haircut
            name: Haircut
            duration: 30m
            price: 20
          - id: shave
            name: Shave
            duration: 30m
            price: 15
            deposit: 5
        staff:
          - id: alice
            name: Alice
            services: [haircut, shave]
          - id: bob
            name: Bob
            services: [haircut]
        """

    let directory: String
    let daemon: Daemon
    let time: ManualTime
    let client: UnixHTTPClient
    private let task: Task<Void, any Error>

    /// Builds and starts a daemon; `roles` nil keeps the default (this uid is admin).
    /// `holdCheck` is the longest the idle outbox worker (which runs the hold-expiry jobs) sleeps on the manual clock.
    init(
        roles: [UInt32: Role]? = nil, heartbeat: Duration = .seconds(15), bufferSize: Int = 1024,
        holdCheck: Duration = .seconds(30), rules: String = TestDaemon.rules,
        configure: (inout DaemonConfiguration) -> Void = { _ in }
    ) async throws {
        // Short paths: a Unix socket path holds at most 107 bytes.
        let directory = "/tmp/slotd-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try FileManager.default.createDirectory(atPath: directory + "/rules", withIntermediateDirectories: true)
        try rules.write(toFile: directory + "/rules/shop.yaml", atomically: true, encoding: .utf8)
        let time = ManualTime(Self.monday0800)
        var configuration = DaemonConfiguration(
            socketPath: directory + "/slotd.sock", databasePath: directory + "/slotd.sqlite",
            rulesDirectory: directory + "/rules", clock: .manual(time), heartbeatInterval: heartbeat,
            subscriberBufferSize: bufferSize)
        configuration.outbox.idleWake = holdCheck
        if let roles { configuration.roles = roles }
        // Deposits are collected online (Stripe at a closed port: deposit jobs fail and retry, which these tests
        // do not look at), so a booking with a deposit is held and hold expiry stays under test.
        try "sk_test_unused".write(toFile: directory + "/stripe.key", atomically: true, encoding: .utf8)
        try "whsec_test".write(toFile: directory + "/stripe.whsec", atomically: true, encoding: .utf8)
        configuration.providers["stripe"] = ProviderSettings(
            name: "stripe", type: "stripe", file: directory + "/slotd.yaml", directory: directory,
            values: [
                "api_base": ProviderSettingValue(.scalar("http://127.0.0.1:9")),
                "secret_key_file": ProviderSettingValue(.scalar("stripe.key")),
                "webhook_secret_file": ProviderSettingValue(.scalar("stripe.whsec")),
                "timeout": ProviderSettingValue(.scalar("2s")),
            ])
        configuration.paymentProvider = "stripe"
        configuration.logLevel = .warning
        configure(&configuration)
        let daemon = try await buildDaemon(configuration: configuration, logger: Logger(label: "slotd-test"))
        self.directory = directory
        self.daemon = daemon
        self.time = time
        // A bound for a broken daemon, not a speed check: on a loaded machine a sound answer can take many seconds.
        self.client = UnixHTTPClient(socketPath: configuration.socketPath, timeout: 60)
        self.task = Task { try await daemon.run() }
        try await daemon.waitUntilListening()
    }

    /// Shuts down gracefully and checks the run ended without an error.
    func stop() async throws {
        await daemon.shutdown()
        try await task.value
        #expect(!FileManager.default.fileExists(atPath: directory + "/slotd.sock"), "the socket file is removed")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A booking request body.
    static func booking(
        service: String = "haircut", staff: String? = "alice", start: String = "2030-01-07T10:00",
        name: String = "Ann"
    ) -> String {
        let staffField = staff.map { #""staff": "\#($0)", "# } ?? ""
        return #"{"service": "\#(service)", \#(staffField)"start": "\#(start)", "customer": {"name": "\#(name)"}}"#
    }
}
