import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import SlotEventLoops
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where a listener takes its connections from.
enum ListenerAddress: Sendable {
    /// A Unix socket bound at `path`, created with `mode` (the umask is set around the bind).
    case unixSocket(path: String, mode: UInt16)
    /// A socket systemd handed over (socket activation): adopted as is, never unlinked here, so clients keep
    /// connecting (and queue) while slotd restarts.
    case inherited(InheritedSocket)
    /// TCP on `host:port`.
    case tcp(host: String, port: Int)
}

/// One HTTP/1.1 server of the daemon (the socket, bound or socket-activated, and the `web:` listener), built from
/// HummingbirdCore's parts rather than Hummingbird's `Application`, which has no hook for where a connection runs.
///
/// Each connection's task prefers its channel's event loop as its executor (`EventLoopTaskExecutor`): reading,
/// routing, the handler, the awaits' resumptions and the response's writes all run on that loop's thread, so a
/// request no longer hops to Swift's task pool and back. HummingbirdCore's `HTTP1Channel` speaks HTTP with the
/// listener's channel handlers (`ConnectionGuard`'s, peer credentials on the socket); NIOExtras'
/// `ServerQuiescingHelper` keeps graceful shutdown: stop accepting, let in-flight requests finish, close idle
/// keep-alive connections.
struct HTTPListener<Context: RequestContext>: Sendable where Context.Source == ApplicationRequestContextSource {
    let address: ListenerAddress
    let responder: RouterResponder<Context>
    /// The HTTP/1 channel's configuration: the listener's handlers (`ConnectionGuard.http1Configuration`).
    let configuration: HTTP1Channel.Configuration
    let logger: Logger

    /// A listener on `address` serving `router`, on NIO's process-wide event loops.
    init(address: ListenerAddress, router: Router<Context>, configuration: HTTP1Channel.Configuration, logger: Logger) {
        self.address = address
        self.responder = router.buildResponder()
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until graceful shutdown; `onListening` runs once the socket accepts connections.
    func run(onListening: @Sendable () -> Void) async throws {
        let (responder, logger) = (self.responder, self.logger)
        let http1 = HTTP1Channel(
            responder: { (request, writer: consuming ResponseWriter, channel) in
                let context = Context(source: .init(channel: channel, logger: logger))
                var response: Response
                do {
                    response = try await responder.respond(to: request, context: context)
                } catch let error as HTTPParserError {
                    // A malformed request: HTTP1Channel answers it and closes the connection.
                    throw error
                } catch {
                    // ProblemMiddleware renders every API error; anything reaching here is unexpected.
                    logger.error("unhandled error", metadata: ["error": "\(error)"])
                    response = Response(status: .internalServerError)
                }
                response.headers[.date] = HTTPDateHeader.shared.now()
                try await writer.write(response: response.head, body: response.body)
            },
            configuration: configuration)

        let group = MultiThreadedEventLoopGroup.singleton
        let quiescing = ServerQuiescingHelper(group: group)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        let server = try await bind(bootstrap) { channel in http1.setup(channel: channel, logger: logger) }
        onListening()

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { connections in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            let executor = EventLoopTaskExecutor.of(connection.channel.eventLoop)
                            connections.addTask(executorPreference: executor) {
                                await http1.handle(value: connection, logger: logger)
                            }
                        }
                    }
                } catch {
                    logger.error("accepting connections failed", metadata: ["error": "\(error)"])
                }
            }
        } onGracefulShutdown: {
            // Closes the listening socket and asks every connection to close after its current response; the task
            // group above then ends when the last one has.
            quiescing.initiateShutdown(promise: nil)
        }
    }

    /// The listen queue of the sockets bound here (Hummingbird's default); an inherited socket keeps systemd's.
    private static var backlog: Int32 { 256 }

    private func bind(
        _ bootstrap: ServerBootstrap,
        childChannelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<HTTP1Channel.Value>
    ) async throws -> NIOAsyncChannel<HTTP1Channel.Value, Never> {
        switch address {
        case .inherited(let socket):
            return try await bootstrap.bind(socket.fd, childChannelInitializer: childChannelInitializer)
        case .tcp(let host, let port):
            return try await bootstrap.serverChannelOption(ChannelOptions.backlog, value: Self.backlog)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port, childChannelInitializer: childChannelInitializer)
        case .unixSocket(let path, let mode):
            // The umask is process-wide: set it just before the bind and restore it as soon as the socket exists,
            // so the socket never exists with a wider mode.
            let previous = umask(~mode_t(mode) & 0o777)
            defer { umask(previous) }
            return try await bootstrap.serverChannelOption(ChannelOptions.backlog, value: Self.backlog).bind(
                unixDomainSocketPath: path, cleanupExistingSocketFile: true,
                childChannelInitializer: childChannelInitializer)
        }
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate), formatted at most once a second.
final class HTTPDateHeader: Sendable {
    /// The process's one cache.
    static let shared = HTTPDateHeader()

    private let cache = Mutex<(second: Int, text: String)>((-1, ""))

    /// The header for the current second.
    func now() -> String { text(at: time(nil)) }

    /// The header for `second` (seconds since 1970, UTC).
    func text(at second: Int) -> String {
        cache.withLock { cache in
            if cache.second != second { cache = (second, Self.format(second)) }
            return cache.text
        }
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` for `second`.
    static func format(_ second: Int) -> String {
        var instant = time_t(second)
        var parts = tm()
        gmtime_r(&instant, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let date = "\(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900)"
        let clock = "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        return "\(days[Int(parts.tm_wday)]), \(date) \(clock) GMT"
    }
}
