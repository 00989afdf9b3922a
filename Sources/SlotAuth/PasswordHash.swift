import CCrypto

/// A stored admin password: PBKDF2-HMAC-SHA256 from the system's libcrypto with a random salt and a high iteration
/// count, written `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` (what `slotctl passwd` prints).
public struct PasswordHash: Sendable, Hashable {
    /// The iteration count `slotctl passwd` uses (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
    public static let defaultIterations: UInt32 = 600_000
    /// Fewer iterations than this are refused in slotd.yaml: such a hash is too cheap to guess against.
    public static let minimumIterations: UInt32 = 100_000
    static let scheme = "pbkdf2-sha256"

    public let iterations: UInt32
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// A hash of `password` with a fresh 16-byte salt.
    public static func make(password: String, iterations: UInt32 = defaultIterations) -> PasswordHash {
        let salt = SecureRandom.bytes(16)
        return PasswordHash(iterations: iterations, salt: salt, hash: derive(password, salt: salt, iterations))
    }

    init(iterations: UInt32, salt: [UInt8], hash: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.hash = hash
    }

    /// Reads the stored form; the error says what is wrong and how to make a good one.
    public init(parsing text: String, minimumIterations: UInt32 = PasswordHash.minimumIterations)
        throws(PasswordHashError)
    {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.scheme else {
            throw PasswordHashError(
                "is not a password hash slotd knows — make one with `slotctl passwd` (pbkdf2-sha256$…)")
        }
        guard let iterations = UInt32(parts[1]), iterations >= minimumIterations else {
            throw PasswordHashError(
                "has \(parts[1]) iterations; at least \(minimumIterations) are needed — make a new one with "
                    + "`slotctl passwd`")
        }
        guard let salt = Hex.decode(parts[2]), salt.count >= 8, let hash = Hex.decode(parts[3]), hash.count == 32
        else {
            throw PasswordHashError("is damaged (salt or hash is not hex of the right length) — copy it again")
        }
        self.init(iterations: iterations, salt: salt, hash: hash)
    }

    /// The stored form.
    public var encoded: String { "\(Self.scheme)$\(iterations)$\(Hex.encode(salt))$\(Hex.encode(hash))" }

    /// Whether `password` is the one hashed here; the comparison takes the same time wherever the bytes differ.
    /// CPU-heavy (`iterations` HMACs): call it off Swift's cooperative pool.
    public func verifies(_ password: String) -> Bool {
        ConstantTime.equal(Self.derive(password, salt: salt, iterations), hash)
    }

    /// A hash no password matches, with `iterations` like the real ones: an unknown user's login costs the same
    /// time as a known user's wrong password.
    public static func decoy(iterations: UInt32) -> PasswordHash {
        PasswordHash(iterations: iterations, salt: SecureRandom.bytes(16), hash: SecureRandom.bytes(32))
    }

    static func derive(_ password: String, salt: [UInt8], _ iterations: UInt32) -> [UInt8] {
        let secret = Array(password.utf8)
        var out = [UInt8](repeating: 0, count: 32)
        let ok = ccrypto_pbkdf2_sha256(secret, secret.count, salt, salt.count, iterations, &out, out.count)
        // libcrypto fails only on an impossible argument (iterations are checked when parsed) or out of memory.
        precondition(ok == 1, "PBKDF2 from libcrypto failed")
        return out
    }
}

/// A password hash in slotd.yaml that cannot be used.
public struct PasswordHashError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Bytes from the system's cryptographic random generator (libcrypto's `RAND_bytes`).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(ccrypto_random_bytes(&out, count) == 1, "the system's random generator failed")
        return out
    }

    /// `count` random bytes as lowercase hex: session ids and CSRF tokens.
    public static func token(bytes count: Int = 32) -> String { Hex.encode(bytes(count)) }
}

/// Comparisons of secrets that take the same time wherever they differ.
public enum ConstantTime {
    public static func equal(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    public static func equal(_ left: String, _ right: String) -> Bool { equal(Array(left.utf8), Array(right.utf8)) }
}

/// Lowercase hex.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
