import Foundation
import Glibc
import SlotBlocking
import Synchronization

/// One running plugin process: its pipes, a reader thread for stdout (replies) and one for stderr (log lines).
///
/// Spawned with `posix_spawn` in its own process group, so a timeout or shutdown can kill a shell wrapper together
/// with what it started. Replies are matched to calls by `id`; a reply nobody waits for is reported and dropped.
final class PluginProcess: Sendable {
    let pid: pid_t
    let startedAt: ContinuousClock.Instant
    private let pluginName: String
    private let stdinFD: Int32
    /// Writes to the plugin's stdin happen here, one at a time, off the cooperative pool: a plugin that is behind
    /// on reading makes a write wait, and that wait must never hold a thread a request needs.
    private let writer: DispatchQueue
    private let state: Mutex<State>
    private let log: ExecPluginLog

    private struct State {
        var pending: [Int: CheckedContinuation<Result<Data, ProviderError>, Never>] = [:]
        /// The timeout of each pending call, cancelled when the reply comes first.
        var timers: [Int: Timer] = [:]
        /// Killed because a call timed out (an exit the host caused, not a crash).
        var killedForTimeout = false
        /// What a call still waiting when the timed-out plugin's exit is seen is told: the timeout, not the kill.
        var timeoutMessage: String?
        var exited = false
        var exitStatus: String?
        var stdinOpen = true
        /// Once reaped, its pid may be reused: no more signals to it.
        var reaped = false
    }

    /// A call's timeout. DispatchWorkItem is thread-safe but not marked Sendable.
    private final class Timer: @unchecked Sendable {
        let item: DispatchWorkItem
        init(_ item: DispatchWorkItem) { self.item = item }
        func cancel() { item.cancel() }
    }

    private init(pid: pid_t, stdinFD: Int32, pluginName: String, log: @escaping ExecPluginLog) {
        self.pid = pid
        self.stdinFD = stdinFD
        self.pluginName = pluginName
        self.log = log
        self.startedAt = .now
        self.writer = DispatchQueue(label: "slotd.plugin.\(pluginName).stdin")
        self.state = Mutex(State())
    }

    /// Whether stdout reached its end (the plugin exited or closed it).
    var hasExited: Bool { state.withLock { $0.exited } }

    /// How it ended, when known (`status 1`, `signal 9`).
    var exitStatus: String? { state.withLock { $0.exitStatus } }

    // MARK: - Starting

