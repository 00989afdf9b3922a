import Foundation
import SMTPProvider
import SlotProviders
import Testing

/// The smtp provider sending through libcurl to a real SMTP server: `aiosmtpd` on 127.0.0.1, started by the test,
/// which stores each delivered message as a file the test reads back.
@Suite("smtp delivery to aiosmtpd", .serialized)
struct SMTPDeliveryTests {
    static let server = #"""
        import email.policy, json, os, socket, sys
        from aiosmtpd.controller import Controller

        out = sys.argv[1]

        class Store:
            async def handle_DATA(self, server, session, envelope):
                name = os.path.join(out, "%03d.json" % len(os.listdir(out)))
                with open(name + ".tmp", "w") as f:
                    json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                               "data": envelope.content.decode("utf-8", "replace")}, f)
                os.rename(name + ".tmp", name)
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        controller = Controller(Store(), hostname="127.0.0.1", port=port)
        controller.start()
        print(port, flush=True)
        sys.stdin.read()
        controller.stop()
        """#

    /// Runs blocking work (starting Python and reading its first line, waiting for it to exit) on a thread of its
    /// own: on Linux, Dispatch's global queues and Swift's cooperative pool share about one thread per core, and a
    /// test that blocks one of them stalls every other test of the run, and every Dispatch timer, meanwhile.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    final class MailServer: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        let directory: String
        let port: Int

        init() throws {
            directory = NSTemporaryDirectory() + "slotd-smtp-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory + "/mail", withIntermediateDirectories: true)
            try SMTPDeliveryTests.server.write(toFile: directory + "/server.py", atomically: true, encoding: .utf8)
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", directory + "/server.py", directory + "/mail"]
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw ProviderError.temporary("aiosmtpd did not start: \(line)")
            }
            self.port = port
        }

        /// Stops the server and waits until it has exited.
        func stop() async {
            try? input.fileHandleForWriting.close()
            _ = try? await SMTPDeliveryTests.offThePool { [self] in
                process.waitUntilExit()
                try? FileManager.default.removeItem(atPath: directory)
            }
        }

        /// The delivered messages, waiting briefly for the first.
        func delivered() async throws -> [[String: Any]] {
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                let files = try FileManager.default.contentsOfDirectory(atPath: directory + "/mail")
                    .filter { $0.hasSuffix(".json") }.sorted()
                if !files.isEmpty {
                    return try files.map { file in
                        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/mail/" + file))
                        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
                    }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            return []
        }
    }

    @Test("a booking confirmation arrives with its recipient, subject and body")
    func delivers() async throws {
        let server = try await Self.offThePool { try MailServer() }
        do {
            try await deliver(to: server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func deliver(to server: MailServer) async throws {
        let notifier = SMTPNotifier(
            name: "mail", url: "smtp://127.0.0.1:\(server.port)", from: "Barbershop <shop@example.com>",
            timeout: .seconds(10))
        try await notifier.send(
            OutgoingMessage(
                event: "booking.created", id: "12-mail", recipient: Recipient(name: "Zoë", email: "zoe@example.org"),
                subject: "Termin bestätigt: Dienstag 10:00", body: "Hallo Zoë,\nbis Dienstag!\n.\nDer Laden",
                data: Data("{}".utf8)))
        let mails = try await server.delivered()
        #expect(mails.count == 1)
        let mail = try #require(mails.first)
        #expect(mail["from"] as? String == "shop@example.com")
        #expect(mail["to"] as? [String] == ["zoe@example.org"])
        // Decode it the way a mail client would.
        let data = try #require(mail["data"] as? String)
        let decoded = try await Self.offThePool { try Self.pythonDecode(data) }
        #expect(decoded["subject"] == "Termin bestätigt: Dienstag 10:00")
        #expect(decoded["to"] == "Zoë <zoe@example.org>")
        #expect(decoded["message-id"] == "<slotd.12-mail@example.com>")
        #expect(decoded["body"] == "Hallo Zoë,\nbis Dienstag!\n.\nDer Laden")
    }

    @Test("a server that is down is a temporary failure")
    func serverDown() async throws {
        let server = try await Self.offThePool { try MailServer() }
        let port = server.port
        await server.stop()
        let notifier = SMTPNotifier(
            name: "mail", url: "smtp://127.0.0.1:\(port)", from: "shop@example.com", timeout: .seconds(5))
        do {
            try await notifier.send(
                OutgoingMessage(
                    event: "booking.created", id: "1", recipient: Recipient(name: "A", email: "a@example.org"),
                    subject: "s", body: "b", data: Data()))
            Issue.record("should fail")
        } catch {
            #expect(error.kind == .temporary)
        }
    }

    /// Parses a message with Python's `email` package (an independent reader of what we wrote).
    static func pythonDecode(_ message: String) throws -> [String: String] {
        let script = """
            import email, email.policy, json, sys
            m = email.message_from_string(sys.stdin.read(), policy=email.policy.default)
            print(json.dumps({"subject": str(m["subject"]), "to": str(m["to"]), "message-id": str(m["message-id"]),
                              "body": m.get_content().replace("\\r\\n", "\\n").rstrip("\\n")}))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(message.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONSerialization.jsonObject(with: data) as? [String: String] ?? [:]
    }
}
