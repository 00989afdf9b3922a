import Foundation
import SlotCore
import SlotProviders
import Synchronization
import Testing

/// The exec-plugin host against small Python plugins written into a temporary folder by each test.
@Suite("exec plugin host")
struct ExecPluginHostTests {
    /// A plugin's folder with `plugin.py` (the shared loop below plus `handlers`) and a log of what the host reports.
    final class Fixture: Sendable {
        let directory: String
        let lines = Mutex<[(ExecPluginLogLevel, String)]>([])

        init(handlers: String) throws {
            directory = NSTemporaryDirectory() + "slotd-plugin-test-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let script = """
                import json, os, sys, time
                STARTS = os.path.join(os.getcwd(), "starts")
                with open(STARTS, "a") as f:
                    f.write(str(os.getpid()) + "\\n")
                def describe(params):
                    return {"protocol": 1, "name": "test", "capabilities": ["notify", "create_deposit"]}
                \(handlers)
                for line in sys.stdin:
                    request = json.loads(line)
                    handler = globals().get(request["method"])
                    try:
                        reply = {"id": request["id"], "result": handler(request["params"])}
                    except RuntimeError as error:
                        reply = {"id": request["id"], "error": {"code": error.args[0], "message": error.args[1]}}
                    sys.stdout.write(json.dumps(reply) + "\\n")
                    sys.stdout.flush()
                """
            try script.write(toFile: directory + "/plugin.py", atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        func host(timeout: Duration = .seconds(5), backoff: Duration = .seconds(30)) -> ExecPluginHost {
            ExecPluginHost(
                configuration: ExecPluginConfiguration(
                    name: "test", executable: "/usr/bin/python3", arguments: ["-u", "plugin.py"],
                    environment: ["PATH": "/usr/bin:/bin", "GREETING": "hello from env"], directory: directory,
                    timeout: timeout, restartBackoff: backoff),
                log: { level, message in self.lines.withLock { $0.append((level, message)) } })
        }

        /// How many times the plugin process started (it appends its pid to `starts`).
        var starts: Int {
            ((try? String(contentsOfFile: directory + "/starts", encoding: .utf8)) ?? "")
                .split(separator: "\n").count
        }

        func logged(_ level: ExecPluginLogLevel) -> [String] {
            lines.withLock { $0.filter { $0.0 == level }.map(\.1) }
        }
    }

    static func message(_ subject: String) -> OutgoingMessage {
        OutgoingMessage(
            event: "booking.created", id: "job-1-sms", recipient: Recipient(name: "Ada", phone: "+4930123"),
            subject: subject, body: "See you", data: Data(#"{"booking":"b1"}"#.utf8))
    }

    /// Whether process `pid` is gone (reaped), polling briefly: the reader thread reaps it after its stdout ends.
    static func gone(_ pid: Int) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            if kill(pid_t(pid), 0) != 0 { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    static func object(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// A loose view of a call's result, for assertions that look at one field.
    static func object(_ value: JSONValue) -> [String: Any] {
        object((try? JSONEncoder().encode(value)) ?? Data())
    }

    /// Params written as JSON text.
    static func params(_ text: String) -> JSONValue {
        try! JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test("the handshake reports name and capabilities; a call gets its result; env and cwd are the configured ones")
    func handshakeAndCall() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    return {"echo": params, "env": os.environ.get("GREETING"), "cwd": os.getcwd(),
                            "home": os.environ.get("HOME")}
                """)
        let host = fixture.host()
        let description = try await host.describe()
        #expect(description.protocolVersion == 1)
        #expect(description.name == "test")
        #expect(description.capabilities == ["notify", "create_deposit"])

