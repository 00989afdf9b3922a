import SlotCore

/// Recursive-descent parser of the hour-expression subset. Never traps: every problem becomes a located error.
///
/// Grammar (selector groups in this order, each optional, separated by spaces):
/// ```
/// expression := rule (('; ' | ', ') rule)*
/// rule       := '24/7' [state] [comment]
///             | [years] [dates] [week] [weekdays] [times] [state] [comment]
/// years      := YYYY ['-' YYYY] (',' ...)*        dates := [YYYY] Mon [DD] ['-' ([YYYY] Mon [DD] | DD)] (',' ...)*
/// week       := 'week' WW ['-' WW ['/' N]] (',' ...)*
/// weekdays   := (Wd ['-' Wd] | Wd '[' nth (',' nth)* ']' | PH) (',' ...)*
/// times      := HH:MM '-' HH:MM (',' ...)*          state := open | off | closed | unknown
/// ```
struct HoursParser {
    private let tokens: [HoursToken]
    private let source: String
    private var position = 0
    private(set) var warnings: [HoursSyntaxError] = []

    private init(tokens: [HoursToken], source: String) {
        self.tokens = tokens
        self.source = source
    }

    /// The rules of `text` and the warnings found, or the first error.
    static func parse(_ text: String) -> Result<(rules: [HoursRule], warnings: [HoursSyntaxError]), HoursSyntaxError> {
        if let problem = twelveHourTimes(text) { return .failure(problem) }
        let tokens: [HoursToken]
        switch HoursLexer.tokenize(text) {
        case .failure(let error): return .failure(error)
        case .success(let lexed): tokens = lexed
        }
        var parser = HoursParser(tokens: tokens, source: text)
        do {
            let rules = try parser.expression()
            return .success((rules, parser.warnings))
        } catch {
            return .failure(error)
        }
    }

    /// An error for 12-hour times (`9am-7pm`, `9:30 PM`), whose fix is the whole expression on the 24-hour clock.
    static func twelveHourTimes(_ text: String) -> HoursSyntaxError? {
        let scalars = Array(text.unicodeScalars)
        func isDigit(_ index: Int) -> Bool { index < scalars.count && ("0"..."9").contains(scalars[index]) }
        func lower(_ index: Int) -> Character? {
            index < scalars.count ? Character(scalars[index]).lowercased().first : nil
        }
        var replacements: [(range: Range<Int>, time: String)] = []
        var index = 0
        while index < scalars.count {
            guard isDigit(index), index == 0 || !(isDigit(index - 1) || scalars[index - 1] == ":") else {
                index += 1
                continue
            }
            let start = index
            while isDigit(index) && index - start < 2 { index += 1 }
            let hour = Int(String(String.UnicodeScalarView(scalars[start..<index]))) ?? 0
            var minute = 0
            if index < scalars.count, scalars[index] == ":", isDigit(index + 1), isDigit(index + 2) {
                minute = Int(String(String.UnicodeScalarView(scalars[(index + 1)...(index + 2)]))) ?? 0
                index += 3
            }
            var cursor = index
            if cursor < scalars.count, scalars[cursor] == " " { cursor += 1 }
            guard let half = lower(cursor), half == "a" || half == "p" else { continue }
            cursor += 1
            if cursor < scalars.count, scalars[cursor] == "." { cursor += 1 }
            guard lower(cursor) == "m" else { continue }
            cursor += 1
            if cursor < scalars.count, scalars[cursor] == "." { cursor += 1 }
            guard (1...12).contains(hour), minute < 60, lower(cursor).map({ !$0.isLetter }) ?? true else { continue }
            let afterDash = start > 0 && scalars[start - 1] == "-"
            let hour24 = half == "a" ? (hour == 12 ? (afterDash ? 24 : 0) : hour) : (hour == 12 ? 12 : hour + 12)
            replacements.append((start..<cursor, HoursParser.clock(hour24 * 60 + minute)))
            index = cursor
        }
        guard let first = replacements.first else { return nil }
        var fixed = scalars.map(String.init)
        for replacement in replacements.reversed() {
            fixed.replaceSubrange(replacement.range, with: [replacement.time])
        }
        let written = String(String.UnicodeScalarView(scalars[first.range]))
        return HoursSyntaxError(
            column: first.range.lowerBound + 1, message: "'\(written)' is a 12-hour time",
            fix: "write 24-hour times: \(fixed.joined())")
    }

