import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SlotBlocking

/// The public listener (`web:`): a second HTTP server on TCP in the daemon's `ServiceGroup`, serving only
/// `PublicRoutes` over the daemon's own services (booking service, event bus, store).
struct WebService: Service {
    let routes: PublicRoutes
    let settings: WebSettings
    /// The `server:` limits: slow, idle and surplus clients are closed here as on the socket, counted apart.
    let limits: ConnectionLimits
    let logger: Logger

    func run() async throws {
        let (host, port, logger) = (settings.host, settings.port, self.logger)
        let connectionGuard = ConnectionGuard(limits: limits, listener: "web", logger: logger)
        let listener = HTTPListener(
            address: .tcp(host: host, port: port), router: routes.router(),
            configuration: connectionGuard.http1Configuration(), logger: logger)
        try await listener.run {
            logger.info("web listener ready", metadata: ["listen": "\(host):\(port)"])
        }
    }
}

/// The customer links for `configuration.web` (reading or creating the secret), or nil without a `web:` section.
func loadCustomerLinks(_ configuration: DaemonConfiguration, logger: Logger) async throws(StartupError)
    -> CustomerLinks?
{
    guard let settings = configuration.web else { return nil }
    let path = settings.secretFile
    let secret = try await BlockingWork.run { () throws(StartupError) in try WebSecretFile.loadOrCreate(path) }
    if secret.created {
        logger.notice("created the web link secret (0600)", metadata: ["file": "\(path)"])
    }
    return CustomerLinks(
        signer: WebTokenSigner(secret: secret.secret), baseURL: settings.baseURL,
        lifetimeSeconds: settings.linkLifetimeSeconds)
}
