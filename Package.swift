// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "slotd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slotctl", targets: ["slotctl"]),
        .executable(name: "slotd", targets: ["slotd"]),
        // For the libFuzzer package under Fuzz/ (a separate package, so the fuzz build stays out of this one).
        .library(name: "SlotCore", targets: ["SlotCore"]),
        .library(name: "SlotRules", targets: ["SlotRules"]),
        .library(name: "SlotServer", targets: ["SlotServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        // The PostgreSQL store (issue 16): async, so no database call blocks Swift's cooperative pool.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Pure values: local dates and times, weekdays, intervals, interval sets, time-zone arithmetic.
        .target(name: "SlotCore"),
        // Blocking work kept off Swift's cooperative pool, and the debug check that says where it ran.
        .target(name: "SlotBlocking"),
        // A Swift task executor on a NIO event loop: the HTTP connections' tasks and the PostgreSQL store's operations
        // run on the loop of their socket instead of hopping to the task pool and back at each read and write.
        .target(
            name: "SlotEventLoops",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Rule text -> located syntax -> validated RuleSet; the hours-expression language. No I/O.
        .target(name: "SlotRules", dependencies: ["SlotCore", .product(name: "Yams", package: "Yams")]),
        // Availability, slot search and the one "is this start bookable" decision.
        .target(name: "SlotEngine", dependencies: ["SlotCore", "SlotRules"]),
        // Reading a rules directory from disk: the I/O side of SlotRules, shared by slotd and slotctl.
        .target(name: "SlotRuleFiles", dependencies: ["SlotRules", "SlotBlocking"]),
        // The wire contract of the v1 API: request, response and event types, the problem+json error body.
        .target(name: "SlotAPI", dependencies: ["SlotCore"]),
        // HTTP/1.1 over the daemon's Unix socket, shared by slotctl (blocking) and the tests (async, own threads).
        .target(name: "SlotClient"),
        // Durable bookings, customers, the event log, the outbox and idempotency keys in SQLite.
        .target(
            name: "SlotStore",
            dependencies: [
                "SlotCore", "SlotRules", "SlotEngine", "SlotBlocking", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The same store protocols on PostgreSQL, for several daemons on one database (issue 16): a target of its
        // own so SlotStore (and what only needs SQLite) does not compile postgres-nio.
        .target(
            name: "SlotStorePostgres",
            dependencies: [
                "SlotCore", "SlotRules", "SlotEngine", "SlotStore", "SlotEventLoops",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The provider boundary: payment and notification protocols, their settings, the exec-plugin host.
        .target(name: "SlotProviders", dependencies: ["CCurl", "CCrypto", "SlotBlocking", "SlotCore"]),
        // Typed wrappers for libcurl's variadic setters (HTTPS and SMTP at no build cost).
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // HMAC-SHA256, PBKDF2 and random bytes from the system's libcrypto: webhook signatures, admin passwords.
        .target(name: "CCrypto", linkerSettings: [.linkedLibrary("crypto")]),
        // glibc's malloc trim threshold, set by slotd at start (docs/benchmarks.md, "CPU per request").
        .target(name: "CMalloc"),
        // The admin page's logins as values: password hashes, sessions and their expiry, CSRF check, login limits.
        .target(name: "SlotAuth", dependencies: ["CCrypto"]),
        // Built-in providers, one folder each under Plugins/ (registered in SlotServer's ProviderCatalog).
        .target(name: "LogProvider", dependencies: ["SlotProviders", .product(name: "Logging", package: "swift-log")],
                path: "Plugins/log"),
        .target(name: "ManualPayment", dependencies: ["SlotProviders"], path: "Plugins/manual"),
        .target(name: "WebhookProvider", dependencies: ["SlotCore", "SlotProviders"], path: "Plugins/webhook"),
        .target(name: "SMTPProvider", dependencies: ["SlotProviders"], path: "Plugins/smtp"),
        .target(name: "StripePayment", dependencies: ["SlotCore", "SlotProviders"], path: "Plugins/stripe"),
        // The composition root: configuration, HTTP routes on the Unix socket, event bus, rule reload.
        .target(
            name: "SlotServer",
            dependencies: [
                "SlotCore", "SlotRules", "SlotRuleFiles", "SlotEngine", "SlotStore", "SlotStorePostgres", "SlotAPI",
                "SlotProviders", "SlotBlocking", "LogProvider", "ManualPayment", "WebhookProvider", "StripePayment",
                "SMTPProvider", "SlotAuth", "SlotEventLoops",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                // Socket activation: serving an inherited descriptor with Hummingbird's HTTP/1 channel.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The connection guard reads request heads and response ends after Hummingbird's HTTP decoder.
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            // openapi.yaml is compiled in by the plugin, not copied as a bundle (see EmbedOpenAPIDocument.swift).
            // The web page's files are compiled in the same way (EmbedWebAssets.swift).
            exclude: ["Resources/openapi.yaml", "Resources/openapi-public.yaml", "Resources/web"],
            plugins: ["EmbedOpenAPIDocument", "EmbedWebAssets"]
        ),
        // Build-time embedding of the OpenAPI document: the tool writes a Swift string, the plugin runs it.
        .executableTarget(name: "EmbedText", path: "BuildPlugins/EmbedText"),
        .plugin(
            name: "EmbedOpenAPIDocument", capability: .buildTool(), dependencies: ["EmbedText"],
            path: "BuildPlugins/EmbedOpenAPIDocument"
        ),
        .plugin(
            name: "EmbedWebAssets", capability: .buildTool(), dependencies: ["EmbedText"],
            path: "BuildPlugins/EmbedWebAssets"
        ),
        .executableTarget(
            name: "slotd",
            dependencies: ["SlotServer", "CMalloc", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "slotctl",
            dependencies: [
                "SlotCore", "SlotRules", "SlotRuleFiles", "SlotEngine", "SlotAPI", "SlotClient", "SlotAuth",
                // `slotctl migrate` calls the stores' own copying (SQLiteStoreDump, PostgresImport); never the server.
                "SlotStore", "SlotStorePostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "SlotBenchmarks",
            dependencies: ["SlotCore", "SlotRules", "SlotEngine"],
            path: "Benchmarks/SlotBenchmarks"
        ),
        // Booking writes per second through SQLiteBookingStore next to raw SQLite doing the same transaction.
        .executableTarget(
            name: "StoreBenchmarks",
            dependencies: ["SlotCore", "SlotRules", "SlotStore", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/StoreBenchmarks"
        ),
        // A slot query's cost on an empty store next to one with 20,000 bookings (issue 10's goals).
        .executableTarget(
            name: "SlotQueryBenchmarks",
            dependencies: ["SlotCore", "SlotRules", "SlotEngine", "SlotStore"],
            path: "Benchmarks/SlotQueryBenchmarks"
        ),
        .testTarget(name: "SlotCoreTests", dependencies: ["SlotCore"]),
        .testTarget(name: "SlotBlockingTests", dependencies: ["SlotBlocking"]),
        .testTarget(name: "SlotAuthTests", dependencies: ["SlotAuth"]),
        .testTarget(name: "SlotRulesTests", dependencies: ["SlotCore", "SlotRules"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SlotEngineTests", dependencies: ["SlotCore", "SlotRules", "SlotEngine"]),
        .testTarget(
            name: "SlotStoreTests",
            dependencies: [
                "SlotCore", "SlotRules", "SlotEngine", "SlotStore", "SlotStorePostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                // A fresh database per test on the throwaway cluster scripts/test starts.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SlotServerTests",
            dependencies: [
                "SlotServer", "SlotAPI", "SlotClient", "SlotCore", "SlotRules", "SlotStore", "SlotProviders",
                "WebhookProvider", "StripePayment", "SlotBlocking",
                // The PostgreSQL event relay's test runs it on stores of its own.
                "SlotStorePostgres",
                .product(name: "Logging", package: "swift-log"),
                // The connection guard's tests feed it HTTP parts.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]),
        .testTarget(name: "SlotProvidersTests", dependencies: ["SlotCore", "SlotProviders", "SMTPProvider"]),
        .testTarget(name: "StripePaymentTests", dependencies: ["StripePayment", "SlotProviders"]),
    ],
    swiftLanguageModes: [.v6]
)
