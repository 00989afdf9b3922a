import SlotStore
import Synchronization

/// What the bus carries to its subscribers.
enum BusMessage: Sendable {
    /// Events appended to the durable log, published after their transaction committed.
    case events([StoredEvent])
    /// The rules in force changed (slot answers may differ).
    case rulesChanged
    /// A timer tick of this subscriber (heartbeats, re-evaluating time-dependent answers).
    case tick
}

/// The in-process fan-out of committed events to live subscribers (event streams, slot watches).
///
/// Publishing never waits: each subscriber has a bounded buffer, and one that falls behind is cut off (its
/// stream ends with `overflowed` set) so a client that does not read never slows the daemon.
final class EventBus: Sendable {
    private struct State {
        var subscribers: [UInt64: AsyncStream<BusMessage>.Continuation] = [:]
        var nextID: UInt64 = 0
        var closed = false
        /// How many messages were delivered so far.
        var delivered: UInt64 = 0
    }

    private let state = Mutex(State())

    /// A subscriber's end: its stream, and whether it was cut off for falling behind.
    final class Subscription: Sendable {
        let id: UInt64
        let stream: AsyncStream<BusMessage>
        fileprivate let continuation: AsyncStream<BusMessage>.Continuation
        private weak let bus: EventBus?

        fileprivate init(
            id: UInt64, stream: AsyncStream<BusMessage>, continuation: AsyncStream<BusMessage>.Continuation,
            bus: EventBus
        ) {
            self.id = id
            self.stream = stream
            self.continuation = continuation
            self.bus = bus
        }

        /// Whether the bus ended this subscription because its buffer was full.
        var overflowed: Bool { bus?.isOverflowed(id) ?? false }

        /// Wakes the subscriber with a tick (dropped silently when its buffer is full).
        func tick() { _ = continuation.yield(.tick) }

        /// Ends the subscription.
        func cancel() {
            bus?.forget(id)
            continuation.finish()
        }

        deinit {
            bus?.forget(id)
            continuation.finish()
        }
    }

    /// A new subscriber whose buffer holds at most `bufferSize` undelivered messages.
    func subscribe(bufferSize: Int) -> Subscription {
        let (stream, continuation) = AsyncStream<BusMessage>.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, bufferSize)))
        let id: UInt64? = state.withLock { state in
            guard !state.closed else { return nil }
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return Subscription(id: 0, stream: stream, continuation: continuation, bus: self)
        }
        let subscription = Subscription(id: id, stream: stream, continuation: continuation, bus: self)
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        return subscription
    }

    /// Delivers committed events to every subscriber; `wakingOutbox: false` for events whose transaction enqueued
    /// no jobs (another daemon's, relayed: see `PostgresEventRelay`).
    func publish(_ events: [StoredEvent], wakingOutbox: Bool = true) {
        guard !events.isEmpty else { return }
        deliver(.events(events))
        if wakingOutbox { wakeOutbox() }
    }

    /// Runs the `afterPublish` hook alone: jobs were enqueued by a write whose events were published already.
    func wakeOutbox() { afterPublish.withLock { $0 }.call() }

    /// Called after every publish: every committed write that enqueues outbox jobs publishes its events, so this
    /// is the outbox worker's cheap "new jobs" signal.
    let afterPublish = Mutex(Hook())

    /// A callback kept in a `Mutex`. The closure sits in a struct because a bare function value as the `Mutex`'s
    /// generic value is re-abstracted on every `withLock` write-back: each read wrapped it in two more thunks, and
    /// each publish called through all of them (CPU per booking grew with every booking made; see
    /// docs/benchmarks.md).
    struct Hook: Sendable {
        var action: (@Sendable () -> Void)?

        func call() { action?() }
    }

    /// Tells every subscriber the rules changed.
    func publishRulesChanged() { deliver(.rulesChanged) }

    /// Wakes every subscriber to look again, for a change that writes no event (a deposit's client secret arriving
    /// from the provider): live answers recompute, event streams find nothing new.
    func publishRecordChanged() { deliver(.tick) }

    /// The number of live subscribers.
    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Ends every subscription (shutdown).
    func close() {
        let all = state.withLock { state in
            state.closed = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in all { continuation.finish() }
    }

    /// How many messages the bus has delivered: a subscriber woken by one reads a number at least as high, so an
    /// answer computed after a reading of `generation` reflects every change published up to it.
    var generation: UInt64 { state.withLock { $0.delivered } }

    private func deliver(_ message: BusMessage) {
        let targets = state.withLock { state in
            state.delivered &+= 1
            return Array(state.subscribers)
        }
        for (id, continuation) in targets {
            if case .dropped = continuation.yield(message) {
                overflowed.withLock { _ = $0.insert(id) }
                remove(id)
                continuation.finish()
            }
        }
    }

    /// Ids cut off for overflow whose subscription is still around, so it can tell.
    private let overflowed = Mutex<Set<UInt64>>([])

    /// Whether `id` was cut off for overflow.
    func isOverflowed(_ id: UInt64) -> Bool { overflowed.withLock { $0.contains(id) } }

    fileprivate func forget(_ id: UInt64) {
        remove(id)
        _ = overflowed.withLock { $0.remove(id) }
    }

    fileprivate func remove(_ id: UInt64) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }
}
