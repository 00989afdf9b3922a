/// A phone number in E.164 form (`+4915112345678`), normalised from what a person types into a form.
public struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    /// `+`, the country calling code and the national number: digits only, at most 15 of them.
    public let e164: String

    public var description: String { e164 }

    /// Why a text is not a phone number; `message` says how to write it instead.
    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        case empty
        case unexpectedCharacter(Character)
        case unknownCountry(String)
        case tooShort
        case tooLong

        public var description: String {
            switch self {
            case .empty: return "is empty — write a phone number like +49 151 12345678"
            case .unexpectedCharacter(let character):
                return "contains '\(character)' — use digits, spaces, and + ( ) - . / only"
            case .unknownCountry(let code):
                return "has no country code and the shop's country '\(code)' is unknown — start it with +"
            case .tooShort: return "is too short for a phone number — include the area code"
            case .tooLong: return "is too long — E.164 numbers have at most 15 digits"
            }
        }
    }

    /// Normalises typed text: `+` or `00` starts an international number; otherwise the national trunk prefix `0`
    /// (where the country has one) is dropped and `defaultCountry`'s calling code goes in front.
    public static func normalise(_ text: String, defaultCountry: String) -> Result<PhoneNumber, Problem> {
        let trimmed = text.drop(while: \.isWhitespace)
        guard trimmed.contains(where: { !$0.isWhitespace }) else { return .failure(.empty) }
        var digits = ""
        var international = false
        for (index, character) in trimmed.enumerated() {
            if character == "+", index == 0 {
                international = true
            } else if let ascii = character.asciiValue, (48...57).contains(ascii) {
                digits.append(character)
            } else if !" \t()-./\u{00A0}".contains(character) {
                return .failure(.unexpectedCharacter(character))
            }
        }
        if !international, digits.hasPrefix("00") {
            international = true
            digits.removeFirst(2)
        }
        if !international {
            let country = defaultCountry.uppercased()
            guard let code = callingCodes[country] else { return .failure(.unknownCountry(country)) }
            if !countriesWithoutTrunkPrefix.contains(country), digits.hasPrefix("0") { digits.removeFirst() }
            digits = code + digits
        }
        guard digits.count >= 8, digits.first != "0" else { return .failure(.tooShort) }
        guard digits.count <= 15 else { return .failure(.tooLong) }
        return .success(PhoneNumber(e164: "+" + digits))
    }

    /// Country calling codes by ISO 3166-1 alpha-2 code, for the countries a shop's default is likely to be.
    public static let callingCodes: [String: String] = [
        "AT": "43", "AU": "61", "BE": "32", "BG": "359", "CA": "1", "CH": "41", "CY": "357", "CZ": "420",
        "DE": "49", "DK": "45", "EE": "372", "ES": "34", "FI": "358", "FR": "33", "GB": "44", "GR": "30",
        "HR": "385", "HU": "36", "IE": "353", "IS": "354", "IT": "39", "LI": "423", "LT": "370", "LU": "352",
        "LV": "371", "MT": "356", "NL": "31", "NO": "47", "NZ": "64", "PL": "48", "PT": "351", "RO": "40",
        "SE": "46", "SI": "386", "SK": "421", "TR": "90", "UA": "380", "US": "1",
    ]

    /// Countries whose national numbers keep a leading 0 (no trunk prefix to drop).
    static let countriesWithoutTrunkPrefix: Set<String> = ["IT"]
}
