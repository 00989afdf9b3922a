import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SlotAPI
import SlotProviders
import SlotStore
import SlotStorePostgres
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's version, reported by `GET /v1/health`.
public enum SlotdVersion {
    public static let current = "0.3.0"
}

/// A built daemon: every service in one `ServiceGroup`, ready to `run()`.
public final class Daemon: Sendable {
    public let configuration: DaemonConfiguration
    /// The rules in force (tests reload through it; SIGHUP does the same).
    public let rules: RuleHolder
    let service: BookingService
    /// The payment and notification providers built from the configuration.
    public let providers: ConfiguredProviders
    private let group: ServiceGroup
    private let readiness: Readiness
    private let logger: Logger

    init(
        configuration: DaemonConfiguration, rules: RuleHolder, service: BookingService,
        providers: ConfiguredProviders, group: ServiceGroup,
        readiness: Readiness, logger: Logger, routeList: [String], outboxWorker: OutboxWorker? = nil
    ) {
        self.outboxWorker = outboxWorker
        self.logger = logger
        self.routeList = routeList
        self.configuration = configuration
        self.rules = rules
        self.service = service
        self.providers = providers
        self.group = group
        self.readiness = readiness
    }

    /// Runs until SIGTERM/SIGINT (or `shutdown()`), then stops accepting, finishes in-flight requests and closes
    /// the database.
    public func run() async throws {
        logger.info(
            "starting",
            metadata: [
                "version": "\(SlotdVersion.current)", "socket": "\(configuration.socketPath)",
                "database": "\(DatabaseSetting.shown(configuration.databasePath))", "rules": "\(configuration.rulesDirectory)",
            ])
        try await group.run()
        logger.info("stopped")
    }

    /// Returns once the socket accepts connections (or throws if the server failed to start).
    public func waitUntilListening() async throws { try await readiness.wait() }

    /// Starts a graceful shutdown.
    public func shutdown() async { await group.triggerGracefulShutdown() }

    /// Every route the server serves, as `METHOD /path` (the OpenAPI test checks them against the document).
    public let routeList: [String]

    /// The outbox worker (tests drive it with `runDueJobsNow()`).
    let outboxWorker: OutboxWorker?

    /// Runs every outbox job due at the clock's now, and what they enqueue that is due, to completion; returns how
    /// many ran. Tests with a `ManualTime` clock move time and call this instead of sleeping.
    @discardableResult
    public func runDueJobsNow() async -> Int { await outboxWorker?.runDueJobsNow() ?? 0 }

    /// Expires due holds now (what the `booking.expire_hold` jobs do), returning how many expired.
    public func expireHoldsNow() async throws -> Int { try await service.expireHolds() }
}

