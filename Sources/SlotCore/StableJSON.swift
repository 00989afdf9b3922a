import Foundation

/// The one JSON configuration slotd writes with, on the wire and in the store: sorted keys and slashes as they are,
/// so the same value always encodes to the same bytes (request fingerprints and job payloads are stored and compared).
public enum StableJSON {
    /// The shared encoder (thread-safe; built once, not per value): `JSONEncoder`'s bytes, written faster.
    public static let encoder: JSONEncoder = StableJSONEncoder()

    /// The shared decoder.
    public static let decoder = JSONDecoder()
}
