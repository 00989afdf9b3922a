import Foundation
import SlotProviders
import StripePayment
import Synchronization
import Testing

@Suite("Stripe webhook signatures")
struct StripeWebhookTests {
    static let secret = "whsec_test_secret"
    static let now: Int64 = 1_900_000_000
    static let body = Data(
        #"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent","status":"succeeded","metadata":{"booking":"bk_abc"}}}}"#
            .utf8)

    let verifier = StripeWebhookVerifier(secret: secret, tolerance: .seconds(300))

    func delivery(_ signature: String?, body: Data = body, at: Int64 = now) -> WebhookDelivery {
        WebhookDelivery(headers: signature.map { ["stripe-signature": $0] } ?? [:], body: body, receivedAt: at)
    }

    @Test("a valid signature yields the event, its PaymentIntent, status and booking")
    func valid() throws {
        let header = StripeWebhookVerifier.header(secret: Self.secret, timestamp: Self.now - 10, body: Self.body)
        let event = try verifier.verify(delivery(header))
        #expect(event.eventID == "evt_1")
        #expect(event.type == "payment_intent.succeeded")
        #expect(event.reference == "pi_1")
        #expect(event.bookingID == "bk_abc")
        #expect(event.status == .succeeded)
    }

    @Test("the signature matches Stripe's documented scheme: HMAC-SHA256 of `t.body`, hex")
    func knownVector() {
        // Computed independently: printf '%s' '1900000000.{}' | openssl dgst -sha256 -hmac whsec_test_secret
        let signature = StripeWebhookVerifier.signature(secret: Self.secret, timestamp: Self.now, body: Data("{}".utf8))
        #expect(Signatures.hex(signature) == Self.opensslHex(secret: Self.secret, message: "1900000000.{}"))
    }

