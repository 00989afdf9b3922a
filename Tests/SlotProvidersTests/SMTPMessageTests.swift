import Foundation
import SMTPProvider
import SlotProviders
import Testing

/// The email the smtp provider builds: headers, RFC 2047 subjects, quoted-printable bodies, stable Message-IDs.
@Suite("smtp message building")
struct SMTPMessageTests {
    static let date = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 (a Wednesday), 11:06:40 UTC

    static func notifier(from: String = "Barbershop <shop@example.com>", replyTo: String? = nil) -> SMTPNotifier {
        SMTPNotifier(
            name: "mail", url: "smtp://127.0.0.1:2525", from: from, replyTo: replyTo, now: { date },
            deliver: { _ throws(ProviderError) in })
    }

    static func message(
        subject: String = "Your booking", body: String = "See you at 10:00.", email: String? = "ada@example.org",
        name: String = "Ada Lovelace", id: String = "42-mail"
    ) -> OutgoingMessage {
        OutgoingMessage(
            event: "booking.created", id: id, recipient: Recipient(name: name, email: email), subject: subject,
            body: body, data: Data("{}".utf8))
    }

    static func text(_ call: MailCall) -> String { String(decoding: call.message, as: UTF8.self) }

    static func headers(_ text: String) -> [String] {
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        return head.components(separatedBy: "\r\n")
    }

