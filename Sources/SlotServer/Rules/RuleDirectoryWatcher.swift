import Foundation
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Turns a burst of file changes into one reload: fires once no change came for `quiet` milliseconds.
///
/// A pure value (times are parameters), so its behaviour is tested without a file system or a clock. An editor
/// saving with a temp file and a rename makes 3–5 events within a few milliseconds; they become one reload.
public struct ReloadDebouncer: Sendable, Equatable {
    /// The quiet time after the last change before firing, in milliseconds.
    public let quiet: UInt64
    /// When the last change was seen (milliseconds on a monotonic clock), nil when nothing is pending.
    public private(set) var lastChange: UInt64?

    public init(quietMilliseconds: UInt64 = 300) { quiet = quietMilliseconds }

    /// Notes a change seen at `now`.
    public mutating func change(at now: UInt64) { lastChange = now }

    /// Milliseconds until it fires at `now` (0 when due), nil when nothing is pending.
    public func wait(at now: UInt64) -> UInt64? {
        guard let lastChange else { return nil }
        let due = lastChange + quiet
        return due > now ? due - now : 0
    }

    /// Fires (and clears) if a change is pending and quiet has lasted long enough.
    public mutating func fire(at now: UInt64) -> Bool {
        guard wait(at: now) == 0 else { return false }
        lastChange = nil
        return true
    }

    /// Whether a changed name in the rules directory matters: rule files and calendars do, editor droppings
    /// (vim's `.x.swp` and `4913` probe, emacs' `.#x` and `#x#`, `x~` backups, hidden files) do not.
    public static func matters(_ name: String) -> Bool {
        if name.isEmpty || name.hasPrefix(".") || name.hasPrefix("#") || name.hasSuffix("~") { return false }
        if name == "4913" { return false }
        for suffix in [".swp", ".swx", ".swo", ".tmp", ".part"] where name.hasSuffix(suffix) { return false }
        return true
    }
}

/// Watches the rules directory with inotify and asks the reloader to reload after each debounced burst.
///
/// The blocking read runs on its own thread (`poll` with the debouncer's timeout), which hands debounced changes to
/// this service's task through an `AsyncStream`; the reload itself runs in the service, so it is serialised with
/// SIGHUP and API reloads by the reloader. If the directory itself is replaced (moved away, deleted and recreated),
/// the watch is re-added once a directory exists at the path again, and that counts as a change.
struct RuleDirectoryWatcher: Service {
    let directory: String
    let reloader: RuleReloader
    let quietMilliseconds: UInt64
    var enabled = true
    let logger: Logger

    func run() async throws {
        let (changes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let stop = StopFlag()
        // A service that returns ends the whole group, so without inotify this one just waits for shutdown.
        guard enabled, let inotify = InotifyWatch(directory: directory, logger: logger) else {
            try? await gracefulShutdown()
            return
        }
        let thread = Thread { [logger, quietMilliseconds] in
            inotify.loop(quietMilliseconds: quietMilliseconds, stop: stop, logger: logger) {
                continuation.yield(())
            }
            continuation.finish()
        }
        thread.name = "slotd-rules-watch"
        thread.start()
        logger.info("watching the rules directory", metadata: ["directory": "\(directory)"])
        for await _ in changes.cancelOnGracefulShutdown() {
            logger.info("rules directory changed: reloading")
            _ = await reloader.reload(.watch)
        }
        stop.value.store(true, ordering: .relaxed)
        inotify.wake()
        // The stream also ends if the thread gave up (poll failed): keep the group running until shutdown.
        if !Task.isCancelled { try? await gracefulShutdown() }
    }
}

/// The watcher thread's stop signal.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// The inotify descriptor and the directory's watch; owned by the watcher thread after `loop` starts.
final class InotifyWatch: @unchecked Sendable {
    // @unchecked: `watch` is touched only by the watcher thread; `fd` and `wakePipe` are fixed after init.
    private let fd: Int32
    private let wakePipe: (read: Int32, write: Int32)
    private let directory: String
    private var watch: Int32 = -1

    static let mask: UInt32 =
        UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE)
        | UInt32(IN_CREATE) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)

    init?(directory: String, logger: Logger) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            logger.error(
                "cannot watch the rules directory (inotify_init1 failed); reload with SIGHUP or slotctl rules reload",
                metadata: ["errno": "\(errno)"])
            return nil
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            close(fd)
            return nil
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        self.fd = fd
        wakePipe = (pipeEnds[0], pipeEnds[1])
        self.directory = directory
        if !addWatch() {
            logger.warning(
                "cannot watch the rules directory yet; will retry", metadata: ["directory": "\(directory)"])
        }
    }

    deinit {
        close(fd)
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// Wakes the thread's `poll` so it sees `stop`.
    func wake() {
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    private func addWatch() -> Bool {
        watch = inotify_add_watch(fd, directory, Self.mask)
        return watch >= 0
    }

    /// Reads events until `stop`, calling `changed` once per debounced burst.
    func loop(quietMilliseconds: UInt64, stop: StopFlag, logger: Logger, changed: () -> Void) {
        var debouncer = ReloadDebouncer(quietMilliseconds: quietMilliseconds)
        let bufferSize = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        while !stop.value.load(ordering: .relaxed) {
            let now = Self.milliseconds()
            // Without a watch (the directory was replaced), look again every half second.
            var timeout: Int32 = watch < 0 ? 500 : -1
            if let wait = debouncer.wait(at: now) { timeout = timeout < 0 ? Int32(wait) : min(timeout, Int32(wait)) }
            var fds = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, timeout)
            if stop.value.load(ordering: .relaxed) { break }
            if ready < 0 && errno != EINTR { break }
            if watch < 0, addWatch() {
                logger.info("the rules directory is back; watching it again")
                debouncer.change(at: Self.milliseconds())
            }
            if ready > 0, fds[0].revents & Int16(POLLIN) != 0 {
                while true {
                    let count = read(fd, buffer, bufferSize)
                    if count <= 0 { break }
                    if scan(buffer, count: count) { debouncer.change(at: Self.milliseconds()) }
                }
            }
            if debouncer.fire(at: Self.milliseconds()) { changed() }
        }
    }

    /// Walks a read's events; true when one of them matters. Loses the watch when the directory went away.
    private func scan(_ buffer: UnsafeMutableRawPointer, count: Int) -> Bool {
        var offset = 0
        var matters = false
        let headerSize = MemoryLayout<inotify_event>.size
        while offset + headerSize <= count {
            let event = buffer.load(fromByteOffset: offset, as: inotify_event.self)
            let nameLength = Int(event.len)
            var name = ""
            if nameLength > 0 {
                let start = buffer.advanced(by: offset + headerSize).assumingMemoryBound(to: CChar.self)
                name = String(cString: start)
            }
            offset += headerSize + nameLength
            let mask = event.mask
            if mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_IGNORED)) != 0 {
                // The directory itself is gone or moved: its rules are gone too, which the reload will report.
                if watch >= 0 { inotify_rm_watch(fd, watch) }
                watch = -1
                matters = true
                continue
            }
            if mask & UInt32(IN_ISDIR) != 0 { continue }
            if ReloadDebouncer.matters(name) { matters = true }
        }
        return matters
    }

    static func milliseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }
}
