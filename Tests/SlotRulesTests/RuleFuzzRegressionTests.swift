import SlotRules
import Testing

/// Inputs the libFuzzer target `FuzzRules` (Fuzz/) found, kept so they stay fixed.
@Suite("Rule loader: fuzzer findings")
struct RuleFuzzRegressionTests {
    static func location(of text: String) -> Diagnostic.Location? {
        RuleLoader.load([RuleSource(name: "shop.yaml", text: text)]).diagnostics.first?.location
    }

    @Test("a control character after a lone CR is located on the next line, as other diagnostics count lines")
    func controlCharacterAfterCarriageReturn() {
        // Found by FuzzRules: reported at 1:3, past the end of line 1 (`#`).
        #expect(Self.location(of: "#\r\u{0}\u{0}order") == .init(file: "shop.yaml", line: 2, column: 1))
    }

    @Test("a control character's column counts characters, not the UTF-8 bytes before it")
    func controlCharacterAfterNonASCII() {
        #expect(Self.location(of: "name: Café\u{1}\n") == .init(file: "shop.yaml", line: 1, column: 11))
        #expect(Self.location(of: "a: 1\nname: Ü\u{1}") == .init(file: "shop.yaml", line: 2, column: 8))
        // Two such characters: a byte count lands one character early (a single one hid it, cut in half).
        #expect(Self.location(of: "name: Éé\u{1}") == .init(file: "shop.yaml", line: 1, column: 9))
        #expect(Self.location(of: "a: 🙂\nb: \"«»\u{1}\"") == .init(file: "shop.yaml", line: 2, column: 7))
    }

    @Test("a control character after CRLF line breaks is at its own column, as after LF")
    func controlCharacterAfterCRLF() {
        let crlf = "shop:\r\n  name: \"A\u{1}b\"\r\n"
        #expect(Self.location(of: crlf) == .init(file: "shop.yaml", line: 2, column: 11))
        #expect(Self.location(of: "shop:\n  name: \"A\u{1}b\"\n") == Self.location(of: crlf))
        #expect(Self.location(of: "a: 1\r\n\r\nb: \u{1}") == .init(file: "shop.yaml", line: 3, column: 4))
    }

    @Test("U+0085, U+2028 and U+2029 end lines as YAML counts them, with a warning that editors do not show it")
    func unusualLineBreaks() {
        // Found by FuzzRules (`#\xC3\xC2\xC2\x85 hop.yam#`, the bytes as the loader gets them): libyaml ended the
        // comment at U+0085 and reported 2:2, in a file the loader took for one line.
        let found = RuleLoader.load([RuleSource(name: "shop.yaml", text: "#\u{FFFD}\u{FFFD}\u{85} hop.yam#")])
        let error = found.diagnostics.first { $0.severity == .error }
        #expect(error?.location == .init(file: "shop.yaml", line: 2, column: 2))
        #expect(error?.message.contains("hop.yam#") == true, "\(found.diagnostics)")
        let warning = found.diagnostics.first { $0.severity == .warning }
        #expect(warning?.location == .init(file: "shop.yaml", line: 1, column: 4))
        #expect(warning?.message.hasPrefix("U+0085 (next line) ends a line here for YAML") == true)
        #expect(found.ruleSet == nil)
        // In a file that loads, the warning comes with the rules, and positions after the break count it as a line.
        for (separator, name) in [("\u{2028}", "U+2028 (line separator)"), ("\u{2029}", "U+2029 (paragraph separator)")] {
            let loaded = RuleLoader.load([
                RuleSource(name: "shop.yaml", text: "# hours\(separator)\nhours: Mo 09:00-18:00\nbreaks: [Mo 25:00]\n")
            ])
            let warning = loaded.diagnostics.first { $0.severity == .warning && $0.message.hasPrefix(name) }
            #expect(warning?.location == .init(file: "shop.yaml", line: 1, column: 8), "\(loaded.diagnostics)")
            #expect(loaded.diagnostics.contains { $0.severity == .error && $0.location.line == 4 }, "\(loaded.diagnostics)")
        }
        // U+0085 before `\n` is two line breaks, as for YAML (only `\r\n` is one).
        #expect(Self.location(of: "a: 1\u{85}\nb: \u{1}") == .init(file: "shop.yaml", line: 3, column: 4))
    }

