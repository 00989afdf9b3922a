import Foundation
@testable import SlotStorePostgres
import Synchronization
import Testing

@testable import SlotStore

/// A store operation's deadline (issue 16: SIGTERM after PostgreSQL restarted waited on a query that never answered).
struct PostgresDeadlineTests {
    @Test("the first outcome wins, whether it comes before or after the wait")
    func theFirstOutcomeWins() async throws {
        let early = DeadlineRace<Int>()
        early.settle(.success(1))
        early.settle(.success(2))
        #expect(try await early.value() == 1)
        // Whether the waiter asks before or after the outcomes arrive, it gets the first one.
        let late = DeadlineRace<Int>()
        let waiter = Task { try await late.value() }
        late.settle(.failure(StoreError(.unavailable, "late")))
        late.settle(.success(3))
        let result = await waiter.result
        #expect(throws: StoreError.self) { try result.get() }
    }

    @Test("a watched deadline expires once at its time; a removed one never does", .timeLimit(.minutes(1)))
    func aWatchedDeadlineExpiresUnlessRemoved() async throws {
        let watch = DeadlineWatch()
        let watcher = Task { await watch.run() }
        let removedFired = Released()
        let (expiries, expired) = AsyncStream.makeStream(of: Int.self)
        // The removed deadline comes first: had it stayed, the watcher would expire it before the kept one.
        let removed = watch.register(after: .milliseconds(10)) { removedFired.flag.withLock { $0 = true } }
        _ = watch.register(after: .milliseconds(30)) { expired.yield(1) }
        watch.remove(removed)
        var iterator = expiries.makeAsyncIterator()
        #expect(await iterator.next() == 1)
        #expect(!removedFired.flag.withLock { $0 })
        watcher.cancel()
        await watcher.value
    }

    @Test("a watcher ends when cancelled, idle or waiting for a deadline", .timeLimit(.minutes(1)))
    func aWatcherEndsWhenCancelled() async {
        // Idle: nothing registered.
        let idle = DeadlineWatch()
        let idleWatcher = Task { await idle.run() }
        idleWatcher.cancel()
        await idleWatcher.value
        // Sleeping until a deadline an hour away.
        let waiting = DeadlineWatch()
        _ = waiting.register(after: .seconds(3_600)) {}
        let waitingWatcher = Task { await waiting.run() }
        waitingWatcher.cancel()
        await waitingWatcher.value
    }

    @Test(
        "an operation that ignores cancellation still answers unavailable at the deadline",
        .enabled(if: PostgresTestDatabase.server != nil, "SLOTD_TEST_POSTGRES is not set"))
    func theDeadlineHoldsForAnOperationThatIgnoresCancellation() async throws {
        // Not opened (no migration, which a loaded machine may not finish within the short timeout): the deadline
        // needs no database, only the store's timeout.
        var location = try #require(PostgresTestDatabase.server)
        location.operationTimeoutSeconds = 1
        let store = PostgresBookingStore(location: location, logger: PostgresTestDatabase.testLogger)
        let released = Released()
        let stubborn: @Sendable () async throws -> Int = {
            // Keeps going when cancelled, like a query waiting on a connection that never answers, until the test
            // lets it go: an answer before that can only be the deadline's.
            while !released.flag.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
            return 1
        }
        let error = await #expect(throws: StoreError.self) { try await store.withDeadline(stubborn) }
        released.flag.withLock { $0 = true }
        #expect(error?.code == .unavailable)
        try await store.shutDown()
    }
}

/// Lets the stubborn operation of a deadline test end.
final class Released: Sendable {
    let flag = Mutex(false)
}
