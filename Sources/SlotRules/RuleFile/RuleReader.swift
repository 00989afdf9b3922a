import SlotCore

/// The keys of a mapping node, checked against the keys it may have.
struct Fields {
    let node: YNode
    var values: [String: YNode] = [:]
    var keys: [String: YNode] = [:]

    subscript(_ key: String) -> YNode? { values[key] }
}

/// Walks located YAML nodes into values, collecting a diagnostic for every problem instead of stopping.
struct RuleReader {
    var diagnostics: [Diagnostic] = []

    mutating func error(_ location: Diagnostic.Location, _ message: String, fix: String = "") {
        diagnostics.append(Diagnostic(.error, at: location, message, fix: fix))
    }

    mutating func warning(_ location: Diagnostic.Location, _ message: String, fix: String = "") {
        diagnostics.append(Diagnostic(.warning, at: location, message, fix: fix))
    }

    mutating func report(_ problem: ValueProblem, in node: YNode, severity: Diagnostic.Severity = .error) {
        diagnostics.append(
            Diagnostic(severity, at: node.location(ofValueOffset: problem.offset), problem.message, fix: problem.fix))
    }

    // MARK: - Shapes

    /// The fields of a mapping; reports a wrong type, unknown keys (with a suggestion) and missing required keys.
    mutating func mapping(_ node: YNode, _ what: String, keys allowed: [String], required: [String] = []) -> Fields? {
        guard let pairs = node.pairs else {
            error(
                node.location, "\(what) must be a mapping (key: value lines), found \(node.kindDescription)",
                fix: "write it as `\(allowed.first ?? "key"): …` lines")
            return nil
        }
        var fields = Fields(node: node)
        for (key, value) in pairs {
            guard let name = key.scalar?.string, !key.isNull else {
                error(key.location, "a key in \(what) must be a name, found \(key.kindDescription)",
                    fix: "write `name: value`")
                continue
            }
            guard allowed.contains(name) else {
                let suggestion = Suggest.closest(to: name, in: allowed, caseInsensitive: true)
                let fix = suggestion.map { "did you mean '\($0)'?" }
                    ?? "allowed keys: \(allowed.joined(separator: ", "))"
                error(key.location, "unknown key '\(name)' in \(what)", fix: fix)
                continue
            }
            fields.values[name] = value
            fields.keys[name] = key
        }
        for name in required where fields.values[name] == nil {
            error(node.location, "\(what) is missing '\(name)'", fix: "add `\(name): …`")
        }
        return fields
    }

    /// The items of a list; reports a wrong type.
    mutating func list(_ node: YNode, _ what: String, example: String) -> [YNode]? {
        if node.isNull { return [] }
        guard let items = node.items else {
            error(
                node.location, "\(what) must be a list, found \(node.kindDescription)",
                fix: "write each item on its own line starting with '- ', e.g. `- \(example)`")
            return nil
        }
        return items
    }

    /// A text value (any scalar); reports lists, mappings and empty values.
    mutating func text(_ node: YNode, _ what: String) -> String? {
        guard let scalar = node.scalar else {
            error(node.location, "\(what) must be a text, found \(node.kindDescription)", fix: "write a single value")
            return nil
        }
        if node.isNull {
            error(node.location, "\(what) is empty", fix: "write a value after the ':'")
            return nil
        }
        return scalar.string
    }

    mutating func duration(_ node: YNode, _ what: String, positive: Bool = false) -> Int? {
        guard let text = text(node, what) else { return nil }
        switch RuleValues.duration(text) {
        case .failure(let problem):
            report(problem, in: node)
            return nil
        case .success(let minutes):
            if positive && minutes == 0 {
                error(node.location, "\(what) must be longer than 0m", fix: "write e.g. 15m")
                return nil
            }
            return minutes
        }
    }

    mutating func money(_ node: YNode, _ what: String, currency: String) -> Money? {
        guard let text = text(node, what) else { return nil }
        switch RuleValues.money(text, currency: currency) {
        case .failure(let problem):
            report(problem, in: node)
            return nil
        case .success(let minor):
            return Money(minorUnits: minor, currency: currency)
        }
    }

    mutating func id(_ node: YNode, _ what: String) -> String? {
        guard let text = text(node, what) else { return nil }
        if let problem = RuleValues.id(text) {
            report(problem, in: node)
            return nil
        }
        return text
    }

    mutating func count(_ node: YNode, _ what: String, minimum: Int) -> Int? {
        guard let text = text(node, what) else { return nil }
        guard !text.isEmpty, text.count <= 6, text.allSatisfy(\.isASCIIDigit), let value = Int(text) else {
            error(node.location, "\(what) must be a whole number, found '\(text)'",
                fix: "write e.g. \(max(1, minimum))")
            return nil
        }
        guard value >= minimum else {
            error(node.location, "\(what) is \(value), it must be at least \(minimum)", fix: "write \(minimum) or more")
            return nil
        }
        return value
    }

    mutating func bool(_ node: YNode, _ what: String) -> Bool? {
        guard let text = text(node, what) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node.location, "\(what) must be true or false, found '\(text)'", fix: "write true")
            return nil
        }
    }

    /// An hour expression, with the parser's errors and warnings placed at their column in the file.
    mutating func hours(_ node: YNode, _ what: String) -> HoursExpression? {
        guard let text = text(node, what) else { return nil }
        func offset(_ column: Int) -> Int {
            // The parser counts characters; the file position is counted in Unicode scalars.
            text.prefix(max(0, column - 1)).unicodeScalars.count
        }
        switch HoursExpression.parse(text) {
        case .failure(let failure):
            report(ValueProblem(at: offset(failure.column), failure.message, fix: failure.fix), in: node)
            return nil
        case .success(let expression):
            for warning in expression.warnings {
                report(ValueProblem(at: offset(warning.column), warning.message, fix: warning.fix), in: node,
                    severity: .warning)
            }
            return expression
        }
    }
}