    @Test("a node at the end of a file without a final line break is on its last line, as a syntax error is")
    func nodeAtEndWithoutLineBreak() {
        // Found by FuzzRules: `---` alone, its empty document located at 2:1 in a file of one line.
        #expect(Self.location(of: "---") == .init(file: "shop.yaml", line: 1, column: 4))
        #expect(Self.location(of: "---\n") == .init(file: "shop.yaml", line: 2, column: 1))
    }

    @Test("a syntax error at the end of a file without a final line break is on its last line")
    func syntaxErrorAtEndWithoutLineBreak() {
        // Found by FuzzRules: reported at 3:1 in a file of two lines.
        #expect(Self.location(of: "hours: Mo 09:00-10:00\na=b") == .init(file: "shop.yaml", line: 2, column: 4))
    }

    @Test("a calendar's problem names the calendar in the directory of the rule file that imports it")
    func calendarProblemBesideItsRuleFile() {
        // Found by FuzzRules, in a rule file named with a `/`: the harness then looked for `bad.ics` and found no
        // file of the name the diagnostic gave. The loader was right; the harness now knows where calendars are.
        let rules = "shop: {name: Test, timezone: Europe/Berlin}\nhours: Mo-Fr 09:00-18:00\nholidays: [ics: bad.ics]\n"
        let calendar = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nSUMMARY:No start\nEND:VEVENT\nEND:VCALENDAR\n"
        let result = RuleLoader.load(
            [RuleSource(name: "/etc/slotd/rules/shop.yaml", text: rules)], attachments: ["bad.ics": calendar])
        let problem = result.diagnostics.first { $0.message.contains("DTSTART") }
        #expect(problem?.location == .init(file: "/etc/slotd/rules/bad.ics", line: 3, column: 1))
    }

    @Test("calendars without a rule file are no rule set: one error, at `rules`")
    func calendarsAlone() {
        // Found by FuzzRules, an input of `.ics` files only: the harness knew no file called `rules`.
        let result = RuleLoader.load([], attachments: ["holidays.ics": "BEGIN:VCALENDAR\nEND:VCALENDAR\n"])
        #expect(result.ruleSet == nil)
        #expect(result.diagnostics.map(\.message) == ["no rule files given"])
        #expect(result.diagnostics.first?.location == .init(file: "rules", line: 1, column: 1))
    }

    @Test("a position in a folded block scalar counts the line break that folding drops before empty lines")
    func foldedScalarBeforeEmptyLines() {
        /// Where the hour expression's stray quote is reported, in a file whose shop is fine.
        func quote(_ hours: String) -> Diagnostic.Location? {
            let text = "shop: {name: Test, timezone: Europe/Berlin}\nhours: " + hours
            return RuleLoader.load([RuleSource(name: "shop.yaml", text: text)]).diagnostics
                .first { $0.message.contains("unexpected character '''") }?.location
        }
        // Found by FuzzRules: in a folded scalar, `Mo-Fr`, an empty line, then `'Mo…`, the value is "Mo-Fr\n'Mo…": the
        // break after `Mo-Fr` folds away and the empty line gives the `\n`. Counting both put the quote on the
        // empty line, at the indentation's column, past that line's end (24:5 in a line of two spaces).
        #expect(quote(">-\n  Mo-Fr\n\n  'Mo 08:00\n") == .init(file: "shop.yaml", line: 5, column: 3))
        #expect(quote(">-\n  Mo-Fr\n  \n\n  'Mo\n") == .init(file: "shop.yaml", line: 6, column: 3))
        // Without empty lines the break folds into one space, one character as well.
        #expect(quote(">-\n  Mo-Fr\n  'Mo\n") == .init(file: "shop.yaml", line: 4, column: 3))
        // Beside a more indented line folding keeps every break; a literal scalar keeps them all.
        #expect(quote(">-\n  Mo-Fr\n\n    'Mo\n") == .init(file: "shop.yaml", line: 5, column: 5))
        #expect(quote("|-\n  Mo-Fr;\n\n  'Mo\n") == .init(file: "shop.yaml", line: 5, column: 3))
    }
}
