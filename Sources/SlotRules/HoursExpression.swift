import SlotCore

/// A parsed OpenStreetMap `opening_hours` expression (the subset slotd supports), evaluated on wall time.
///
/// `parse` never traps on any input; `openIntervals` is pure. Semantics follow opening-hours-py where the
/// specification leaves room; constructs the reference implementations disagree on are rejected.
public struct HoursExpression: Hashable, Sendable, CustomStringConvertible {
    /// The text as written.
    public let text: String
    /// Ambiguous but valid forms found while parsing, each with the fix.
    public let warnings: [HoursSyntaxError]
    let rules: [HoursRule]
    let program: HoursProgram

    private init(text: String, rules: [HoursRule], warnings: [HoursSyntaxError]) {
        self.text = text
        self.rules = rules
        self.warnings = warnings
        self.program = HoursProgram(rules)
    }

    /// Parses an expression. Errors and warnings carry a 1-based column within `text`.
    public static func parse(_ text: String) -> Result<HoursExpression, HoursSyntaxError> {
        HoursParser.parse(text).map { HoursExpression(text: text, rules: $0.rules, warnings: $0.warnings) }
    }

    /// The open wall-time intervals (minutes since 1970-01-01T00:00 local) inside `window`, clipped to it.
    /// `PH` matches the dates in `holidays`. Days before the window are evaluated too, so spans past midnight
    /// that reach into the window are included.
    public func openIntervals(in window: Interval, holidays: Set<LocalDate>) -> IntervalSet {
        program.openIntervals(in: window, holidays: holidays)
    }

    /// Whether the expression is `24/7` or otherwise open at all times regardless of date.
    public var isAlwaysOpen: Bool { program.alwaysOpen }

    /// Whether any rule uses `PH` (so the result depends on the holidays passed in).
    public var usesPublicHolidays: Bool { program.usesHolidays }

    public var description: String { text }

    public static func == (lhs: HoursExpression, rhs: HoursExpression) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// A problem in an hour expression, located by 1-based column within the expression text.
public struct HoursSyntaxError: Hashable, Sendable, Error, CustomStringConvertible {
    public var column: Int
    public var message: String
    public var fix: String

    public init(column: Int, message: String, fix: String) {
        self.column = column
        self.message = message
        self.fix = fix
    }

    public var description: String { "column \(column): \(message)" + (fix.isEmpty ? "" : " — \(fix)") }
}
