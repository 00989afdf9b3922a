import Synchronization

/// Expires a store's operations that outlive their deadline, with one task for all of them (`run`).
///
/// A timer task of its own per operation (a task, a `Task.sleep` with its dispatch timer, and the cancellation that
/// woke it when the operation answered first) cost about as much as the round trip it guarded; under the booking
/// benchmark that was several timers per booking (docs/benchmarks.md, third round). Here an operation costs an entry
/// in a dictionary under a lock, and the watcher sleeps until the earliest deadline registered, so it wakes about
/// once per timeout while operations keep coming, and not at all when none is in flight.
final class DeadlineWatch: Sendable {
    private struct Entry {
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }

    private struct State {
        var pending: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        /// The watcher, while it waits for a first deadline (nothing pending).
        var idleWatcher: CheckedContinuation<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    /// Calls `expire` once `timeout` has passed, unless `remove` with the returned id came first.
    func register(after timeout: Duration, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = ContinuousClock.now + timeout
        let (id, watcher) = state.withLock { state -> (UInt64, CheckedContinuation<Void, Never>?) in
            state.nextID += 1
            state.pending[state.nextID] = Entry(deadline: deadline, expire: expire)
            defer { state.idleWatcher = nil }
            return (state.nextID, state.idleWatcher)
        }
        watcher?.resume()
        return id
    }

    /// Forgets the deadline `id` (its operation answered).
    func remove(_ id: UInt64) {
        _ = state.withLock { $0.pending.removeValue(forKey: id) }
    }

    /// Expires operations at their deadlines until cancelled.
    func run() async {
        enum Next {
            case stop
            case idle
            case due(ContinuousClock.Instant)
        }
        while true {
            let next = state.withLock { state -> Next in
                if state.cancelled { return .stop }
                return state.pending.values.map(\.deadline).min().map { .due($0) } ?? .idle
            }
            guard case .due(let deadline) = next else {
                if case .stop = next { return }
                await untilRegistered()
                continue
            }
            do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
            let now = ContinuousClock.now
            let expired = state.withLock { state -> [Entry] in
                let due = state.pending.filter { $0.value.deadline <= now }
                for id in due.keys { state.pending.removeValue(forKey: id) }
                return Array(due.values)
            }
            for entry in expired { entry.expire() }
        }
    }

    /// Returns once a deadline is registered (at once if one is) or the watcher is cancelled.
    private func untilRegistered() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waits = state.withLock { state -> Bool in
                    guard state.pending.isEmpty, !state.cancelled else { return false }
                    state.idleWatcher = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            let watcher = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.cancelled = true
                defer { state.idleWatcher = nil }
                return state.idleWatcher
            }
            watcher?.resume()
        }
    }
}