/// The composition root, shared by `slotd` and the tests: loads the rules, opens the store, wires the routes, and
/// puts the store, the rule reloader, the outbox worker (timed work too: hold expiry, reminders, the sweep) and the
/// HTTP server into one `ServiceGroup`.
public func buildDaemon(configuration: DaemonConfiguration, logger: Logger? = nil) async throws(StartupError)
    -> Daemon
{
    var configuredLogger = logger ?? Logger(label: "slotd")
    configuredLogger.logLevel = configuration.logLevel
    let logger = configuredLogger

    // Rules first: without them there is nothing to serve.
    let rules = RuleHolder(directory: configuration.rulesDirectory, clock: configuration.clock, logger: logger)
    if case .rejected(let diagnostics, let message) = await rules.reload() {
        let lines = diagnostics.map(\.text)
        throw StartupError(
            (["cannot load the rules in \(configuration.rulesDirectory): \(message)"] + lines)
                .joined(separator: "\n"))
    }

    // Providers next: a mistake in their settings is a configuration error, found before anything is opened.
    let providers: ConfiguredProviders
    do {
        providers = try ProviderCatalog.build(configuration, logger: logger)
    } catch {
        throw StartupError("\(error)", isConfigurationError: true)
    }

    // The store: the in-memory twin for `:memory:` (tests and demos; nothing survives a restart), PostgreSQL for a
    // postgres:// URL, else SQLite.
    let databaseDirectory = (configuration.databasePath as NSString).deletingLastPathComponent
    if DatabaseSetting.isFile(configuration.databasePath), !databaseDirectory.isEmpty {
        do {
            try FileManager.default.createDirectory(atPath: databaseDirectory, withIntermediateDirectories: true)
        } catch {
            throw StartupError(
                "cannot create the database directory \(databaseDirectory): \(error.localizedDescription)")
        }
    }
    let store: any SlotStorage
    do {
        store = try await DatabaseSetting.open(configuration, logger: logger)
    } catch {
        throw StartupError("cannot open the database: \(error.message)")
    }
    if let file = store as? SQLiteBookingStore, !file.tightenedFiles.isEmpty {
        logger.notice(
            "the database files were readable by other users; now only by slotd's user (0600)",
            metadata: ["files": "\(file.tightenedFiles.joined(separator: ", "))"])
    }

    // Phone numbers stored before they were kept in E.164 (issue 14): once rewritten, matching and search find them.
    await StoredPhones.normalise(
        in: store, country: configuration.country, now: configuration.clock.now(), logger: logger)

    // The socket: systemd's when socket-activated (used as is, never unlinked), else the path, prepared: refuse a
    // live daemon, remove a stale file.
    let inherited = try SocketActivation.takeFromProcess()
    if inherited == nil { try UnixSocketPath.prepare(configuration.socketPath) }

    let bus = EventBus()
    let payments = PaymentDirectory(
        provider: providers.payment.name, collectsOnline: providers.payment.collectsOnline, store: store,
        savesCards: providers.payment.collectsOnline && providers.payment.savesCards)
    let service = BookingService(
        store: store, rules: rules, bus: bus, clock: configuration.clock, logger: logger, payments: payments,
        phoneCountry: configuration.country)
    let paymentJobs = PaymentJobs(
        store: store, provider: providers.payment, bus: bus, clock: configuration.clock, logger: logger)
    // The customer links (web:) before the outbox: notifications carry them.
    let links = try await loadCustomerLinks(configuration, logger: logger)
    let outbox = try await buildOutbox(
        configuration: configuration, store: store, service: service, providers: providers, bus: bus, logger: logger,
        extraHandlers: [paymentJobs], links: links)
    let metrics = DaemonMetrics()
    // Every reload after start (SIGHUP, the API, the directory watcher) goes through this one reloader, and systemd
    // hears of each: RELOADING=1 before, READY=1 with what happened after.
    let reloader = RuleReloader(
        rules: rules, store: store, bus: bus, metrics: metrics, clock: configuration.clock, logger: logger)
    reloader.setHooks(SystemdNotifier.process.reloadHooks(rules: rules))
    let operations = OperationsRoutes(
        service: service, reloader: reloader, store: store, metrics: metrics, configuration: configuration,
        providers: .init(
            payment: providers.payment.name, collectsOnline: providers.payment.collectsOnline,
            notifications: providers.notifications.keys.sorted()),
        startedAt: configuration.clock.now(), version: SlotdVersion.current)
    var routes = Routes(
        service: service,
        streams: StreamRoutes(
            service: service, heartbeatInterval: configuration.heartbeatInterval,
            bufferSize: configuration.subscriberBufferSize, stallLimit: configuration.connectionLimits.streamStallLimit),
        startedAt: configuration.clock.now(), version: SlotdVersion.current, maxBodyBytes: configuration.maxBodyBytes,
        operations: operations)
    routes.outbox = OutboxRoutes(store: store, worker: outbox, clock: configuration.clock, rules: rules)
    routes.feeds = FeedRoutes(service: service, store: store, links: links)
    let webhooks = PaymentWebhooks(
        store: store, provider: providers.payment, bus: bus, clock: configuration.clock, logger: logger)
    routes.webhooks = webhooks
    let web = links.flatMap { links in
        configuration.web.map { settings in
            WebService(
                routes: PublicRoutes(
                    service: service, streams: routes.streams, settings: settings, links: links, feeds: store,
                    webhooks: webhooks, paymentProvider: providers.payment.name, reloader: reloader,
                    rulesDirectory: configuration.rulesDirectory),
                settings: settings, limits: configuration.connectionLimits, logger: logger)
        }
    }
    let readiness = Readiness()
    let http = HTTPService(
        routes: routes, configuration: configuration, readiness: readiness, logger: logger, inherited: inherited)
    let storeService = StoreService(
        close: {
            do { try await store.shutDown() } catch {
                logger.error("closing the database failed", metadata: ["error": "\(error)"])
            }
        }, bus: bus, logger: logger)
    // Started in this order, stopped in reverse: the servers stop first (draining requests), the store last.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: storeService),
        .init(service: ProviderLifecycleService(providers: providers)),
        .init(service: RuleReloadService(reloader: reloader, logger: logger)),
        .init(
            service: RuleDirectoryWatcher(
                directory: configuration.rulesDirectory, reloader: reloader,
                quietMilliseconds: configuration.ruleWatchQuietMilliseconds, enabled: configuration.watchRules,
                logger: logger)),
        .init(service: outbox),
        .init(service: http),
    ]
    if let web { services.append(.init(service: web)) }
    // Several daemons on one PostgreSQL database: each relays the others' events to its own subscribers.
    if let shared = store as? PostgresBookingStore {
        let relay = PostgresEventRelay(store: shared, bus: bus, clock: configuration.clock, logger: logger)
        services.insert(.init(service: relay), at: 1)
    }
    services.append(
        .init(
            service: SystemdService(
                configuration: configuration, inherited: inherited, readiness: readiness, rules: rules,
                store: store, logger: logger)))
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    return Daemon(
        configuration: configuration, rules: rules, service: service, providers: providers, group: group,
        readiness: readiness, logger: logger,
        routeList: routes.router(roles: [:]).routes.map { "\($0.method) \($0.path)" }, outboxWorker: outbox)
}

