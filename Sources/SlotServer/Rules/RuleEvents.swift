import SlotAPI
import SlotStore

// The `data` of the rule reloader's events, as typed values (sorted-key JSON through `StoreJSON.encode`).

/// `rules.reloaded`: a new rule set is in force.
struct RulesReloadedEventData: Encodable {
    var version: String
    var previousVersion: String
    var files: [String]
    var trigger: String
    /// How many warnings the new rules have.
    var warnings: Int

    enum CodingKeys: String, CodingKey {
        case version, files, trigger, warnings
        case previousVersion = "previous_version"
    }
}

/// `rules.rejected`: a reload failed and the rules in force stay.
struct RulesRejectedEventData: Encodable {
    /// One error of the rejected rules, located.
    struct Problem: Encodable {
        var file: String
        var line: Int
        var column: Int
        var message: String
        var fix: String
        var text: String
    }

    var message: String
    var errors: [Problem]
    var trigger: String
    /// The version still in force; empty when none is.
    var version: String
}

/// `booking.conflicts_rules`: a booking the rules in force would not allow any more, and why.
struct BookingConflictsRulesEventData: Encodable {
    var booking: String
    var status: String
    var staff: String
    var services: [String]
    var start: Int64
    var end: Int64
    var rulesVersion: String
    var reasons: [ExplainReason]

    enum CodingKeys: String, CodingKey {
        case booking, status, staff, services, start, end, reasons
        case rulesVersion = "rules_version"
    }
}
