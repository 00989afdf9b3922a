import SlotCore
import Testing

@Suite("Phone numbers normalised to E.164")
struct PhoneNumberTests {
    @Test(
        "typed numbers become E.164 with the shop's country as default",
        arguments: [
            ("0151 1234 5678", "DE", "+4915112345678"),
            ("+49 151-1234.5678", "DE", "+4915112345678"),
            ("0049 30 1234567", "DE", "+49301234567"),
            ("+43 1 234 5678", "DE", "+4312345678"),
            ("(212) 555-0100", "US", "+12125550100"),
            ("06 12 34 56 78", "fr", "+33612345678"),
            ("06 1234 5678", "IT", "+390612345678"),
        ])
    func normalises(text: String, country: String, expected: String) throws {
        let number = try PhoneNumber.normalise(text, defaultCountry: country).get()
        #expect(number.e164 == expected)
    }

    @Test(
        "text that is not a phone number is refused with the reason",
        arguments: [
            ("abc", PhoneNumber.Problem.unexpectedCharacter("a")),
            ("", .empty),
            ("   ", .empty),
            ("0151+123", .unexpectedCharacter("+")),
            ("123", .tooShort),
            ("+49 1234 5678 9012 3456", .tooLong),
        ])
    func refuses(text: String, problem: PhoneNumber.Problem) {
        #expect(PhoneNumber.normalise(text, defaultCountry: "DE") == .failure(problem))
    }

    @Test("a national number needs a known default country")
    func unknownCountry() {
        #expect(PhoneNumber.normalise("0151 1234", defaultCountry: "XX") == .failure(.unknownCountry("XX")))
        #expect(PhoneNumber.normalise("+49 151 12345678", defaultCountry: "XX").map(\.e164) == .success("+4915112345678"))
    }
}
