import Foundation
import Testing

@testable import SlotStore

/// Finishing a job and claiming the slot's next one in one write (the worker's lane goes on without another trip to
/// the store), against every store.
@Suite("outbox finish with the next claim")
struct OutboxFinishTests {
    static let now = Fixture.now

    static func job(_ kind: String, due: Int64 = now) -> OutboxEnqueue {
        OutboxEnqueue(kind: kind, object: ["n": 1], dueAt: due)
    }

    @Test(
        "finishing claims the next due job, never the finished one; a repeated finish fans out nothing but claims",
        arguments: StoreKind.tested)
    func finishClaimsTheNextJob(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.enqueueJobs(
            [Self.job("test.first"), Self.job("test.second"), Self.job("test.later", due: Self.now + 100)],
            at: Self.now)
        let first = try #require(try await store.claimDueJobs(at: Self.now, lease: 40, limit: 1).first)
        #expect(first.kind == "test.first")
        let (events, claimed) = try await store.finishJob(
            first.id, at: Self.now + 1, note: "done", enqueue: [Self.job("test.fan_out")],
            events: [OutboxEvent(type: "day.closed", value: ["date": "2027-01-15"])], thenClaim: 1, lease: 40)
        #expect(events.map(\.type) == ["day.closed"])
        #expect(claimed.map(\.kind) == ["test.second"], "the oldest due job")
        #expect(claimed.first?.attempts == 1 && claimed.first?.dueAt == Self.now + 1 + 40, "claimed under a lease")
        // The same job finished again (a second run after a lost lease): nothing more fans out, no event, and the
        // slot still gets the next due job, the fan-out of the first finish.
        let again = try await store.finishJob(
            first.id, at: Self.now + 2, note: "again", enqueue: [Self.job("test.fan_out")],
            events: [OutboxEvent(type: "day.closed", value: ["date": "2027-01-15"])], thenClaim: 1, lease: 40)
        #expect(again.events.isEmpty)
        #expect(again.claimed.map(\.kind) == ["test.fan_out"])
        #expect(try await store.outboxJob(id: first.id)?.note == "done", "the first finish's record stands")
        let none = try await store.finishJob(
            again.claimed[0].id, at: Self.now + 3, note: nil, enqueue: [], events: [], thenClaim: 1, lease: 40)
        #expect(none.claimed.isEmpty && none.events.isEmpty, "nothing else is due; no event to append")
        #expect(try await store.outboxCounts() == [.pending: 2, .done: 2, .failed: 0])
        #expect(try await store.latestCursor() == events.first?.cursor)
    }
}