        let result = Self.object(try await host.call(.notify, params: Self.params(#"{"subject":"Hi"}"#)))
        #expect((result["echo"] as? [String: Any])?["subject"] as? String == "Hi")
        #expect(result["env"] as? String == "hello from env")
        #expect(result["cwd"] as? String == fixture.directory)
        // A clean environment: nothing of slotd's own leaks in.
        #expect(result["home"] is NSNull)
        await host.stop()
        #expect(fixture.starts == 1)
    }

    @Test("the notification adapter sends the message's fields and its data as JSON")
    func notifierSendsMessage() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    with open("got.json", "w") as f:
                        json.dump(params, f)
                    return {}
                """)
        let host = fixture.host()
        try await ExecNotifier(host: host).send(Self.message("Booked"))
        await host.stop()
        let got = Self.object(try Data(contentsOf: URL(fileURLWithPath: fixture.directory + "/got.json")))
        #expect(got["id"] as? String == "job-1-sms")
        #expect(got["event"] as? String == "booking.created")
        #expect(got["subject"] as? String == "Booked")
        #expect(got["body"] as? String == "See you")
        #expect((got["recipient"] as? [String: Any])?["phone"] as? String == "+4930123")
        #expect((got["data"] as? [String: Any])?["booking"] as? String == "b1")
    }

    @Test("error replies keep their kind: temporary is retried, permanent parks")
    func errorReplies() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    raise RuntimeError(params["code"], "gateway said no")
                """)
        let host = fixture.host()
        await #expect(throws: ProviderError.temporary("plugin 'test': gateway said no")) {
            _ = try await host.call(.notify, params: Self.params(#"{"code":"temporary"}"#))
        }
        await #expect(throws: ProviderError.permanent("plugin 'test': gateway said no")) {
            _ = try await host.call(.notify, params: Self.params(#"{"code":"permanent"}"#))
        }
        // An error is an answer: the plugin is still the same process.
        #expect(fixture.starts == 1)
        await host.stop()
    }

    @Test("a capability the plugin did not announce fails permanently without a call")
    func missingCapability() async throws {
        let fixture = try Fixture(handlers: "")
        let host = fixture.host()
        do {
            _ = try await host.call(.refund, params: Self.params("{}"))
            Issue.record("refund should fail")
        } catch {
            #expect(error.kind == .permanent)
            #expect(error.message.contains("does not offer `refund`"))
        }
        await host.stop()
    }

    @Test("a call that hangs times out as temporary, the plugin is killed, and the next call runs in a new one")
    func timeoutRestarts() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    if params.get("hang"):
                        time.sleep(600)
                    return {"pid": os.getpid()}
                """)
        // Long enough for Python to start on a busy machine, far shorter than the 60 s hang.
        let host = fixture.host(timeout: .seconds(2))
        let first = Self.object(try await host.call(.notify, params: Self.params("{}")))["pid"] as? Int
        let started = ContinuousClock.now
        do {
            _ = try await host.call(.notify, params: Self.params(#"{"hang":true}"#))
            Issue.record("the hanging call should time out")
        } catch {
            #expect(error.kind == .temporary)
            #expect(error.message.contains("did not answer within"))
        }
        // Far below the plugin's 600 s hang, yet loose: a full parallel test run can starve this task for a minute.
        #expect(ContinuousClock.now - started < .seconds(300))
        let second = Self.object(try await host.call(.notify, params: Self.params("{}")))["pid"] as? Int
        #expect(first != nil && second != nil && first != second)
        #expect(fixture.starts == 2)
        // The hung process is gone, not left behind.
        if let first { #expect(await Self.gone(first)) }
        await host.stop()
    }

    @Test("a call abandoned by its caller (the outbox's own timeout) ends at once and the plugin is replaced")
    func cancelledCall() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    if params.get("hang"):
                        open("hanging", "w").close()
                        time.sleep(600)
                    return {"pid": os.getpid()}
                """)
        let host = fixture.host(timeout: .seconds(30))
        _ = try await host.describe()
        let started = ContinuousClock.now
        let call = Task { try await host.call(.notify, params: Self.params(#"{"hang":true}"#)) }
        // Cancel once the plugin is working on the call (it leaves a file), as an outbox timeout would.
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: fixture.directory + "/hanging") && ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        call.cancel()
        let outcome = await call.result
        // Far below the plugin's 600 s hang, yet loose: a full parallel test run can starve this task for a minute.
        #expect(ContinuousClock.now - started < .seconds(300))
        guard case .failure(let error as ProviderError) = outcome else {
            Issue.record("expected a ProviderError, got \(outcome)")
            return
        }
        #expect(error.kind == .temporary)
        let result = Self.object(try await host.call(.notify, params: Self.params("{}")))
        #expect(result["pid"] != nil)
        #expect(fixture.starts == 2)
        await host.stop()
    }

    @Test("a plugin that crashes is restarted on the next call")
    func crashRestarts() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    if params.get("crash"):
                        print("about to crash", file=sys.stderr, flush=True)
                        os._exit(3)
                    return {"ok": True}
                """)
        let host = fixture.host()
        do {
            _ = try await host.call(.notify, params: Self.params(#"{"crash":true}"#))
            Issue.record("the crashing call should fail")
        } catch {
            #expect(error.kind == .temporary)
            #expect(error.message.contains("status 3"))
        }
        let result = Self.object(try await host.call(.notify, params: Self.params("{}")))
        #expect(result["ok"] as? Bool == true)
        #expect(fixture.starts == 2)
        await host.stop()
    }

    @Test("a plugin that stops reading its stdin fails the call (EPIPE), not slotd, and is replaced")
    func closedStdin() async throws {
        let fixture = try Fixture(
            handlers: """
                def describe(params):
                    return {"protocol": 1, "name": "test", "capabilities": ["notify"]}
                def notify(params):
                    if params.get("close"):
                        # Stop listening, then answer, staying alive with stdout open.
                        os.close(0)
                        sys.stdout.write(json.dumps({"id": 2, "result": {}}) + "\\n")
                        sys.stdout.flush()
                        time.sleep(600)
                    return {"ok": True}
                """)
        let host = fixture.host(timeout: .seconds(3))
        _ = try await host.call(.notify, params: Self.params(#"{"close":true}"#))
        do {
            _ = try await host.call(.notify, params: Self.params("{}"))
            Issue.record("writing to a closed stdin should fail")
        } catch {
            #expect(error.kind == .temporary)
        }
        let result = Self.object(try await host.call(.notify, params: Self.params("{}")))
        #expect(result["ok"] as? Bool == true)
        #expect(fixture.starts == 2)
        await host.stop()
    }

    @Test("stderr is logged line by line")
    func stderrIsLogged() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    sys.stderr.write("first line\\nsecond line\\n")
                    sys.stderr.flush()
                    return {}
                """)
        let host = fixture.host()
        _ = try await host.call(.notify, params: Self.params("{}"))
        // stderr has its own reader thread: poll briefly for it.
        let deadline = ContinuousClock.now + .seconds(5)
        while fixture.logged(.stderr).count < 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(fixture.logged(.stderr) == ["first line", "second line"])
        await host.stop()
    }

