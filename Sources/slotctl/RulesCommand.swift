import ArgumentParser
import Foundation
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
                    let diagnostic: [String: Any] = [
                        "severity": "error", "message": error.description, "text": error.description,
                    ]
                    try printJSON(["ok": false, "diagnostics": [diagnostic], "summary": NSNull(), "version": NSNull()])
                } else {
                    FileHandle.standardError.write(Data("slotctl: \(error.description)\n".utf8))
                }
                throw ExitCode(66)
            }
            let result = RuleLoader.load(input.sources, attachments: input.attachments)
            let summary = result.ruleSet.map(Self.summary)
            if json {
                var object: [String: Any] = [
                    "ok": result.ruleSet != nil,
                    "diagnostics": result.diagnostics.map(Self.json),
                    "summary": summary ?? NSNull(),
                    "version": result.ruleSet?.version ?? NSNull(),
                ]
                if explain, let rules = result.ruleSet { object["compiled"] = RuleRenderer.render(rules) }
                try printJSON(object)
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

        static func json(_ diagnostic: Diagnostic) -> [String: Any] {
            [
                "file": diagnostic.location.file, "line": diagnostic.location.line,
                "column": diagnostic.location.column, "severity": diagnostic.severity.rawValue,
                "message": diagnostic.message, "fix": diagnostic.fix, "text": diagnostic.description,
            ]
        }

        func printJSON(_ object: [String: Any]) throws {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys,
                .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
