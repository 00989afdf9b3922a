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
/// transaction enqueued jobs: other daemons' events alone give it nothing to do. Even then it is woken
/// `othersJobsDelay` later, once for every such notice of that time: the daemon that enqueued the jobs claims them
/// at once itself (its commit woke its own worker), so the others' looks are the fallback (a daemon with
/// `workers: 0`, one whose slots are busy, one that died) and share the work; one look per notice cost each other
/// daemon a claim per booking, which mostly found nothing.
final class PostgresEventRelay: Service {
    let store: PostgresBookingStore
    let bus: EventBus
    let logger: Logger
    /// Events read per query while catching up.
    let pageSize = 500
    /// How long after another daemon enqueued jobs this daemon's outbox looks for them.
    let othersJobsDelay: Duration
    /// Waits `othersJobsDelay`: the daemon's clock, so tests move time instead of waiting.
    let clock: WallClock
    /// Signalled when another daemon's transaction enqueued jobs; `wakeOutboxForOthersJobs` answers it.
    let othersJobs: WakeSignal

    private struct Progress {
        /// The newest cursor relayed (or known to be this daemon's own, published already).
        var relayed: Int64 = 0
        /// Whether a transaction whose events are not relayed yet enqueued jobs.
        var jobsWaiting = false
    }

    private let progress = Mutex(Progress())

    init(
        store: PostgresBookingStore, bus: EventBus, clock: WallClock = .system,
        othersJobsDelay: Duration = .milliseconds(250), othersJobs: WakeSignal = WakeSignal(), logger: Logger
    ) {
        self.store = store
        self.bus = bus
        self.clock = clock
        self.othersJobsDelay = othersJobsDelay
        self.othersJobs = othersJobs
        self.logger = logger
    }

    func run() async throws {
        try await startAtHead()
        await cancelWhenGracefulShutdown { [self] in
            await withDiscardingTaskGroup { group in
                group.addTask { await self.wakeOutboxForOthersJobs() }
                await store.followEventLog { [self] notice in await heard(notice) }
                group.cancelAll()
            }
        }
    }

    /// Wakes the outbox `othersJobsDelay` after `othersJobs` is signalled, once for all the signals of that time;
    /// runs until cancelled.
    func wakeOutboxForOthersJobs() async {
        while !Task.isCancelled {
            // Only a signal matters here; the hour's timeout just loops.
            guard await othersJobs.wait(sleeping: { [clock] in try await clock.sleep(for: .seconds(3_600)) }) else {
                continue
            }
            do { try await clock.sleep(for: othersJobsDelay) } catch { return }
            bus.wakeOutbox()
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
        case .wake: othersJobs.signal()
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
                bus.publish(page, wakingOutbox: false)
                if wake { othersJobs.signal() }
                if page.count < pageSize { return }
            }
        } catch {
            logger.warning("cannot read the event log to relay it", metadata: ["error": "\(error)"])
        }
    }
}
