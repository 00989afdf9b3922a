import SlotCore

/// One rule file's text and the name to report it under.
public struct RuleSource: Sendable, Hashable {
    public var name: String
    public var text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }
}

/// The outcome of loading rule files: the rule set when there are no errors, and every diagnostic found.
public struct RuleLoadResult: Sendable {
    public var ruleSet: RuleSet?
    public var diagnostics: [Diagnostic]

    public init(ruleSet: RuleSet?, diagnostics: [Diagnostic]) {
        self.ruleSet = ruleSet
        self.diagnostics = diagnostics
    }
}

/// Parses, merges and validates YAML rule files. No I/O: the caller reads the files.
///
/// CONTRACT (filled in by the rule-file work): never traps on any input; reports every problem it finds.
public enum RuleLoader {
    /// Loads `files` (every `*.yaml` of a rules directory, in name order) into one rule set.
    /// `attachments` holds other files the rules may name, by file name (e.g. `holidays.ics`).
    public static func load(_ files: [RuleSource], attachments: [String: String] = [:]) -> RuleLoadResult {
        var compiler = RuleCompiler(attachments: attachments)
        return compiler.compile(files)
    }
}
