/// One lexical token of an hour expression, located by its 1-based column.
struct HoursToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A run of ASCII letters (`Mo`, `Dec`, `week`, `off`, `PH`, or an unknown word).
        case word(String)
        /// A run of digits; `digits` counts them (so `01` and `1` can be told apart).
        case number(Int, digits: Int)
        /// `HH:MM`, as minutes since midnight (up to 48:00).
        case time(Int)
        /// A quoted comment, without its quotes.
        case comment(String)
        /// `24/7`.
        case alwaysOpen
        case dash, comma, semicolon, leftBracket, rightBracket, slash, plus, fallback
        case end
    }

    var kind: Kind
    /// 1-based column of the first character.
    var column: Int
    /// Number of characters the token spans.
    var length: Int
    /// Whether whitespace precedes the token.
    var spaceBefore: Bool
    /// The token as written.
    var text: String
}

/// Splits an hour expression into tokens. Never traps; the first lexical problem is returned as an error.
struct HoursLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// All tokens, ending with `.end`, or the first lexical error.
    static func tokenize(_ text: String) -> Result<[HoursToken], HoursSyntaxError> {
        var lexer = HoursLexer(text)
        var tokens: [HoursToken] = []
        while true {
            switch lexer.next() {
            case .failure(let error): return .failure(error)
            case .success(let token):
                tokens.append(token)
                if token.kind == .end { return .success(tokens) }
            }
        }
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let position = index + offset
        return position < scalars.count ? scalars[position] : nil
    }

    private static func isDigit(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar else { return false }
        return scalar.value >= 48 && scalar.value <= 57
    }

    private static func isLetter(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar else { return false }
        return (scalar.value >= 65 && scalar.value <= 90) || (scalar.value >= 97 && scalar.value <= 122)
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{A0}"
    }

    private mutating func next() -> Result<HoursToken, HoursSyntaxError> {
        var space = false
        while let scalar = peek(), HoursLexer.isSpace(scalar) {
            space = true
            index += 1
        }
        let start = index
        let column = start + 1
        let all = scalars
        func token(_ kind: HoursToken.Kind) -> HoursToken {
            HoursToken(
                kind: kind, column: column, length: index - start, spaceBefore: space,
                text: String(String.UnicodeScalarView(all[start..<index])))
        }
        guard let scalar = peek() else { return .success(token(.end)) }

        if HoursLexer.isDigit(scalar) {
            return lexNumberOrTime(column: column, space: space)
        }
        if HoursLexer.isLetter(scalar) {
            var word = ""
            while let letter = peek(), HoursLexer.isLetter(letter) {
                word.unicodeScalars.append(letter)
                index += 1
            }
            return .success(token(.word(word)))
        }
        switch scalar {
        case "\"":
            index += 1
            var text = ""
            while let character = peek(), character != "\"" {
                text.unicodeScalars.append(character)
                index += 1
            }
            guard peek() == "\"" else {
                return .failure(
                    HoursSyntaxError(
                        column: column, message: "unterminated comment",
                        fix: "close the comment with a second \" (comments cannot contain quotes)"))
            }
            index += 1
            return .success(token(.comment(text)))
        case "-", "\u{2013}", "\u{2014}":
            index += 1
            return .success(token(.dash))
        case ",":
            index += 1
            return .success(token(.comma))
        case ";":
            index += 1
            return .success(token(.semicolon))
        case "[":
            index += 1
            return .success(token(.leftBracket))
        case "]":
            index += 1
            return .success(token(.rightBracket))
        case "/":
            index += 1
            return .success(token(.slash))
        case "+":
            index += 1
            return .success(token(.plus))
        case "|":
            if peek(1) == "|" {
                index += 2
                return .success(token(.fallback))
            }
            return .failure(
                HoursSyntaxError(column: column, message: "unexpected '|'", fix: "separate rules with '; '"))
        default:
            let shown = String(Character(scalar))
            return .failure(
                HoursSyntaxError(
                    column: column, message: "unexpected character '\(shown)'",
                    fix: "an hour expression uses weekdays, months, times like 09:00-18:00, ',', '-', ';' and quotes"))
        }
    }

    private mutating func readDigits() -> (value: Int, count: Int) {
        var value = 0
        var count = 0
        while let digit = peek(), HoursLexer.isDigit(digit) {
            if count < 9 { value = value * 10 + Int(digit.value - 48) }
            count += 1
            index += 1
        }
        return (value, count)
    }

    private mutating func lexNumberOrTime(column: Int, space: Bool) -> Result<HoursToken, HoursSyntaxError> {
        let start = index
        let hour = readDigits()
        // `24/7` is one token.
        if hour.value == 24 && hour.count == 2 && peek() == "/" && peek(1) == "7" && !HoursLexer.isDigit(peek(2)) {
            index += 2
            return .success(
                HoursToken(kind: .alwaysOpen, column: column, length: 4, spaceBefore: space, text: "24/7"))
        }
        guard peek() == ":" else {
            if hour.count > 9 {
                return .failure(
                    HoursSyntaxError(column: column, message: "number too long", fix: "remove the extra digits"))
            }
            return .success(
                HoursToken(
                    kind: .number(hour.value, digits: hour.count), column: column, length: index - start,
                    spaceBefore: space, text: String(String.UnicodeScalarView(scalars[start..<index]))))
        }
        index += 1  // ':'
        let minuteColumn = index + 1
        let minute = readDigits()
        let text = String(String.UnicodeScalarView(scalars[start..<index]))
        if hour.count > 2 {
            return .failure(
                HoursSyntaxError(
                    column: column, message: "bad time '\(text)'", fix: "write times as HH:MM, e.g. 09:30"))
        }
        if minute.count != 2 {
            return .failure(
                HoursSyntaxError(
                    column: minuteColumn, message: "bad minutes in '\(text)'",
                    fix: "write minutes with two digits, e.g. 09:05"))
        }
        if minute.value > 59 {
            return .failure(
                HoursSyntaxError(
                    column: minuteColumn, message: "minute \(minute.value) is out of range in '\(text)'",
                    fix: "minutes run from 00 to 59; write the next hour instead, e.g. 11:00 for 10:60"))
        }
        if hour.value > 48 || (hour.value == 48 && minute.value > 0) {
            return .failure(
                HoursSyntaxError(
                    column: column, message: "hour \(hour.value) is out of range in '\(text)'",
                    fix: "times run from 00:00 to 48:00 (24:00 plus one day, for spans past midnight)"))
        }
        return .success(
            HoursToken(
                kind: .time(hour.value * 60 + minute.value), column: column, length: index - start,
                spaceBefore: space, text: text))
    }
}
