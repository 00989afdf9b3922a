import Yams

/// One rule file's text split into lines of Unicode scalars, so positions inside scalars can be located.
///
/// Lines end where YAML (libyaml) ends them, so its positions and these agree: at `\n`, `\r\n` and `\r`, and also
/// at U+0085 (next line), U+2028 and U+2029 (line and paragraph separators), which most editors show as no break.
final class SourceText: Sendable {
    let name: String
    let lines: [[Unicode.Scalar]]
    /// The first line break of the three that editors mostly do not show, and where it is (it ends that line).
    let unusualBreak: (scalar: Unicode.Scalar, line: Int, column: Int)?

    /// The line breaks YAML counts besides `\n` and `\r`, with their names.
    static let unusualBreaks: [Unicode.Scalar: String] = [
        "\u{85}": "U+0085 (next line)", "\u{2028}": "U+2028 (line separator)",
        "\u{2029}": "U+2029 (paragraph separator)",
    ]

    init(name: String, text: String) {
        self.name = name
        var lines: [[Unicode.Scalar]] = [[]]
        var unusualBreak: (scalar: Unicode.Scalar, line: Int, column: Int)?
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                if !previousWasCR { lines.append([]) }
                previousWasCR = false
            } else if scalar == "\r" {
                lines.append([])
                previousWasCR = true
            } else if scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}" {  // `unusualBreaks`, unhashed
                if unusualBreak == nil { unusualBreak = (scalar, lines.count, lines[lines.count - 1].count + 1) }
                lines.append([])
                previousWasCR = false
            } else {
                lines[lines.count - 1].append(scalar)
                previousWasCR = false
            }
        }
        self.lines = lines
        self.unusualBreak = unusualBreak
    }

    /// A warning for the first line break most editors do not show, since every line after it is numbered one more
    /// than the editor shows; nil when there is none.
    var unusualBreakWarning: Diagnostic? {
        guard let unusualBreak, let name = Self.unusualBreaks[unusualBreak.scalar] else { return nil }
        return Diagnostic(
            .warning, at: .init(file: self.name, line: unusualBreak.line, column: unusualBreak.column),
            "\(name) ends a line here for YAML, though most editors show no line break: line numbers after "
                + "it are one more than such an editor shows",
            fix: "replace it with a plain line break or delete it (a '…' saved in the wrong encoding often becomes "
                + "U+0085)")
    }

    /// The diagnostic location of a libyaml mark. libyaml puts the end of a file without a final line break on a
    /// line of its own: such a mark is kept at the end of the last line.
    func location(line: Int, column: Int) -> Diagnostic.Location {
        if line > lines.count, let last = lines.last {
            return .init(file: name, line: lines.count, column: last.count + 1)
        }
        return .init(file: name, line: max(1, line), column: max(1, column))
    }

    /// The scalar at a 1-based line and column, or nil past the end of the line or the file.
    func scalar(line: Int, column: Int) -> Unicode.Scalar? {
        guard line >= 1, line <= lines.count, column >= 1, column <= lines[line - 1].count else { return nil }
        return lines[line - 1][column - 1]
    }
}

/// A YAML node and the file it came from.
struct YNode {
    let node: Node
    let source: SourceText

    init(_ node: Node, _ source: SourceText) {
        self.node = node
        self.source = source
    }

