import Synchronization

/// A wake-up flag one sleeper waits on: `signal()` from any thread wakes the sleeper, or is kept for its next wait.
///
/// `AsyncStream` would do the keeping, but cancelling a pending `next()` ends the stream for good, and the wait
/// below must end early (on a timeout) many times.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var sleeper: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    /// How a wait's timeout passes: the daemon's clock, so tests move time instead of waiting for it.
    private let sleep: @Sendable (Duration) async throws -> Void

    init(sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.sleep = sleep
    }

    /// Wakes the sleeper, or the next `wait` if nobody sleeps. Never blocks; any caller, any thread.
    func signal() {
        let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let sleeper = state.sleeper else {
                state.pending = true
                return nil
            }
            state.sleeper = nil
            return sleeper
        }
        sleeper?.resume()
    }

    /// Returns at the next signal (at once if one is pending), after `timeout`, or when the task is cancelled,
    /// whichever is first. One sleeper at a time.
    func wait(timeout: Duration) async {
        await wait(sleeping: { try await self.sleep(timeout) })
    }

    /// Returns at the next signal (at once if one is pending), when `sleeping` returns, or when the task is
    /// cancelled, whichever is first. One sleeper at a time.
    func wait(sleeping: @escaping @Sendable () async throws -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await sleeping() }
            group.addTask { await self.nextSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func nextSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    // Cancelled before the handler below could find a sleeper to wake: do not sleep at all.
                    if Task.isCancelled { return true }
                    state.sleeper = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.sleeper = nil }
                return state.sleeper
            }
            sleeper?.resume()
        }
    }
}
