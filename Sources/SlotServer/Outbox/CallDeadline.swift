import SlotProviders
import Synchronization

/// Runs provider calls with a deadline the call cannot ignore.
enum CallDeadline {
    /// Runs `operation`, giving up after `timeout` (or when the caller is cancelled) with a temporary error.
    ///
    /// The operation runs in a task of its own, cancelled when it loses: a task group would wait for a call that
    /// ignores cancellation (a blocked socket), so the worker would stay past the timeout.
    static func run<T: Sendable>(
        _ timeout: Duration, _ operation: @escaping @Sendable () async throws(ProviderError) -> T
    ) async -> Result<T, ProviderError> {
        let race = FirstFinisher<Result<T, ProviderError>>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let call = Task {
                    do throws(ProviderError) {
                        race.finish(.success(try await operation()))
                    } catch {
                        race.finish(.failure(error))
                    }
                }
                let timer = Task {
                    do { try await Task.sleep(for: timeout) } catch { return }
                    race.finish(.failure(.temporary("the call took longer than \(timeout) (outbox.call_timeout)")))
                }
                race.register(continuation, racers: [call, timer])
            }
        } onCancel: {
            race.finish(.failure(.temporary("the outbox worker stopped before the call finished")))
        }
    }
}

/// The first of several racers to finish gives the result; the others are cancelled then.
final class FirstFinisher<Value: Sendable>: Sendable {
    private struct State {
        var result: Value?
        var waiter: CheckedContinuation<Value, Never>?
        var racers: [Task<Void, Never>] = []
        var finished = false
    }

    private let state = Mutex(State())

    /// Resumes `waiter` with the first result (at once if there is one) and cancels `racers` then.
    func register(_ waiter: CheckedContinuation<Value, Never>, racers: [Task<Void, Never>]) {
        let result = state.withLock { state -> Value? in
            guard state.finished else {
                state.waiter = waiter
                state.racers = racers
                return nil
            }
            return state.result
        }
        if let result {
            for racer in racers { racer.cancel() }
            waiter.resume(returning: result)
        }
    }

    /// Offers a result; only the first counts. Returns whether this one did.
    @discardableResult
    func finish(_ value: Value) -> Bool {
        typealias Winner = (waiter: CheckedContinuation<Value, Never>?, racers: [Task<Void, Never>])
        let winner = state.withLock { state -> Winner? in
            guard !state.finished else { return nil }
            state.finished = true
            state.result = value
            defer {
                state.waiter = nil
                state.racers = []
            }
            return (state.waiter, state.racers)
        }
        guard let winner else { return false }
        for racer in winner.racers { racer.cancel() }
        winner.waiter?.resume(returning: value)
        return true
    }
}
