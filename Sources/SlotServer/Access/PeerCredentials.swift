import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The credentials of the process at the other end of a Unix socket (SO_PEERCRED).
public struct PeerCredentials: Hashable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// Mirrors Glibc's `struct ucred`, which Swift cannot see (it hides behind `_GNU_SOURCE`): 12 bytes, this order.
struct UCred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// The peer credentials of every open connection, keyed by its channel.
///
/// `PeerCredentialsHandler` reads them once when a connection opens (on its event loop, where the read is a plain
/// `getsockopt`) and drops them when it closes; the request context looks them up per request.
final class PeerRegistry: Sendable {
    private let table = Mutex<[ObjectIdentifier: PeerCredentials]>([:])

    func set(_ credentials: PeerCredentials, for channel: any Channel) {
        table.withLock { $0[ObjectIdentifier(channel)] = credentials }
    }

    func remove(_ channel: any Channel) {
        _ = table.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func credentials(of channel: any Channel) -> PeerCredentials? {
        table.withLock { $0[ObjectIdentifier(channel)] }
    }

    /// Open connections with known credentials.
    var count: Int { table.withLock { $0.count } }
}

/// Reads SO_PEERCRED when a connection becomes active and registers it.
final class PeerCredentialsHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Any

    let registry: PeerRegistry

    init(registry: PeerRegistry) { self.registry = registry }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { record(context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        record(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        registry.remove(context.channel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        registry.remove(context.channel)
    }

    private func record(_ channel: any Channel) {
        guard let provider = channel as? any SocketOptionProvider else { return }
        // On the channel's event loop this completes at once (a plain getsockopt).
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        let registry = self.registry
        future.whenSuccess { credentials in
            registry.set(
                PeerCredentials(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid), for: channel)
        }
    }
}
