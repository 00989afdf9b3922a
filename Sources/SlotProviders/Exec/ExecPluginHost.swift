import Foundation
import SlotBlocking
import SlotCore

/// How to run one exec plugin: `providers: { sms: { type: exec, command: [...], timeout: 10s, env: {...} } }`.
public struct ExecPluginConfiguration: Hashable, Sendable {
    /// The configured name (`sms`), used in logs and errors.
    public var name: String
    /// The program, resolved to an absolute path.
    public var executable: String
    /// argv[1...].
    public var arguments: [String]
    /// The plugin's whole environment: a clean base plus the configured `env`.
    public var environment: [String: String]
    /// Its working directory: the plugin's folder.
    public var directory: String
    /// The longest a call may take; past it the call fails `.temporary` and the plugin is restarted.
    public var timeout: Duration
    /// The wait before the third start of a plugin that keeps exiting right after starting; it doubles each time.
    public var restartBackoff: Duration
    /// The longest wait between such starts.
    public var maximumBackoff: Duration
    /// A plugin that exits within this long of starting counts as "exits at once" for the backoff.
    public var quickExit: Duration

    public init(
        name: String, executable: String, arguments: [String] = [], environment: [String: String] = [:],
        directory: String, timeout: Duration = .seconds(10), restartBackoff: Duration = .seconds(1),
        maximumBackoff: Duration = .seconds(60), quickExit: Duration = .seconds(5)
    ) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.directory = directory
        self.timeout = timeout
        self.restartBackoff = restartBackoff
        self.maximumBackoff = maximumBackoff
        self.quickExit = quickExit
    }
}

