import Testing

@testable import SlotAuth

@Suite("admin passwords: PBKDF2-HMAC-SHA256 from libcrypto")
struct PasswordHashTests {
    @Test(
        "derivation matches the published PBKDF2-HMAC-SHA256 vectors (password/salt)",
        arguments: [
            (UInt32(1), "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
            (2, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
            (4096, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
        ])
    func knownVectors(iterations: UInt32, expected: String) {
        #expect(Hex.encode(PasswordHash.derive("password", salt: Array("salt".utf8), iterations)) == expected)
    }

    @Test("a made hash verifies its password, refuses others, and survives its stored form")
    func roundTrip() throws {
        let made = PasswordHash.make(password: "kamm und schere", iterations: 100_000)
        let read = try PasswordHash(parsing: made.encoded)
        #expect(read == made)
        #expect(read.verifies("kamm und schere"))
        #expect(!read.verifies("kamm und scherE"))
        #expect(!read.verifies(""))
        #expect(made.encoded.hasPrefix("pbkdf2-sha256$100000$"))
    }

    @Test("two hashes of one password differ (random salt)")
    func saltIsRandom() {
        let first = PasswordHash.make(password: "x", iterations: 100_000)
        #expect(first != PasswordHash.make(password: "x", iterations: 100_000))
    }

    @Test(
        "bad stored forms are refused with what to do",
        arguments: [
            ("5f4dcc3b5aa765d61d8327deb882cf99", "slotctl passwd"),
            ("pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$" + String(repeating: "ab", count: 32), "iterations"),
            ("pbkdf2-sha256$600000$zz$" + String(repeating: "ab", count: 32), "damaged"),
            ("pbkdf2-sha256$600000$00112233445566778899aabbccddeeff$abcd", "damaged"),
        ])
    func badForms(text: String, hint: String) {
        #expect {
            _ = try PasswordHash(parsing: text)
        } throws: { error in
            (error as? PasswordHashError)?.message.contains(hint) == true
        }
    }

    @Test("a decoy hash matches no password and costs the same iterations")
    func decoy() {
        let decoy = PasswordHash.decoy(iterations: 100_000)
        #expect(decoy.iterations == 100_000)
        #expect(!decoy.verifies(""))
        #expect(!decoy.verifies("password"))
    }
}

@Suite("admin sessions expire when idle and after their lifetime")
struct SessionTableTests {
    let policy = SessionPolicy(idleSeconds: 600, lifetimeSeconds: 3_600)

    @Test("a session used within the idle time stays alive, each use restarting the idle timer")
    func idleTimerRestarts() {
        var table = SessionTable(policy: policy)
        _ = table.open(user: "mehmet", id: "s1", csrfToken: "t1", now: 1_000)
        #expect(table.touch("s1", now: 1_599)?.user == "mehmet")
        #expect(table.touch("s1", now: 2_198)?.lastSeenAt == 2_198)
    }

    @Test("an idle session expires and is forgotten")
    func idleExpiry() {
        var table = SessionTable(policy: policy)
        _ = table.open(user: "mehmet", id: "s1", csrfToken: "t1", now: 1_000)
        #expect(table.touch("s1", now: 1_600) == nil)
        #expect(table.count == 0)
        #expect(table.touch("s1", now: 1_601) == nil)
    }

    @Test("a busy session still ends at its absolute lifetime")
    func absoluteExpiry() {
        var table = SessionTable(policy: policy)
        _ = table.open(user: "mehmet", id: "s1", csrfToken: "t1", now: 0)
        for minute in stride(from: Int64(300), to: 3_600, by: 300) {
            #expect(table.touch("s1", now: minute) != nil)
        }
        #expect(table.touch("s1", now: 3_600) == nil)
    }

    @Test("logout and closing a user's sessions end them at once; unknown ids are nil")
    func close() {
        var table = SessionTable(policy: policy)
        _ = table.open(user: "a", id: "s1", csrfToken: "t", now: 0)
        _ = table.open(user: "a", id: "s2", csrfToken: "t", now: 0)
        _ = table.open(user: "b", id: "s3", csrfToken: "t", now: 0)
        table.close("s1")
        #expect(table.touch("s1", now: 1) == nil)
        table.closeAll(of: "a")
        #expect(table.touch("s2", now: 1) == nil)
        #expect(table.touch("s3", now: 1) != nil)
        #expect(table.touch("nope", now: 1) == nil)
    }
}

@Suite("CSRF: Origin and token on every state-changing request")
struct CSRFCheckTests {
    let allowed: Set<String> = ["https://shop.example"]

    @Test("reads pass without origin or token")
    func readsPass() {
        for method in ["GET", "HEAD"] {
            #expect(CSRFCheck.refusal(method: method, origin: nil, allowedOrigins: allowed, sentToken: nil,
                                      sessionToken: "t") == nil)
        }
    }

