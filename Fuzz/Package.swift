// swift-tools-version: 6.1
// libFuzzer targets for slotd, kept out of the root package's build: `scripts/fuzz` builds them with
// `-sanitize=fuzzer,address` into .build-fuzz and runs them. See docs/fuzzing.md.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name (the checkout may be called anything).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let slotd = root.lastPathComponent.lowercased()

// No `main.swift`: each target defines `<Module>_main` itself (see FuzzSupport), so none may get a generated one.
let fuzzTarget: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "slotd-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        // The declaration of libFuzzer's driver, which every target's entry point calls.
        .target(name: "FuzzDriver"),
        // The entry point's plumbing and the invariant check shared by the targets.
        .target(name: "FuzzSupport", dependencies: ["FuzzDriver"]),
        // The hour-expression parser and evaluator.
        .executableTarget(
            name: "FuzzHours",
            dependencies: [
                "FuzzSupport", .product(name: "SlotCore", package: slotd), .product(name: "SlotRules", package: slotd),
            ],
            swiftSettings: fuzzTarget
        ),
        // The rule-file loader: one file or a small directory of them (`#=== name` lines split the input).
        .executableTarget(
            name: "FuzzRules",
            dependencies: [
                "FuzzSupport", .product(name: "SlotCore", package: slotd), .product(name: "SlotRules", package: slotd),
            ],
            swiftSettings: fuzzTarget
        ),
        // The API's request bodies: the server's own decoding and validation, without a server.
        .executableTarget(
            name: "FuzzRequests",
            dependencies: ["FuzzSupport", .product(name: "SlotServer", package: slotd)],
            swiftSettings: fuzzTarget
        ),
    ],
    swiftLanguageModes: [.v6]
)
