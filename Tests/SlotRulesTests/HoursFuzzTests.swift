import SlotCore
import Testing

@testable import SlotRules

/// A small deterministic generator (SplitMix64), so a failing input can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Hour expressions: no input crashes or hangs the parser")
struct HoursFuzzTests {
    static let fragments = [
        "Mo", "Tu", "We", "Th", "Fr", "Sa", "Su", "PH", "SH", "week", "Dec", "Jan", "Feb", "Jun", "2026", "2027",
        " ", " ", "-", ",", ", ", ";", "; ", "[", "]", "/", "+", "\"", "||", "|", ":", "09:00", "18:00", "24:00",
        "48:00", "26:00", "99:99", "0", "00", "1", "-1", "5", "31", "53", "off", "open", "closed", "unknown", "24/7",
        "é", "\t", "x", "Tue", "\"note\"", "sunrise", "12:60", "123456789012", "\u{0}", "🙂", "\n",
    ]

    static let seeds = [
        "Mo-Fr 09:00-12:00,13:00-18:00; Sa 10:00-14:00; PH off",
        "Tu-Fr 10:00-20:00; Sa 09:00-16:00; Mo[1] 10:00-14:00; week 01-53/2 Th 10:00-22:00; PH off",
        "2026 Dec 24-2027 Jan 02 off; Dec 24,Dec 31 10:00-14:00 open \"short day\", Fr-Sa 18:00-02:00",
        "Jun-Aug Mo-Sa 08:00-20:00; Su[-1] 12:00-16:00; 12:00-13:00 off",
    ]

    /// Checks the parser returns, errors point inside the text, and evaluation gives a normalised clipped set.
    static func check(_ text: String, window: Interval) {
        switch HoursExpression.parse(text) {
        case .failure(let error):
            #expect(error.column >= 1 && error.column <= text.unicodeScalars.count + 1, "\(text.debugDescription)")
            #expect(!error.message.isEmpty)
        case .success(let parsed):
            let open = parsed.openIntervals(in: window, holidays: [LocalDate(year: 2026, month: 12, day: 25)!])
            for (index, interval) in open.intervals.enumerated() {
                #expect(window.contains(interval) && !interval.isEmpty, "\(text.debugDescription)")
                if index > 0 { #expect(open.intervals[index - 1].upper < interval.lower) }
            }
        }
    }

    @Test("random token soup", arguments: [1, 2, 3, 4])
    func tokenSoup(_ seed: UInt64) {
        var random = SplitMix64(state: seed)
        for _ in 0..<1500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...24, using: &random) {
                text += Self.fragments.randomElement(using: &random) ?? ""
            }
            let start = Int64.random(in: 28_000_000...29_000_000, using: &random)
            Self.check(text, window: Interval(start, start + Int64.random(in: 0...20_000, using: &random)))
        }
    }

    @Test("random characters", arguments: [5, 6])
    func randomCharacters(_ seed: UInt64) {
        var random = SplitMix64(state: seed)
        for _ in 0..<1500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &random) {
                let value =
                    random.next() % 8 == 0
                    ? UInt32.random(in: 0...0x1_0000, using: &random)
                    : UInt32.random(in: 32...126, using: &random)
                if let scalar = Unicode.Scalar(value) { text.unicodeScalars.append(scalar) }
            }
            Self.check(text, window: Interval(29_000_000, 29_020_000))
        }
    }

    @Test("mutations of valid expressions", arguments: [7, 8, 9])
    func mutations(_ seed: UInt64) {
        var random = SplitMix64(state: seed)
        for _ in 0..<1500 {
            var scalars = Array((Self.seeds.randomElement(using: &random) ?? "").unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &random) where !scalars.isEmpty {
                let index = Int.random(in: 0..<scalars.count, using: &random)
                switch random.next() % 4 {
                case 0: scalars.remove(at: index)
                case 1: scalars.insert(scalars[Int.random(in: 0..<scalars.count, using: &random)], at: index)
                case 2: scalars[index] = Array(";,-: 0123456789[]\"+/|".unicodeScalars).randomElement(using: &random)!
                default: scalars.insert(contentsOf: scalars[index...].prefix(5), at: index)
                }
            }
            Self.check(String(String.UnicodeScalarView(scalars)), window: Interval(29_380_000, 29_500_000))
        }
    }

    @Test("a very long expression is parsed and evaluated")
    func longExpression() {
        let rules = (0..<60).map { "Mo-Fr 09:\($0 % 50 + 10)-18:00" }.joined(separator: "; ")
        Self.check(rules, window: Interval(29_000_000, 29_000_000 + 1440 * 400))
        let tooMany = Array(repeating: "Mo 10:00-11:00", count: 70).joined(separator: "; ")
        #expect(HoursExpression.parse(tooMany).failure?.message.contains("too many rules") == true)
        Self.check(String(repeating: "Mo,", count: 5000) + "Tu", window: Interval(0, 1440))
        Self.check(String(repeating: "\"", count: 10001), window: Interval(0, 1440))
    }
}
