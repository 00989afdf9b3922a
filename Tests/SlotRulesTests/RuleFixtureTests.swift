import Foundation
import SlotRules
import Testing

/// The golden fixtures: `Fixtures/<name>.rules.yaml` beside `<name>.compiled.txt` (canonical form, warnings first as
/// comments) or `<name>.error.txt` (every diagnostic, one a line). A fixture may hold several files, each starting
/// with a line `#=== <file name>`; every `*.ics` in `Fixtures` is an attachment.
///
/// Run with `SLOTD_UPDATE_FIXTURES=1` to rewrite the expected files in the source tree, then review the diff.
enum RuleFixtures {
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".rules.yaml") }.map { String($0.dropLast(".rules.yaml".count)) }.sorted()
    }

    static func text(_ file: String) -> String? {
        try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    static var attachments: [String: String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var result: [String: String] = [:]
        for file in files where file.hasSuffix(".ics") { result[file] = text(file) }
        return result
    }

    /// The rule files of a fixture.
    static func sources(_ name: String) -> [RuleSource] {
        let text = text("\(name).rules.yaml") ?? ""
        guard text.hasPrefix("#=== ") else { return [RuleSource(name: "\(name).rules.yaml", text: text)] }
        var sources: [RuleSource] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#=== ") {
                sources.append(RuleSource(name: "\(name)/\(line.dropFirst(5))", text: ""))
            } else if !sources.isEmpty {
                sources[sources.count - 1].text += line + "\n"
            }
        }
        return sources
    }

    /// What the loader makes of a fixture, in the golden files' format.
    static func actual(_ name: String) -> (text: String, result: RuleLoadResult) {
        let result = RuleLoader.load(sources(name), attachments: attachments)
        let diagnostics = result.diagnostics.map(\.description)
        if let rules = result.ruleSet {
            let warnings = diagnostics.map { "# \($0)\n" }.joined()
            return (warnings + RuleRenderer.render(rules, header: false), result)
        }
        return (diagnostics.joined(separator: "\n") + "\n", result)
    }
}

@Suite("Rule file golden fixtures")
struct RuleFixtureTests {
    @Test("there are fixtures of both kinds")
    func fixturesExist() {
        let names = RuleFixtures.names
        #expect(names.count >= 15)
        #expect(names.contains { RuleFixtures.text("\($0).compiled.txt") != nil })
        #expect(names.contains { RuleFixtures.text("\($0).error.txt") != nil })
    }

    @Test("each fixture loads to its golden output", arguments: RuleFixtures.names)
    func fixtureMatchesGolden(name: String) throws {
        let (actual, result) = RuleFixtures.actual(name)
        let compiled = RuleFixtures.text("\(name).compiled.txt")
        let errors = RuleFixtures.text("\(name).error.txt")
        if ProcessInfo.processInfo.environment["SLOTD_UPDATE_FIXTURES"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
            let suffix = result.ruleSet == nil ? "error.txt" : "compiled.txt"
            let other = result.ruleSet == nil ? "compiled.txt" : "error.txt"
            try actual.write(to: source.appendingPathComponent("\(name).\(suffix)"), atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(at: source.appendingPathComponent("\(name).\(other)"))
            return
        }
        #expect((compiled == nil) != (errors == nil), "\(name): exactly one of .compiled.txt and .error.txt")
        if let compiled {
            #expect(result.ruleSet != nil, "\(name) should load")
            #expect(actual == compiled)
        }
        if let errors {
            #expect(result.ruleSet == nil, "\(name) should be rejected")
            #expect(result.diagnostics.hasErrors)
            #expect(actual == errors)
        }
    }

    @Test("rendering, loading the rendering and rendering again gives the same text",
        arguments: RuleFixtures.names)
    func canonicalFormIsAFixedPoint(name: String) throws {
        let (_, result) = RuleFixtures.actual(name)
        guard let rules = result.ruleSet else { return }
        let first = RuleRenderer.render(rules, header: false)
        let again = RuleLoader.load([RuleSource(name: "canonical.yaml", text: first)])
        #expect(!again.diagnostics.hasErrors, "\(again.diagnostics)")
        let second = try #require(again.ruleSet)
        #expect(RuleRenderer.render(second, header: false) == first)
    }

    @Test("diagnostics are sorted by location", arguments: RuleFixtures.names)
    func diagnosticsAreSorted(name: String) {
        let (_, result) = RuleFixtures.actual(name)
        let locations = result.diagnostics.map(\.location)
        #expect(locations == locations.sorted())
    }
}
