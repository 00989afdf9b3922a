import Foundation
import Testing

@testable import SlotCore

/// `trimmingWhitespace` is Foundation's trimming, only faster when there is nothing to trim.
@Suite struct WhitespaceTests {
    static let samples = [
        "", " ", "\t", "\n", "a", " a", "a ", " a b ", "\ta\t", "\na\n", "\r\n x \r\n", "2026-12-08T10:00",
        " 2026-12-08T10:00 ", "\u{00A0}x\u{00A0}", "\u{2003}x\u{3000}", "x\u{2028}", "\u{0085}x", "é", " é ",
        "~", "!x!", "\u{7F}x\u{7F}", "x\u{1F}", "\u{200B}x", "Anna Müller", "  Anna Müller\n",
    ]

    @Test(arguments: samples)
    func trimsAsFoundationDoes(text: String) {
        #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
        #expect(text.trimmingWhitespace(andNewlines: true) == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func everyASCIIAndLatinCharacterAtEitherEnd() {
        for value in UInt32(0)...0x3000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            for text in ["\(scalar)x", "x\(scalar)", "\(scalar)"] {
                #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces), "U+\(value)")
                #expect(
                    text.trimmingWhitespace(andNewlines: true)
                        == text.trimmingCharacters(in: .whitespacesAndNewlines), "U+\(value)")
            }
        }
    }
}