    /// Starts `executable` with `arguments` (argv[1...]), exactly `environment`, in `directory`.
    static func spawn(
        name: String, executable: String, arguments: [String], environment: [String: String], directory: String,
        log: @escaping ExecPluginLog
    ) throws(ProviderError) -> PluginProcess {
        BlockingWork.assertOffCooperativePool("spawning plugin '\(name)'")
        // Close-on-exec everywhere, so the child gets only its dup2'ed 0, 1, 2 and a later plugin never holds an
        // earlier plugin's pipe open (which would hide its exit). pipe2(O_CLOEXEC) is GNU-only in Swift's Glibc
        // module, so pipe + fcntl under one lock with the spawn: no other plugin can start in between.
        spawnLock.lock()
        defer { spawnLock.unlock() }
        _ = ignoreBrokenPipes
        guard let toChild = cloexecPipe() else { throw .temporary("cannot create a pipe for plugin '\(name)'") }
        guard let fromChild = cloexecPipe() else {
            closeAll(toChild)
            throw .temporary("cannot create a pipe for plugin '\(name)'")
        }
        guard let errorsFromChild = cloexecPipe() else {
            closeAll(toChild + fromChild)
            throw .temporary("cannot create a pipe for plugin '\(name)'")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorsFromChild[1], 2)
        guard addChdir(&actions, directory) else {
            closeAll(toChild + fromChild + errorsFromChild)
            throw .permanent("cannot start plugin '\(name)' in \(directory): this C library has no chdir for spawn")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group (killed as one) and default signal handling (slotd ignores SIGPIPE; a plugin
        // should not inherit that).
        var defaults = sigset_t()
        sigfillset(&defaults)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = [executable] + arguments
        let envp = environment.keys.sorted().map { "\($0)=\(environment[$0] ?? "")" }
        var pid: pid_t = 0
        let result = withCStrings(argv) { argvPointers in
            withCStrings(envp) { envPointers in
                posix_spawn(&pid, executable, &actions, &attributes, argvPointers, envPointers)
            }
        }
        close(toChild[0])
        close(fromChild[1])
        close(errorsFromChild[1])
        guard result == 0 else {
            closeAll([toChild[1], fromChild[0], errorsFromChild[0]])
            throw .temporary("cannot start plugin '\(name)' (\(executable)): \(String(cString: strerror(result)))")
        }
        // A plugin that stops reading must not block slotd: writes fail instead of waiting (see `send`).
        _ = fcntl(toChild[1], F_SETFL, fcntl(toChild[1], F_GETFL) | O_NONBLOCK)

        let process = PluginProcess(pid: pid, stdinFD: toChild[1], pluginName: name, log: log)
        process.startReaders(stdout: fromChild[0], stderr: errorsFromChild[0])
        return process
    }

    private static let spawnLock = NSLock()

    /// A plugin that dies (or closes its stdin) between two calls must turn slotd's next write into an EPIPE error,
    /// not a SIGPIPE that ends slotd.
    private static let ignoreBrokenPipes: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    private static func cloexecPipe() -> [Int32]? {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { return nil }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return descriptors
    }

    private static func closeAll(_ descriptors: [Int32]) {
        for descriptor in descriptors where descriptor >= 0 { close(descriptor) }
    }

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+) is behind `_GNU_SOURCE`, which Swift's Glibc module
    /// does not define: look it up at run time.
    private static func addChdir(_ actions: inout posix_spawn_file_actions_t, _ directory: String) -> Bool {
        typealias AddChdir =
            @convention(c) (
                UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
            ) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        else { return false }
        let function = unsafeBitCast(symbol, to: AddChdir.self)
        return directory.withCString { function(&actions, $0) } == 0
    }

    private static func withCStrings(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Int32
    ) -> Int32 {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return EINVAL }
            return body(base)
        }
    }

    // MARK: - Reading

    private func startReaders(stdout: Int32, stderr: Int32) {
        let stdoutThread = Thread { [self] in
            Self.readLines(stdout) { self.received($0) }
            close(stdout)
            self.stdoutEnded()
        }
        stdoutThread.name = "plugin-\(pluginName)-stdout"
        stdoutThread.stackSize = 1 << 20
        stdoutThread.start()
        let stderrThread = Thread { [self] in
            Self.readLines(stderr) { line in
                let text = String(decoding: line, as: UTF8.self)
                self.log(.stderr, text)
            }
            close(stderr)
        }
        stderrThread.name = "plugin-\(pluginName)-stderr"
        stderrThread.stackSize = 1 << 20
        stderrThread.start()
    }

    /// Blocking reads until end of file, one callback per `\n`-terminated line (a last unterminated line too).
    private static func readLines(_ descriptor: Int32, _ line: (Data) -> Void) {
        var pending = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var text = pending[pending.startIndex..<newline]
                if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
                line(Data(text))
                pending = Data(pending[(newline + 1)...])
            }
            // A plugin that never ends its line must not grow slotd's memory without bound.
            if pending.count > 16 << 20 { pending.removeAll() }
        }
        if !pending.isEmpty { line(pending) }
    }

    private func received(_ line: Data) {
        guard !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else { return }
        guard let id = ExecPluginReply.id(of: line) else {
            log(
                .warning,
                "plugin '\(pluginName)' wrote a line that is not a JSON reply with an id (ignored): "
                    + String(decoding: line.prefix(200), as: UTF8.self))
            return
        }
        let waiter = state.withLock { state in
            state.timers.removeValue(forKey: id)?.cancel()
            return state.pending.removeValue(forKey: id)
        }
        guard let waiter else {
            log(.warning, "plugin '\(pluginName)' answered id \(id), which no call is waiting for (ignored)")
            return
        }
        waiter.resume(returning: .success(line))
    }

    private func stdoutEnded() {
        // Give the process a moment to be reaped so the error can say how it ended.
        var status: Int32 = 0
        var reaped = false
        for _ in 0..<20 {
            reaped = state.withLock { state in
                state.reaped = waitpid(pid, &status, WNOHANG) == pid
                return state.reaped
            }
            if reaped { break }
            usleep(10_000)
        }
        let description = reaped ? Self.describe(status) : "closed its stdout"
        let (waiters, timeoutMessage) = state.withLock { state in
            state.exited = true
            state.exitStatus = description
            defer {
                state.pending.removeAll()
                for timer in state.timers.values { timer.cancel() }
                state.timers.removeAll()
            }
            return (Array(state.pending.values), state.timeoutMessage)
        }
        // Killed for a timeout: the exit can be seen before the timer answers its call (a loaded machine), and the
        // caller should hear why it was killed.
        let message = timeoutMessage ?? "plugin '\(pluginName)' exited (\(description))"
        for waiter in waiters {
            waiter.resume(returning: .failure(.temporary(message)))
        }
        if !reaped {
            // Still running with its stdout closed: it is killed by the host; reap it here when it goes.
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            state.withLock { state in
                state.reaped = true
                state.exitStatus = Self.describe(status)
            }
        }
    }

    private static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "status \((status >> 8) & 0xff)" }
        return "signal \(signal)"
    }

    // MARK: - Calls

    /// Sends one request line and waits for the reply with the same id, at most `timeout`.
    /// Cancelling the calling task (the outbox's own call timeout) ends the wait at once, like a timeout.
    func request(id: Int, line: Data, timeout: Duration) async -> Result<Data, ProviderError> {
        let name = pluginName
        return await withTaskCancellationHandler {
            await waitForReply(id: id, line: line, timeout: timeout)
        } onCancel: {
            self.resolve(id, .failure(.temporary("the call to plugin '\(name)' was abandoned (cancelled)")))
        }
    }

    private func waitForReply(id: Int, line: Data, timeout: Duration) async -> Result<Data, ProviderError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<Data, ProviderError>, Never>) in
            let registered = state.withLock { state -> Bool in
                guard !state.exited else { return false }
                state.pending[id] = continuation
                return true
            }
            guard registered else {
                continuation.resume(returning: .failure(.temporary("plugin '\(pluginName)' is not running")))
                return
            }
            // Cancelled before the handler could see the registration: end it here.
            if Task.isCancelled {
                resolve(id, .failure(.temporary("the call to plugin '\(pluginName)' was abandoned (cancelled)")))
                return
            }
            send(line + Data([UInt8(ascii: "\n")])) { [weak self] failure in self?.resolve(id, .failure(failure)) }
            // A Dispatch timer, not a Task: it fires on time even when every thread of Swift's cooperative pool is
            // busy, and it kills the plugin itself so a hung plugin never answers late.
            let name = pluginName
            let timer = DispatchWorkItem { [weak self] in
                guard let self else { return }
                let timedOut = self.state.withLock { state -> Bool in
                    guard state.pending[id] != nil else { return false }
                    state.killedForTimeout = true
                    state.timeoutMessage = "plugin '\(name)' did not answer within \(timeout)"
                    return true
                }
                guard timedOut else { return }
                self.kill()
                self.resolve(id, .failure(.temporary("plugin '\(name)' did not answer within \(timeout)")))
            }
            let box = Timer(timer)
            let armed = state.withLock { state -> Bool in
                guard state.pending[id] != nil else { return false }
                state.timers[id] = box
                return true
            }
            if armed { DispatchQueue.global().asyncAfter(deadline: .now() + timeout.inSeconds, execute: box.item) }
        }
    }

    /// Resumes the caller waiting for `id`, if one still is.
    private func resolve(_ id: Int, _ result: Result<Data, ProviderError>) {
        let waiter = state.withLock { state in
            state.timers.removeValue(forKey: id)?.cancel()
            return state.pending.removeValue(forKey: id)
        }
        waiter?.resume(returning: result)
    }

    /// Queues `data` for the plugin's stdin; `failed` hears why when it cannot be written.
    private func send(_ data: Data, failed: @escaping @Sendable (ProviderError) -> Void) {
        writer.async { [self] in
            if let failure = writeAll(data) { failed(failure) }
        }
    }

    /// Writes all of `data` to the plugin's stdin (on `writer`); an error when it is closed, or stays full for a
    /// second in all (the plugin stopped reading).
    private func writeAll(_ data: Data) -> ProviderError? {
        BlockingWork.assertOffCooperativePool("writing to plugin '\(pluginName)'")
        guard state.withLock({ $0.stdinOpen }) else { return .temporary("plugin '\(pluginName)' is stopping") }
        let deadline = ContinuousClock.now + .seconds(1)
        var offset = 0
        while offset < data.count {
            let written = data.withUnsafeBytes { bytes in
                write(stdinFD, bytes.baseAddress.map { $0 + offset }, data.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && errno == EAGAIN {
                // The pipe is full: the plugin is behind on reading. Wait until it drains, within the deadline.
                let left = deadline - ContinuousClock.now
                var descriptor = pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)
                let milliseconds = Int32(clamping: max(0, left.wholeMilliseconds))
                if milliseconds == 0 || poll(&descriptor, 1, milliseconds) == 0 {
                    return .temporary("cannot write to plugin '\(pluginName)': it has not read its input for a second")
                }
            } else {
                let reason = written < 0 ? String(cString: strerror(errno)) : "no progress"
                return .temporary("cannot write to plugin '\(pluginName)': \(reason)")
            }
        }
        return nil
    }

    // MARK: - Ending

    /// Closes stdin, which tells a well-behaved plugin to exit. The descriptor is closed on `writer`, after the
    /// writes already queued, so no write ever goes to a descriptor number reused by then.
    func closeStdin() {
        let wasOpen = state.withLock { state -> Bool in
            defer { state.stdinOpen = false }
            return state.stdinOpen
        }
        guard wasOpen else { return }
        writer.async { [stdinFD] in _ = close(stdinFD) }
    }

    /// Whether the plugin was killed because a call timed out.
    var wasKilledForTimeout: Bool { state.withLock { $0.killedForTimeout } }

    /// Kills the plugin's whole process group at once.
    func kill() {
        closeStdin()
        signal(SIGKILL)
    }

    /// Signals the process group, unless the plugin was already reaped (its pid could belong to another by now).
    private func signal(_ number: Int32) {
        state.withLock { state in
            if !state.reaped { _ = Glibc.kill(-pid, number) }
        }
    }

    /// Clean shutdown: close stdin, wait up to `grace` for it to exit, then SIGTERM, then SIGKILL.
    func stop(grace: Duration) async {
        closeStdin()
        if await waitForExit(within: grace) { return }
        signal(SIGTERM)
        if await waitForExit(within: .seconds(1)) { return }
        signal(SIGKILL)
        _ = await waitForExit(within: .seconds(1))
    }

    private func waitForExit(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if hasExited { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return hasExited
    }
}
