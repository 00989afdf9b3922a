import Foundation
import SlotAPI
import SlotCore
import SlotEngine
import Logging
import SlotProviders
import SlotRules
import SlotStore
import Synchronization
import Testing
import WebhookProvider

@testable import SlotServer

/// The outbox's pure parts: the retry schedule, templates, the Standard Webhooks signature, configuration.
@Suite("outbox pieces")
struct OutboxPieceTests {
    @Test("backoff caps double from initial_backoff up to max_backoff; full jitter stays within 1...cap")
    func backoffSchedule() {
        let caps = (1...10).map { OutboxBackoff.cap(attempt: $0, initial: 10, maximum: 3_600) }
        #expect(caps == [10, 20, 40, 80, 160, 320, 640, 1_280, 2_560, 3_600])
        #expect(OutboxBackoff.cap(attempt: 500, initial: 10, maximum: 3_600) == 3_600, "no overflow")
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...10 {
            let draws = (0..<200).map { _ in
                OutboxBackoff.delay(attempt: attempt, initial: 10, maximum: 3_600, using: &generator)
            }
            #expect(draws.allSatisfy { (1...caps[attempt - 1]).contains($0) })
            if attempt >= 3 { #expect(Set(draws).count > 10, "jittered, not one fixed delay") }
        }
    }

    @Test("the Standard Webhooks signature matches the specification's test vector")
    func webhookSignatureVector() throws {
        // From github.com/standard-webhooks/standard-webhooks (libraries' shared test vector).
        let key = try #require(Data(base64Encoded: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookNotifier.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Data(#"{"test": 2432232314}"#.utf8),
            key: key)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(throws: ProviderError.self) {
            _ = try WebhookNotifier(name: "hook", url: "http://127.0.0.1:1/", secret: "whsec_!!notbase64")
        }
    }

    static let shopRules = TestDaemon.rules

    /// Ann's haircut with Alice, Wednesday 2030-01-09 10:00 in Berlin (UTC+1).
    static let annsBooking: StoredBooking = {
        let start: Int64 = TestDaemon.monday0800 + 2 * 86_400 + 2 * 3_600
        return StoredBooking(
            id: "bk_test", status: .confirmed, staffID: "alice", services: ["haircut"], variant: nil, start: start,
            end: start + 1_800, footprint: BookingFootprint(segments: []),
            price: Money(minorUnits: 2_000, currency: "EUR"), deposit: nil, customerID: "cu_1",
            customer: CustomerInfo(name: "Ann"), notes: "", holdExpiresAt: nil, createdAt: 0, updatedAt: 0,
            cancellation: nil)
    }()

    @Test("templates render a booking's fields in the shop's zone and language", arguments: [
        (MessageLanguage.de, "Termin gebucht: Haircut am Mittwoch, 9. Januar 2030 um 10:00", "Preis: 20,00 EUR"),
        (MessageLanguage.en, "Booked: Haircut on Wednesday, 9 January 2030 at 10:00", "Price: EUR 20.00"),
    ])
    func templateRendering(language: MessageLanguage, subject: String, price: String) async throws {
        let loaded = try await RuleSetFixture.load(Self.shopRules)
        let values = NotificationHandler.values(for: Self.annsBooking, in: loaded, language: language)
        let message = language.defaultTemplates["booking.created"].map { $0.render(values) }
        #expect(message?.subject == subject)
        #expect(message?.body.contains(price) == true)
        #expect(message?.body.contains("Alice") == true, "the staff member's name, not the id")
        #expect(message?.body.contains("10:30") == true, "the end time")
        let custom = MessageTemplate(subject: "{{ customer }} @ {{shop}}", body: "{{unknown}}|{{time}}")
        #expect(custom.render(values).subject == "Ann @ Test Shop")
        #expect(custom.unknownFields == ["unknown"])
        #expect(MessageTemplate.fill("Grüße, {{customer}} — ✂️ {{shop}}!", values) == "Grüße, Ann — ✂️ Test Shop!")
        #expect(MessageTemplate.fill("{{customer}}{{customer}}", values) == "AnnAnn")
        #expect(MessageTemplate.fill("open {{customer and } never closed", values) == "open {{customer and } never closed")
        #expect(MessageTemplate.fill("{{}} {{nope}} {", values) == "  {")
    }

