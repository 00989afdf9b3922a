import Foundation
import SlotAPI
import Testing

@testable import SlotServer

@Suite("The public listener's pure parts: links, client addresses, assets, settings")
struct WebTests {
    let signer = WebTokenSigner(secret: Data(repeating: 7, count: 32))

    @Test("a token names its booking until it expires")
    func tokenRoundTrip() {
        let token = signer.issue(bookingID: "bk_1", expiresAt: 1_000)
        #expect(signer.bookingID(of: token, now: 999) == "bk_1")
        #expect(signer.bookingID(of: token, now: 1_000) == nil)
        #expect(!token.contains("="), "base64url without padding")
    }

    @Test("a tampered, truncated or foreign token names nothing")
    func tamperedTokens() throws {
        let token = signer.issue(bookingID: "bk_1", expiresAt: 1_000)
        let parts = token.split(separator: ".").map(String.init)
        // Another booking id with the old signature.
        let forgedPayload = WebTokenSigner.base64url(Data("v1|bk_2|1000".utf8))
        for bad in [
            forgedPayload + "." + parts[1], parts[0], parts[0] + ".", "." + parts[1], parts[0] + "." + parts[1] + "x",
            parts[0] + "." + parts[1] + ".x", "", "v1|bk_1|1000",
        ] {
            #expect(signer.bookingID(of: bad, now: 0) == nil, "\(bad)")
        }
        let rotated = WebTokenSigner(secret: Data(repeating: 8, count: 32))
        #expect(rotated.bookingID(of: token, now: 0) == nil, "rotating the secret revokes every link")
    }

    @Test(
        "X-Forwarded-For counts only from a trusted proxy, read from the right",
        arguments: [
            ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
            ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1", ["1.1.1.1, 198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1", ["198.51.100.1, 127.0.0.1"], "198.51.100.1"),
            ("127.0.0.1", [], "127.0.0.1"),
            ("127.0.0.1", ["not-an-address"], "127.0.0.1"),
        ])
    func clientAddress(peer: String, forwarded: [String], expected: String) {
        #expect(ClientAddress.resolve(peer: peer, forwardedFor: forwarded, trustedProxies: ["127.0.0.1"]) == expected)
    }

    @Test("assets carry their type, a strong ETag and a gzip copy only when smaller")
    func assets() throws {
        let text = String(repeating: "body { color: red }\n", count: 50)
        let assets = WebAssets([
            EmbeddedFile(
                name: "style.css", base64: Data(text.utf8).base64EncodedString(),
                gzipBase64: Data([1, 2, 3]).base64EncodedString()),
            EmbeddedFile(name: "logo.svg", base64: Data("<svg/>".utf8).base64EncodedString(), gzipBase64: nil),
        ])
        let style = try #require(assets.asset("style.css"))
        #expect(style.contentType == "text/css; charset=utf-8")
        #expect(style.etag.hasPrefix("\"") && style.etag.count == 34)
        #expect(style.gzip?.readableBytes == 3)
        #expect(assets.asset("logo.svg")?.contentType == "image/svg+xml")
        #expect(assets.asset("missing.js") == nil)
        #expect(WebAssets.contentType(of: "app.js") == "text/javascript; charset=utf-8")
    }

    @Test("the page's policy lets real Stripe.js reach its API and 3-D Secure frames, and a local one its origin")
    func contentSecurityPolicy() {
        let real = PublicRoutes.contentSecurityPolicy(stripeJSURL: "https://js.stripe.com/v3/")
        #expect(real.contains("script-src 'self' https://js.stripe.com https://*.js.stripe.com;"))
        #expect(real.contains("frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;"))
        #expect(real.contains("connect-src 'self' https://api.stripe.com;"))
        let local = PublicRoutes.contentSecurityPolicy(stripeJSURL: "http://127.0.0.1:8420/js.stripe.com/v3/")
        #expect(local.contains("script-src 'self' http://127.0.0.1:8420;"))
        #expect(local.contains("frame-src http://127.0.0.1:8420;"))
        #expect(local.contains("connect-src 'self' http://127.0.0.1:8420;"))
        #expect(PublicRoutes.contentSecurityPolicy(stripeJSURL: "").contains("frame-src 'none';"))
    }

