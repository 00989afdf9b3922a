import SlotCore

/// A parsed OpenStreetMap `opening_hours` expression (the subset slotd supports), evaluated on wall time.
///
/// CONTRACT (filled in by the hours-language work): `parse` never traps on any input; `openIntervals` is pure.
public struct HoursExpression: Hashable, Sendable, CustomStringConvertible {
    /// The text as written.
    public let text: String

    /// Parses an expression. Errors and warnings carry a 1-based column within `text`.
    public static func parse(_ text: String) -> Result<HoursExpression, HoursSyntaxError> {
        .failure(HoursSyntaxError(column: 1, message: "hour expressions are not implemented yet", fix: ""))
    }

    /// Ambiguous but valid forms found while parsing, each with the fix.
    public var warnings: [HoursSyntaxError] { [] }

    /// The open wall-time intervals (minutes since 1970-01-01T00:00 local) inside `window`, clipped to it.
    /// `PH` matches the dates in `holidays`. Days before the window are evaluated too, so spans past midnight
    /// that reach into the window are included.
    public func openIntervals(in window: Interval, holidays: Set<LocalDate>) -> IntervalSet {
        IntervalSet()
    }

    /// Whether the expression is `24/7` or otherwise open at all times regardless of date.
    public var isAlwaysOpen: Bool { false }

    public var description: String { text }
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
