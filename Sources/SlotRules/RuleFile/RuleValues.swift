import SlotCore

/// A problem inside one value, at a 0-based offset (in Unicode scalars) into the value's text.
struct ValueProblem: Error, Equatable {
    var offset: Int
    var message: String
    var fix: String

    init(at offset: Int = 0, _ message: String, fix: String) {
        self.offset = offset
        self.message = message
        self.fix = fix
    }
}

/// Parsers for the small value languages of rule files: durations, money, percentages, dates, ids.
enum RuleValues {
    // MARK: - Durations

    /// Parses `15m`, `90m`, `1h30m`, `2d`, `1d12h` (spaces between parts allowed) into minutes.
    static func duration(_ text: String) -> Result<Int, ValueProblem> {
        let scalars = Array(text.unicodeScalars)
        let trimmed = text.trimmingSpaces
        if trimmed.isEmpty { return .failure(ValueProblem("missing duration", fix: "write e.g. 15m, 1h30m or 2d")) }
        if trimmed.hasPrefix("-") {
            return .failure(ValueProblem("a duration cannot be negative", fix: "write e.g. 15m"))
        }
        if trimmed.allSatisfy(\.isASCIIDigit) {
            return .failure(ValueProblem("duration '\(trimmed)' has no unit", fix: "write \(trimmed)m for minutes"))
        }
        var index = 0
        var parts: [(value: Int, unit: Character, offset: Int)] = []
        while index < scalars.count {
            if scalars[index] == " " {
                index += 1
                continue
            }
            let numberStart = index
            var value = 0
            while index < scalars.count, let digit = scalars[index].digitValue {
                value = min(value * 10 + digit, 100_000_000)
                index += 1
            }
            guard index > numberStart else {
                return .failure(
                    ValueProblem(
                        at: numberStart, "'\(text)' is not a duration", fix: "write e.g. 15m, 1h30m or 2d"))
            }
            var spaceBeforeUnit = false
            while index < scalars.count, scalars[index] == " " {
                index += 1
                spaceBeforeUnit = true
            }
            let unitStart = index
            while index < scalars.count, scalars[index].properties.isAlphabetic { index += 1 }
            let word = String(String.UnicodeScalarView(scalars[unitStart..<index])).lowercased()
            let unit: Character
            switch word {
            case "m", "min", "mins", "minute", "minutes": unit = "m"
            case "h", "hr", "hrs", "hour", "hours": unit = "h"
            case "d", "day", "days": unit = "d"
            case "":
                if let clock = clockDuration(scalars, hours: value, colon: index) {
                    return .failure(
                        ValueProblem(
                            at: numberStart, "duration '\(text)' looks like a clock time",
                            fix: "write it with units: \(Minutes.format(clock))"))
                }
                let hint = index < scalars.count ? "'\(scalars[index])'" : "no unit"
                return .failure(
                    ValueProblem(
                        at: unitStart, "duration '\(text)' has \(hint) after \(value)",
                        fix: "write a unit: \(value)m, \(value)h or \(value)d"))
            default:
                return .failure(
                    ValueProblem(
                        at: unitStart, "unknown unit '\(word)' in duration '\(text)'",
                        fix: "use m, h or d: \(value)\(word.first.map { "dhm".contains($0) ? $0 : "m" } ?? "m")"))
            }
            if spaceBeforeUnit || word.count > 1 {
                return .failure(
                    ValueProblem(
                        at: numberStart, "duration '\(text)' is not in the short form",
                        fix: "write \(value)\(unit)"))
            }
            if let previous = parts.last, minutes(of: previous.unit) <= minutes(of: unit) {
                return .failure(
                    ValueProblem(
                        at: numberStart, "'\(unit)' after '\(previous.unit)' in duration '\(text)'",
                        fix: "write days, hours, minutes in that order, each once, e.g. 1d2h30m"))
            }
            parts.append((value, unit, numberStart))
        }
        var total = 0
        for (position, part) in parts.enumerated() {
            let hasLarger = position > 0
            if hasLarger && part.unit == "m" && part.value >= 60 {
                let carried = parts.reduce(0) { $0 + $1.value * Self.minutes(of: $1.unit) }
                return .failure(
                    ValueProblem(
                        at: part.offset, "\(part.value)m after hours or days in '\(text)' is 60 minutes or more",
                        fix: "write \(Minutes.format(carried))"))
            }
            if hasLarger && part.unit == "h" && part.value >= 24 {
                let carried = parts.reduce(0) { $0 + $1.value * Self.minutes(of: $1.unit) }
                return .failure(
                    ValueProblem(
                        at: part.offset, "\(part.value)h after days in '\(text)' is 24 hours or more",
                        fix: "write \(Minutes.format(carried))"))
            }
            total += part.value * minutes(of: part.unit)
        }
        if total > 3650 * 1440 {
            return .failure(ValueProblem("duration '\(text)' is longer than ten years", fix: "write a shorter one"))
        }
        return .success(total)
    }

