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

    @Test("publishes others' events once, never its own, reads nothing nobody listens for, signals others' jobs")
    func relayReadsOnlyWhatItHasNotSeen() async throws {
        let location = try PostgresLocation(url: try await PostgresDaemonTests().freshDatabase())
        let mine = try await PostgresBookingStore.open(location)
        let other = try await PostgresBookingStore.open(location)
        let bus = EventBus()
        let othersJobs = WakeSignal()
        let signals = Wakes()
        // Whether another daemon's jobs were signalled since the last look (a pending signal answers at once).
        func signalled() async -> Bool {
            let pending = await othersJobs.wait(sleeping: {})
            if pending { signals.count.withLock { $0 += 1 } }
            return pending
        }
        let relay = PostgresEventRelay(store: mine, bus: bus, othersJobs: othersJobs, logger: Logger(label: "test"))
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
        #expect(await signalled(), "it enqueued jobs: the outbox looks")
        await relay.heard(try notice(theirs, jobs: false, own: false))
        let own = try await ping(mine, 1)
        await relay.heard(try notice(own, jobs: true, own: true))
        let later = try await ping(other, 1)
        await relay.heard(try notice(later, jobs: false, own: false))
        #expect(
            await published() == later,
            "a notice read already and this daemon's own append (published at its commit) are not published again")
        #expect(await !signalled(), "neither its own jobs nor another daemon's events without jobs wake the outbox")

        subscription.cancel()
        let unheard = try await ping(other, 1)
        await relay.heard(try notice(unheard, jobs: true, own: false))
        #expect(await signalled(), "nobody listens: nothing is read, but the jobs wake the outbox")
        #expect(signals.value == 2, "two of the notices were another daemon's jobs")
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

    @Test("another daemon's jobs wake the outbox once per delay, however many notices came in it")
    func othersJobsWakeTheOutboxOncePerDelay() async throws {
        let location = try PostgresLocation(url: try await PostgresDaemonTests().freshDatabase())
        let store = try await PostgresBookingStore.open(location)
        let bus = EventBus()
        let (wakes, woke) = AsyncStream<Void>.makeStream()
        bus.afterPublish.withLock { $0 = EventBus.Hook(action: { woke.yield() }) }
        let time = ManualTime(1_900_000_000)
        let delay = Duration.milliseconds(250)
        let relay = PostgresEventRelay(
            store: store, bus: bus, clock: .manual(time), othersJobsDelay: delay, logger: Logger(label: "test"))
        let waking = Task { await relay.wakeOutboxForOthersJobs() }
        var nextWake = wakes.makeAsyncIterator()
        for _ in 0..<3 { relay.othersJobs.signal() }
        await time.advanceWhenSleeping(by: delay)
        #expect(await nextWake.next() != nil, "one wake after the delay")
        relay.othersJobs.signal()
        await time.advanceWhenSleeping(by: delay)
        #expect(await nextWake.next() != nil, "a later notice: another wake after the delay")
        waking.cancel()
        await waking.value
        woke.finish()
        #expect(await nextWake.next() == nil, "three notices in one delay woke the outbox once, not three times")
        try await store.shutDown()
    }
}
