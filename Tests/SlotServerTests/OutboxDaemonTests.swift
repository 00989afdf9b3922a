import Foundation
import SlotAPI
import SlotClient
import SlotServer
import Testing

/// Reminders and the end-of-day sweep through a real daemon whose clock the test moves: time passes by
/// `ManualTime`, and `runDueJobsNow()` runs what is due instead of waiting for the worker to wake.
@Suite("outbox timers through the daemon", .serialized)
struct OutboxDaemonTests {
    static let rules = TestDaemon.rules.replacingOccurrences(
        of: "policies:\n  hold: 15m", with: "policies:\n  hold: 15m\n  reminders: [24h, 2h]")
    static let hour: Int64 = 3_600

    /// Every job, oldest first.
    static func jobs(_ daemon: TestDaemon) async throws -> [OutboxJobInfo] {
        let response = try await daemon.client.get("/v1/outbox?limit=1000")
        #expect(response.status == 200)
        return try JSONDecoder().decode(OutboxJobList.self, from: response.body).jobs.reversed()
    }

    /// The deliveries of `event` (to the default `log` provider) that have been sent.
    static func sent(_ daemon: TestDaemon, _ event: String) async throws -> [OutboxJobInfo] {
        try await jobs(daemon).filter {
            $0.kind == "notify.send.log" && $0.payload?["event"]?.stringValue == event && $0.state == "done"
        }
    }

    static func book(_ daemon: TestDaemon, staff: String, start: String) async throws -> String {
        let created = try await daemon.client.post(
            "/v1/bookings", json: TestDaemon.booking(staff: staff, start: start))
        #expect(created.status == 201, "\(created.text)")
        return try JSONDecoder().decode(BookingDetails.self, from: created.body).id
    }