    static func opensslHex(secret: String, message: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["dgst", "-sha256", "-hmac", secret, "-r"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        guard (try? process.run()) != nil else { return "openssl unavailable" }
        input.fileHandleForWriting.write(Data(message.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return String(text.prefix(64))
    }

    @Test("a body changed after signing is rejected")
    func tamperedBody() {
        let header = StripeWebhookVerifier.header(secret: Self.secret, timestamp: Self.now, body: Self.body)
        var forged = Self.body
        forged.append(contentsOf: Array(" ".utf8))
        #expect(throws: ProviderError.self) { try verifier.verify(delivery(header, body: forged)) }
    }

    @Test("a signature made with another secret is rejected as forged")
    func forged() {
        let header = StripeWebhookVerifier.header(secret: "whsec_other", timestamp: Self.now, body: Self.body)
        do {
            _ = try verifier.verify(delivery(header))
            Issue.record("a forged webhook was accepted")
        } catch {
            #expect(error.kind == .rejected)
            #expect(error.message.contains("does not match"))
        }
    }

    @Test("a genuine signature older or newer than the tolerance is rejected as stale", arguments: [-301, 301])
    func stale(offset: Int64) {
        let header = StripeWebhookVerifier.header(secret: Self.secret, timestamp: Self.now + offset, body: Self.body)
        do {
            _ = try verifier.verify(delivery(header))
            Issue.record("a stale webhook was accepted")
        } catch {
            #expect(error.kind == .rejected)
            #expect(error.message.contains("tolerance"))
        }
    }

    @Test("a captured delivery replayed after the tolerance is rejected; inside it, it verifies (the store dedupes)")
    func replayed() throws {
        let header = StripeWebhookVerifier.header(secret: Self.secret, timestamp: Self.now, body: Self.body)
        #expect(try verifier.verify(delivery(header, at: Self.now + 60)).eventID == "evt_1")
        #expect(throws: ProviderError.self) { try verifier.verify(delivery(header, at: Self.now + 3600)) }
    }

    @Test("with several v1 signatures (a secret being rolled) one match is enough")
    func multipleV1() throws {
        func hex(_ secret: String) -> String {
            Signatures.hex(StripeWebhookVerifier.signature(secret: secret, timestamp: Self.now, body: Self.body))
        }
        let good = hex(Self.secret)
        let other = hex("whsec_old")
        let header = "t=\(Self.now),v1=\(other),v1=\(good),v0=deadbeef"
        #expect(try verifier.verify(delivery(header)).eventID == "evt_1")
        let none = "t=\(Self.now),v1=\(other),v0=\(good)"
        #expect(throws: ProviderError.self) { try verifier.verify(delivery(none)) }
    }

    @Test(
        "malformed headers are rejected",
        arguments: [nil, "", "garbage", "t=abc,v1=00", "v1=00", "t=1900000000", "t=1900000000,v1=zz"])
    func malformed(header: String?) {
        do {
            _ = try verifier.verify(delivery(header))
            Issue.record("a malformed header was accepted")
        } catch {
            #expect(error.kind == .rejected)
        }
    }

    @Test("a signed body that is not an event is rejected")
    func notAnEvent() {
        let body = Data("[1,2]".utf8)
        let header = StripeWebhookVerifier.header(secret: Self.secret, timestamp: Self.now, body: body)
        #expect(throws: ProviderError.self) { try verifier.verify(delivery(header, body: body)) }
    }
}

@Suite("Stripe API calls")
struct StripeCallTests {
    /// Records calls and answers with a canned reply.
    final class Recorder: Sendable {
        let calls = Mutex<[HTTPCall]>([])
        let reply: @Sendable (HTTPCall) -> HTTPReply

        init(_ reply: @escaping @Sendable (HTTPCall) -> HTTPReply) { self.reply = reply }

        func provider() -> StripePayments {
            StripePayments(
                name: "stripe", apiBase: "http://stripe.test/", secretKey: "sk_test_123", webhookSecret: "whsec_x",
                transport: { call throws(ProviderError) in
                    self.calls.withLock { $0.append(call) }
                    return self.reply(call)
                })
        }

        var last: HTTPCall? { calls.withLock { $0.last } }
    }

    static func json(_ status: Int, _ text: String) -> HTTPReply { HTTPReply(status: status, body: Data(text.utf8)) }

    static let deposit = DepositRequest(
        bookingID: "bk_1", amount: ProviderAmount(minorUnits: 1050, currency: "EUR"),
        description: "Shave & beard, 7 Jan 10:00", customerName: "Ann", customerEmail: "ann+x@example.com",
        idempotencyKey: "slotd-deposit-bk_1")

    @Test("form encoding escapes brackets, spaces, plus, ampersand and non-ASCII")
    func form() {
        #expect(
            StripeForm.encode([("metadata[booking]", "bk_1"), ("description", "Shave & beard = 10€ +tip")])
                == "metadata%5Bbooking%5D=bk_1&description=Shave%20%26%20beard%20%3D%2010%E2%82%AC%20%2Btip")
        #expect(StripeForm.encode([("a", "A-z_0.9~")]) == "a=A-z_0.9~")
    }

    @Test("createDeposit posts a form-encoded PaymentIntent with the key, bearer auth and idempotency key")
    func createDeposit() async throws {
        let recorder = Recorder { _ in
            Self.json(200, #"{"id":"pi_9","status":"requires_payment_method","client_secret":"pi_9_secret_x"}"#)
        }
        let result = try await recorder.provider().createDeposit(Self.deposit)
        #expect(result == DepositResult(reference: "pi_9", status: .pending, clientSecret: "pi_9_secret_x"))
        let call = try #require(recorder.last)
        #expect(call.method == "POST")
        #expect(call.url == "http://stripe.test/v1/payment_intents")
        let headers = Dictionary(call.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        #expect(headers["Authorization"] == "Bearer sk_test_123")
        #expect(headers["Idempotency-Key"] == "slotd-deposit-bk_1")
        #expect(headers["Content-Type"] == "application/x-www-form-urlencoded")
        let body = String(decoding: call.body ?? Data(), as: UTF8.self)
        #expect(
            body == "amount=1050&currency=eur&metadata%5Bbooking%5D=bk_1"
                + "&description=Shave%20%26%20beard%2C%207%20Jan%2010%3A00&receipt_email=ann%2Bx%40example.com")
    }

    @Test("cancel and refund hit their endpoints with their own idempotency keys")
    func cancelAndRefund() async throws {
        let recorder = Recorder { call in
            call.url.hasSuffix("/cancel")
                ? Self.json(200, #"{"id":"pi_9","status":"canceled"}"#)
                : Self.json(200, #"{"id":"re_1","status":"succeeded"}"#)
        }
        let provider = recorder.provider()
        let cancelled = try await provider.cancelDeposit(
            RefundRequest(bookingID: "bk_1", reference: "pi_9", idempotencyKey: "slotd-cancel-bk_1"))
        #expect(cancelled == RefundResult(reference: "pi_9", status: .cancelled))
        #expect(recorder.last?.url == "http://stripe.test/v1/payment_intents/pi_9/cancel")
        let refunded = try await provider.refund(
            RefundRequest(bookingID: "bk_1", reference: "pi_9", idempotencyKey: "slotd-refund-bk_1"))
        #expect(refunded == RefundResult(reference: "re_1", status: .refunded))
        let call = try #require(recorder.last)
        #expect(call.url == "http://stripe.test/v1/refunds")
        #expect(String(decoding: call.body ?? Data(), as: UTF8.self).hasPrefix("payment_intent=pi_9"))
        #expect(call.headers.contains { $0.name == "Idempotency-Key" && $0.value == "slotd-refund-bk_1" })
    }

    @Test(
        "HTTP and Stripe errors map to temporary or permanent",
        arguments: [
            (500, #"{"error":{"type":"api_error","message":"boom"}}"#, ProviderError.Kind.temporary),
            (503, "not json", .temporary),
            (429, #"{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow"}}"#, .temporary),
            (409, #"{"error":{"type":"idempotency_error","message":"in use"}}"#, .temporary),
            (400, #"{"error":{"type":"invalid_request_error","message":"bad amount"}}"#, .permanent),
            (401, #"{"error":{"type":"invalid_request_error","message":"Invalid API Key"}}"#, .permanent),
            (402, #"{"error":{"type":"card_error","code":"card_declined","message":"declined"}}"#, .permanent),
        ])
    func errorMapping(status: Int, body: String, kind: ProviderError.Kind) async {
        let recorder = Recorder { _ in Self.json(status, body) }
        do {
            _ = try await recorder.provider().createDeposit(Self.deposit)
            Issue.record("an error answer succeeded")
        } catch {
            #expect(error.kind == kind)
            #expect(error.message.contains("\(status)"))
            #expect(!error.message.contains("sk_test_123"), "the secret key never appears in an error")
        }
    }

    @Test("a network failure is temporary")
    func network() async {
        let provider = StripePayments(
            name: "stripe", apiBase: "http://127.0.0.1:9", secretKey: "sk_test_123", webhookSecret: "whsec_x",
            timeout: .seconds(2))
        do {
            _ = try await provider.createDeposit(Self.deposit)
            Issue.record("a closed port answered")
        } catch {
            #expect(error.kind == .temporary)
        }
    }

    @Test("cancelling a PaymentIntent that already succeeded reports it paid instead of failing")
    func cancelPaid() async throws {
        let recorder = Recorder { _ in
            Self.json(
                400,
                #"{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"x","payment_intent":{"id":"pi_9","status":"succeeded"}}}"#
            )
        }
        let result = try await recorder.provider().cancelDeposit(
            RefundRequest(bookingID: "bk_1", reference: "pi_9", idempotencyKey: "slotd-cancel-bk_1"))
        #expect(result.status == .succeeded)
    }

    @Test("settings: secrets from files, unknown keys and missing files are located errors")
    func settings() throws {
        let directory = NSTemporaryDirectory() + "stripe-settings-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "sk_test_file\n".write(toFile: directory + "/key", atomically: true, encoding: .utf8)
        try "whsec_file\n".write(toFile: directory + "/whsec", atomically: true, encoding: .utf8)
        func settings(_ values: [String: String]) -> ProviderSettings {
            ProviderSettings(
                name: "stripe", type: "stripe", file: directory + "/slotd.yaml", directory: directory, line: 3,
                column: 3, values: values.mapValues { ProviderSettingValue(.scalar($0), line: 4, column: 5) })
        }
        let provider = try StripePayments(
            settings: settings([
                "secret_key_file": "key", "webhook_secret_file": "whsec", "api_base": "http://127.0.0.1:1/",
            ]))
        #expect(provider.apiBase == "http://127.0.0.1:1")
        #expect(provider.collectsOnline)
        #expect(throws: ConfigurationError.self) {
            try StripePayments(
                settings: settings(["secret_key_file": "key", "webhook_secret_file": "whsec", "apikey": "x"]))
        }
        do {
            _ = try StripePayments(settings: settings(["secret_key_file": "missing", "webhook_secret_file": "whsec"]))
            Issue.record("a missing secret file was accepted")
        } catch {
            #expect(error.description.contains("slotd.yaml:4:5"))
            #expect(error.description.contains("cannot read the secret file"))
        }
        #expect(throws: ConfigurationError.self) {
            try StripePayments(settings: settings(["secret_key_file": "key"]))
        }
    }
}
