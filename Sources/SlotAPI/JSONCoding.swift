import Foundation

/// The JSON coders of the API, shared by the daemon and slotctl so both write the same bytes for the same value.
public enum JSONCoding {
    // Shared instances (encoding and decoding are thread-safe): not rebuilt for every response.
    /// The encoder of every response body and of slotctl's `--json` output.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        // Sorted keys: stable output that people and diff tools can read.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The decoder of request and response bodies.
    public static let decoder = JSONDecoder()

    /// The encoder of request fingerprints, which are stored: the same value must always encode to the same bytes,
    /// whatever becomes of `encoder`'s formatting.
    public static let canonicalEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
