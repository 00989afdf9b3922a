/// `GET /v1/rules`: what rules are in force.
public struct RulesSummary: Codable, Hashable, Sendable {
    /// A stable hash of the rule sources.
    public var version: String
    /// The rule files, in load order.
    public var files: [String]
    public var shop: ShopInfo
    public var services: Int
    public var staff: Int
    /// When these rules were loaded (ISO 8601).
    public var loadedAt: String
    /// The warnings of the rules in force (they load; each says what to check and how to fix it).
    public var warnings: [RuleDiagnostic]

    enum CodingKeys: String, CodingKey {
        case version, files, shop, services, staff, warnings
        case loadedAt = "loaded_at"
    }

    public init(
        version: String, files: [String], shop: ShopInfo, services: Int, staff: Int, loadedAt: String,
        warnings: [RuleDiagnostic] = []
    ) {
        self.version = version
        self.files = files
        self.shop = shop
        self.services = services
        self.staff = staff
        self.loadedAt = loadedAt
        self.warnings = warnings
    }
}

/// The `shop` section as the API shows it.
public struct ShopInfo: Codable, Hashable, Sendable {
    public var name: String
    /// IANA zone, e.g. `Europe/Berlin`.
    public var timezone: String
    public var currency: String
    public var slotStepMinutes: Int
    public var minNoticeMinutes: Int
    public var horizonMinutes: Int

    enum CodingKeys: String, CodingKey {
        case name, timezone, currency
        case slotStepMinutes = "slot_step_minutes"
        case minNoticeMinutes = "min_notice_minutes"
        case horizonMinutes = "horizon_minutes"
    }

    public init(
        name: String, timezone: String, currency: String, slotStepMinutes: Int, minNoticeMinutes: Int,
        horizonMinutes: Int
    ) {
        self.name = name
        self.timezone = timezone
        self.currency = currency
        self.slotStepMinutes = slotStepMinutes
        self.minNoticeMinutes = minNoticeMinutes
        self.horizonMinutes = horizonMinutes
    }
}

/// How bad a rule diagnostic is: an error rejects the rules, a warning does not.
public enum RuleDiagnosticSeverity: String, Codable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case error
    case warning

    /// The wire spelling.
    public var description: String { rawValue }
}

/// A located rule diagnostic, as `slotctl rules check` prints it.
public struct RuleDiagnostic: Codable, Hashable, Sendable {
    /// `error` or `warning`.
    public var severity: RuleDiagnosticSeverity
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    /// How to fix it; empty when there is nothing to suggest.
    public var fix: String
    /// `file:line:column: error: message — fix`.
    public var text: String

    public init(
        severity: RuleDiagnosticSeverity, file: String, line: Int, column: Int, message: String, fix: String,
        text: String
    ) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.fix = fix
        self.text = text
    }
}

/// `POST /v1/rules/check`: whether a candidate rule file would load, with every diagnostic.
public struct RuleCheckResult: Codable, Hashable, Sendable {
    public var ok: Bool
    public var diagnostics: [RuleDiagnostic]

    public init(ok: Bool, diagnostics: [RuleDiagnostic]) {
        self.ok = ok
        self.diagnostics = diagnostics
    }
}

/// `POST /v1/rules/reload`: the outcome of a successful reload (a failed one is a `rules_invalid` problem).
public struct RuleReloadResult: Codable, Hashable, Sendable {
    /// Whether the version changed (an unchanged rule set is a no-op).
    public var changed: Bool
    public var previousVersion: String
    public var version: String
    /// Warnings found while loading.
    public var diagnostics: [RuleDiagnostic]

    enum CodingKeys: String, CodingKey {
        case changed, version, diagnostics
        case previousVersion = "previous_version"
    }

    public init(changed: Bool, previousVersion: String, version: String, diagnostics: [RuleDiagnostic]) {
        self.changed = changed
        self.previousVersion = previousVersion
        self.version = version
        self.diagnostics = diagnostics
    }
}
