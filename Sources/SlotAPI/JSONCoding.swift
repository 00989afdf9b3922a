import Foundation
import SlotCore

/// The JSON coders of the API, shared by the daemon and slotctl so both write the same bytes for the same value.
public enum JSONCoding {
    /// The encoder of every response body, of slotctl's `--json` output and of request fingerprints (which are
    /// stored, so its formatting is `StableJSON`'s and must not change).
    public static var encoder: JSONEncoder { StableJSON.encoder }

    /// The decoder of request and response bodies.
    public static var decoder: JSONDecoder { StableJSON.decoder }
}
