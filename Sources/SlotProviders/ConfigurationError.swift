/// One mistake in `slotd.yaml` (the daemon's settings or a provider's): where it is, what is wrong and the fix.
public struct ConfigurationProblem: Hashable, Sendable, CustomStringConvertible {
    /// The configuration file's path.
    public var file: String
    /// 1-based line, when the problem is at a place in the file.
    public var line: Int?
    /// 1-based column, with `line`.
    public var column: Int?
    /// What is wrong, then (after a dash) how to fix it.
    public var message: String

    /// A problem at `line`:`column` of `file` (or at the file as a whole when the line is unknown).
    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String {
        guard let line else { return "\(file): \(message)" }
        return "\(file):\(line):\(column ?? 1): \(message)"
    }
}

/// The configuration's mistakes, all of them, so one edit fixes them together. The one error type of slotd.yaml:
/// the daemon's parser and the providers' settings both throw it (it lives here so providers need not depend on
/// the daemon).
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// In the order they appear in the file.
    public var problems: [ConfigurationProblem]

    /// An error of one problem.
    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        problems = [ConfigurationProblem(file: file, line: line, column: column, message: message)]
    }

    /// An error of several problems, ordered by where they are in their file.
    public init(problems: [ConfigurationProblem]) {
        self.problems = problems.enumerated().sorted { left, right in
            let leftPlace = (left.element.file, left.element.line ?? 0, left.element.column ?? 0, left.offset)
            let rightPlace = (right.element.file, right.element.line ?? 0, right.element.column ?? 0, right.offset)
            return leftPlace < rightPlace
        }.map(\.element)
    }

    /// One `file:line:column: message` line per problem.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
