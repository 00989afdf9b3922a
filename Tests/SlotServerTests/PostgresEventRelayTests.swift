import Foundation
import Logging
import SlotStore
import SlotStorePostgres
import Synchronization
import Testing

@testable import SlotServer

/// The relay reads the shared log only for what its daemon has not seen (issue 16): each notice is handed to it by
/// hand here, so every step is one decision of `heard`.
@Suite(
    "the PostgreSQL event relay",
    .enabled(if: PostgresDaemonTests.server != nil, "SLOTD_TEST_POSTGRES is not set: the relay is not tested"))
struct PostgresEventRelayTests {
    final class Wakes: Sendable {
        let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
    }

    @Test("publishes others' events once, never its own, reads nothing nobody listens for, wakes the outbox for jobs")
    func relayReadsOnlyWhatItHasNotSeen() async throws {
        let location = try PostgresLocation(url: try await PostgresDaemonTests().freshDatabase())
        let mine = try await PostgresBookingStore.open(location)
        let other = try await PostgresBookingStore.open(location)
        let bus = EventBus()
        let wakes = Wakes()
        bus.afterPublish.withLock { $0 = EventBus.Hook(action: { wakes.count.withLock { $0 += 1 } }) }
        let relay = PostgresEventRelay(store: mine, bus: bus, logger: Logger(label: "test"))
        try await relay.startAtHead()
        func ping(_ store: PostgresBookingStore, _ count: Int) async throws -> [Int64] {
            let events = (0..<count).map { _ in NewEvent(type: "test.ping", at: 0, data: Data("{}".utf8)) }
            return try await store.appendEvents(events).map(\.cursor)
        }
        func notice(_ cursors: [Int64], jobs: Bool, own: Bool) throws -> EventLogNotice {
            EventLogNotice(
                head: try #require(cursors.last), count: Int64(cursors.count), enqueuedJobs: jobs, isOwn: own)
        }
        let subscription = bus.subscribe(bufferSize: 16)
        var messages = subscription.stream.makeAsyncIterator()
        func published() async -> [Int64] {
            guard case .events(let events) = await messages.next() else { return [] }
            return events.map(\.cursor)
        }

        let theirs = try await ping(other, 2)
        await relay.heard(try notice(theirs, jobs: true, own: false))
        #expect(await published() == theirs, "another daemon's events, read and published")
        #expect(wakes.value == 1, "it enqueued jobs: the outbox looks")
        await relay.heard(try notice(theirs, jobs: false, own: false))
        let own = try await ping(mine, 1)
        await relay.heard(try notice(own, jobs: true, own: true))
        let later = try await ping(other, 1)
        await relay.heard(try notice(later, jobs: false, own: false))
        #expect(
            await published() == later,
            "a notice read already and this daemon's own append (published at its commit) are not published again")
        #expect(wakes.value == 1, "neither its own jobs nor another daemon's events without jobs wake the outbox")

        subscription.cancel()
        let unheard = try await ping(other, 1)
        await relay.heard(try notice(unheard, jobs: true, own: false))
        #expect(wakes.value == 2, "nobody listens: nothing is read, but the jobs wake the outbox")
        let listening = bus.subscribe(bufferSize: 16)
        var next = listening.stream.makeAsyncIterator()
        let last = try await ping(other, 1)
        await relay.heard(try notice(last, jobs: false, own: false))
        guard case .events(let events) = await next.next() else {
            Issue.record("nothing published")
            return
        }
        #expect(events.map(\.cursor) == last, "what nobody listened for is not read later: a stream replays it")
        listening.cancel()
        try await mine.shutDown()
        try await other.shutDown()
    }
}