    // MARK: - Token access

    private var current: HoursToken { tokens[min(position, tokens.count - 1)] }

    private func peek(_ offset: Int) -> HoursToken { tokens[min(position + offset, tokens.count - 1)] }

    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    private func error(_ token: HoursToken, _ message: String, fix: String) -> HoursSyntaxError {
        HoursSyntaxError(column: token.column, message: message, fix: fix)
    }

    private func describe(_ token: HoursToken) -> String {
        token.kind == .end ? "end of expression" : "'\(token.text)'"
    }

    // MARK: - Expression and rules

    private mutating func expression() throws(HoursSyntaxError) -> [HoursRule] {
        if current.kind == .end {
            throw error(current, "empty hour expression", fix: "write e.g. Mo-Fr 09:00-18:00, 24/7 or off")
        }
        var rules = [try rule(.normal)]
        while true {
            let token = current
            switch token.kind {
            case .end:
                if rules.count > 64 {
                    throw error(
                        token, "too many rules (\(rules.count))", fix: "an expression may have at most 64 rules")
                }
                warnReplacedRules(rules)
                return rules
            case .semicolon:
                advance()
                try expectRuleAfterSeparator(token)
                rules.append(try rule(.normal))
            case .comma:
                if !peek(1).spaceBefore, peek(1).kind != .end {
                    throw error(
                        token, "',' after a complete rule must be followed by a space",
                        fix: "write ', ' to add an additional rule, or '; ' to start a new rule")
                }
                advance()
                try expectRuleAfterSeparator(token)
                rules.append(try rule(.additional))
            case .fallback:
                throw error(
                    token, "'||' fallback rules are not supported: the reference implementations disagree on them",
                    fix: "write the fallback as a normal rule after '; ', e.g. 'Mo-Fr 09:00-18:00; PH off'")
            default:
                throw unexpected(token)
            }
        }
    }

    private func expectRuleAfterSeparator(_ separator: HoursToken) throws(HoursSyntaxError) {
        switch current.kind {
        case .end:
            throw error(
                separator, "'\(separator.text)' at the end is not followed by a rule",
                fix: "remove the trailing '\(separator.text)'")
        case .semicolon, .comma:
            throw error(current, "empty rule", fix: "remove the doubled separator '\(current.text)'")
        default:
            return
        }
    }

    private mutating func rule(_ separator: HoursRule.Separator) throws(HoursSyntaxError) -> HoursRule {
        var rule = HoursRule(separator: separator, column: current.column)
        let start = position
        if current.kind == .alwaysOpen {
            rule.isTwentyFourSeven = true
            advance()
        } else {
            if case .number(_, let digits) = current.kind, digits == 4, !isMonth(peek(1)) {
                rule.years = try years()
            }
            if isMonth(current) || (isYear(current) && isMonth(peek(1))) {
                rule.dates = try dates()
            }
            if case .word("week") = current.kind {
                rule.weeks = try weeks()
            }
            if case .word(let word) = current.kind, Self.startsWeekdays(word) {
                rule.weekdays = try weekdays()
            }
            if case .time = current.kind {
                var continuedAfterSpace: [HoursToken] = []
                rule.spans = try times(commasWithSpace: &continuedAfterSpace)
                let stateWord = peekStateWord()
                for comma in continuedAfterSpace { warnAmbiguousTimeList(comma: comma, stateWord: stateWord) }
            }
        }
        let hasSelectors = position > start
        var hasState = false
        if case .word(let word) = current.kind, let state = Self.state(word) {
            rule.state = state
            hasState = true
            advance()
        }
        if case .comment(let text) = current.kind {
            if !hasState {
                throw error(
                    current,
                    hasSelectors
                        ? "a comment must follow open, off, closed or unknown"
                        : "a rule that is only a comment is not supported",
                    fix: "the reference implementations read a bare comment differently (open or unknown): "
                        + "write e.g. 'Mo 10:00-12:00 open \"\(text)\"' or 'unknown \"\(text)\"'")
            }
            rule.comment = text
            advance()
        }
        if position == start {
            throw unexpected(current)
        }
        let last = tokens[max(0, position - 1)]
        rule.endColumn = last.column + last.length
        switch current.kind {
        case .end, .semicolon, .comma, .fallback: return rule
        default: throw unexpected(current)
        }
    }