    @Test("every event has a built-in template in both languages, naming only known fields")
    func defaultTemplatesAreComplete() {
        for language in MessageLanguage.allCases {
            for event in NotificationSettings.events {
                let template = language.defaultTemplates[event]
                #expect(template != nil, "\(language) \(event)")
                #expect(template?.unknownFields == [], "\(language) \(event)")
            }
        }
    }

    static func parse(_ text: String) throws(ConfigurationError) -> DaemonConfiguration {
        try ConfigurationFile.parse(
            text, file: "slotd.yaml", relativeTo: "/tmp",
            over: DaemonConfiguration(socketPath: "/tmp/s", databasePath: "/tmp/d", rulesDirectory: "/tmp/r"))
    }

    @Test("outbox and notifications settings parse; mistakes are located with a fix", arguments: [
        ("outbox:\n  workers: 33\n", 2, "`workers` must be a whole number from 0 to 32"),
        ("outbox:\n  call_timeout: soon\n", 2, "`call_timeout` must be a positive duration"),
        ("outbox:\n  end_of_day: 25:00\n", 2, "`end_of_day` must be a shop-local time"),
        ("outbox:\n  retries: 3\n", 2, "unknown key 'retries' in `outbox`"),
        ("notifications:\n  routes:\n    - on: [booking.made]\n      to: [mail]\n", 3, "unknown event 'booking.made'"),
        ("notifications:\n  templates:\n    booking.created: { subject: \"{{colour}}\", body: x }\n", 3,
         "unknown field {{colour}} in the template of booking.created"),
        ("notifications:\n  language: fr\n", 2, "`language` must be de or en"),
    ])
    func configurationMistakes(text: String, line: Int, message: String) {
        do {
            _ = try Self.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.problems.map(\.line) == [line], "\(error)")
            #expect(error.problems.first?.message.contains(message) == true, "\(error)")
        }
    }

    @Test("a valid section sets every knob")
    func configurationParses() throws {
        let configuration = try Self.parse("""
            outbox: { workers: 4, call_timeout: 5s, initial_backoff: 2s, max_backoff: 10m, max_attempts: 3, end_of_day: "22:30" }
            notifications:
              language: de
              routes:
                - { on: [booking.created, booking.reminder], to: [mail, sms] }
                - { on: [day.summary], to: frontdesk }
              templates:
                booking.created: { subject: "Hallo {{customer}}", body: "{{date}}" }
            """)
        #expect(configuration.outbox.workers == 4)
        #expect(configuration.outbox.callTimeout == .seconds(5))
        #expect(configuration.outbox.maxBackoffSeconds == 600)
        #expect(configuration.outbox.endOfDayMinute == 22 * 60 + 30)
        let notifications = configuration.notifications
        #expect(notifications.language == .de)
        #expect(notifications.providers(for: "booking.reminder") == ["mail", "sms"])
        #expect(notifications.providers(for: "day.summary") == ["frontdesk"])
        #expect(notifications.providers(for: "booking.cancelled") == [])
        #expect(notifications.template(for: "booking.created").subject == "Hallo {{customer}}")
        #expect(notifications.template(for: "booking.cancelled").subject.hasPrefix("Termin storniert"))
        #expect(NotificationSettings().providers(for: "booking.created") == ["log"], "no routes: the log")
    }
}

