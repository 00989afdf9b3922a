import Foundation
import SlotBlocking
import SlotProviders
import SlotStore

/// Signs and checks customer links and calendar feed tokens: `base64url(payload).base64url(HMAC-SHA256(secret,
/// payload))`. A customer link's payload is `v1|<booking id>|<expiry, epoch seconds>`; a feed's is
/// `feed1|<feed id>` (no expiry: a feed is revoked by its stored record). The first field keeps the two apart, so
/// one kind of token never passes as the other. Rotating the secret revokes every link and feed URL.
struct WebTokenSigner: Sendable {
    private let secret: Data

    init(secret: Data) {
        precondition(secret.count >= 16, "a web token secret has at least 16 bytes")
        self.secret = secret
    }

    /// A token naming `bookingID` that works until `expiresAt`.
    func issue(bookingID: String, expiresAt: Int64) -> String { sign("v1|\(bookingID)|\(expiresAt)") }

    /// The booking id a token names, or nil when it is malformed, forged or expired at `now`.
    func bookingID(of token: String, now: Int64) -> String? {
        guard let fields = verifiedFields(token), fields.count == 3, fields[0] == "v1", !fields[1].isEmpty,
            let expiry = Int64(fields[2]), now < expiry
        else { return nil }
        return String(fields[1])
    }

    /// The token of a calendar feed's URL.
    func issue(feedID: String) -> String { sign("feed1|\(feedID)") }

    /// The feed id a token names, or nil when it is malformed or forged (whether the feed is revoked is the
    /// store's to say).
    func feedID(of token: String) -> String? {
        guard let fields = verifiedFields(token), fields.count == 2, fields[0] == "feed1", !fields[1].isEmpty else {
            return nil
        }
        return String(fields[1])
    }

    private func sign(_ payload: String) -> String {
        let data = Data(payload.utf8)
        return Self.base64url(data) + "." + Self.base64url(Signatures.hmacSHA256(key: secret, message: data))
    }

    /// The payload's `|`-separated fields once the signature checks out, else nil.
    private func verifiedFields(_ token: String) -> [Substring]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 512, parts.count == 2, let payload = Self.data(base64url: parts[0]),
            let signature = Self.data(base64url: parts[1])
        else { return nil }
        // The signature is checked before anything in the payload is believed, in constant time.
        guard Signatures.constantTimeEqual(Signatures.hmacSHA256(key: secret, message: payload), signature) else {
            return nil
        }
        return String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64url text: Substring) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return nil
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

/// The key of customer links, kept in `web.secret_file`: created with mode 0600 and 32 random bytes when missing.
enum WebSecretFile {
    /// Reads the key at `path`, creating it first when there is no file. Blocking: call through `BlockingWork.run`.
    static func loadOrCreate(_ path: String) throws(StartupError) -> (secret: Data, created: Bool) {
        BlockingWork.assertOffCooperativePool("reading the web secret")
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count >= 16 else {
                throw StartupError(
                    "the web secret \(path) holds \(data.count) bytes; it needs at least 16 — delete it to have "
                        + "slotd make a new one (existing customer links stop working)", isConfigurationError: true)
            }
            return (data, false)
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // O_EXCL: two starts racing never overwrite each other's key; mode 0600 from the first byte on.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StartupError(
                "cannot create the web secret \(path): \(String(cString: strerror(errno))) — check the directory "
                    + "and its permissions", isConfigurationError: true)
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            unlink(path)
            throw StartupError("cannot write the web secret \(path): \(String(cString: strerror(errno)))")
        }
        return (Data(bytes), true)
    }
}

/// The customer's links to a booking (`public_url/b/{token}` and its `.ics`), for the page's answers and the
/// notification templates' `{{manage_url}}` and `{{ics_url}}`.
struct CustomerLinks: Sendable {
    let signer: WebTokenSigner
    /// `public_url` without a trailing slash.
    let baseURL: String
    /// How long a link works after the booking's end, in seconds.
    let lifetimeSeconds: Int64

    /// The token of a booking: valid until `lifetimeSeconds` after its end.
    func token(for booking: StoredBooking) -> String {
        signer.issue(bookingID: booking.id, expiresAt: booking.end + lifetimeSeconds)
    }

    func manageURL(_ token: String) -> String { baseURL + "/b/" + token }

    func icsURL(_ token: String) -> String { baseURL + "/public/v1/bookings/" + token + ".ics" }

    /// The address a phone calendar subscribes to for `feedID`.
    func feedURL(feedID: String) -> String { baseURL + "/calendar/" + signer.issue(feedID: feedID) + ".ics" }

    /// The template fields of a booking's links.
    func templateValues(for booking: StoredBooking) -> [String: String] {
        let token = token(for: booking)
        return ["manage_url": manageURL(token), "ics_url": icsURL(token)]
    }
}