    /// Warns about a normal rule that silently replaces an earlier rule for exactly the same days, a common slip
    /// when a break is written as two rules (`Mo-Fr 09:00-12:00; Mo-Fr 13:00-18:00` is open 13:00-18:00 only).
    private mutating func warnReplacedRules(_ rules: [HoursRule]) {
        for (index, rule) in rules.enumerated() where index > 0 {
            guard rule.separator == .normal, rule.state == .open, !rule.spans.isEmpty else { continue }
            guard let earlier = rules[..<index].last(where: { $0.selectsSameDays(as: rule) }),
                earlier.state == .open, !earlier.spans.isEmpty
            else { continue }
            let earlierText = text(from: earlier.column, to: earlier.endColumn)
            let laterText = text(from: rule.column, to: rule.endColumn)
            warnings.append(
                HoursSyntaxError(
                    column: rule.column,
                    message: "'\(laterText)' replaces '\(earlierText)' on the same days (a later rule after ';' "
                        + "overrides earlier ones)",
                    fix: "to keep both, write '\(earlierText), \(laterText)' or list all spans in one rule"))
        }
    }

    private func text(from start: Int, to end: Int) -> String {
        let scalars = Array(source.unicodeScalars)
        let lower = max(0, min(start - 1, scalars.count))
        let upper = max(lower, min(end - 1, scalars.count))
        return String(String.UnicodeScalarView(scalars[lower..<upper]))
    }

    /// The error for a token that cannot stand where it is, with the likeliest fix.
    private func unexpected(_ token: HoursToken) -> HoursSyntaxError {
        switch token.kind {
        case .word(let word):
            if let problem = Self.wordProblem(word, at: token) { return problem }
            return error(
                token, "unexpected \(describe(token))",
                fix: "write a rule's parts in this order: year, dates, week, weekdays, times, then open/off; "
                    + "separate rules with '; '")
        case .plus:
            return error(
                token, "open end '+' is not supported: the reference implementations disagree on when it closes",
                fix: "write an explicit closing time, e.g. 18:00-22:00")
        case .fallback:
            return error(
                token, "'||' fallback rules are not supported: the reference implementations disagree on them",
                fix: "write the fallback as a normal rule after '; '")
        case .comment:
            return error(
                token, "a comment must follow open, off, closed or unknown",
                fix: "write e.g. 'Mo 10:00-12:00 open \"by appointment\"'")
        case .time:
            return error(
                token, "unexpected time \(describe(token))",
                fix: "times come after the weekdays and before open/off; separate rules with '; '")
        case .number:
            return error(
                token, "unexpected number \(describe(token))",
                fix: "days follow a month (Dec 24), weeks follow 'week' (week 01-10), times are HH:MM")
        case .semicolon, .comma:
            return error(token, "empty rule", fix: "write a rule before '\(token.text)' or remove it")
        case .end:
            return error(token, "unexpected end of expression", fix: "complete the rule, e.g. Mo-Fr 09:00-18:00")
        case .dash:
            return error(
                token, "unexpected '-'",
                fix: "ranges are written without spaces (Mo-Fr, Dec 24-26); times as 09:00-18:00")
        default:
            return error(token, "unexpected \(describe(token))", fix: "separate rules with '; '")
        }
    }

    // MARK: - Years

    private func isYear(_ token: HoursToken) -> Bool {
        if case .number(_, let digits) = token.kind { return digits == 4 }
        return false
    }

