/// A located problem in a rule file, printed as `file:line:column: error: what — fix`.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible, Error {
    public enum Severity: String, Hashable, Sendable { case error, warning }

    /// Where in the source: file name as given, 1-based line and column (column counted in characters).
    public struct Location: Hashable, Sendable, Comparable {
        public var file: String
        public var line: Int
        public var column: Int

        public init(file: String, line: Int, column: Int) {
            self.file = file
            self.line = line
            self.column = column
        }

        public static func < (lhs: Location, rhs: Location) -> Bool {
            (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
        }
    }

    public var severity: Severity
    public var location: Location
    /// What is wrong, e.g. `unknown weekday 'Tue'`.
    public var message: String
    /// How to fix it, e.g. `use Tu`; empty when there is nothing to suggest.
    public var fix: String

    public init(_ severity: Severity, at location: Location, _ message: String, fix: String = "") {
        self.severity = severity
        self.location = location
        self.message = message
        self.fix = fix
    }

    /// `file:line:column: error: what — fix`.
    public var description: String {
        let head = "\(location.file):\(location.line):\(location.column): \(severity.rawValue): \(message)"
        return fix.isEmpty ? head : "\(head) — \(fix)"
    }
}

extension Array where Element == Diagnostic {
    /// Whether any diagnostic is an error (warnings alone do not reject a rule set).
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