    private static func minutes(of unit: Character) -> Int {
        switch unit {
        case "d": return 1440
        case "h": return 60
        default: return 1
        }
    }

    // MARK: - Money

    /// Parses `25`, `25.5`, `25.50`, optionally followed by the currency code, into minor units.
    static func money(_ text: String, currency: String) -> Result<Int, ValueProblem> {
        var body = text.trimmingSpaces
        let example = Money.minorDigits(currency) > 0 ? "25.50" : "2500"
        if body.isEmpty { return .failure(ValueProblem("missing amount", fix: "write e.g. \(example)")) }
        if let space = body.lastIndex(of: " ") {
            let code = String(body[body.index(after: space)...])
            if code.allSatisfy(\.isLetter) {
                guard code == currency else {
                    return .failure(
                        ValueProblem(
                            at: body.distance(from: body.startIndex, to: space) + 1,
                            "amount in \(code), but the shop's currency is \(currency)",
                            fix: "write the amount in \(currency), e.g. \(example)"))
                }
                body = String(body[..<space]).trimmingSpaces
            }
        }
        if body.hasPrefix("-") {
            return .failure(ValueProblem("an amount cannot be negative", fix: "write e.g. \(example)"))
        }
        if let first = body.first, !first.isASCIIDigit {
            return .failure(
                ValueProblem(
                    "amount '\(text)' must start with a digit",
                    fix: "write just the number, e.g. \(example) (amounts are in \(currency))"))
        }
        let digits = Money.minorDigits(currency)
        let pieces = body.split(separator: ".", omittingEmptySubsequences: false)
        if body.contains(",") {
            let fixed = body.replacingAll(",", with: ".")
            return .failure(ValueProblem("amount '\(text)' uses a comma", fix: "write \(fixed) with a decimal point"))
        }
        guard pieces.count <= 2, pieces.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), !pieces[0].isEmpty,
            pieces[0].count <= 9
        else {
            let bad = body.firstIndex { !$0.isASCIIDigit && $0 != "." }
                .map { body.distance(from: body.startIndex, to: $0) }
            return .failure(
                ValueProblem(at: bad ?? 0, "'\(text)' is not an amount", fix: "write e.g. \(example)"))
        }
        var minor = Int(pieces[0]) ?? 0
        for _ in 0..<digits { minor *= 10 }
        if pieces.count == 2 {
            let fraction = pieces[1]
            guard !fraction.isEmpty, fraction.count <= digits else {
                let what = digits == 0 ? "no decimals" : "at most \(digits) decimals"
                return .failure(
                    ValueProblem(
                        at: pieces[0].count + 1,
                            "amount '\(text)' has \(fraction.count) decimals, \(currency) has \(what)",
                        fix: "write e.g. \(example)"))
            }
            var scaled = Int(fraction) ?? 0
            for _ in fraction.count..<digits { scaled *= 10 }
            minor += scaled
        }
        return .success(minor)
    }

    /// Parses `50%` into a whole percentage 0–100, or returns nil when the text has no `%`.
    static func percent(_ text: String) -> Result<Int, ValueProblem>? {
        let body = text.trimmingSpaces
        guard body.hasSuffix("%") else { return nil }
        let number = body.dropLast().trimmingSpaces
        guard !number.isEmpty, number.allSatisfy(\.isASCIIDigit), number.count <= 4, let value = Int(number) else {
            return .failure(ValueProblem("'\(text)' is not a percentage", fix: "write a whole number like 50%"))
        }
        guard value <= 100 else {
            return .failure(ValueProblem("\(value)% is more than the whole price", fix: "write at most 100%"))
        }
        return .success(value)
    }

    // MARK: - Ids

    /// Checks an id is `[a-z0-9_-]+`.
    static func id(_ text: String) -> ValueProblem? {
        if text.isEmpty { return ValueProblem("empty id", fix: "write an id like hot-towel-shave") }
        let allowed = text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        guard allowed else {
            let offset = text.unicodeScalars.firstIndex {
                !(("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
            }.map { text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: $0) } ?? 0
            return ValueProblem(
                at: offset, "id '\(text)' may only hold lowercase letters, digits, '_' and '-'",
                fix: "write \(suggestedID(text))")
        }
        return nil
    }

    static func suggestedID(_ text: String) -> String {
        var result = ""
        for character in text.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) || character == "_" || character == "-" {
                result.append(character)
            } else if !result.hasSuffix("-") {
                result.append("-")
            }
        }
        let trimmed = result.trimmingCharacters("-")
        return trimmed.isEmpty ? "an-id" : trimmed
    }

    // MARK: - Dates

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A date expression as written in rule files.
    enum DateSpec: Equatable {
        case date(LocalDate)
        case range(LocalDate, LocalDate)
        case yearly(month: Int, day: Int)
        case yearlyRange(month: Int, day: Int, month2: Int, day2: Int)
        case easter(Int)
    }

    /// Parses `2026-12-24`, `2026-12-24..2026-12-26`, `Dec 25`, `Dec 24..Dec 26`, `easter`, `easter-2`.
    static func dateSpec(_ text: String) -> Result<DateSpec, ValueProblem> {
        let body = text.trimmingSpaces
        let lead = text.unicodeScalars.prefix { $0 == " " }.count
        if body.isEmpty {
            return .failure(ValueProblem("missing date",
                fix: "write 2026-12-24, 2026-12-24..2026-12-26, Dec 25 or easter+1"))
        }
        if body.lowercased().hasPrefix("easter") {
            let rest = body.dropFirst(6).replacingAll(" ", with: "")
            if rest.isEmpty { return .success(.easter(0)) }
            guard let sign = rest.first, sign == "+" || sign == "-", rest.count > 1, rest.count <= 4,
                rest.dropFirst().allSatisfy(\.isASCIIDigit), let days = Int(rest.dropFirst())
            else {
                return .failure(
                    ValueProblem(
                        at: lead + 6, "'\(body)' is not a day relative to Easter",
                        fix: "write easter, easter+1 or easter-2 (days after or before Easter Sunday)"))
            }
            guard days <= 300 else {
                return .failure(ValueProblem(at: lead + 7, "\(days) days from Easter is too far",
                    fix: "use at most 300"))
            }
            return .success(.easter(sign == "-" ? -days : days))
        }
        if body.rangeOfDots == nil, let dashed = dashedRange(body) {
            return .failure(
                ValueProblem(
                    at: lead, "'\(body)' is not a date: a range is written with '..'",
                    fix: "write \(dashed)"))
        }
        if let separator = body.rangeOfDots {
            let left = String(body[..<separator.lowerBound])
            let right = String(body[separator.upperBound...])
            let rightOffset = lead + body.unicodeScalars.distance(
                from: body.unicodeScalars.startIndex, to: separator.upperBound)
            let first = single(left, offset: lead)
            let second = single(right, offset: rightOffset)
            switch (first, second) {
            case (.failure(let problem), _), (_, .failure(let problem)):
                return .failure(problem)
            case (.success(.date(let a)), .success(.date(let b))):
                guard a <= b else {
                    return .failure(
                        ValueProblem(
                            at: rightOffset, "the range ends (\(b)) before it starts (\(a))",
                            fix: "write the earlier date first: \(b)..\(a)"))
                }
                return .success(a == b ? .date(a) : .range(a, b))
            case (.success(.yearly(let m1, let d1)), .success(.yearly(let m2, let d2))):
                guard (m1, d1) <= (m2, d2) else {
                    return .failure(
                        ValueProblem(
                            at: rightOffset, "the range ends (\(right.trimmingSpaces)) before it starts "
                                + "(\(left.trimmingSpaces))",
                            fix: "split a range over New Year in two, e.g. Dec 31 and Jan 01..Jan 02"))
                }
                return .success((m1, d1) == (m2, d2) ? .yearly(month: m1, day: d1) : .yearlyRange(
                    month: m1, day: d1, month2: m2, day2: d2))
            default:
                return .failure(
                    ValueProblem(
                        at: lead, "'\(body)' mixes a date with a yearly date",
                        fix: "write both ends alike: 2026-12-24..2026-12-26 or Dec 24..Dec 26"))
            }
        }
        return single(body, offset: lead)
    }

    /// `H:MM` (a clock-style length such as `0:30`) after the hours `hours` at `colon`, in minutes.
    private static func clockDuration(_ scalars: [Unicode.Scalar], hours: Int, colon: Int) -> Int? {
        guard colon < scalars.count, scalars[colon] == ":" else { return nil }
        let digits = scalars[(colon + 1)...]
        guard digits.count == 2, let minutes = Int(String(String.UnicodeScalarView(digits))), minutes < 60,
            hours + minutes > 0
        else { return nil }
        return hours * 60 + minutes
    }

    /// `2026-12-31..2027-01-02` when `text` is two dates joined by a dash with spaces (` - `, ` – `), else nil.
    private static func dashedRange(_ text: String) -> String? {
        for dash in [" - ", " – ", " — "] {
            let parts = text.split(separator: dash, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2,
                case .success(let first) = single(parts[0], offset: 0),
                case .success(let second) = single(parts[1], offset: 0)
            else { continue }
            switch (first, second) {
            case (.date(let a), .date(let b)): return "\(a)..\(b)"
            case (.yearly(let m1, let d1), .yearly(let m2, let d2)):
                return "\(yearlyText(month: m1, day: d1))..\(yearlyText(month: m2, day: d2))"
            default: continue
            }
        }
        return nil
    }

    private static func single(_ raw: String, offset: Int) -> Result<DateSpec, ValueProblem> {
        let text = raw.trimmingSpaces
        let at = offset + raw.unicodeScalars.prefix { $0 == " " }.count
        let example = "write 2026-12-24, Dec 25 or easter+1"
        if let first = text.first, first.isASCIIDigit {
            let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
            guard pieces.count == 3, pieces[0].count == 4, pieces.allSatisfy({ !$0.isEmpty && $0.count <= 4 }),
                pieces.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
                let year = Int(pieces[0]), let month = Int(pieces[1]), let day = Int(pieces[2])
            else {
                return .failure(ValueProblem(at: at, "'\(text)' is not a date",
                    fix: "write YYYY-MM-DD, e.g. 2026-12-24"))
            }
            guard let date = LocalDate(year: year, month: month, day: day) else {
                let fix = (1...12).contains(month)
                    ? "\(monthNames[month - 1]) \(year) has \(LocalDate.daysIn(month: month, year: year)) days"
                    : "months go from 01 to 12"
                return .failure(ValueProblem(at: at, "\(text) does not exist", fix: fix))
            }
            if pieces[1].count != 2 || pieces[2].count != 2 {
                return .failure(ValueProblem(at: at, "'\(text)' is not in YYYY-MM-DD form", fix: "write \(date)"))
            }
            return .success(.date(date))
        }
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2 else {
            return .failure(ValueProblem(at: at, "'\(text)' is not a date", fix: example))
        }
        let name = String(words[0])
        guard let month = monthNames.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
            let suggestion = Suggest.closest(to: name, in: monthNames, caseInsensitive: true)
            return .failure(
                ValueProblem(
                    at: at, "unknown month '\(name)'",
                    fix: suggestion.map { "did you mean \($0)?" } ?? "use Jan, Feb, …, Dec"))
        }
        guard words[1].allSatisfy(\.isASCIIDigit), words[1].count <= 2, let day = Int(words[1]), day >= 1,
            day <= LocalDate.daysIn(month: month + 1, year: 2024)
        else {
            return .failure(
                ValueProblem(
                    at: at + name.unicodeScalars.count + 1, "'\(text)' is not a day of \(monthNames[month])",
                    fix: "\(monthNames[month]) has \(LocalDate.daysIn(month: month + 1, year: 2024)) days"))
        }
        return .success(.yearly(month: month + 1, day: day))
    }

    /// `Dec 25` for a yearly date.
    static func yearlyText(month: Int, day: Int) -> String {
        "\(monthNames[max(0, min(11, month - 1))]) \(day < 10 ? "0" : "")\(day)"
    }
}

