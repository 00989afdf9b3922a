// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "slotd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slotctl", targets: ["slotctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // Pure values: local dates and times, weekdays, intervals, interval sets, time-zone arithmetic.
        .target(name: "SlotCore"),
        // Rule text -> located syntax -> validated RuleSet; the hours-expression language. No I/O.
        .target(name: "SlotRules", dependencies: ["SlotCore", .product(name: "Yams", package: "Yams")]),
        // Availability, slot search and the one "is this start bookable" decision.
        .target(name: "SlotEngine", dependencies: ["SlotCore", "SlotRules"]),
        .executableTarget(
            name: "slotctl",
            dependencies: [
                "SlotCore", "SlotRules", "SlotEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "SlotBenchmarks",
            dependencies: ["SlotCore", "SlotRules", "SlotEngine"],
            path: "Benchmarks/SlotBenchmarks"
        ),
        .testTarget(name: "SlotCoreTests", dependencies: ["SlotCore"]),
        .testTarget(name: "SlotRulesTests", dependencies: ["SlotCore", "SlotRules"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SlotEngineTests", dependencies: ["SlotCore", "SlotRules", "SlotEngine"]),
    ],
    swiftLanguageModes: [.v6]
)
