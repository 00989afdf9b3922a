import SlotCore
import Testing

@testable import SlotRules

/// The open intervals of `expression` in `[from, to)` as `start/end` wall-time strings.
func hoursOpen(
    _ expression: String, from: String, to: String, holidays: [String] = []
) throws -> [String] {
    let parsed = try HoursExpression.parse(expression).get()
    return try hoursOpen(parsed, from: from, to: to, holidays: holidays)
}

func hoursOpen(_ parsed: HoursExpression, from: String, to: String, holidays: [String] = []) throws -> [String] {
    let lower = try #require(LocalDateTime(iso: from))
    let upper = try #require(LocalDateTime(iso: to))
    let dates = Set(holidays.compactMap { LocalDate(iso: $0) })
    let open = parsed.openIntervals(in: Interval(lower.wallMinute, upper.wallMinute), holidays: dates)
    return open.intervals.map { "\(LocalDateTime(wallMinute: $0.lower))/\(LocalDateTime(wallMinute: $0.upper))" }
}

/// One evaluation example: an expression, a window, the holidays, and the open intervals expected.
struct HoursCase: CustomTestStringConvertible, Sendable {
    var expression: String
    var from: String
    var to: String
    var holidays: [String] = []
    var open: [String]

    init(_ expression: String, _ from: String, _ to: String, holidays: [String] = [], open: [String]) {
        self.expression = expression
        self.from = from
        self.to = to
        self.holidays = holidays
        self.open = open
    }

    var testDescription: String { expression }
}
