import CCrypto
import Foundation

/// HMAC-SHA256 and SHA-256, for signing outgoing webhooks and checking incoming ones.
public enum Signatures {
    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256(key: some DataProtocol, message: some DataProtocol) -> Data {
        let keyBytes = Array(key)
        let messageBytes = Array(message)
        var out = [UInt8](repeating: 0, count: 32)
        let ok = ccrypto_hmac_sha256(keyBytes, keyBytes.count, messageBytes, messageBytes.count, &out)
        precondition(ok == 1, "HMAC-SHA256 failed in libcrypto")
        return Data(out)
    }

    /// SHA-256 of `message`.
    public static func sha256(_ message: some DataProtocol) -> Data {
        let bytes = Array(message)
        var out = [UInt8](repeating: 0, count: 32)
        let ok = ccrypto_sha256(bytes, bytes.count, &out)
        precondition(ok == 1, "SHA-256 failed in libcrypto")
        return Data(out)
    }

    /// Lower-case hex.
    public static func hex(_ data: Data) -> String {
        data.map { String(format: "%02x", $0) }.joined()
    }

    /// Compares without an early exit, so timing does not reveal how much of a signature matched.
    public static func constantTimeEqual(_ left: Data, _ right: Data) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}