/// The HTTP server on the Unix socket, created with the configured mode from the start (umask around the bind).
struct HTTPService: Service {
    let routes: Routes
    let configuration: DaemonConfiguration
    let readiness: Readiness
    let logger: Logger
    /// The socket systemd passed (socket activation), served instead of binding `configuration.socketPath`.
    var inherited: InheritedSocket? = nil

    /// The socket's server on `address` (bound or inherited): the roles' router, peer credentials, and the guard
    /// that closes slow, idle and surplus clients (`server:` in slotd.yaml).
    func makeListener(_ address: ListenerAddress) -> HTTPListener<SlotRequestContext> {
        let connectionGuard = ConnectionGuard(
            limits: configuration.connectionLimits, listener: "socket", logger: logger)
        return HTTPListener(
            address: address, router: routes.router(roles: configuration.roles),
            configuration: connectionGuard.http1Configuration { [PeerCredentialsHandler(registry: .shared)] },
            logger: logger)
    }

    func run() async throws {
        if let inherited { return try await serve(inherited) }
        let path = configuration.socketPath
        let group = configuration.socketGroup
        let logger = self.logger
        let readiness = self.readiness
        let listener = makeListener(.unixSocket(path: path, mode: configuration.socketMode))
        do {
            try await listener.run {
                if let group {
                    do {
                        try UnixSocketPath.setGroup(path, group: group)
                    } catch {
                        logger.error("socket group", metadata: ["error": "\(error)"])
                    }
                }
                logger.info("listening", metadata: ["socket": "\(path)", "mode": "bound"])
                readiness.markReady()
            }
            readiness.markFailed(StartupError("the server stopped"))
        } catch {
            readiness.markFailed(error)
            throw error
        }
        // Remove the socket file so the next start finds no stale one.
        unlink(path)
    }
}

/// Lets callers wait until the server is listening.
final class Readiness: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Void, any Error>])
        case ready
        case failed(any Error)
    }

    private let state = Mutex<State>(.waiting([]))

    func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, any Error>? = state.withLock { state in
                switch state {
                case .waiting(var list):
                    list.append(continuation)
                    state = .waiting(list)
                    return nil
                case .ready: return .success(())
                case .failed(let error): return .failure(error)
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    func markReady() { settle(.success(())) }

    func markFailed(_ error: any Error) { settle(.failure(error)) }

    private func settle(_ outcome: Result<Void, any Error>) {
        let waiting: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            guard case .waiting(let list) = state else { return [] }
            switch outcome {
            case .success: state = .ready
            case .failure(let error): state = .failed(error)
            }
            return list
        }
        for continuation in waiting { continuation.resume(with: outcome) }
    }
}