    /// Where the node starts (its first character; a quoted scalar's opening quote).
    var location: Diagnostic.Location {
        let mark: Mark?
        switch node {
        case .scalar(let scalar): mark = scalar.mark
        case .mapping(let mapping): mark = mapping.mark
        case .sequence(let sequence): mark = sequence.mark
        case .alias(let alias): mark = alias.mark
        }
        return source.location(line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    var scalar: Node.Scalar? { if case .scalar(let scalar) = node { return scalar } else { return nil } }

    /// Whether the node is an empty value (`key:` with nothing after it, `~`, `null`).
    var isNull: Bool {
        guard let scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The items of a sequence node.
    var items: [YNode]? {
        guard case .sequence(let sequence) = node else { return nil }
        return sequence.map { YNode($0, source) }
    }

    /// The key/value pairs of a mapping node, in written order.
    var pairs: [(key: YNode, value: YNode)]? {
        guard case .mapping(let mapping) = node else { return nil }
        return mapping.map { (YNode($0.key, source), YNode($0.value, source)) }
    }

    /// What the node is, for "expected …, found …" messages.
    var kindDescription: String {
        switch node {
        case .mapping: return "a mapping (key: value lines)"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull { return "nothing" }
            let text = scalar.string.count > 40 ? String(scalar.string.prefix(40)) + "…" : scalar.string
            return "'\(text)'"
        }
    }

    /// The file position of the scalar character at `offset` (0-based, in Unicode scalars of the value).
    ///
    /// The node mark points at a quoted scalar's opening quote, and quoted scalars contain escapes (`''`, `\"`,
    /// `\u00e9`) and line folds, so the source is walked alongside the value rather than adding the offset.
    func location(ofValueOffset offset: Int) -> Diagnostic.Location {
        let start = location
        guard let scalar, offset > 0 else {
            if let scalar, scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
                return Diagnostic.Location(file: start.file, line: start.line, column: start.column + 1)
            }
            return start
        }
        var line = start.line
        var column = start.column
        var remaining = offset
        let lines = source.lines
        func current() -> Unicode.Scalar? { source.scalar(line: line, column: column) }
        /// Moves to the first non-blank character of the next line (a line fold: one value character).
        func foldLine() -> Bool {
            guard line < lines.count else { return false }
            line += 1
            column = 1
            while let next = current(), next == " " || next == "\t" { column += 1 }
            return true
        }
        switch scalar.style {
        case .singleQuoted, .doubleQuoted:
            let quote: Unicode.Scalar = scalar.style == .singleQuoted ? "'" : "\""
            column += 1
            while remaining > 0 {
                guard let next = current() else {
                    guard foldLine() else { break }
                    remaining -= 1
                    continue
                }
                if quote == "'" && next == "'" {
                    column += 2
                } else if quote == "\"" && next == "\\" {
                    switch source.scalar(line: line, column: column + 1) {
                    case "x": column += 4
                    case "u": column += 6
                    case "U": column += 10
                    case nil: _ = foldLine(); continue
                    default: column += 2
                    }
                } else {
                    column += 1
                }
                remaining -= 1
            }
        case .literal, .folded:
            // The value starts on the line after the `|` or `>` header; each value line is a source line, and each
            // line break one value character, except one that folding drops (`dropsBreak`).
            guard foldLine() else { return start }
            let indent = column
            while remaining > 0 {
                if current() == nil {
                    guard line < lines.count else { break }
                    let dropped = scalar.style == .folded && Self.dropsBreak(after: line, indent: indent, in: lines)
                    line += 1
                    column = indent
                    if dropped { continue }
                } else {
                    column += 1
                }
                remaining -= 1
            }
            // On an empty line (shorter than the indentation) the value's character is that line's break.
            if line <= lines.count { column = min(column, lines[line - 1].count + 1) }
        default:
            while remaining > 0 {
                if current() == nil {
                    guard foldLine() else { break }
                } else {
                    column += 1
                }
                remaining -= 1
            }
        }
        return Diagnostic.Location(file: start.file, line: line, column: column)
    }
}

extension YNode {
    /// Whether folding drops the line break that ends `line` (1-based) of a folded block scalar: it does when the
    /// break ends a text line and empty lines follow before the next text line, and neither text line is more
    /// indented (starts with a space or tab): the empty lines alone then become the value's line breaks (YAML 1.2
    /// § 6.5, libyaml's `leading_break`). Without empty lines the break becomes one space, one character as well.
    /// (libyaml keeps a U+2028 or U+2029 break unfolded; such breaks are warned about, and taken here as `\n`.)
    static func dropsBreak(after line: Int, indent: Int, in lines: [[Unicode.Scalar]]) -> Bool {
        func isText(_ line: Int) -> Bool { lines[line - 1].count >= indent }
        func isMoreIndented(_ line: Int) -> Bool { [" ", "\t"].contains(lines[line - 1][indent - 1]) }
        guard indent >= 1, isText(line), !isMoreIndented(line) else { return false }
        var next = line + 1
        while next <= lines.count && !isText(next) { next += 1 }
        return next > line + 1 && next <= lines.count && !isMoreIndented(next)
    }
}

/// Composes YAML text into a located node tree; a syntax error becomes a located diagnostic.
enum YAMLSource {
    /// Flow brackets nested deeper than this are rejected before composing: Yams composes recursively.
    static let maximumDepth = 64

    static func compose(_ source: SourceText, text: String) -> Result<YNode?, Diagnostic> {
        if let problem = depthProblem(source) { return .failure(problem) }
        do {
            // UTF-8 named here, as Yams' default is on Linux (the marks' columns are counted in it): finding the
            // default reads the whole environment (for YAMS_DEFAULT_ENCODING) on every call, about 5 % of the
            // `rules` fuzz target's time.
            guard let node = try Yams.compose(yaml: text, .default, .default, .utf8) else { return .success(nil) }
            return .success(YNode(node, source))
        } catch let error as YamlError {
            return .failure(diagnostic(error, source: source, text: text))
        } catch {
            return .failure(
                Diagnostic(
                    .error, at: .init(file: source.name, line: 1, column: 1), "cannot read the YAML (\(error))",
                    fix: "check the file is valid YAML"))
        }
    }

    static func diagnostic(_ error: YamlError, source: SourceText, text: String) -> Diagnostic {
        func at(_ mark: Mark) -> Diagnostic.Location { source.location(line: mark.line, column: mark.column) }
        let fix = "fix the YAML syntax (indent with spaces, put a space after ':' and '-', quote text with ': ' or '#')"
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            if let tab = tabIndentation(source, upTo: mark.line) {
                return Diagnostic(
                    .error, at: tab, "a tab indents this line; YAML indents with spaces only",
                    fix: "replace the tab with spaces (set your editor to insert spaces for Tab)")
            }
            if let plain = plainWords(problem, at: source.scalar(line: mark.line, column: mark.column)) {
                return Diagnostic(.error, at: at(mark), plain.message, fix: plain.fix)
            }
            let what = [context?.text, problem].compactMap { $0 }.joined(separator: ": ")
            return Diagnostic(.error, at: at(mark), "YAML syntax error: \(what)", fix: fix)
        case .reader(let problem, let offset, _, _):
            // Yams turns libyaml's byte offset into a count of Characters (a CRLF is one); lines and columns are
            // counted in scalars as everywhere else (SourceText).
            let prefix = String(text.prefix(offset ?? 0))
            let before = SourceText(name: source.name, text: prefix)
            let (line, column) = (before.lines.count, (before.lines.last?.count ?? 0) + 1)
            return Diagnostic(
                .error, at: .init(file: source.name, line: line, column: column), "cannot read the text: \(problem)",
                fix: "save the file as UTF-8 without control characters")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return Diagnostic(
                .error, at: at(context.mark), "duplicate key \(keys) in one mapping",
                fix: "write each key once (lists of things go under one key)")
        default:
            return Diagnostic(
                .error, at: .init(file: source.name, line: 1, column: 1), "cannot read the YAML: \(error)", fix: fix)
        }
    }

    /// The first tab in the indentation of a line up to `line` (the parser often notices it a line or two late).
    static func tabIndentation(_ source: SourceText, upTo line: Int) -> Diagnostic.Location? {
        for (index, scalars) in source.lines.prefix(max(1, line)).enumerated() {
            let indentation = scalars.prefix { $0 == " " || $0 == "\t" }
            if let column = indentation.firstIndex(of: "\t") {
                return .init(file: source.name, line: index + 1, column: column + 1)
            }
        }
        return nil
    }

    /// libyaml's problem in words a person editing the file can act on, or nil for the rarer ones.
    static func plainWords(_ problem: String, at character: Unicode.Scalar?) -> (message: String, fix: String)? {
        switch problem {
        case "did not find expected '-' indicator":
            return (
                "this line is not indented like the list items above it",
                "start each item with '- ' at the same indentation, and line an item's keys up under the first one"
            )
        case "did not find expected key":
            return (
                "this line is not indented like the keys above it",
                "line keys of one mapping up under one another with spaces; quote text that holds ': ' or ' #'")
        case "mapping values are not allowed in this context":
            return (
                "a ': ' where no key can start: text with a colon in it, or a key on the line of another value",
                "quote the text (\"…\"), or put the key on a line of its own, indented under its section")
        case "block sequence entries are not allowed in this context":
            return ("a list item '- ' on the line of a key", "put each item on its own line below the key")
        case "could not find expected ':'":
            return (
                "a line without ':' inside a mapping",
                "write `key: value`, or quote a value that goes on over several lines")
        case "found unexpected end of stream":
            return ("a quote or bracket is never closed", "close it on the same line it opens")
        case "did not find expected ',' or ']'":
            return ("a `[…]` list is not closed or lacks a comma", "separate the items with ', ' and end with ']'")
        case "did not find expected ',' or '}'":
            return ("a `{…}` mapping is not closed or lacks a comma", "separate the keys with ', ' and end with '}'")
        case "found unknown escape character":
            return ("a backslash in double quotes starts an unknown escape", "use single quotes, or write \\\\")
        case "found character that cannot start any token":
            let shown = character.map { "'\($0)'" } ?? "this character"
            return ("\(shown) cannot start a value", "quote the value (\"…\")")
        default:
            return nil
        }
    }

    /// A diagnostic when flow brackets or block list markers nest too deeply to compose safely.
    static func depthProblem(_ source: SourceText) -> Diagnostic? {
        var depth = 0
        for (index, line) in source.lines.enumerated() {
            var quote: Unicode.Scalar?
            var dashes = 0
            var leading = true
            let indentation = line.prefix { $0 == " " }.count
            if indentation > 4 * maximumDepth {
                return Diagnostic(
                    .error, at: .init(file: source.name, line: index + 1, column: 1),
                    "indented \(indentation) spaces, nesting too deep", fix: "rule files need only a few levels")
            }
            for (column, scalar) in line.enumerated() {
                if let open = quote {
                    if scalar == open { quote = nil }
                    continue
                }
                switch scalar {
                case "'", "\"": quote = scalar
                case "#": break
                case "[", "{": depth += 1
                case "]", "}": depth = max(0, depth - 1)
                default: break
                }
                if leading {
                    if scalar == "-" || scalar == "?" { dashes += 1 } else if scalar != " " { leading = false }
                }
                if depth > maximumDepth || dashes > maximumDepth {
                    return Diagnostic(
                        .error, at: .init(file: source.name, line: index + 1, column: column + 1),
                        "nesting deeper than \(maximumDepth) levels", fix: "rule files need only a few levels")
                }
                if scalar == "#" && (column == 0 || line[column - 1] == " ") { break }
            }
        }
        return nil
    }
}
