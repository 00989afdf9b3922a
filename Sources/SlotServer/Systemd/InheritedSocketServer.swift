import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP server on a socket systemd handed over (socket activation), serving the same router as the bound one.
///
/// Hummingbird's `Application` can only bind an address, so this builds the server from its parts: NIO's
/// `ServerBootstrap.bind(_ socket:)` adopts the descriptor, HummingbirdCore's `HTTP1Channel` speaks HTTP/1.1 with
/// the same `PeerCredentialsHandler`, and NIOExtras' `ServerQuiescingHelper` keeps graceful shutdown: stop
/// accepting, let in-flight requests finish, close idle keep-alive connections. The socket file is systemd's: it is
/// never unlinked here, so clients keep connecting (and queue) while slotd restarts.
struct InheritedSocketServer {
    let socket: InheritedSocket
    let router: Router<SlotRequestContext>
    /// Closes slow, idle and surplus clients, as on the bound socket.
    let connectionGuard: ConnectionGuard
    let logger: Logger

    /// Serves until graceful shutdown; `onListening` runs once the descriptor is adopted.
    func run(onListening: @Sendable () -> Void) async throws {
        let responder = router.buildResponder()
        let logger = self.logger
        let http1 = HTTP1Channel(
            responder: { (request, writer: consuming ResponseWriter, channel) in
                let context = SlotRequestContext(source: .init(channel: channel, logger: logger))
                let response: Response
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
                try await writer.write(response: response.head, body: response.body)
            },
            configuration: connectionGuard.http1Configuration { [PeerCredentialsHandler(registry: .shared)] })

        let group = MultiThreadedEventLoopGroup.singleton
        let quiescing = ServerQuiescingHelper(group: group)
        let server = try await ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .bind(socket.fd) { channel in http1.setup(channel: channel, logger: logger) }
        onListening()

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { connections in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            connections.addTask { await http1.handle(value: connection, logger: logger) }
                        }
                    }
                } catch {
                    logger.error("accepting connections failed", metadata: ["error": "\(error)"])
                }
            }
        } onGracefulShutdown: {
            // Closes the listening descriptor (our copy; systemd keeps its own) and asks every connection to close
            // after its current response; the task group above then ends when the last one has.
            quiescing.initiateShutdown(promise: nil)
        }
    }
}