/// Runs one exec plugin: starts it on first use, shakes hands, sends one call at a time with a timeout, restarts it
/// when it dies or hangs, and stops it cleanly.
///
/// Calls are serialized (one in flight), so a plugin never has to handle concurrency, and the reply to a call that
/// timed out can never be taken for the reply to the next: a timed-out plugin is killed, not reused.
public actor ExecPluginHost {
    public nonisolated let configuration: ExecPluginConfiguration
    private let log: ExecPluginLog
    private var process: PluginProcess?
    private var description: ExecPluginDescription?
    private var nextID = 1
    /// Starts in a row that ended at once (exit, failed handshake); reset by a plugin that stays up.
    private var quickFailures = 0
    private var lastFailure: (at: ContinuousClock.Instant, error: ProviderError)?
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var stopped = false
    /// How many processes were started (for tests and the log).
    public private(set) var starts = 0

    public init(configuration: ExecPluginConfiguration, log: @escaping ExecPluginLog) {
        self.configuration = configuration
        self.log = log
    }

    /// What the plugin said in its handshake (starting it if needed).
    public func describe() async throws(ProviderError) -> ExecPluginDescription {
        await acquire()
        defer { release() }
        let (_, description) = try await running()
        return description
    }

    /// Sends `method` with `params` and returns the reply's `result`.
    public func call(_ method: ExecPluginProtocol.Method, params: some Encodable & Sendable) async throws(ProviderError) -> JSONValue {
        guard let encoded = try? StableJSON.encoder.encode(params) else {
            throw .permanent("cannot encode a `\(method.rawValue)` request for plugin '\(configuration.name)' as JSON")
        }
        await acquire()
        defer { release() }
        let (process, description) = try await running()
        guard description.capabilities.contains(method.rawValue) else {
            throw .permanent(
                "plugin '\(configuration.name)' does not offer `\(method.rawValue)` (its capabilities: "
                    + "\(description.capabilities.sorted().joined(separator: ", "))) — configure a plugin that does")
        }
        return try await exchange(process, method.rawValue, encoded)
    }

    /// Closes the plugin's stdin, waits briefly for it to exit, then terminates it. Later calls fail.
    public func stop() async {
        stopped = true
        guard let process else { return }
        self.process = nil
        description = nil
        await process.stop(grace: .seconds(2))
        log(.info, "plugin '\(configuration.name)' stopped (\(process.exitStatus ?? "terminated"))")
    }

    // MARK: - One call at a time

    private func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            // Hand the turn straight to the next caller; `busy` stays true.
            waiters.removeFirst().resume()
        }
    }

    // MARK: - Starting and restarting

    /// The running, described plugin, started (or restarted) if needed.
    private func running() async throws(ProviderError) -> (PluginProcess, ExecPluginDescription) {
        guard !stopped else { throw .temporary("plugin '\(configuration.name)' is stopped (slotd is shutting down)") }
        if Task.isCancelled { throw .temporary("the call to plugin '\(configuration.name)' was abandoned (cancelled)") }
        if let process, let description {
            if !process.hasExited { return (process, description) }
            noteExit(process)
        }
        try refuseWhileBackingOff()
        let process = try await start()
        do {
            let result = try await exchange(
                process, ExecPluginProtocol.Method.describe.rawValue,
                (try? StableJSON.encoder.encode(DescribeParams())) ?? Data())
            let description = try ExecPluginDescription.parse(result, plugin: configuration.name)
            self.description = description
            log(
                .info,
                "plugin '\(configuration.name)' started (pid \(process.pid), calls itself '\(description.name)', "
                    + "offers \(description.capabilities.sorted().joined(separator: ", ")))")
            return (process, description)
        } catch {
            process.kill()
            if self.process === process { self.process = nil }
            // Stopped while shaking hands (slotd is shutting down): not the plugin's fault.
            if stopped { throw .temporary("plugin '\(configuration.name)' is stopped (slotd is shutting down)") }
            quickFailures += 1
            lastFailure = (.now, error)
            log(.error, "plugin '\(configuration.name)' failed its handshake: \(error.message)")
            throw error
        }
    }

    private func start() async throws(ProviderError) -> PluginProcess {
        starts += 1
        do {
            let (configuration, log) = (self.configuration, self.log)
            // Spawning forks and executes: blocking system calls, kept off the cooperative pool.
            let process = try await BlockingWork.run { () throws(ProviderError) in
                try PluginProcess.spawn(
                    name: configuration.name, executable: configuration.executable,
                    arguments: configuration.arguments, environment: configuration.environment,
                    directory: configuration.directory, log: log)
            }
            self.process = process
            nextID = 1
            return process
        } catch {
            quickFailures += 1
            lastFailure = (.now, error)
            log(.error, error.message)
            throw error
        }
    }

    /// Records that the plugin died between calls.
    private func noteExit(_ process: PluginProcess) {
        let lived = ContinuousClock.now - process.startedAt
        let status = process.exitStatus ?? "exited"
        self.process = nil
        description = nil
        if lived < configuration.quickExit {
            quickFailures += 1
            lastFailure = (
                .now, .temporary("plugin '\(configuration.name)' exited \(lived) after starting (\(status))")
            )
        } else {
            quickFailures = 0
        }
        log(.warning, "plugin '\(configuration.name)' exited (\(status)); starting it again")
    }

    /// A plugin that keeps dying at once is not started again until its backoff has passed.
    private func refuseWhileBackingOff() throws(ProviderError) {
        guard quickFailures >= 2, let lastFailure else { return }
        let wait = backoff(after: quickFailures)
        let retryAt = lastFailure.at + wait
        guard ContinuousClock.now < retryAt else { return }
        throw .temporary(
            "plugin '\(configuration.name)' keeps failing right after it starts (\(quickFailures) times in a row, "
                + "last: \(lastFailure.error.message)); not starting it again for \(wait) — see its stderr in "
                + "slotd's log")
    }

    /// No wait after the first failure (a one-off crash restarts at once), then `restartBackoff`, doubling.
    private func backoff(after failures: Int) -> Duration {
        guard failures >= 2 else { return .zero }
        var wait = configuration.restartBackoff
        for _ in 2..<min(failures, 20) { wait = min(wait * 2, configuration.maximumBackoff) }
        return min(wait, configuration.maximumBackoff)
    }

    // MARK: - One exchange

    private func exchange(_ process: PluginProcess, _ method: String, _ params: Data) async throws(ProviderError)
        -> JSONValue
    {
        // An abandoned call (queued behind a slow one past the outbox's timeout) is not sent at all.
        if Task.isCancelled { throw .temporary("the call to plugin '\(configuration.name)' was abandoned (cancelled)") }
        let id = nextID
        nextID += 1
        var line = Data("{\"id\":\(id),\"method\":\"\(method)\",\"params\":".utf8)
        line.append(params)
        line.append(UInt8(ascii: "}"))
        switch await process.request(id: id, line: line, timeout: configuration.timeout) {
        case .success(let reply):
            // A plugin that answers stays up: it is no longer "dying at once".
            if method != ExecPluginProtocol.Method.describe.rawValue { quickFailures = 0 }
            return try ExecPluginReply.parse(reply, method: method, plugin: configuration.name).get()
        case .failure(let error):
            if process.hasExited && !process.wasKilledForTimeout {
                // During the handshake the caller counts the failure; during a call it is an exit like any other.
                if self.process === process {
                    if method == ExecPluginProtocol.Method.describe.rawValue {
                        self.process = nil
                        description = nil
                    } else {
                        noteExit(process)
                    }
                }
                throw .temporary(
                    "plugin '\(configuration.name)' exited during `\(method)` (\(process.exitStatus ?? "exited"))")
            }
            // No answer in time (or stdin unusable): a plugin in an unknown state must not see the next call.
            process.kill()
            if self.process === process {
                self.process = nil
                description = nil
            }
            log(.warning, "\(error.message) (`\(method)`); killed it, it starts again on the next call")
            throw .temporary("\(error.message) (`\(method)`); it was restarted")
        }
    }
}