    @Test("reminders go out 24 h and 2 h before; none for a cancelled booking; a moved booking gets new ones")
    func remindersFollowTheBooking() async throws {
        let daemon = try await TestDaemon(rules: Self.rules)
        let start = TestDaemon.monday0800  // Monday 08:00 Berlin
        let kept = try await Self.book(daemon, staff: "alice", start: "2030-01-09T10:00")  // Wednesday
        let cancelled = try await Self.book(daemon, staff: "bob", start: "2030-01-09T12:00")
        await daemon.daemon.runDueJobsNow()
        let reminders = try await Self.jobs(daemon).filter { $0.kind == "notify.booking_reminder" }
        #expect(reminders.map(\.due) == [
            "2030-01-08T10:00:00+01:00", "2030-01-09T08:00:00+01:00",
            "2030-01-08T12:00:00+01:00", "2030-01-09T10:00:00+01:00",
        ])
        #expect(try await Self.sent(daemon, "booking.created").count == 2, "the creation messages went out at once")
        #expect(try await daemon.client.post("/v1/bookings/\(cancelled)/cancel", json: "{}").status == 200)

        // A second before the 24 h reminder: nothing yet.
        daemon.time.set(start + 26 * Self.hour - 1)
        await daemon.daemon.runDueJobsNow()
        #expect(try await Self.sent(daemon, "booking.reminder").isEmpty)
        // At 24 h before: Ann's reminder goes out; the cancelled booking's finishes as skipped, sending nothing.
        daemon.time.set(start + 28 * Self.hour)
        await daemon.daemon.runDueJobsNow()
        var sent = try await Self.sent(daemon, "booking.reminder")
        #expect(sent.map(\.booking) == [kept])
        #expect(sent.first?.payload?["subject"]?.stringValue == "Reminder: Haircut on Wednesday, 9 January 2030 at 10:00")
        let skipped = try await Self.jobs(daemon).filter { $0.kind == "notify.booking_reminder" && $0.booking == cancelled }
        #expect(skipped.first?.state == "done")
        #expect(skipped.first?.note == "skipped: booking is cancelled")

        // Moved to Thursday: the old 2 h reminder is skipped, the new times get their own.
        let moved = try await daemon.client.post(
            "/v1/bookings/\(kept)/reschedule", json: #"{"start": "2030-01-10T10:00"}"#)
        #expect(moved.status == 200, "\(moved.text)")
        daemon.time.set(start + 50 * Self.hour)  // Wednesday 10:00
        await daemon.daemon.runDueJobsNow()
        let all = try await Self.jobs(daemon).filter { $0.kind == "notify.booking_reminder" && $0.booking == kept }
        #expect(all.map(\.state) == ["done", "done", "done", "pending"])
        #expect(all[1].note == "skipped: booking moved (a new reminder was made for its new time)")
        sent = try await Self.sent(daemon, "booking.reminder")
        #expect(sent.count == 2)
        #expect(sent.last?.payload?["subject"]?.stringValue == "Reminder: Haircut on Thursday, 10 January 2030 at 10:00")
        #expect(all.last?.due == "2030-01-10T08:00:00+01:00")

        // 2 h before the new start: the second reminder goes out.
        daemon.time.set(start + 72 * Self.hour - 1)  // Thursday 07:59:59
        await daemon.daemon.runDueJobsNow()
        #expect(try await Self.sent(daemon, "booking.reminder").count == 2)
        daemon.time.set(start + 72 * Self.hour)
        await daemon.daemon.runDueJobsNow()
        sent = try await Self.sent(daemon, "booking.reminder")
        #expect(sent.count == 3)
        #expect(sent.last?.payload?["body"]?.stringValue?.contains("in 2 hours") == true)
        try await daemon.stop()
    }

    @Test("the end-of-day sweep publishes day.closed with the loose ends, sends a summary, schedules the next")
    func endOfDaySweep() async throws {
        let daemon = try await TestDaemon()
        let start = TestDaemon.monday0800
        var sweeps = try await Self.jobs(daemon).filter { $0.kind == "sweep.end_of_day" }
        #expect(sweeps.map(\.due) == ["2030-01-07T23:00:00+01:00"], "exactly one pending sweep at start")

        let done = try await Self.book(daemon, staff: "alice", start: "2030-01-07T10:00")
        let absent = try await Self.book(daemon, staff: "alice", start: "2030-01-07T11:00")
        let open = try await Self.book(daemon, staff: "bob", start: "2030-01-07T12:00")
        let called = try await Self.book(daemon, staff: "bob", start: "2030-01-07T15:00")
        #expect(try await daemon.client.post("/v1/bookings/\(called)/cancel", json: "{}").status == 200)
        daemon.time.set(start + 5 * Self.hour)  // 13:00
        #expect(try await daemon.client.post("/v1/bookings/\(done)/complete", json: "{}").status == 200)
        #expect(try await daemon.client.post("/v1/bookings/\(absent)/no-show", json: "{}").status == 200)

        daemon.time.set(start + 15 * Self.hour - 1)
        await daemon.daemon.runDueJobsNow()
        #expect(try await Self.sent(daemon, "day.summary").isEmpty, "not before 23:00")
        daemon.time.set(start + 15 * Self.hour)
        await daemon.daemon.runDueJobsNow()

        let (response, lines) = try await daemon.client.lines("/v1/events?type=day.closed&follow=false", count: 1)
        #expect(response.status == 200)
        let event = try JSONDecoder().decode(EventLine.self, from: Data(try #require(lines.first).utf8))
        #expect(event.type == "day.closed")
        #expect(event.data["date"]?.stringValue == "2030-01-07")
        #expect(event.data["completed"]?.intValue == 1)
        #expect(event.data["no_show"]?.intValue == 1)
        #expect(event.data["cancelled"]?.intValue == 1)
        #expect(event.data["open"] == .array([.string(open)]))

        let summary = try await Self.sent(daemon, "day.summary")
        #expect(summary.first?.payload?["subject"]?.stringValue
            == "Day closed Monday, 7 January 2030: 1 completed, 1 no-shows")
        sweeps = try await Self.jobs(daemon).filter { $0.kind == "sweep.end_of_day" }
        #expect(sweeps.map(\.state) == ["done", "pending"])
        #expect(sweeps.last?.due == "2030-01-08T23:00:00+01:00")
        try await daemon.stop()
    }
}
