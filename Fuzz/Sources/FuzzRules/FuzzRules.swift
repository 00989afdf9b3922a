import FuzzSupport
import SlotRules

/// The process entry point SwiftPM links `main` to: hands over to libFuzzer's driver.
@_cdecl("FuzzRules_main")
public func fuzzRulesMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzRules(fuzzBytes(data, size)) }
}

/// The input is one rule file, or a small rules directory: lines `#=== <name>` start each file (the golden
/// fixtures' format), and a name ending in `.ics` is an attachment. Loading must return (never trap); there is a
/// rule set exactly when no diagnostic is an error; every diagnostic names a given file (a calendar: beside the rule
/// file that imports it), a line of it and a column at most one past that line's end; a rule set renders.
func fuzzRules(_ bytes: UnsafeBufferPointer<UInt8>) -> CInt {
    let text = String(decoding: bytes, as: UTF8.self)
    let files = split(text)
    let sources = files.filter { !$0.name.hasSuffix(".ics") }
    let attachments = Dictionary(
        files.filter { $0.name.hasSuffix(".ics") }.map { ($0.name, $0.text) }, uniquingKeysWith: { first, _ in first })
    let result = RuleLoader.load(sources, attachments: attachments)
    require(
        (result.ruleSet != nil) == !result.diagnostics.hasErrors, "a rule set although there are errors, or none",
        input: text)
    // The line lengths of each file a diagnostic may name. A calendar's problems name it beside the rule file that
    // imports it (`rules/shop.yaml` imports `holidays.ics`: `rules/holidays.ics`), and the input's names may hold a
    // `/`, so one name can stand for more than one text: a diagnostic must fit one of them.
    var lineLengths: [String: [[Int]]] = [:]
    for file in files { lineLengths[file.name, default: []].append(lengths(of: file.text)) }
    // Calendars alone are no rules directory: the loader says so at `rules`, the name it gives the missing files.
    if sources.isEmpty { lineLengths["rules", default: []].append([0]) }
    for source in sources {
        guard let slash = source.name.lastIndex(of: "/") else { continue }
        for (name, text) in attachments where !name.contains("/") {
            lineLengths[String(source.name[...slash]) + name, default: []].append(lengths(of: text))
        }
    }
    for diagnostic in result.diagnostics {
        let location = diagnostic.location
        guard let candidates = lineLengths[location.file] else {
            require(false, "diagnostic in an unknown file: \(diagnostic)", input: text)
            continue
        }
        require(
            candidates.contains { lines in location.line >= 1 && location.line <= lines.count },
            "line out of range: \(diagnostic)", input: text)
        require(
            candidates.contains { lines in
                location.line >= 1 && location.line <= lines.count && location.column >= 1
                    && location.column <= lines[location.line - 1] + 1
            }, "column out of range: \(diagnostic)", input: text)
        require(!diagnostic.message.isEmpty, "empty message: \(diagnostic)", input: text)
    }
    if let rules = result.ruleSet {
        require(!RuleRenderer.render(rules).isEmpty, "rule set renders as nothing", input: text)
    }
    return 0
}

/// The files of an input: `#=== <name>` lines split it; without one, the whole input is `shop.yaml`.
func split(_ text: String) -> [RuleSource] {
    guard text.hasPrefix("#=== ") else { return [RuleSource(name: "shop.yaml", text: text)] }
    var files: [RuleSource] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("#=== ") {
            // A directory cannot hold two files of one name: a repeated name gets a number.
            var name = String(line.dropFirst(5))
            if files.contains(where: { $0.name == name }) { name += ".\(files.count)" }
            files.append(RuleSource(name: name, text: ""))
        } else {
            files[files.count - 1].text += line + "\n"
        }
    }
    return files
}

/// Each line's length in Unicode scalars, as the loader counts them: a line ends where YAML ends it, at `\n`,
/// `\r\n`, `\r`, U+0085, U+2028 or U+2029.
func lengths(of text: String) -> [Int] {
    var lengths = [0]
    var previousWasCR = false
    for scalar in text.unicodeScalars {
        if scalar == "\n" {
            if !previousWasCR { lengths.append(0) }
            previousWasCR = false
        } else if scalar == "\r" {
            lengths.append(0)
            previousWasCR = true
        } else if scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}" {
            lengths.append(0)
            previousWasCR = false
        } else {
            lengths[lengths.count - 1] += 1
            previousWasCR = false
        }
    }
    return lengths
}