    private mutating func year() throws(HoursSyntaxError) -> Int {
        guard case .number(let value, let digits) = current.kind, digits == 4 else {
            throw error(current, "expected a year, found \(describe(current))", fix: "write years with four digits")
        }
        guard (1900...9999).contains(value) else {
            throw error(current, "year \(value) is out of range", fix: "years run from 1900 to 9999")
        }
        advance()
        return value
    }

    private mutating func years() throws(HoursSyntaxError) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        while true {
            let startToken = current
            let first = try year()
            var last = first
            if current.kind == .dash, !current.spaceBefore, !peek(1).spaceBefore, isYear(peek(1)) {
                advance()
                last = try year()
                if last < first {
                    throw error(
                        startToken, "end before start: the year range \(first)-\(last) runs backwards",
                        fix: "write \(last)-\(first)")
                }
            }
            if current.kind == .slash {
                throw error(current, "year steps are not supported", fix: "list the years: 2026,2028")
            }
            ranges.append(first...last)
            if current.kind == .comma, !peek(1).spaceBefore, isYear(peek(1)), !isMonth(peek(2)) {
                advance()
                continue
            }
            return ranges
        }
    }

    // MARK: - Dates

    private func isMonth(_ token: HoursToken) -> Bool {
        if case .word(let word) = token.kind { return Self.months.firstIndex(of: word) != nil }
        return false
    }

    private mutating func datePoint() throws(HoursSyntaxError) -> HoursDateRange.Point {
        var year: Int?
        if isYear(current) && isMonth(peek(1)) { year = try self.year() }
        guard case .word(let word) = current.kind, let index = Self.months.firstIndex(of: word) else {
            if case .word(let word) = current.kind, let problem = Self.wordProblem(word, at: current) {
                throw problem
            }
            throw error(current, "expected a month, found \(describe(current))", fix: "months are Jan … Dec")
        }
        let month = index + 1
        advance()
        var day: Int?
        if case .number = current.kind, current.spaceBefore { day = try dayOfMonth(month) }
        return HoursDateRange.Point(year: year, month: month, day: day)
    }

    private mutating func dayOfMonth(_ month: Int) throws(HoursSyntaxError) -> Int {
        guard case .number(let value, let digits) = current.kind else {
            throw error(current, "expected a day of the month, found \(describe(current))", fix: "write e.g. Dec 24")
        }
        let limit = month == 2 ? 29 : LocalDate.daysIn(month: month, year: 2001)
        guard digits <= 2, value >= 1, value <= limit else {
            throw error(
                current, "day \(current.text) does not exist in \(Self.months[month - 1])",
                fix: "\(Self.months[month - 1]) has days 01 to \(limit)")
        }
        advance()
        return value
    }

    private mutating func dates() throws(HoursSyntaxError) -> [HoursDateRange] {
        var ranges: [HoursDateRange] = []
        while true {
            let startToken = current
            let start = try datePoint()
            var end = start
            if current.kind == .dash {
                let dash = current
                if dash.spaceBefore || peek(1).spaceBefore {
                    throw error(
                        dash, "spaces around '-' in a date range", fix: "write ranges like Dec 24-26 or Jun-Aug")
                }
                advance()
                if case .number = current.kind, !isYear(current) {
                    guard let startDay = start.day else {
                        throw error(
                            current, "a month range needs a month at both ends", fix: "write e.g. Jun-Aug or Jun 01-15")
                    }
                    let day = try dayOfMonth(start.month)
                    if day < startDay {
                        throw error(
                            startToken, "end before start: day \(day) comes before day \(startDay)",
                            fix: "write \(Self.months[start.month - 1]) \(pad(day))-\(pad(startDay))")
                    }
                    end = HoursDateRange.Point(year: nil, month: start.month, day: day)
                } else if isMonth(current) || isYear(current) {
                    let endToken = current
                    end = try datePoint()
                    if (start.day == nil) != (end.day == nil) {
                        throw error(
                            endToken, "a range mixes a whole month and a date",
                            fix: "write both ends as dates (Jan 01-Feb 28) or as months (Jan-Feb)")
                    }
                    if end.year != nil && start.day == nil, let startYear = start.year, let endYear = end.year {
                        let first = Self.months[start.month - 1]
                        let last = Self.months[end.month - 1]
                        let lastDay = LocalDate.daysIn(month: end.month, year: endYear)
                        throw error(
                            endToken, "a month range cannot name a year at its end",
                            fix: "write it as dates: \(startYear) \(first) 01-\(endYear) \(last) \(pad(lastDay))")
                    }
                    if end.year != nil && start.year == nil {
                        throw error(
                            endToken, "a year on the end of a date range needs one on its start",
                            fix: "write e.g. 2026 Dec 24-2027 Jan 02")
                    }
                    if let y1 = start.year, let y2 = end.year,
                        (y2, end.month, end.day ?? 31) < (y1, start.month, start.day ?? 1)
                    {
                        throw error(startToken, "end before start: the date range runs backwards", fix: "swap its ends")
                    }
                } else {
                    throw error(
                        current, "expected a month or day after '-'", fix: "write e.g. Dec 24-26 or Dec 24-Jan 02")
                }
            }
            if let year = start.year, start.day == nil, end.month < start.month {
                let first = Self.months[start.month - 1]
                let last = Self.months[end.month - 1]
                let lastDay = LocalDate.daysIn(month: end.month, year: year + 1)
                warnings.append(
                    HoursSyntaxError(
                        column: startToken.column,
                        message:
                            "'\(year) \(first)-\(last)' wraps the year, so it means \(last) and \(first) of \(year) "
                            + "(as opening-hours-py reads it), not \(first) \(year) through \(last) \(year + 1)",
                        fix: "for the winter write '\(year) \(first) 01-\(year + 1) \(last) \(pad(lastDay))'"))
            }
            ranges.append(HoursDateRange(start: start, end: end))
            if current.kind == .comma, !peek(1).spaceBefore {
                let next = peek(1)
                if isMonth(next) || (isYear(next) && isMonth(peek(2))) {
                    advance()
                    continue
                }
                if case .number = next.kind, !isYear(next) {
                    let month = Self.months[(end.month - 1)]
                    throw error(
                        next, "a day after ',' needs its month",
                        fix: "repeat the month: \(month) \(pad(end.day ?? 1)),\(month) \(next.text)")
                }
            }
            return ranges
        }
    }

    private func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    // MARK: - Weeks

    private mutating func weekNumber() throws(HoursSyntaxError) -> Int {
        guard case .number(let value, _) = current.kind else {
            throw error(current, "expected a week number, found \(describe(current))", fix: "write e.g. week 01-53/2")
        }
        guard (1...53).contains(value) else {
            throw error(current, "week \(current.text) is out of range", fix: "ISO weeks run from 01 to 53")
        }
        advance()
        return value
    }

    private mutating func weeks() throws(HoursSyntaxError) -> [HoursWeekRange] {
        advance()  // `week`
        var ranges: [HoursWeekRange] = []
        while true {
            let startToken = current
            let first = try weekNumber()
            var last = first
            var step = 1
            if current.kind == .dash {
                if current.spaceBefore || peek(1).spaceBefore {
                    throw error(current, "spaces around '-' in a week range", fix: "write e.g. week 01-10")
                }
                advance()
                last = try weekNumber()
                if last < first {
                    throw error(
                        startToken, "end before start: week \(pad(first))-\(pad(last)) runs backwards",
                        fix: "split it at the year's end: week \(pad(first))-53,01-\(pad(last))")
                }
                if current.kind == .slash {
                    advance()
                    guard case .number(let value, _) = current.kind, value >= 1, value <= 53 else {
                        throw error(current, "expected a week step from 1 to 53", fix: "write e.g. week 01-53/2")
                    }
                    step = value
                    advance()
                }
            } else if current.kind == .slash {
                throw error(current, "a week step needs a range", fix: "write e.g. week 01-53/2")
            }
            ranges.append(HoursWeekRange(first: first, last: last, step: step))
            // A step over the whole year restarts at week 01, so it breaks after a year with 53 weeks.
            if step > 1 && first <= step && last >= 52 {
                warnings.append(
                    HoursSyntaxError(
                        column: startToken.column,
                        message: "week \(pad(first))-\(pad(last))/\(step) counts ISO week numbers, which restart "
                            + "each year: after a year with 53 weeks (2026, 2032) the step breaks (week 53 and week 01 "
                            + "follow each other)",
                        fix: "for a staff member's every other week, give them a `rotation` counted from a date "
                            + "(docs/hours.md)"))
            }
            if current.kind == .comma, !peek(1).spaceBefore, case .number = peek(1).kind {
                advance()
                continue
            }
            return ranges
        }
    }

    // MARK: - Weekdays

    private mutating func weekdays() throws(HoursSyntaxError) -> HoursWeekdaySelector {
        var selector = HoursWeekdaySelector()
        while true {
            let token = current
            guard case .word(let word) = token.kind else {
                throw error(
                    token, "expected a weekday, found \(describe(token))", fix: "weekdays are Mo Tu We Th Fr Sa Su")
            }
            if word == "PH" {
                selector.publicHoliday = true
                advance()
            } else if let first = Self.weekdayNames.firstIndex(of: word) {
                advance()
                if current.kind == .dash {
                    if current.spaceBefore || peek(1).spaceBefore {
                        throw error(current, "spaces around '-' in a weekday range", fix: "write e.g. Mo-Fr")
                    }
                    advance()
                    guard case .word(let endWord) = current.kind, let last = Self.weekdayNames.firstIndex(of: endWord)
                    else {
                        if case .word(let endWord) = current.kind, let problem = Self.wordProblem(endWord, at: current)
                        {
                            throw problem
                        }
                        throw error(current, "expected a weekday after '-'", fix: "write e.g. Mo-Fr")
                    }
                    advance()
                    var day = first
                    while true {
                        selector.plainMask |= 1 << UInt8(day)
                        if day == last { break }
                        day = (day + 1) % 7
                    }
                    if current.kind == .leftBracket {
                        throw error(
                            current, "[n] applies to one weekday, not a range",
                            fix: "list them: \(word)[1],\(endWord)[1]")
                    }
                } else if current.kind == .leftBracket, !current.spaceBefore {
                    selector.nth.append(try nth(weekday: first))
                } else {
                    selector.plainMask |= 1 << UInt8(first)
                }
            } else if let problem = Self.wordProblem(word, at: token) {
                throw problem
            } else {
                throw error(
                    token, "expected a weekday, found \(describe(token))", fix: "weekdays are Mo Tu We Th Fr Sa Su")
            }
            if current.kind == .comma, !peek(1).spaceBefore, case .word(let next) = peek(1).kind,
                Self.startsWeekdays(next) || Self.looksLikeWeekday(next)
            {
                advance()
                continue
            }
            return selector
        }
    }

    private mutating func nth(weekday: Int) throws(HoursSyntaxError) -> HoursWeekdaySelector.Nth {
        var item = HoursWeekdaySelector.Nth(weekday: weekday, fromStart: 0, fromEnd: 0)
        advance()  // `[`
        while true {
            var negative = false
            if current.kind == .dash {
                negative = true
                advance()
            }
            let startToken = current
            guard case .number(let first, _) = current.kind, (1...5).contains(first), !current.spaceBefore else {
                throw error(
                    current, "expected a week-of-month number from 1 to 5 (or -1 to -5)",
                    fix: "write e.g. Su[1], Mo[-1] or Sa[2,4]")
            }
            advance()
            var last = first
            if !negative, current.kind == .dash, case .number(let end, _) = peek(1).kind {
                advance()
                guard (1...5).contains(end) else {
                    throw error(current, "[n] numbers run from 1 to 5", fix: "write e.g. We[4-5]")
                }
                if end < first {
                    throw error(
                        startToken, "end before start: [\(first)-\(end)] runs backwards", fix: "write [\(end)-\(first)]"
                    )
                }
                last = end
                advance()
            }
            for k in first...last {
                if negative { item.fromEnd |= 1 << UInt8(k) } else { item.fromStart |= 1 << UInt8(k) }
            }
            if current.kind == .comma, !peek(1).spaceBefore {
                advance()
                continue
            }
            guard current.kind == .rightBracket else {
                throw error(current, "expected ']' to close the [n] list", fix: "write e.g. Sa[2,4]")
            }
            advance()
            return item
        }
    }

    // MARK: - Times

    private mutating func time() throws(HoursSyntaxError) -> Int {
        guard case .time(let minutes) = current.kind else {
            throw error(
                current, "expected a time like 18:00, found \(describe(current))", fix: "write spans as 09:00-18:00")
        }
        advance()
        return minutes
    }

    private mutating func times(commasWithSpace: inout [HoursToken]) throws(HoursSyntaxError) -> [HoursTimeSpan] {
        var spans: [HoursTimeSpan] = []
        while true {
            let startToken = current
            let start = try time()
            if start >= 1440 {
                throw error(
                    startToken, "a span cannot start at 24:00 or later",
                    fix: "start it on the next day, e.g. 00:00-02:00")
            }
            if current.kind == .plus {
                throw unexpected(current)
            }
            guard current.kind == .dash else {
                throw error(
                    startToken, "the time \(startToken.text) has no end",
                    fix: "write a span like \(startToken.text)-18:00 (points in time are not supported)")
            }
            advance()
            let endToken = current
            var end = try time()
            let written = end
            if end <= start { end += 1440 }  // past midnight; equal ends mean a full 24 hours
            if end > 2880 {
                throw error(startToken, "a span may end at most at 48:00", fix: "split it into rules for two days")
            }
            if current.kind == .plus {
                throw unexpected(current)
            }
            if current.kind == .slash {
                throw error(current, "repeating time spans are not supported", fix: "list the spans instead")
            }
            warnLongSpan(HoursTimeSpan(start: start, end: end), written: written, at: startToken, endToken: endToken)
            spans.append(HoursTimeSpan(start: start, end: end))
            if current.kind == .comma, !current.spaceBefore, case .time = peek(1).kind {
                if peek(1).spaceBefore { commasWithSpace.append(current) }
                advance()
                continue
            }
            return spans
        }
    }

    /// Warns about a span past midnight that is probably a slip: longer than 16 hours, or an end before the start
    /// that reads as a same-day span on a 12-hour clock (`09:00-7:00`, meant 19:00).
    private mutating func warnLongSpan(
        _ span: HoursTimeSpan, written: Int, at startToken: HoursToken, endToken: HoursToken
    ) {
        guard span.end > 1440 else { return }
        let length = span.end - span.start
        let twelveHourSlip = written < span.start && written < 720 && written + 720 > span.start
        guard length > 16 * 60 || twelveHourSlip else { return }
        let hours = length % 60 == 0 ? "\(length / 60) hours" : Minutes.format(length)
        let reading = "'\(startToken.text)-\(endToken.text)' is read as \(Self.clock(span.start)) to "
            + "\(Self.clock(span.end - 1440)) the next day (\(hours))"
        let fix = twelveHourSlip
            ? "did you mean \(Self.clock(written + 720))? Write \(Self.clock(span.start))-\(Self.clock(written + 720)) "
                + "(24-hour clock); keep it if the span really runs past midnight"
            : "if it ends the same day, correct the end time; keep it if the span really runs past midnight"
        warnings.append(HoursSyntaxError(column: startToken.column, message: reading, fix: fix))
    }

    /// `HH:MM` for minutes since midnight.
    static func clock(_ minutes: Int) -> String {
        let hours = minutes / 60
        let rest = minutes % 60
        return "\(hours < 10 ? "0" : "")\(hours):\(rest < 10 ? "0" : "")\(rest)"
    }

    /// The state word that follows the time list, if any (`off`, `closed`, `open`, `unknown`).
    private func peekStateWord() -> String? {
        if case .word(let word) = current.kind, Self.state(word) != nil { return word }
        return nil
    }

    private mutating func warnAmbiguousTimeList(comma: HoursToken, stateWord: String?) {
        var scalars = Array(source.unicodeScalars)
        let index = comma.column - 1
        guard index + 1 < scalars.count else { return }
        if stateWord == nil || stateWord == "open" {
            scalars.remove(at: index + 1)  // the space after the comma
            warnings.append(
                HoursSyntaxError(
                    column: comma.column,
                    message: "', ' followed by a time continues this rule's time list; it does not start a new rule",
                    fix: "write the list without the space: '\(String(String.UnicodeScalarView(scalars)))'"))
        } else if let stateWord {
            scalars[index] = ";"
            warnings.append(
                HoursSyntaxError(
                    column: comma.column,
                    message: "', ' followed by a time continues the time list, so '\(stateWord)' applies to every "
                        + "span of the rule, not just the last (both reference implementations read it so)",
                    fix: "to make only the later span \(stateWord) write '\(String(String.UnicodeScalarView(scalars)))'"
                ))
        }
    }

    // MARK: - Words

    static let weekdayNames = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let weekdayFullNames = [
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    ]
    private static let monthFullNames = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ]

    static func state(_ word: String) -> HoursRule.State? {
        switch word {
        case "open": return .open
        case "off", "closed": return .closed
        case "unknown": return .unknown
        default: return nil
        }
    }

    static func startsWeekdays(_ word: String) -> Bool {
        word == "PH" || word == "SH" || weekdayNames.contains(word)
    }

    static func looksLikeWeekday(_ word: String) -> Bool {
        let lower = word.lowercased()
        return lower.count >= 2 && weekdayFullNames.contains { $0.hasPrefix(lower) }
    }

    /// Why a word is not what it seems to be, with the fix; nil for a valid keyword.
    static func wordProblem(_ word: String, at token: HoursToken) -> HoursSyntaxError? {
        if weekdayNames.contains(word) || months.contains(word) || state(word) != nil || word == "PH" || word == "week"
        {
            return nil
        }
        func problem(_ message: String, _ fix: String) -> HoursSyntaxError {
            HoursSyntaxError(column: token.column, message: message, fix: fix)
        }
        let lower = word.lowercased()
        if word == "SH" {
            return problem(
                "school holidays (SH) are not supported: the reference implementations disagree on them",
                "list the dates instead, e.g. 'Jul 20-Aug 31 off'")
        }
        if lower.count >= 2, let index = weekdayFullNames.firstIndex(where: { $0.hasPrefix(lower) }) {
            return problem("unknown weekday '\(word)'", "use \(weekdayNames[index])")
        }
        if lower.count >= 3, let index = monthFullNames.firstIndex(where: { $0.hasPrefix(lower) }) {
            return problem("unknown month '\(word)'", "use \(months[index])")
        }
        switch lower {
        case "off", "open", "closed", "unknown":
            return problem("unknown word '\(word)'", "write '\(lower)' in lower case")
        case "close":
            return problem("unknown word '\(word)'", "use 'closed' or 'off'")
        case "ph":
            return problem("unknown word '\(word)'", "write public holidays as 'PH'")
        case "sh":
            return problem(
                "school holidays (SH) are not supported: the reference implementations disagree on them",
                "list the dates instead, e.g. 'Jul 20-Aug 31 off'")
        case "week", "weeks", "wk":
            return problem("unknown word '\(word)'", "write 'week' in lower case, e.g. week 01-53/2")
        case "sunrise", "sunset", "dawn", "dusk":
            return problem("variable times like '\(word)' are not supported", "write a fixed time, e.g. 18:00")
        case "easter":
            return problem(
                "'easter' is not supported in hour expressions",
                "put Easter-relative days in the holidays section (easter+1) and write 'PH off'")
        case "day", "days":
            return problem("day offsets are not supported", "write the dates or weekdays directly")
        default:
            return problem(
                "unknown word '\(word)'",
                "expected a weekday (Mo-Su), a month (Jan-Dec), PH, week, a time like 09:00-18:00, "
                    + "or open/off/closed/unknown")
        }
    }
}
