import Foundation
import SlotAPI
import SlotClient
import SlotServer
import Testing

/// Hold expiry end to end: a real daemon from `buildDaemon` with a settable clock, so the hold time (15 minutes in
/// `TestDaemon.rules`) passes without waiting for it. The hold's own `booking.expire_hold` outbox job, written with
/// the booking, does the expiring here; nothing calls `expireHoldsNow()` to make it happen.
@Suite("hold expiry through the durable outbox scheduler", .serialized)
struct HoldExpiryTests {
    static let start = "2030-01-07T10:00:00+01:00"
    static let slots = "/v1/slots?service=shave&staff=alice&from=2030-01-07"

    static func offered(_ client: UnixHTTPClient) async throws -> Bool {
        let list = try JSONDecoder().decode(SlotList.self, from: try await client.get(slots).body)
        return list.slots.contains { $0.start == start }
    }

    @Test("a hold lapses after the hold time: booking.expired is logged and streamed, the slot is offered again")
    func holdExpiresOnTheTimer() async throws {
        // The worker sleeps on the daemon's clock until the next due job, so moving the manual time past the hold's
        // end wakes it; heartbeats are rare so the streams below carry only what the test waits for.
        let daemon = try await TestDaemon(heartbeat: .seconds(60))
        let client = daemon.client
        #expect(try await Self.offered(client))

        let created = try await client.post("/v1/bookings", json: TestDaemon.booking(service: "shave"))
        #expect(created.status == 201)
        let held = try JSONDecoder().decode(BookingDetails.self, from: created.body)
        #expect(held.status == .held)
        #expect(held.holdExpiresAt == "2030-01-07T08:15:00+01:00")
        #expect(try await !Self.offered(client), "a hold takes its slot")
        let cursor = try await latestCursor(client)

        // A slot watch, open before the hold lapses: its first answer lacks the held start.
        let watch = try await daemon.client.openLines(Self.slots + "&watch=true", timeout: 60)
        defer { watch.close() }
        #expect(watch.head.status == 200)
        let first = try JSONDecoder().decode(SlotList.self, from: Data(try #require(try await watch.next()).utf8))
        #expect(!first.slots.contains { $0.start == Self.start })

        // Not yet: a minute before the hold time nothing lapses.
        daemon.time.advance(by: 14 * 60)
        #expect(try await daemon.daemon.expireHoldsNow() == 0)
        #expect(try await !Self.offered(client))

        // Past the hold time: the hold's job expires it. The stream replays from the cursor, so the event is seen
        // whether the job runs before or after the stream is open.
        daemon.time.advance(by: 2 * 60)
        let (response, lines) = try await client.lines(
            "/v1/events?since=\(cursor)&type=booking.expired", count: 1, timeout: 60)
        #expect(response.status == 200)
        let event = try JSONDecoder().decode(EventLine.self, from: Data(try #require(lines.first).utf8))
        #expect(event.type == "booking.expired")
        #expect(event.cursor > cursor)
        #expect(event.data["booking"]?.stringValue == held.id)

        // The watch sees the slot come back, and so does a plain query; the booking says why.
        let second = try JSONDecoder().decode(SlotList.self, from: Data(try #require(try await watch.next()).utf8))
        #expect(second.slots.contains { $0.start == Self.start })
        #expect(try await Self.offered(client), "the expired hold freed its slot")
        let after = try JSONDecoder().decode(
            BookingDetails.self, from: try await client.get("/v1/bookings/\(held.id)").body)
        #expect(after.status == .expired)
        #expect(after.holdExpiresAt == nil)
        let again = try await client.post("/v1/bookings", json: TestDaemon.booking(service: "shave", name: "Bo"))
        #expect(again.status == 201, "the freed start can be booked again")
        try await daemon.stop()
    }

    @Test("a confirmed booking never expires, however far the clock moves")
    func confirmedBookingsDoNotExpire() async throws {
        let daemon = try await TestDaemon(heartbeat: .seconds(60))
        let client = daemon.client
        let created = try await client.post("/v1/bookings", json: TestDaemon.booking(service: "shave"))
        let held = try JSONDecoder().decode(BookingDetails.self, from: created.body)
        #expect(try await client.post("/v1/bookings/\(held.id)/confirm", json: "").status == 200)
        daemon.time.advance(by: 60 * 60)
        #expect(try await daemon.daemon.expireHoldsNow() == 0)
        let after = try JSONDecoder().decode(
            BookingDetails.self, from: try await client.get("/v1/bookings/\(held.id)").body)
        #expect(after.status == .confirmed)
        try await daemon.stop()
    }

    /// The cursor of the newest event in the log.
    private func latestCursor(_ client: UnixHTTPClient) async throws -> Int64 {
        let log = try await client.get("/v1/events?follow=false")
        let cursors = try log.text.split(separator: "\n").map {
            try JSONDecoder().decode(EventLine.self, from: Data($0.utf8)).cursor
        }
        return cursors.max() ?? 0
    }
}
