import FuzzSupport
import SlotCore
import SlotRules

/// The process entry point SwiftPM links `main` to: hands over to libFuzzer's driver.
@_cdecl("FuzzHours_main")
public func fuzzHoursMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzHours(fuzzBytes(data, size)) }
}

/// The input is an hour expression. Parsing must return (never trap), an error or warning must point inside the
/// text, and a parsed expression must evaluate to a sorted, disjoint set of non-empty intervals inside the window.
func fuzzHours(_ bytes: UnsafeBufferPointer<UInt8>) -> CInt {
    let text = String(decoding: bytes, as: UTF8.self)
    let columns = 1...(text.unicodeScalars.count + 1)
    switch HoursExpression.parse(text) {
    case .failure(let error):
        require(columns.contains(error.column), "error column \(error.column)", input: text)
        require(!error.message.isEmpty, "empty error message", input: text)
    case .success(let expression):
        for warning in expression.warnings {
            require(columns.contains(warning.column), "warning column \(warning.column)", input: text)
        }
        let open = expression.openIntervals(in: window, holidays: holidays)
        var previousUpper = Int64.min
        for interval in open.intervals {
            require(window.contains(interval) && !interval.isEmpty, "interval \(interval) outside", input: text)
            require(previousUpper < interval.lower, "intervals not sorted and disjoint", input: text)
            previousUpper = interval.upper
        }
        if expression.isAlwaysOpen {
            require(open.intervals == [window], "always open but not open throughout", input: text)
        }
    }
    return 0
}

/// Eleven days around a public holiday and a year's end (wall minutes since 1970-01-01T00:00).
let window = Interval(
    LocalDate(year: 2026, month: 12, day: 21)!.startWallMinute,
    LocalDate(year: 2027, month: 1, day: 1)!.startWallMinute)
let holidays: Set<LocalDate> = [LocalDate(year: 2026, month: 12, day: 25)!]