    @Test(
        "writes need the page's origin and the session's token",
        arguments: [
            (String?.none, String?.some("tok"), CSRFCheck.Refusal?.some(.missingOrigin)),
            ("https://evil.example", "tok", .foreignOrigin("https://evil.example")),
            ("http://shop.example", "tok", .foreignOrigin("http://shop.example")),
            ("https://shop.example", nil, .missingToken),
            ("https://shop.example", "tok2", .wrongToken),
            ("https://shop.example", "to", .wrongToken),
            ("https://shop.example", "tok", nil),
            ("HTTPS://Shop.Example", "tok", nil),
        ])
    func writes(origin: String?, token: String?, expected: CSRFCheck.Refusal?) {
        #expect(
            CSRFCheck.refusal(method: "POST", origin: origin, allowedOrigins: allowed, sentToken: token,
                              sessionToken: "tok") == expected)
    }

    @Test("the login (no session yet) needs only the origin")
    func login() {
        #expect(CSRFCheck.refusal(method: "POST", origin: "https://shop.example", allowedOrigins: allowed,
                                  sentToken: nil, sessionToken: nil) == nil)
        #expect(CSRFCheck.refusal(method: "POST", origin: "https://evil.example", allowedOrigins: allowed,
                                  sentToken: nil, sessionToken: nil) != nil)
    }

    @Test("origins are read from addresses", arguments: [
        ("https://shop.example/", "https://shop.example"), ("http://127.0.0.1:8080/admin/", "http://127.0.0.1:8080"),
        ("HTTPS://Shop.Example", "https://shop.example"),
    ])
    func origins(url: String, origin: String) { #expect(CSRFCheck.origin(of: url) == origin) }
}

@Suite("login attempts are limited per name and per address")
struct LoginThrottleTests {
    @Test("five wrong passwords lock the name for five minutes from the last one, for every address")
    func userLockout() {
        var throttle = LoginThrottle()
        for second in 0..<5 {
            #expect(throttle.check(user: "mehmet", address: "10.0.0.\(second)", now: Double(second)) == .allowed)
            throttle.recordFailure(user: "mehmet", address: "10.0.0.\(second)", now: Double(second))
        }
        #expect(throttle.check(user: "Mehmet", address: "10.9.9.9", now: 5) == .locked(retryAfterSeconds: 299))
        #expect(throttle.check(user: "anna", address: "10.9.9.9", now: 5) == .allowed)
        #expect(throttle.check(user: "mehmet", address: "10.9.9.9", now: 304) == .allowed)
    }

    @Test("an unknown name locks exactly like a known one")
    func unknownNames() {
        var known = LoginThrottle(), unknown = LoginThrottle()
        for second in 0..<5 {
            known.recordFailure(user: "mehmet", address: "a", now: Double(second))
            unknown.recordFailure(user: "nobody-here", address: "a", now: Double(second))
        }
        #expect(known.check(user: "mehmet", address: "b", now: 10)
                == unknown.check(user: "nobody-here", address: "b", now: 10))
    }

    @Test("one address guessing many names is locked after twenty failures")
    func addressLockout() {
        var throttle = LoginThrottle()
        for index in 0..<20 { throttle.recordFailure(user: "user\(index)", address: "10.0.0.1", now: 0) }
        #expect(throttle.check(user: "fresh", address: "10.0.0.1", now: 1) == .locked(retryAfterSeconds: 299))
        #expect(throttle.check(user: "fresh", address: "10.0.0.2", now: 1) == .allowed)
    }

    @Test("a good login clears the name's count; failures older than the window are forgotten")
    func resets() {
        var throttle = LoginThrottle()
        for second in 0..<4 { throttle.recordFailure(user: "a", address: "x", now: Double(second)) }
        throttle.recordSuccess(user: "a")
        throttle.recordFailure(user: "a", address: "x", now: 10)
        #expect(throttle.check(user: "a", address: "x", now: 11) == .allowed)
        var old = LoginThrottle()
        for second in 0..<4 { old.recordFailure(user: "a", address: "x", now: Double(second)) }
        old.recordFailure(user: "a", address: "x", now: 1_000)
        #expect(old.check(user: "a", address: "x", now: 1_001) == .allowed)
    }
}
