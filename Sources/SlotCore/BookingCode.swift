/// A booking's short code, for reading out on the phone (`K7MQ4X`): six characters from an alphabet without the
/// look-alikes 0/O and 1/I/L, so whatever a person hears or reads back is one code.
public enum BookingCode {
    /// Digits 2–9 and the letters A–Z without I, L and O: 31 characters, 31⁶ ≈ 887 million codes.
    public static let alphabet: [Character] = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")

    /// How many characters a code has.
    public static let length = 6

    /// The code `text` spells, upper-cased, with spaces and dashes people put in removed (`k7m-q4x` → `K7MQ4X`);
    /// nil when it is not a code (a booking id, or a character outside the alphabet).
    public static func normalise(_ text: String) -> String? {
        let compact = text.uppercased().filter { $0 != " " && $0 != "-" }
        guard compact.count == length, compact.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return compact
    }

    /// The code as printed for people: two groups of three (`K7M-Q4X`).
    public static func display(_ code: String) -> String {
        guard code.count == length else { return code }
        return String(code.prefix(3)) + "-" + String(code.suffix(3))
    }
}
