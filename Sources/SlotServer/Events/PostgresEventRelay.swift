import Logging
import ServiceLifecycle
import SlotStore
import SlotStorePostgres
import Synchronization

/// Puts on this daemon's bus the events every daemon sharing a PostgreSQL store appends (issue 16), so an event
/// stream or slot watch on daemon A sees a booking made on daemon B at once, and A's outbox worker wakes for B's
/// jobs.
///
/// PostgreSQL's NOTIFY says that the log moved (`EventLogNotice`); the relay then reads the log after the last cursor
/// it relayed, in cursor order, and publishes that. It reads only what it has not seen: a notice of this daemon's own
/// write that follows the last relayed cursor only moves that cursor (the write's events were published after its
/// commit here already), a notice whose events an earlier read already found needs no read, and while nobody on this
/// daemon follows events (no stream, no slot watch) nothing is read at all: a subscriber subscribes before it replays
/// the log from the store, so it finds what was skipped there. The outbox worker is woken only when a relayed
/// transaction enqueued jobs: other daemons' events alone give it nothing to do.
final class PostgresEventRelay: Service {
    let store: PostgresBookingStore
    let bus: EventBus
    let logger: Logger
    /// Events read per query while catching up.
    let pageSize = 500

    private struct Progress {
        /// The newest cursor relayed (or known to be this daemon's own, published already).
        var relayed: Int64 = 0
        /// Whether a transaction whose events are not relayed yet enqueued jobs.
        var jobsWaiting = false
    }

    private let progress = Mutex(Progress())

    init(store: PostgresBookingStore, bus: EventBus, logger: Logger) {
        self.store = store
        self.bus = bus
        self.logger = logger
    }

    func run() async throws {
        try await startAtHead()
        await cancelWhenGracefulShutdown { [self] in
            await store.followEventLog { [self] notice in await heard(notice) }
        }
    }

    /// Relays from the log's head on: what was in the log before this daemon started is history, which streams
    /// replay from the store.
    func startAtHead() async throws {
        let start = try await store.latestCursor()
        progress.withLock { $0.relayed = start }
    }

    /// What one notification needs: nothing, a wake of the outbox worker, or a read (nil: after a (re)subscription
    /// or a notice it cannot read, anything may have been missed, so it reads and wakes).
    func heard(_ notice: EventLogNotice?) async {
        enum Step { case nothing, wake, read }
        let anyoneListens = bus.subscriberCount > 0
        let step = progress.withLock { progress -> Step in
            guard let notice else {
                progress.jobsWaiting = true
                return .read
            }
            let othersJobs = notice.enqueuedJobs && !notice.isOwn
            if notice.head <= progress.relayed { return othersJobs ? .wake : .nothing }
            if notice.isOwn && notice.first == progress.relayed + 1 {
                progress.relayed = notice.head
                return .nothing
            }
            progress.jobsWaiting = progress.jobsWaiting || othersJobs
            guard anyoneListens else {
                progress.relayed = notice.head
                defer { progress.jobsWaiting = false }
                return progress.jobsWaiting ? .wake : .nothing
            }
            return .read
        }
        switch step {
        case .nothing: return
        case .wake: bus.wakeOutbox()
        case .read: await relay()
        }
    }

    /// Publishes every event after the last one relayed, page by page.
    private func relay() async {
        do {
            while true {
                let after = progress.withLock { $0.relayed }
                let page = try await store.events(after: after, typePrefix: nil, limit: pageSize)
                guard let last = page.last else { return }
                let wake = progress.withLock { progress -> Bool in
                    progress.relayed = max(progress.relayed, last.cursor)
                    defer { progress.jobsWaiting = false }
                    return progress.jobsWaiting
                }
                bus.publish(page, wakingOutbox: wake)
                if page.count < pageSize { return }
            }
        } catch {
            logger.warning("cannot read the event log to relay it", metadata: ["error": "\(error)"])
        }
    }
}
