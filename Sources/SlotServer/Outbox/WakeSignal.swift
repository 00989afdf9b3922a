import Synchronization

/// A wake-up flag one sleeper waits on: `signal()` from any thread wakes the sleeper, or is kept for its next wait.
///
/// `AsyncStream` would do the keeping, but cancelling a pending `next()` ends the stream for good, and the wait
/// below must end early (on a timeout) many times.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var sleeper: CheckedContinuation<Bool, Never>?
    }

    private let state = Mutex(State())
    /// How a wait's timeout passes: the daemon's clock, so tests move time instead of waiting for it.
    private let sleep: @Sendable (Duration) async throws -> Void

    init(sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.sleep = sleep
    }

    /// Wakes the sleeper, or the next `wait` if nobody sleeps. Never blocks; any caller, any thread.
    func signal() {
        let sleeper = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let sleeper = state.sleeper else {
                state.pending = true
                return nil
            }
            state.sleeper = nil
            return sleeper
        }
        sleeper?.resume(returning: true)
    }

    /// Returns at the next signal (at once if one is pending), after `timeout`, or when the task is cancelled,
    /// whichever is first; true when a signal ended the wait. One sleeper at a time.
    @discardableResult
    func wait(timeout: Duration) async -> Bool {
        await wait(sleeping: { try await self.sleep(timeout) })
    }

    /// Returns at the next signal (at once if one is pending), when `sleeping` returns, or when the task is
    /// cancelled, whichever is first; true when a signal ended the wait. One sleeper at a time.
    @discardableResult
    func wait(sleeping: @escaping @Sendable () async throws -> Void) async -> Bool {
        // A signal that came while the caller worked (the common case under load: the next booking committed while
        // the worker ran the last one's jobs) returns without starting a sleeper and a listener task.
        let signalled = state.withLock { state in
            defer { state.pending = false }
            return state.pending
        }
        if signalled { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await sleeping()
                return false
            }
            group.addTask { await self.nextSignal() }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// True at the next signal (at once if one is pending), false when cancelled first.
    private func nextSignal() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeNow = state.withLock { state -> Bool? in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    // Cancelled before the handler below could find a sleeper to wake: do not sleep at all.
                    if Task.isCancelled { return false }
                    state.sleeper = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                defer { state.sleeper = nil }
                return state.sleeper
            }
            sleeper?.resume(returning: false)
        }
    }
}