    @Test("a plugin speaking another protocol version is a clear permanent error")
    func protocolMismatch() async throws {
        let fixture = try Fixture(
            handlers: """
                def describe(params):
                    return {"protocol": 2, "name": "future", "capabilities": ["notify"]}
                """)
        let host = fixture.host()
        do {
            _ = try await host.call(.notify, params: Self.params("{}"))
            Issue.record("a protocol mismatch should fail")
        } catch {
            #expect(error.kind == .permanent)
            #expect(error.message.contains("speaks exec protocol 2, this slotd speaks 1"))
        }
        await host.stop()
    }

    @Test("a plugin that dies at once, again and again, is reported and not restarted in a loop")
    func crashLoopBacksOff() async throws {
        let fixture = try Fixture(
            handlers: """
                print("missing configuration", file=sys.stderr, flush=True)
                sys.exit(2)
                """)
        let host = fixture.host(backoff: .seconds(30))
        for _ in 0..<2 {
            await #expect(throws: ProviderError.self) { _ = try await host.describe() }
        }
        #expect(fixture.starts == 2)
        do {
            _ = try await host.describe()
            Issue.record("the third start should be refused")
        } catch {
            #expect(error.kind == .temporary)
            #expect(error.message.contains("keeps failing right after it starts"))
        }
        #expect(fixture.starts == 2)
        #expect(!fixture.logged(.error).isEmpty)
        await host.stop()
    }

    @Test("calls are serialized: concurrent calls each get their own answer")
    func concurrentCalls() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    time.sleep(0.01)
                    return {"n": params["n"]}
                """)
        let host = fixture.host()
        let answers = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
            for n in 0..<10 {
                group.addTask {
                    let result = Self.object(try await host.call(.notify, params: Self.params("{\"n\":\(n)}")))
                    return (n, result["n"] as? Int)
                }
            }
            var answers: [(Int, Int?)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        #expect(answers.count == 10)
        #expect(answers.allSatisfy { $0.0 == $0.1 })
        await host.stop()
    }

    @Test("the payment adapter reads create_deposit's result; webhooks are rejected")
    func paymentAdapter() async throws {
        let fixture = try Fixture(
            handlers: """
                def create_deposit(params):
                    return {"reference": "pay_" + params["booking_id"], "status": "pending",
                            "payment_url": "https://pay.example/" + params["idempotency_key"]}
                """)
        let host = fixture.host()
        let payments = ExecPayments(host: host)
        #expect(payments.collectsOnline)
        let result = try await payments.createDeposit(
            DepositRequest(
                bookingID: "b1", amount: ProviderAmount(minorUnits: 1000, currency: "EUR"), description: "Deposit",
                customerName: "Ada", customerEmail: nil, idempotencyKey: "slotd-deposit-b1"))
        #expect(
            result
                == DepositResult(
                    reference: "pay_b1", status: .pending, paymentURL: "https://pay.example/slotd-deposit-b1"))
        #expect(throws: ProviderError.self) {
            _ = try payments.verifyWebhook(WebhookDelivery(headers: [:], body: Data(), receivedAt: 0))
        }
        await host.stop()
    }

    @Test("stop closes stdin and the plugin exits on its own")
    func stopIsClean() async throws {
        let fixture = try Fixture(
            handlers: """
                def notify(params):
                    return {"pid": os.getpid()}
                """)
        let host = fixture.host()
        let pid = Self.object(try await host.call(.notify, params: Self.params("{}")))["pid"] as? Int
        await host.stop()
        if let pid { #expect(await Self.gone(pid)) }
        #expect(fixture.logged(.info).contains { $0.contains("stopped (status 0)") })
        await #expect(throws: ProviderError.self) { _ = try await host.describe() }
    }
}
