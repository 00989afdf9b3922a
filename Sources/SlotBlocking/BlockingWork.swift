import Dispatch

/// Blocking work (file I/O, a synchronous database call, a process spawn) kept off Swift's cooperative pool.
///
/// The pool has one thread per core. A call that blocks one of them waits for something, and if that something needs
/// a pool thread to happen (GRDB hands a reader back from a pool thread, a reply is resumed on one), two blocked
/// calls on a two-core machine stop the daemon for good. So the daemon's async code never blocks: it hands blocking
/// work to `run`, and the functions that block say so with `assertOffCooperativePool`, which stops a debug build
/// (every test run) at the first call made from async code.
public enum BlockingWork {
    /// Where blocking work runs: Dispatch threads outside the cooperative pool (Dispatch adds a thread when one
    /// blocks, so a slow call delays only its own caller).
    private static let queue = DispatchQueue(label: "slotd.blocking", attributes: .concurrent)

    /// Runs `work` on a thread outside the cooperative pool and resumes the caller with its result.
    public static func run<T: Sendable, Failure: Error>(
        _ work: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(Failure) -> T in try work() })
            }
        }
        return try result.get()
    }

    /// True when the caller runs synchronously inside a Swift task: on the cooperative pool, an actor's executor or
    /// an event loop, where blocking holds a thread other work is waiting for. Work started with `run`, on a
    /// `Thread` or a `DispatchQueue` runs outside any task.
    public static var isInsideTask: Bool { withUnsafeCurrentTask { $0 != nil } }

    /// Debug builds stop here when a blocking function is called from async code; release builds check nothing.
    public static func assertOffCooperativePool(
        _ what: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
    ) {
        assert(
            !isInsideTask,
            "\(what()) blocks, and was called from async code: run it through BlockingWork.run",
            file: file, line: line)
    }
}
