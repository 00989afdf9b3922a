import Foundation

extension String {
    /// The string without leading and trailing white space (and line breaks, with `andNewlines`), exactly as
    /// Foundation's `trimmingCharacters(in: .whitespaces)` (`.whitespacesAndNewlines`) trims it.
    ///
    /// A string whose first and last bytes are printable ASCII other than the space has nothing to trim and is
    /// returned as it is: Foundation looks every end character up in a character set, which cost a few
    /// microseconds per field of every booking request.
    package func trimmingWhitespace(andNewlines: Bool = false) -> String {
        let printable: ClosedRange<UInt8> = 0x21...0x7E
        if let first = utf8.first, let last = utf8.last, printable.contains(first), printable.contains(last) {
            return self
        }
        return trimmingCharacters(in: andNewlines ? .whitespacesAndNewlines : .whitespaces)
    }
}
