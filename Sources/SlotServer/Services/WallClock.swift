import Foundation
import Synchronization

/// The daemon's one clock: "now" (seconds since the epoch) for every decision, and the waits of everything that
/// waits on time (the outbox worker until the next due job, event-stream heartbeats, slot watches re-evaluating).
/// Production reads the system; tests use a `ManualTime` and move it instead of sleeping.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Int64
    private let wait: @Sendable (Duration) async throws -> Void
    private let waitUntil: @Sendable (Int64) async throws -> Void
    private let elapsed: @Sendable () -> Duration

    /// A clock reading `read`, waiting with `sleep` (a duration) and `sleepUntil` (until `now()` reaches an instant),
    /// and measuring intervals with `monotonic`.
    public init(
        _ read: @escaping @Sendable () -> Int64,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        sleepUntil: (@Sendable (Int64) async throws -> Void)? = nil,
        monotonic: @escaping @Sendable () -> Duration = WallClock.continuousElapsed
    ) {
        self.read = read
        self.wait = sleep
        self.waitUntil = sleepUntil ?? { instant in try await sleep(.seconds(max(0, instant - read()))) }
        self.elapsed = monotonic
    }

    /// Now.
    public func now() -> Int64 { read() }

    /// Waits `duration` of this clock's time; throws `CancellationError` when the task is cancelled first.
    public func sleep(for duration: Duration) async throws { try await wait(duration) }

    /// Waits until `now()` reads `instant` or later (at once if it does already).
    ///
    /// Prefer it over `sleep(for:)` for a deadline computed from `now()`: with a manual clock the time may move
    /// between the reading and the wait, and an instant stays right where a duration would wait from the new now.
    public func sleep(untilSecond instant: Int64) async throws { try await waitUntil(instant) }

    /// Time since a fixed moment of this clock, for measuring intervals (never goes back).
    public func monotonic() -> Duration { elapsed() }

    /// The system's real time.
    public static let system = WallClock { Int64(Date().timeIntervalSince1970.rounded(.down)) }

    /// A clock that reads what `manual` says and whose waits end when `manual` is moved past them.
    public static func manual(_ manual: ManualTime) -> WallClock {
        WallClock(
            { manual.now }, sleep: { try await manual.sleep(for: $0) },
            sleepUntil: { try await manual.sleep(untilSecond: $0) }, monotonic: { manual.elapsed })
    }

    private static let origin = ContinuousClock.now

    /// Real time since the process first asked.
    public static let continuousElapsed: @Sendable () -> Duration = { ContinuousClock.now - origin }
}

/// A settable time for tests: `now` in seconds since the epoch, and the waits of a `WallClock.manual` clock, which
/// end when the time is moved past them (never by real time passing).
public final class ManualTime: Sendable {
    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Int64
        /// How far the time was moved forward in all: the waits' timeline.
        var elapsed: Duration = .zero
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        /// Tests waiting for a sleeper whose deadline is exactly `reach` from now.
        var watchers: [(reach: Duration, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>

    public init(_ start: Int64) { state = Mutex(State(now: start)) }

    /// The current reading.
    public var now: Int64 { state.withLock { $0.now } }

    /// How far the time has been moved forward since it was made.
    public var elapsed: Duration { state.withLock { $0.elapsed } }

    /// Moves time to `instant` (forward wakes the waits that end by then; backward only changes `now`).
    public func set(_ instant: Int64) {
        let forward = state.withLock { state -> Int64 in
            defer { state.now = instant }
            return max(0, instant - state.now)
        }
        move(by: .seconds(forward), settingNow: false)
    }

    /// Moves time forward by `seconds`.
    public func advance(by seconds: Int64) { move(by: .seconds(max(0, seconds)), settingNow: true) }

    /// Moves time forward by `duration` (`now` moves by the whole seconds crossed).
    public func advance(by duration: Duration) { move(by: max(.zero, duration), settingNow: true) }

    /// Waits until something sleeps on this time for exactly `duration` from now (a timer of that period, such as a
    /// stream's heartbeat), then moves the time by it: the move is never lost to a timer that had not started
    /// waiting yet, nor spent on another sleeper that a shorter move would also wake.
    public func advanceWhenSleeping(by duration: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.sleepers.values.contains(where: { $0.deadline == state.elapsed + duration }) { return true }
                state.watchers.append((duration, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
        advance(by: duration)
    }

    /// A wait until `now` reads `instant`, placed on the timeline when it starts waiting, so a move made between
    /// the caller's reading of `now` and this wait is not lost.
    func sleep(untilSecond instant: Int64) async throws {
        try await sleep { state in .seconds(instant - state.now) }
    }

    /// A wait on this time (what `WallClock.manual` sleeps with).
    func sleep(for duration: Duration) async throws {
        try await sleep { _ in duration }
    }

    /// A wait for as long as `length` says, read when the wait starts.
    private func sleep(_ length: @escaping @Sendable (State) -> Duration) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resumeNow, watchers) = state.withLock {
                    state -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    let duration = length(state)
                    if duration <= .zero { return (.success(()), []) }
                    let deadline = state.elapsed + duration
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    let elapsed = state.elapsed
                    let woken = state.watchers.filter { deadline == elapsed + $0.reach }
                    state.watchers.removeAll { deadline == elapsed + $0.reach }
                    return (nil, woken.map(\.continuation))
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
                for watcher in watchers { watcher.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    private func move(by duration: Duration, settingNow: Bool) {
        let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            let before = state.elapsed
            state.elapsed += duration
            if settingNow {
                // Whole seconds crossed on the waits' timeline move `now` by as many.
                state.now += state.elapsed.components.seconds - before.components.seconds
            }
            let ids = state.sleepers.filter { $0.value.deadline <= state.elapsed }.map(\.key)
            return ids.compactMap { state.sleepers.removeValue(forKey: $0)?.continuation }
        }
        for continuation in due { continuation.resume() }
    }
}