// MARK: - Did you mean

/// Suggestions by edit distance.
enum Suggest {
    /// A candidate as `closest` compares it: its text (lowercased when case does not count) as characters.
    struct Candidate: Sendable {
        let text: String
        let characters: [Character]

        init(_ text: String, caseInsensitive: Bool) {
            self.text = text
            characters = Array(caseInsensitive ? text.lowercased() : text)
        }
    }

    /// The edit distance between two strings (by Character), counting a swap of neighbours as one edit.
    static func distance(_ a: String, _ b: String) -> Int { distance(Array(a), Array(b)) }

    /// The same distance, or any number above `limit` as soon as the distance is sure to exceed it.
    static func distance(_ a: [Character], _ b: [Character], limit: Int = .max) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        // One flat table, not a row array each: under the fuzzer's AddressSanitizer every allocation costs a stack.
        let width = b.count + 1
        var table = [Int](repeating: 0, count: (a.count + 1) * width)
        for i in 0...a.count { table[i * width] = i }
        for j in 0...b.count { table[j] = j }
        var previousRowMinimum = 0
        for i in 1...a.count {
            var rowMinimum = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(table[(i - 1) * width + j] + 1, table[i * width + j - 1] + 1,
                    table[(i - 1) * width + j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, table[(i - 2) * width + j - 2] + 1)
                }
                table[i * width + j] = value
                rowMinimum = min(rowMinimum, value)
            }
            // Every later cell builds on one of the last two rows plus something: past the limit in both, the
            // distance is too (most of ~600 time zones of the length of an unknown `timezone` stop here).
            if rowMinimum > limit && previousRowMinimum > limit { return limit + 1 }
            previousRowMinimum = rowMinimum
        }
        return table[a.count * width + b.count]
    }

    /// The candidate closest to `word`, when it is close enough to be a plausible typo.
    static func closest(to word: String, in candidates: some Sequence<String>, caseInsensitive: Bool = false)
        -> String?
    {
        closest(
            to: word, among: candidates.lazy.map { Candidate($0, caseInsensitive: caseInsensitive) },
            caseInsensitive: caseInsensitive)
    }

    /// `closest(to:in:caseInsensitive:)` over candidates prepared once (`Candidate`), for a long list used often.
    static func closest(to word: String, among candidates: some Sequence<Candidate>, caseInsensitive: Bool) -> String? {
        let probe = Array(caseInsensitive ? word.lowercased() : word)
        let length = probe.count
        guard length <= 64 else { return nil }
        var best: (String, Int)?
        for candidate in candidates {
            let targetLength = candidate.characters.count
            let limit = max(1, min(3, targetLength / 3))
            // The distance is at least the difference in length: most candidates (of ~600 time zones for an
            // unknown `timezone`) are ruled out without the table, which was most of the loader's time then.
            if abs(length - targetLength) > limit { continue }
            let d = distance(probe, candidate.characters, limit: limit)
            if d <= limit, best.map({ d < $0.1 }) ?? true { best = (candidate.text, d) }
        }
        return best?.0
    }

    /// The known time zone an unknown `timezone` most likely means: the same name in other case, a city alone
    /// (`Vienna`, `new york`: the zone whose last component it is), or a plausible typo; nil when none is near.
    static func timeZone(for identifier: String) -> String? {
        let lowercased = identifier.lowercased()
        if let exact = KnownZones.all.first(where: { $0.lowercased == lowercased }) { return exact.identifier }
        let city = lowercased.replacingAll(" ", with: "_")
        if let byCity = KnownZones.all.first(where: { $0.city == city }) { return byCity.identifier }
        return closest(to: identifier, among: KnownZones.candidates, caseInsensitive: true)
    }

    /// The system's time zones, prepared once: lowercasing, splitting and comparing ~600 identifiers for every
    /// unknown `timezone` was the biggest part of loading such a file (issue 15, the `rules` fuzz target's profile).
    enum KnownZones {
        struct Zone: Sendable {
            let identifier: String
            let lowercased: String
            /// The last component, lowercased (`Europe/Vienna`: `vienna`).
            let city: String?
        }

        static let all: [Zone] = ShopTimeZone.knownIdentifiers.map {
            Zone(identifier: $0, lowercased: $0.lowercased(), city: $0.split(separator: "/").last?.lowercased())
        }
        static let candidates = ShopTimeZone.knownIdentifiers.map { Candidate($0, caseInsensitive: true) }
    }

    /// `did you mean 'x'?` or a list of the valid choices.
    static func fix(for word: String, in candidates: [String], noun: String) -> String {
        if let match = closest(to: word, in: candidates) { return "did you mean '\(match)'?" }
        if candidates.isEmpty { return "define it first" }
        let shown = candidates.prefix(8).joined(separator: ", ")
        return "use one of: \(shown)\(candidates.count > 8 ? ", …" : "")"
    }
}

// MARK: - Small string helpers

extension StringProtocol {
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    func trimmingCharacters(_ character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}

extension String {
    /// The first `..` in the text.
    var rangeOfDots: Range<String.Index>? {
        var index = startIndex
        while index < endIndex {
            let next = self.index(after: index)
            if self[index] == ".", next < endIndex, self[next] == "." { return index..<self.index(after: next) }
            index = next
        }
        return nil
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Unicode.Scalar {
    var digitValue: Int? { ("0"..."9").contains(self) ? Int(value) - 48 : nil }
}
