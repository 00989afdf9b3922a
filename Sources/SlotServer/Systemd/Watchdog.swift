import Dispatch
import Foundation
import SlotBlocking
import SlotProviders
import Synchronization

/// Pings systemd's watchdog from a thread of its own, each time a liveness probe that takes the requests' own path
/// answers in time.
///
/// The probe is a real `GET /_ping` on the daemon's socket (accepted by NIO, routed by Hummingbird, answered by a
/// handler task on Swift's cooperative pool) followed by the in-process checks (the database answers a read, rules
/// are loaded). It runs on a dedicated thread, never on the pool: a daemon whose request path is stuck (every pool
/// thread blocked, the server no longer accepting, a handler that never returns) stops the pings, and the thread
/// is still there to log why, so systemd restarts a daemon that no longer serves instead of one pinging beside it.
final class Watchdog: Sendable {
    /// What the probe checks.
    struct Probe: Sendable {
        /// The daemon's socket, probed with a real request; nil when there is no path to connect to.
        var socketPath: String?
        /// The checks made inside the daemon: nil when alive, else what is wrong.
        var inProcess: @Sendable () async -> String?
    }

    /// A probe's outcome, for the log.
    enum Report: Sendable, Equatable {
        case failed(String)
        case recovered
    }

    let interval: Duration
    let probe: Probe
    private let ping: @Sendable () -> Void
    private let report: @Sendable (Report) -> Void
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    /// Set while an in-process check runs, so a stuck one is not joined by another each interval.
    private let checking = Atomic<Bool>(false)

    /// A watchdog probing every `interval` (half of systemd's `WATCHDOG_USEC`); `ping` sends `WATCHDOG=1`.
    init(
        interval: Duration, probe: Probe, ping: @escaping @Sendable () -> Void,
        report: @escaping @Sendable (Report) -> Void
    ) {
        self.interval = interval
        self.probe = probe
        self.ping = ping
        self.report = report
    }

    /// How long one probe may take: half the interval, so a ping that follows a slow answer still lands in time.
    var probeTimeout: Duration { max(interval / 2, .milliseconds(50)) }

    /// Starts the probing thread.
    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "slotd-watchdog"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Ends the probing thread after its current probe; no ping follows.
    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
    }

    private func loop() {
        var failing = false
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let started = ContinuousClock.now
            let problem = probeOnce()
            if stopped.load(ordering: .sequentiallyConsistent) { return }
            if let problem {
                failing = true
                report(.failed(problem))
            } else {
                ping()
                if failing { report(.recovered) }
                failing = false
            }
            let left = started + interval - ContinuousClock.now
            // This thread is the watchdog's own: waiting here holds no thread anything else needs.
            if left > .zero, wake.wait(timeout: .now() + left.inSeconds) == .success { return }
        }
    }

    /// One probe on this thread: nil when the daemon answered in time, else what is wrong.
    func probeOnce() -> String? {
        let timeout = probeTimeout
        if let path = probe.socketPath {
            let call = HTTPCall(method: "GET", url: "http://localhost/_ping", timeout: timeout, unixSocketPath: path)
            switch Curl.performOnThisThread(call) {
            case .failure(let error):
                return "GET /_ping on \(path) did not answer: \(error.message)"
            case .success(let reply) where reply.status != 200:
                return "GET /_ping on \(path) answered \(reply.status)"
            case .success:
                break
            }
        }
        guard checking.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged
        else { return "the previous database and rules check has not finished" }
        let answer = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let check = probe.inProcess
        Task { [self] in
            let problem = await check()
            answer.withLock { $0 = problem }
            checking.store(false, ordering: .sequentiallyConsistent)
            done.signal()
        }
        if done.wait(timeout: .now() + timeout.inSeconds) == .timedOut {
            return "the database and rules check did not finish within \(timeout)"
        }
        return answer.withLock { $0 }
    }
}