/// A fan-out's deliveries: through a provider that makes no call, sent by the fan-out and written done.
@Suite("notification fan-out")
struct NotificationFanOutTests {
    /// Records what it is asked to send; `instant` says whether it makes no call.
    final class Recorder: Sendable {
        let sent = Mutex<[OutgoingMessage]>([])
        func add(_ message: OutgoingMessage) { sent.withLock { $0.append(message) } }
        var messages: [OutgoingMessage] { sent.withLock { $0 } }
    }

    struct Instant: InstantNotificationProvider {
        let name: String
        let recorder: Recorder
        func sendNow(_ message: OutgoingMessage) { recorder.add(message) }
    }

    struct Called: NotificationProvider {
        let name: String
        let recorder: Recorder
        func send(_ message: OutgoingMessage) async throws(ProviderError) { recorder.add(message) }
    }

    @Test("a fan-out sends through an instant provider at once and writes its delivery done; others are queued")
    func instantDeliveriesAreDoneAtTheFanOut() async throws {
        let rules = try await RuleSetFixture.holder(OutboxPieceTests.shopRules)
        let journal = Recorder()
        let hook = Recorder()
        let settings = try OutboxPieceTests.parse(
            "notifications:\n  routes:\n    - { on: [booking.created], to: [journal, hook] }\n").notifications
        let handler = NotificationHandler(
            store: MemoryBookingStore(), rules: rules,
            providers: [
                "journal": Instant(name: "journal", recorder: journal), "hook": Called(name: "hook", recorder: hook),
            ],
            settings: settings, clock: .system, logger: Logger(label: "test"))
        let booking = OutboxPieceTests.annsBooking
        let queued = OutboxEnqueue(.notification(.booking(.created, BookingJobPayload(booking: booking.id))), dueAt: 0)
        let job = OutboxJob(
            id: 7, kind: queued.kind, payload: queued.payload, dueAt: 0, attempts: 1, state: .pending, lastError: nil,
            createdAt: 0)

        let completion = try #require(handler.completeInClaim(job) { $0 == booking.id ? booking : nil })
        #expect(completion.note == "sent to journal, hook")
        #expect(completion.enqueue.map { $0.kind } == ["notify.send.journal", "notify.send.hook"])
        #expect(completion.enqueue.map { $0.finishedNote } == [NotificationHandler.sentAtFanOut, nil])
        #expect(journal.messages.map(\.id) == ["slotd-7-journal"], "sent by the fan-out, under the delivery's id")
        #expect(journal.messages.first?.subject == "Booked: Haircut on Wednesday, 9 January 2030 at 10:00")
        #expect(hook.messages.isEmpty, "a provider that calls out is left to its delivery job")
        // The done delivery keeps the message, as a queued one would carry it.
        let enqueued = try #require(completion.enqueue.first)
        let delivery = OutboxJob(
            id: 8, kind: enqueued.kind, payload: enqueued.payload, dueAt: 0, attempts: 1, state: .pending,
            lastError: nil, createdAt: 0)
        guard case .notification(.delivery(let provider, let payload)) = try delivery.job else {
            Issue.record("not a delivery: \(delivery.kind)")
            return
        }
        #expect(provider == "journal" && payload.messageID == "slotd-7-journal" && payload.to.name == "Ann")

        // A delivery job of an instant provider (written before it was one, or retried) still sends through it.
        _ = try await handler.run(delivery)
        #expect(journal.messages.map(\.id) == ["slotd-7-journal", "slotd-7-journal"])
    }
}

/// Loads a rule set from text for the pure tests.
enum RuleSetFixture {
    static func load(_ text: String) async throws -> RuleSet {
        try #require(try await holder(text).current).ruleSet
    }

    /// A rule holder with `text` loaded (its folder removed again: the rules stay in memory).
    static func holder(_ text: String) async throws -> RuleHolder {
        let directory = "/tmp/slotd-rules-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try text.write(toFile: directory + "/shop.yaml", atomically: true, encoding: .utf8)
        let holder = RuleHolder(directory: directory, clock: .system, logger: Logger(label: "test"))
        _ = await holder.reload()
        return holder
    }
}