    @Test("an ASCII message: date, from, to, subject, message id, MIME headers, CRLF line ends")
    func asciiHeaders() throws {
        let call = try Self.notifier(replyTo: "desk@example.com").mailCall(for: Self.message())
        #expect(call.from == "shop@example.com")
        #expect(call.to == ["ada@example.org"])
        #expect(call.url == "smtp://127.0.0.1:2525")
        let lines = Self.headers(Self.text(call))
        #expect(
            lines == [
                "Date: Wed, 18 Nov 2026 11:06:40 +0000",
                "From: \"Barbershop\" <shop@example.com>",
                "To: \"Ada Lovelace\" <ada@example.org>",
                "Reply-To: desk@example.com",
                "Subject: Your booking",
                "Message-ID: <slotd.42-mail@example.com>",
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=UTF-8",
                "Content-Transfer-Encoding: quoted-printable",
                "X-Slotd-Event: booking.created",
            ])
        #expect(Self.text(call).hasSuffix("\r\n\r\nSee you at 10:00."))
    }

    @Test("a non-ASCII subject and name are RFC 2047 encoded words that decode back")
    func encodedWords() throws {
        let subject = "Ihre Buchung am Dienstag: Bärte, Föhnen & Rasur — bis bald! ✂️ Grüße aus der Straße"
        let call = try Self.notifier().mailCall(for: Self.message(subject: subject, name: "Jürgen Groß"))
        let text = Self.text(call)
        #expect(text.contains("To: =?UTF-8?B?\(Data("Jürgen Groß".utf8).base64EncodedString())?= <ada@example.org>"))
        // Unfold the subject and decode each word.
        let head = text.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n ", with: " ")
        let line = try #require(head.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") })
        var decoded = Data()
        for word in line.dropFirst("Subject: ".count).split(separator: " ") {
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            decoded.append(try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))))
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
        // Every physical header line stays within 78 characters.
        for physical in text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n") {
            #expect(physical.count <= 78, "\(physical)")
        }
    }

    @Test("the body is quoted-printable UTF-8: umlauts, '=', trailing spaces, long lines, bare LF becomes CRLF")
    func quotedPrintableBody() throws {
        let long = String(repeating: "abcdefghij", count: 10)
        let body = "Grüße = Hallo \nline two\n.leading dot\n" + long
        let call = try Self.notifier().mailCall(for: Self.message(body: body))
        let encoded = Self.text(call).components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines[0] == "Gr=C3=BC=C3=9Fe =3D Hallo=20")
        #expect(lines[1] == "line two")
        #expect(lines[2] == "=2Eleading dot")
        #expect(lines.allSatisfy { $0.count <= 76 })
        #expect(lines[3].hasSuffix("="))
        #expect(lines[3].dropLast() + lines[4] == Substring(long))
        #expect(!encoded.contains("\n") || !encoded.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test("the Message-ID is the same for every retry of a message and differs between messages")
    func stableMessageID() throws {
        let notifier = Self.notifier()
        let first = Self.text(try notifier.mailCall(for: Self.message(id: "7-mail")))
        let again = Self.text(try notifier.mailCall(for: Self.message(id: "7-mail")))
        let other = Self.text(try notifier.mailCall(for: Self.message(id: "8-mail")))
        #expect(first == again)
        #expect(first != other)
        #expect(SMTPNotifier.messageID(for: "a b<c>@d", from: "x@shop.example") == "<slotd.a-b-c--d@shop.example>")
    }

    @Test("header injection through the subject or name is neutralised")
    func noHeaderInjection() throws {
        let call = try Self.notifier().mailCall(
            for: Self.message(subject: "Hi\r\nBcc: victim@example.com", name: "Eve\nBcc: x@example.com"))
        let lines = Self.headers(Self.text(call))
        #expect(!lines.contains { $0.hasPrefix("Bcc:") })
    }

    @Test("a recipient without an email, or with a malformed one, is a permanent failure that says why")
    func missingEmail() {
        do {
            _ = try Self.notifier().mailCall(for: Self.message(email: nil, name: "Bob"))
            Issue.record("should fail")
        } catch {
            #expect(error.kind == .permanent)
            #expect(error.message.contains("'Bob' has no email address"))
        }
        #expect(throws: ProviderError.self) {
            _ = try Self.notifier().mailCall(for: Self.message(email: "not an address"))
        }
    }

    static func settings(_ values: [String: String], file: String = "/etc/slotd/slotd.yaml") -> ProviderSettings {
        ProviderSettings(
            name: "mail", type: "smtp", file: file, directory: "/etc/slotd", line: 3, column: 3,
            values: values.mapValues { ProviderSettingValue(.scalar($0), line: 4, column: 5) })
    }

    @Test(
        "settings mistakes are located errors",
        arguments: [
            (["from": "a@b.c"], "`url` is missing"),
            (["url": "http://mail", "from": "a@b.c"], "must be smtp://host:port or smtps://host:port"),
            (["url": "smtp://mail.example.com:587"], "`from` is missing"),
            (["url": "smtp://mail.example.com:587", "from": "nobody"], "`from` must be an address"),
            (["url": "smtps://mail.example.com", "from": "a@b.c", "starttls": "true"], "`starttls` is for smtp://"),
            (["url": "smtp://mail.example.com", "from": "a@b.c", "colour": "red"], "unknown key 'colour'"),
            (["url": "smtp://mail.example.com", "from": "a@b.c", "timeout": "soon"], "must be a duration"),
        ])
    func settingsErrors(values: [String: String], expected: String) {
        do {
            _ = try SMTPNotifier(settings: Self.settings(values))
            Issue.record("should fail: \(values)")
        } catch {
            #expect(error.description.hasPrefix("/etc/slotd/slotd.yaml:"))
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("a password never crosses the network in clear text")
    func passwordNeedsTLS() throws {
        let directory = NSTemporaryDirectory() + "slotd-smtp-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "s3cret\n".write(toFile: directory + "/mail.pw", atomically: true, encoding: .utf8)
        func settings(_ values: [String: String]) -> ProviderSettings {
            ProviderSettings(
                name: "mail", type: "smtp", file: directory + "/slotd.yaml", directory: directory,
                values: values.mapValues { ProviderSettingValue(.scalar($0)) })
        }
        let base = ["from": "a@b.c", "username": "shop", "password_file": "mail.pw"]
        #expect(throws: ConfigurationError.self) {
            _ = try SMTPNotifier(settings: settings(base.merging(["url": "smtp://mail.example.com:587"]) { $1 }))
        }
        let tls = try SMTPNotifier(
            settings: settings(base.merging(["url": "smtp://mail.example.com:587", "starttls": "true"]) { $1 }))
        #expect(tls.requireTLS)
        #expect(tls.password == "s3cret")
        let local = try SMTPNotifier(settings: settings(base.merging(["url": "smtp://127.0.0.1:2525"]) { $1 }))
        #expect(!local.requireTLS)
    }
}
