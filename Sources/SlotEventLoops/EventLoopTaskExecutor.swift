import NIOCore
import NIOPosix

/// A `TaskExecutor` that runs its jobs on one NIO event loop.
///
/// A task that prefers the executor of its socket's event loop runs its code, every await's resumption and its
/// writes on the thread that reads and writes that socket: no hop to Swift's task pool and back per read and write.
/// An HTTP connection's task prefers its channel's loop; a PostgreSQL store operation, its pooled connection's (NIO
/// 2.101's event loops are serial executors for actors, not task executors). Work that blocks must still go through
/// `BlockingWork.run`: here it would stall every socket on the loop.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    public let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }

    /// The executor of `loop` when it is one of NIO's process-wide event loop group (the one every listener and the
    /// PostgreSQL client's connections use), else nil: the task then runs where it would have.
    public static func of(_ loop: any EventLoop) -> EventLoopTaskExecutor? {
        perSingletonLoop[ObjectIdentifier(loop)]
    }

    /// The executor of the event loop the calling code runs on, when it runs on one of the process-wide group's.
    public static var current: EventLoopTaskExecutor? { MultiThreadedEventLoopGroup.currentEventLoop.flatMap(of) }

    /// One executor per loop of NIO's process-wide event loop group, made once and never released: a task keeps
    /// only an unowned reference to the executor it prefers, and a task started from a request may outlive the
    /// listener that started it.
    private static let perSingletonLoop: [ObjectIdentifier: EventLoopTaskExecutor] = {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(eventLoop: loop)
        }
        return executors
    }()
}
