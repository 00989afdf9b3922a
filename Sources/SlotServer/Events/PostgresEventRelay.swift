import Logging
import ServiceLifecycle
import SlotStore
import SlotStorePostgres
import Synchronization

/// Puts on this daemon's bus the events every daemon sharing a PostgreSQL store appends (issue 16), so an event
/// stream or slot watch on daemon A sees a booking made on daemon B at once, and A's outbox worker wakes for B's
/// jobs.
///
/// PostgreSQL's NOTIFY says that the log moved; the relay then reads the log after the last cursor it relayed, in
/// cursor order, and publishes that. Events of this daemon's own writes were published already after their commit;
/// publishing them again is harmless, since every subscriber reads the store from its own cursor.
final class PostgresEventRelay: Service {
    let store: PostgresBookingStore
    let bus: EventBus
    let logger: Logger
    /// Events read per query while catching up.
    let pageSize = 500
    /// The newest cursor published.
    private let relayed = Mutex<Int64>(0)

    init(store: PostgresBookingStore, bus: EventBus, logger: Logger) {
        self.store = store
        self.bus = bus
        self.logger = logger
    }

    func run() async throws {
        // What was in the log before this daemon started is history: streams replay it from the store.
        let start = try await store.latestCursor()
        relayed.withLock { $0 = start }
        await cancelWhenGracefulShutdown { [self] in await store.followEventLog { [self] in await relay() } }
    }

    /// Publishes every event after the last one relayed, page by page.
    private func relay() async {
        do {
            while true {
                let after = relayed.withLock { $0 }
                let page = try await store.events(after: after, typePrefix: nil, limit: pageSize)
                guard let last = page.last else { return }
                relayed.withLock { $0 = max($0, last.cursor) }
                bus.publish(page)
                if page.count < pageSize { return }
            }
        } catch {
            logger.warning("cannot read the event log to relay it", metadata: ["error": "\(error)"])
        }
    }
}
