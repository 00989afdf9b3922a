import NIOCore
import NIOPosix

/// A `TaskExecutor` that runs its jobs on one NIO event loop.
///
/// A connection's task prefers the executor of its channel's event loop, so the request's handling, every await's
/// resumption and the response's writes stay on the thread that reads and writes the socket: no hop to Swift's task
/// pool and back per request (NIO 2.101's event loops are serial executors for actors, not task executors). Work
/// that blocks must still go through `BlockingWork.run`: here it would stall every connection on the loop.
final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }

    /// One executor per loop of NIO's process-wide event loop group (the one every listener serves on), made once
    /// and never released: a task keeps only an unowned reference to the executor it prefers, and a task started
    /// from a request may outlive the listener that started it.
    static let perSingletonLoop: [ObjectIdentifier: EventLoopTaskExecutor] = {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(eventLoop: loop)
        }
        return executors
    }()
}
