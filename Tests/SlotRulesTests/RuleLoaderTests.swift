import Foundation
import SlotCore
import Testing

@testable import SlotRules

/// The example shop in `Rules/`, read the way `slotctl` reads a directory.
enum ExampleRules {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Rules")
    }

    static func read() -> (sources: [RuleSource], attachments: [String: String]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        var sources: [RuleSource] = []
        var attachments: [String: String] = [:]
        for name in names {
            let text = (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
            if name.hasSuffix(".yaml") { sources.append(RuleSource(name: "Rules/\(name)", text: text)) }
            if name.hasSuffix(".ics") { attachments[name] = text }
        }
        return (sources, attachments)
    }
}

/// SplitMix64: a seeded generator so a failing mutation can be reproduced.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Rule loader")
struct RuleLoaderTests {
    static let minimal = """
        shop: {name: Test, timezone: Europe/Berlin}
        hours: Mo-Fr 09:00-18:00
        services: [{id: cut, name: Cut, duration: 20m, price: 20}]
        staff: [{id: ana, name: Ana, services: [cut]}]

        """

    @Test("the example shop in Rules/ loads without errors or warnings")
    func exampleShopLoads() throws {
        let (sources, attachments) = ExampleRules.read()
        #expect(sources.count >= 3)
        let result = RuleLoader.load(sources, attachments: attachments)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))")
        let rules = try #require(result.ruleSet)
        #expect(rules.files == sources.map(\.name))
        #expect(rules.staff.count == 2)
        #expect(rules.services.count == 4)
        #expect(rules.shop.timeZone.identifier == "Europe/Berlin")
        #expect(rules.shop.currency == "EUR")
        #expect(rules.services.contains { $0.segments.contains { $0.kind == .processing } })
        #expect(rules.services.contains { !$0.variants.isEmpty })
        #expect(!rules.overrides.isEmpty)
        #expect(rules.holidays.contains { if case .easter = $0.rule { true } else { false } })
    }

    @Test("every YAML file in Rules/ names the JSON schema for editors")
    func exampleFilesNameTheSchema() {
        for source in ExampleRules.read().sources {
            #expect(source.text.hasPrefix("# yaml-language-server: $schema=schema/slotd-rules.schema.json"),
                "\(source.name)")
        }
    }

    @Test("the version is a stable hash of the file names and texts")
    func versionIsStable() throws {
        let source = RuleSource(name: "a.yaml", text: Self.minimal)
        let first = try #require(RuleLoader.load([source]).ruleSet?.version)
        let again = try #require(RuleLoader.load([source]).ruleSet?.version)
        let renamed = try #require(RuleLoader.load([RuleSource(name: "b.yaml", text: Self.minimal)]).ruleSet?.version)
        let edited = try #require(
            RuleLoader.load([RuleSource(name: "a.yaml", text: Self.minimal + "# note\n")]).ruleSet?.version)
        #expect(first.count == 16 && first.allSatisfy(\.isHexDigit))
        #expect(first == again)
        #expect(first != renamed)
        #expect(first != edited)
    }

    @Test("the version ignores the directory a file was read from")
    func versionIgnoresDirectory() throws {
        let versions = try ["shop.yaml", "rules/shop.yaml", "./rules/shop.yaml", "/srv/slotd/rules/shop.yaml"].map {
            try #require(RuleLoader.load([RuleSource(name: $0, text: Self.minimal)]).ruleSet?.version)
        }
        #expect(Set(versions).count == 1)
        let renamed = try #require(RuleLoader.load([RuleSource(name: "rules/b.yaml", text: Self.minimal)]).ruleSet)
        #expect(renamed.version != versions[0])
    }

    @Test("a city alone suggests the time zone it names")
    func cityNamesZone() {
        let result = RuleLoader.load([RuleSource(name: "a.yaml", text: Self.minimal.replacingOccurrences(
            of: "Europe/Berlin", with: "Vienna"))])
        #expect(result.diagnostics.map(\.fix) == ["did you mean Europe/Vienna?"])
    }

    @Test("an imported calendar is part of the version")
    func versionCoversCalendars() throws {
        let text = Self.minimal + "holidays: [{ics: h.ics}]\n"
        func version(_ summary: String) -> String? {
            let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nSUMMARY:\(summary)\nEND:VEVENT\n"
                + "END:VCALENDAR\n"
            return RuleLoader.load([RuleSource(name: "a.yaml", text: text)], attachments: ["h.ics": ics]).ruleSet?
                .version
        }
        let one = try #require(version("One"))
        let two = try #require(version("Two"))
        #expect(one != two)
    }

    /// The hour expression with a bad weekday, written plain, single-quoted (with an escaped quote before the
    /// error) and double-quoted (with escapes before the error).
    @Test(
        "hour-expression errors point at the column in the file, whatever the quoting",
        arguments: [
            "hours: Mo-Fr 09:00-18:00; Tue 10:00-12:00",
            "hours: 'Mo-Fr 09:00-18:00; Tue 10:00-12:00'",
            "hours: 'Mo off \"it''s\"; Tue 10:00-12:00'",
            "hours: \"Mo-Fr 09:00-18:00; Tue 10:00-12:00\"",
            "hours: \"Mo off \\\"x\\\"; Tue 10:00-12:00\"",
            "hours: \"Mo off \\u0022x\\u0022; Tue 10:00-12:00\"",
            "hours:    Mo-Fr 09:00-18:00;   Tue 10:00-12:00",
        ])
    func hoursColumnsAreMapped(line: String) throws {
        let text = Self.minimal.replacingAll("\n", with: "\n").split(separator: "\n").filter { !$0.hasPrefix("hours") }
            .joined(separator: "\n") + "\n" + line + "\n"
        let lineNumber = text.split(separator: "\n").count
        let result = RuleLoader.load([RuleSource(name: "a.yaml", text: text)])
        let diagnostic = try #require(result.diagnostics.first { $0.message.contains("Tue") })
        let expectedColumn = try #require(line.range(of: "Tue")).lowerBound.utf16Offset(in: line) + 1
        #expect(diagnostic.location == .init(file: "a.yaml", line: lineNumber, column: expectedColumn))
    }

    @Test("problems in several files are all reported, sorted by file and position")
    func reportsAllFiles() {
        let result = RuleLoader.load([
            RuleSource(name: "a.yaml", text: Self.minimal + "resources: [{id: chair, count: 0}]\n"),
            RuleSource(name: "b.yaml", text: "breaks: [Mo 12:00-13:00]\nholidays: [Dex 25]\nbogus: 1\n"),
        ])
        let places = result.diagnostics.map { "\($0.location.file):\($0.location.line)" }
        #expect(places == ["a.yaml:5", "b.yaml:2", "b.yaml:3"])
        #expect(result.ruleSet == nil)
    }

    @Test(
        "an unknown time zone suggests close IANA names",
        arguments: [("Europe/Berln", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"),
            ("America/New_Yrok", "America/New_York")])
    func timeZoneSuggestion(written: String, suggested: String) throws {
        let text = Self.minimal.replacingAll("\n", with: "\n")
            .split(separator: "\n").map { $0.hasPrefix("shop") ? "shop: {name: T, timezone: \(written)}" : String($0) }
            .joined(separator: "\n")
        let result = RuleLoader.load([RuleSource(name: "a.yaml", text: text)])
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.message == "unknown time zone '\(written)'")
        #expect(diagnostic.fix == "did you mean \(suggested)?")
    }

    @Test(
        "the assign policy reads balanced and in_order, and is balanced when not written",
        arguments: [("", StaffAssignment.balanced), ("policies: {assign: balanced}\n", .balanced),
            ("policies: {assign: in_order}\n", .inOrder)])
    func assignPolicy(text: String, expected: StaffAssignment) throws {
        let result = RuleLoader.load([RuleSource(name: "a.yaml", text: Self.minimal + text)])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(try #require(result.ruleSet).policies.assign == expected)
    }

    @Test(
        "a wrong assign policy is an error at its file:line:column with the fix",
        arguments: [("inorder", "did you mean 'in_order'?"), ("Balanced", "did you mean 'balanced'?"),
            ("fair", "use balanced (the least booked staff member that day) or in_order (the first listed)")])
    func assignPolicyWrong(written: String, fix: String) throws {
        let result = RuleLoader.load([
            RuleSource(name: "a.yaml", text: Self.minimal + "policies:\n  hold: 10m\n  assign: \(written)\n")
        ])
        #expect(result.ruleSet == nil)
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.location == .init(file: "a.yaml", line: 7, column: 11))
        #expect(diagnostic.message == "unknown assign policy '\(written)'")
        #expect(diagnostic.fix == fix)
    }

    @Test("a break outside the hours is a warning that names the first time it falls outside; the rules load")
    func breakOutsideHours() throws {
        let result = RuleLoader.load([
            RuleSource(name: "a.yaml", text: Self.minimal + "breaks: [Mo-Sa 12:00-13:00]\n")
        ])
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.severity == .warning)
        #expect(result.ruleSet != nil)
        #expect(diagnostic.message.contains("2026-01-10T12:00"))  // the first Saturday of the window
        #expect(diagnostic.fix.hasSuffix("write 'Mo-Sa 12:00-13:00; Sa off'"))
    }

    @Test("a break on a holiday is not outside the hours when the holiday closes the shop")
    func breakOnHoliday() {
        let text = Self.minimal.replacingAll("\n", with: "\n").replacingOccurrences(
            of: "hours: Mo-Fr 09:00-18:00", with: "hours: Mo-Fr 09:00-18:00; PH off")
            + "holidays: [easter+1]\nbreaks: [Mo-Fr 12:00-13:00]\n"
        let result = RuleLoader.load([RuleSource(name: "a.yaml", text: text)])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    }

    @Test("no files and empty files are reported, not trapped on")
    func emptyInput() {
        #expect(RuleLoader.load([]).diagnostics.hasErrors)
        let empty = RuleLoader.load([RuleSource(name: "e.yaml", text: ""), RuleSource(name: "m.yaml",
            text: Self.minimal)])
        #expect(empty.ruleSet != nil)
        #expect(empty.diagnostics.map(\.severity) == [.warning])
    }

    @Test("deeply nested input is rejected without exhausting the stack", arguments: [10_000, 900])
    func deepNesting(depth: Int) {
        let flow = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let block = (0..<depth).map { String(repeating: " ", count: $0) + "- " }.joined(separator: "\n") + "x"
        for text in ["hours: " + flow, "breaks:\n" + block, String(repeating: "- ", count: depth)] {
            let result = RuleLoader.load([RuleSource(name: "deep.yaml", text: text)])
            #expect(result.diagnostics.hasErrors)
        }
    }

    /// One randomly mutated copy of the example files: truncations, deletions, insertions of YAML punctuation,
    /// duplicated and removed runs; sometimes a truncated calendar too.
    static func mutate(
        _ sources: [RuleSource], _ attachments: [String: String], round: Int, using generator: inout SeededGenerator
    ) -> ([RuleSource], [String: String]) {
        let alphabet: [Character] = Array(" :-[]{},'\"#\n\t|>&*!%@`?0123456789mhdMoTuSa.é\u{0}\r")
        var files = sources
        let index = Int.random(in: 0..<files.count, using: &generator)
        var characters = Array(files[index].text)
        for _ in 0..<Int.random(in: 1...4, using: &generator) where !characters.isEmpty {
            let at = Int.random(in: 0..<characters.count, using: &generator)
            switch Int.random(in: 0..<6, using: &generator) {
            case 0: characters = Array(characters[..<at])  // truncation
            case 1: characters.remove(at: at)
            case 2: characters.insert(alphabet.randomElement(using: &generator) ?? " ", at: at)
            case 3: characters[at] = alphabet.randomElement(using: &generator) ?? " "
            case 4:
                let end = min(characters.count, at + Int.random(in: 1...40, using: &generator))
                characters.insert(contentsOf: characters[at..<end], at: at)
            default:
                let end = min(characters.count, at + Int.random(in: 1...40, using: &generator))
                characters.removeSubrange(at..<end)
            }
        }
        files[index].text = String(characters)
        var calendars = attachments
        if round % 10 == 0, let name = calendars.keys.first, let ics = calendars[name] {
            calendars[name] = String(ics.prefix(Int.random(in: 0...ics.count, using: &generator)))
        }
        return (files, calendars)
    }

    @Test("no mutation of the example files crashes the loader (2,000 mutations)")
    func fuzzedExamplesNeverCrash() async {
        let (sources, attachments) = ExampleRules.read()
        // Four seeded batches in parallel: the loader is pure, so they cannot interfere.
        let outcomes = await withTaskGroup(of: (loaded: Int, rejected: Int, bad: [String]).self) { group in
            for batch in 0..<4 {
                group.addTask {
                    var generator = SeededGenerator(state: 20_260_105 &+ UInt64(batch))
                    var loaded = 0
                    var rejected = 0
                    var bad: [String] = []
                    for round in 0..<500 {
                        let (files, calendars) = Self.mutate(sources, attachments, round: round, using: &generator)
                        let result = RuleLoader.load(files, attachments: calendars)
                        if result.ruleSet != nil {
                            loaded += 1
                        } else {
                            rejected += 1
                            if !result.diagnostics.hasErrors { bad.append("rejected without an error: \(files)") }
                        }
                        for diagnostic in result.diagnostics
                        where diagnostic.location.line < 1 || diagnostic.location.column < 1 {
                            bad.append("bad location: \(diagnostic)")
                        }
                    }
                    return (loaded, rejected, bad)
                }
            }
            var all: [(loaded: Int, rejected: Int, bad: [String])] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.reduce(0) { $0 + $1.loaded + $1.rejected } == 2_000)
        #expect(outcomes.reduce(0) { $0 + $1.rejected } > 0)
        #expect(outcomes.flatMap(\.bad).isEmpty, "\(outcomes.flatMap(\.bad).prefix(3))")
    }
}
