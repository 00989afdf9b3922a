/// FNV-1a, 64 bits: a fast, stable, non-cryptographic hash of bytes, for change detection and fingerprints that
/// are stored and compared across versions (the rules version, idempotency fingerprints). Not for secrets: those
/// use SHA-256.
public struct FNV1a64: Sendable {
    /// The hash so far.
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// An empty hash.
    public init() {}

    /// Mixes in `bytes`.
    public mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
    }

    /// Mixes in one byte (a separator between fields).
    public mutating func combine(byte: UInt8) {
        combine(CollectionOfOne(byte))
    }

    /// The hash as 16 lower-case hex digits.
    public var paddedHex: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
