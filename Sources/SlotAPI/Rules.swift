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

/// `POST /v1/rules/preview` with `Content-Type: application/json`: a whole candidate rules directory.
public struct RulePreviewRequest: Codable, Hashable, Sendable {
    /// File name → text: every `*.yaml`/`*.yml` rule file of the candidate (they replace the running directory's
    /// rule files) and any `*.ics` holiday calendar they import (the running directory's calendars stay available).
    public var files: [String: String]

    public init(files: [String: String]) {
        self.files = files
    }
}

/// One start a rule change gains or loses.
public struct PreviewStart: Codable, Hashable, Sendable {
    public var staff: String
    public var service: String
    /// ISO 8601 with the shop's offset at that instant.
    public var start: String

    public init(staff: String, service: String, start: String) {
        self.staff = staff
        self.service = service
        self.start = start
    }
}

/// An active booking that the running rules allow and the candidate would not.
public struct PreviewRefusedBooking: Codable, Hashable, Sendable {
    public var id: String
    /// The customer's name.
    public var customer: String
    /// ISO 8601 with offset.
    public var start: String
    public var staff: String
    /// The service id (several booked back to back are joined with `+`).
    public var service: String
    /// The first reason the candidate gives.
    public var reason: ExplainReason
    /// Every reason the candidate gives.
    public var reasons: [ExplainReason]

    public init(
        id: String, customer: String, start: String, staff: String, service: String, reasons: [ExplainReason]
    ) {
        self.id = id
        self.customer = customer
        self.start = start
        self.staff = staff
        self.service = service
        self.reason = reasons.first ?? ExplainReason(code: .shopClosed, message: "")
        self.reasons = reasons
    }
}

/// How much a rule change changes.
public struct PreviewCounts: Codable, Hashable, Sendable {
    public var gained: Int
    public var lost: Int
    public var noLongerAllowed: Int

    enum CodingKeys: String, CodingKey {
        case gained, lost
        case noLongerAllowed = "no_longer_allowed"
    }

    public init(gained: Int, lost: Int, noLongerAllowed: Int) {
        self.gained = gained
        self.lost = lost
        self.noLongerAllowed = noLongerAllowed
    }
}

/// `POST /v1/rules/preview`: what a candidate would change, computed by the engine; nothing is loaded.
public struct RulePreviewResult: Codable, Hashable, Sendable {
    public var rulesVersionBefore: String
    public var rulesVersionAfter: String
    /// How many local days were compared, from `from` through `to` (dates, inclusive).
    public var days: Int
    public var from: String
    public var to: String
    /// The candidate's warnings (a candidate with errors is a `rules_invalid` problem instead).
    public var diagnostics: [RuleDiagnostic]
    /// Starts the candidate offers and the running rules do not, sorted by start.
    public var gained: [PreviewStart]
    /// Starts the running rules offer and the candidate does not, sorted by start.
    public var lost: [PreviewStart]
    /// Active bookings from now on that only the candidate refuses, sorted by start.
    public var noLongerAllowed: [PreviewRefusedBooking]
    public var counts: PreviewCounts

    enum CodingKeys: String, CodingKey {
        case days, from, to, diagnostics, gained, lost, counts
        case rulesVersionBefore = "rules_version_before"
        case rulesVersionAfter = "rules_version_after"
        case noLongerAllowed = "no_longer_allowed"
    }

    public init(
        rulesVersionBefore: String, rulesVersionAfter: String, days: Int, from: String, to: String,
        diagnostics: [RuleDiagnostic], gained: [PreviewStart], lost: [PreviewStart],
        noLongerAllowed: [PreviewRefusedBooking]
    ) {
        self.rulesVersionBefore = rulesVersionBefore
        self.rulesVersionAfter = rulesVersionAfter
        self.days = days
        self.from = from
        self.to = to
        self.diagnostics = diagnostics
        self.gained = gained
        self.lost = lost
        self.noLongerAllowed = noLongerAllowed
        self.counts = PreviewCounts(gained: gained.count, lost: lost.count, noLongerAllowed: noLongerAllowed.count)
    }
}
