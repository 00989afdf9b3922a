import ArgumentParser
import Foundation
import SlotAPI
import SlotRuleFiles
import SlotRules

/// `slotctl rules …`: work with rule files.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check rule files; preview a candidate against a running daemon's rules, or reload them.",
        subcommands: [Check.self, RulesReloadCommand.self, RulesDiffCommand.self])

    /// `slotctl rules check`: load, merge and validate rule files without a daemon.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate rule files and print every problem with its file:line:column.",
            discussion: """
                Loads every *.yaml file of a rules directory (in name order; *.ics files beside them are the \
                holiday calendars the rules may import), or the files named, merges them and checks them.

                Valid rules print a one-line summary and exit 0; warnings go to stderr. Otherwise every error \
                is printed as `file:line:column: error: what — fix`, one a line, sorted by position.

                Exit codes: 0 valid (warnings allowed), 1 the rules have errors, 66 a path cannot be read.

                Examples:
                  slotctl rules check                  # the Rules/ directory
                  slotctl rules check /etc/slotd/rules --explain
                  slotctl rules check shop.yaml staff.yaml --json
                """)

        @Argument(help: "Rule directories or YAML files (default: Rules).")
        var paths: [String] = []

        @Flag(help: "Also print the compiled rules in canonical form.")
        var explain = false

        @Flag(help: "Print {\"ok\", \"diagnostics\", \"summary\", \"version\"} as JSON on stdout instead.")
        var json = false

        func run() throws {
            let input: (sources: [RuleSource], attachments: [String: String])
            do {
                input = try RuleDirectory.read(paths)
            } catch {
                if json {
                    let unread = CheckOutput.Entry.unlocated(message: error.description)
                    printJSON(CheckOutput(ok: false, diagnostics: [unread], summary: nil, version: nil, compiled: nil))
                } else {
                    FileHandle.standardError.write(Data("slotctl: \(error.description)\n".utf8))
                }
                throw ExitCode(66)
            }
            let result = RuleLoader.load(input.sources, attachments: input.attachments)
            let summary = result.ruleSet.map(Self.summary)
            if json {
                printJSON(
                    CheckOutput(
                        ok: result.ruleSet != nil, diagnostics: result.diagnostics.map { .located($0) },
                        summary: summary, version: result.ruleSet?.version,
                        compiled: explain ? result.ruleSet.map { RuleRenderer.render($0) } : nil))
            } else {
                for diagnostic in result.diagnostics {
                    if diagnostic.severity == .warning {
                        FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
                    } else {
                        print(diagnostic)
                    }
                }
                if let summary { print(summary) }
                if explain, let rules = result.ruleSet { print(RuleRenderer.render(rules), terminator: "") }
                if result.ruleSet == nil {
                    let errors = result.diagnostics.filter { $0.severity == .error }.count
                    FileHandle.standardError.write(
                        Data("Rules: \(errors) error\(errors == 1 ? "" : "s") — nothing was loaded\n".utf8))
                }
            }
            if result.ruleSet == nil { throw ExitCode(1) }
        }

        /// `Rules: ok — 4 files, 2 staff, 4 services, 1 override, 9 holidays (version 1a2b3c4d)`.
        static func summary(_ rules: RuleSet) -> String {
            func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
                "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
            }
            return "Rules: ok — \(count(rules.files.count, "file")), \(count(rules.staff.count, "staff", "staff")), "
                + "\(count(rules.services.count, "service")), \(count(rules.resources.count, "resource")), "
                + "\(count(rules.overrides.count, "override")), \(count(rules.holidays.count, "holiday")) "
                + "(version \(rules.version.prefix(8)))"
        }

        func printJSON(_ output: CheckOutput) {
            print(String(decoding: (try? JSONCoding.encoder.encode(output)) ?? Data("{}".utf8), as: UTF8.self))
        }

        /// `--json`'s object: `summary` and `version` are null when nothing loaded, `compiled` only with `--explain`.
        struct CheckOutput: Encodable {
            /// A diagnostic at its file, line and column, or one about reading the paths at all.
            enum Entry: Encodable {
                case located(Diagnostic)
                case unlocated(message: String)

                enum CodingKeys: String, CodingKey { case file, line, column, severity, message, fix, text }

                func encode(to encoder: any Encoder) throws {
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    switch self {
                    case .located(let diagnostic):
                        try container.encode(diagnostic.location.file, forKey: .file)
                        try container.encode(diagnostic.location.line, forKey: .line)
                        try container.encode(diagnostic.location.column, forKey: .column)
                        try container.encode(diagnostic.severity.rawValue, forKey: .severity)
                        try container.encode(diagnostic.message, forKey: .message)
                        try container.encode(diagnostic.fix, forKey: .fix)
                        try container.encode(diagnostic.description, forKey: .text)
                    case .unlocated(let message):
                        try container.encode("error", forKey: .severity)
                        try container.encode(message, forKey: .message)
                        try container.encode(message, forKey: .text)
                    }
                }
            }

            var ok: Bool
            var diagnostics: [Entry]
            var summary: String?
            var version: String?
            var compiled: String?

            enum CodingKeys: String, CodingKey { case ok, diagnostics, summary, version, compiled }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(ok, forKey: .ok)
                try container.encode(diagnostics, forKey: .diagnostics)
                try container.encode(summary, forKey: .summary)
                try container.encode(version, forKey: .version)
                try container.encodeIfPresent(compiled, forKey: .compiled)
            }
        }
    }
}
