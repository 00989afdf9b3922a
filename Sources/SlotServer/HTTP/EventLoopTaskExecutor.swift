import NIOCore

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

    /// One executor per loop of `group`, made once and kept for the server's life, so that no task can outlive the
    /// executor it prefers (the jobs refer to it unowned) and no connection allocates one.
    static func perLoop(of group: any EventLoopGroup) -> [ObjectIdentifier: EventLoopTaskExecutor] {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() { executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(eventLoop: loop) }
        return executors
    }
}