    @Test("the embedded page is in the binary")
    func embeddedPage() {
        #expect(WebAssets().asset("index.html")?.contentType == "text/html; charset=utf-8")
    }

    @Test("a web section with every setting parses, relative paths against the file's directory")
    func settings() throws {
        let text = """
            web:
              listen: 0.0.0.0:8443
              public_url: https://shop.example/
              secret_file: web.secret
              trusted_proxies: [127.0.0.1, "::1"]
              title: Salon
              accent_colour: "#112233"
              locale: en
              country: at
              legal: { imprint: https://shop.example/i, privacy: https://shop.example/p }
              link_lifetime: 30d
              limits: { max_body_bytes: 2048, bookings_per_minute_per_ip: 3, token_lookups_per_minute_per_ip: 9 }
            """
        let configuration = try ConfigurationFile.parse(
            text, file: "slotd.yaml", relativeTo: "/etc/slotd", over: .development(directory: "/srv"))
        let web = try #require(configuration.web)
        #expect(web.host == "0.0.0.0" && web.port == 8443)
        #expect(web.baseURL == "https://shop.example")
        #expect(web.secretFile == "/etc/slotd/web.secret")
        #expect(web.trustedProxies == ["127.0.0.1", "::1"])
        #expect(web.country == "AT" && web.locale == "en" && web.accentColour == "#112233")
        #expect(web.linkLifetimeSeconds == 30 * 86_400)
        #expect(web.maxBodyBytes == 2048 && web.bookingsPerMinutePerIP == 3 && web.tokenLookupsPerMinutePerIP == 9)
    }

    @Test("every mistake in the web section is reported with its line")
    func settingsMistakes() {
        let text = """
            web:
              listen: 8080
              public_url: shop.example
              trusted_proxies: [proxy.local]
              locale: fr
              limits: { bookings_per_minute_per_ip: 0 }
            """
        do {
            _ = try ConfigurationFile.parse(text, file: "slotd.yaml", relativeTo: "/", over: .development(directory: "/"))
            Issue.record("mistakes must be refused")
        } catch {
            #expect(error.problems.compactMap(\.line) == [2, 2, 3, 4, 5, 6], "\(error)")
            #expect(error.description.contains("`web` needs `secret_file`"), "\(error)")
        }
    }

    @Test("customer links name the public address, and their token opens the booking")
    func customerLinks() {
        let links = CustomerLinks(signer: signer, baseURL: "https://shop.example", lifetimeSeconds: 60)
        let token = signer.issue(bookingID: "bk_9", expiresAt: 2_000)
        #expect(links.manageURL(token) == "https://shop.example/b/" + token)
        #expect(links.icsURL(token) == "https://shop.example/public/v1/bookings/\(token).ics")
    }

    @Test("public problems name no other booking")
    func problemsWithoutBookingIDs() {
        var problem = Problem(code: .slotUnavailable, detail: "that start is taken: anna: overlaps booking bk_abc123")
        problem.fields = [FieldProblem(field: "start", reason: "inside the buffer of booking bk_Z9")]
        problem.reasons = [ExplainReason(code: .overlapsBooking, message: "anna: overlaps booking bk_abc123")]
        let scrubbed = PublicProblemMiddleware.withoutBookingIDs(problem)
        #expect(scrubbed.detail == "that start is taken: anna: overlaps another booking")
        #expect(scrubbed.fields?.first?.reason == "inside the buffer of another booking")
        #expect(scrubbed.reasons?.first?.message == "anna: overlaps another booking")
        #expect(scrubbed.code == problem.code)
    }
}
