import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SlotStore

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps systemd informed for the daemon's whole life: `READY=1` once the server listens, `WATCHDOG=1` while a
/// liveness probe through the request path answers (`Watchdog`), `STOPPING=1` when shutdown begins.
///
/// It is the last service of the group, so it is the first to hear of a graceful shutdown: `STOPPING=1` goes out
/// before the server starts draining.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    /// Half of `WATCHDOG_USEC`, or nil when systemd asked for no watchdog.
    let watchdogInterval: Duration?
    let readiness: Readiness
    let rules: RuleHolder
    let store: any BookingStore
    /// How the socket came to be, for the status line ("/run/slotd.sock (from systemd)").
    let socketDescription: String
    /// The socket's path, which the watchdog's probe connects to (nil for a socket without one).
    let socketPath: String?
    let logger: Logger

    func run() async throws {
        do {
            try await readiness.wait()
        } catch {
            // The server did not start; the group is already stopping with that error.
            return
        }
        let version = rules.current.map { String($0.version.prefix(8)) } ?? "none"
        notifier.send(.ready(status: "serving on \(socketDescription), rules \(version)"))
        if let watchdogInterval {
            logger.info("systemd watchdog", metadata: ["ping_every": "\(watchdogInterval)"])
            await pingWhileAlive(every: watchdogInterval)
        } else {
            try? await gracefulShutdown()
        }
        notifier.send(.stopping(status: "stopping: finishing in-flight requests"))
    }

    /// Pings after each successful probe until graceful shutdown; a probe that fails or hangs withholds the ping,
    /// so systemd restarts a daemon that is up but no longer answering.
    private func pingWhileAlive(every interval: Duration) async {
        let logger = self.logger
        let notifier = self.notifier
        if socketPath == nil {
            logger.warning("the systemd socket has no path: the watchdog probes the database and rules only")
        }
        let watchdog = Watchdog(
            interval: interval, probe: Watchdog.Probe(socketPath: socketPath, inProcess: { await probe() }),
            ping: { notifier.send(.watchdog) },
            report: { report in
                switch report {
                case .failed(let problem):
                    logger.warning("liveness probe failed; no watchdog ping", metadata: ["problem": "\(problem)"])
                case .recovered:
                    logger.notice("liveness probe answers again; watchdog pings resume")
                }
            })
        watchdog.start()
        try? await gracefulShutdown()
        watchdog.stop()
    }

    /// The in-process part of the probe: nil when alive (every NIO event loop runs a task, the database answers a
    /// read, rules are loaded).
    func probe() async -> String? {
        await Self.probe(database: { _ = try await store.latestCursor() }, rulesLoaded: rules.current != nil)
    }

    /// The liveness check with its database read given; returns what is wrong, or nil.
    static func probe(database: () async throws -> Void, rulesLoaded: Bool) async -> String? {
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            do {
                try await loop.submit {}.get()
            } catch {
                return "event loop: \(error)"
            }
        }
        do {
            try await database()
        } catch {
            return "database: \(error)"
        }
        return rulesLoaded ? nil : "no rules loaded"
    }
}

extension SystemdNotifier {
    /// Hooks for the rule reloader: `RELOADING=1` (with `MONOTONIC_USEC=`) before every reload, `READY=1` and a
    /// `STATUS=` saying what happened after, whichever path asked (SIGHUP, the API, a file change).
    func reloadHooks(rules: RuleHolder) -> RuleReloader.Hooks {
        RuleReloader.Hooks(
            willReload: { trigger in
                self.send(
                    .reloading(
                        monotonicMicroseconds: SystemdNotifier.monotonicMicroseconds(),
                        status: "reloading rules (\(trigger.systemdLabel))"))
            },
            didReload: { report in
                self.send(
                    .ready(
                        status: RuleHolder.reloadStatus(
                            report.outcome, trigger: report.trigger.systemdLabel, serving: rules.current?.version)))
            })
    }
}

extension RuleReloader.Trigger {
    /// How `systemctl status` names what asked for a reload.
    var systemdLabel: String {
        switch self {
        case .start: return "start"
        case .signal: return "SIGHUP"
        case .api: return "API"
        case .watch: return "file change"
        }
    }
}

extension RuleHolder {
    /// The `STATUS=` line after a reload: what happened, and which rules serve now.
    static func reloadStatus(_ outcome: ReloadOutcome, trigger: String, serving: String?) -> String {
        switch outcome {
        case .loaded(let loaded, _, let changed):
            let version = loaded.version.prefix(8)
            return changed
                ? "rules \(version) loaded (\(trigger))" : "rules \(version) unchanged (\(trigger))"
        case .rejected(let diagnostics, let message):
            let errors = diagnostics.filter { $0.severity == .error }
            var what = errors.first?.text ?? message
            if errors.count > 1 { what += " (and \(errors.count - 1) more)" }
            let old = serving.map { "old rules \($0.prefix(8)) serving" } ?? "old rules serving"
            return "rules rejected (\(trigger)): \(what); \(old)"
        }
    }
}

extension SystemdService {
    /// The service for this process: its notifier and watchdog from the environment systemd gave it.
    init(
        configuration: DaemonConfiguration, inherited: InheritedSocket?, readiness: Readiness, rules: RuleHolder,
        store: any BookingStore, logger: Logger
    ) {
        self.init(
            notifier: .process,
            watchdogInterval: SystemdWatchdog.pingInterval(
                environment: ProcessInfo.processInfo.environment, pid: getpid()),
            readiness: readiness, rules: rules, store: store,
            socketDescription: inherited.map { "\($0.path.isEmpty ? "fd \($0.fd)" : $0.path) (from systemd)" }
                ?? configuration.socketPath,
            socketPath: inherited.map { $0.path.isEmpty ? nil : $0.path } ?? configuration.socketPath,
            logger: logger)
    }
}

extension HTTPService {
    /// Serves on the socket systemd passed, with the same router, roles and readiness as the bound server.
    func serve(_ socket: InheritedSocket) async throws {
        let server = makeListener(.inherited(socket))
        let readiness = self.readiness
        let logger = self.logger
        let listening: @Sendable () -> Void = {
            // Mode and group are the socket unit's (SocketMode=, SocketGroup=); slotd.yaml's are not applied.
            logger.info(
                "listening",
                metadata: [
                    "socket": "\(socket.path)", "mode": "socket activation", "fd": "\(socket.fd)",
                    "name": "\(socket.name)",
                ])
            readiness.markReady()
        }
        do {
            try await server.run(onListening: listening)
            readiness.markFailed(StartupError("the server stopped"))
        } catch {
            readiness.markFailed(error)
            throw error
        }
    }
}
