import Hummingbird
import NIOCore
import SlotAPI

/// The request context of the API: the peer's credentials (SO_PEERCRED, read once per connection) and its role.
public struct SlotRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connecting process, or nil when the credentials could not be read.
    public let peer: PeerCredentials?
    /// The peer's role, set by `AccessMiddleware`; nil means no role (403 on everything but `/_ping`).
    public var role: Role?
    /// The connection, so a live stream can cut off a client that reads nothing (`StallGuard`).
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = PeerRegistry.shared.credentials(of: source.channel)
        role = nil
        channel = source.channel
    }

    /// Bodies are collected explicitly with the daemon's own cap.
    public var maxUploadSize: Int { APIVersion.maxBodyBytes }

    /// Throws `403` unless the role allows `permission` (the one decision, `Authorisation`).
    func require(_ permission: Permission) throws(APIError) {
        try Authorisation.require(permission, role: role, principal: .peer(peer))
    }
}

extension PeerRegistry {
    /// The process-wide registry: the request context can only reach it statically (it is built from the channel).
    static let shared = PeerRegistry()
}

/// Maps the peer's uid to its role from the configuration.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = SlotRequestContext
    let roles: [UInt32: Role]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        context.role = context.peer.flatMap { roles[$0.uid] }
        return try await next(request, context)
    }
}
