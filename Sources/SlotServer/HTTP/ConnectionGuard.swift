import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Keeps one listener's slow, idle and surplus clients from holding it: closes a connection that sends no complete
/// request head within `headerTimeout` (slowloris), one left idle between requests for `idleTimeout`, and every
/// connection beyond `maxConnections` as soon as it is accepted. Each kind of cut is logged the first time and then
/// at most once a minute, with how many happened since.
///
/// One guard per listener (the count is the listener's); use it in the listener's HTTP/1 channel:
/// ```swift
/// let limiter = ConnectionGuard(limits: configuration.connectionLimits, listener: "socket", logger: logger)
/// let http1 = HTTP1Channel(
///     responder: …, configuration: limiter.http1Configuration { [PeerCredentialsHandler(…)] })
/// ```
/// Its handler sits after the HTTP decoder, so it sees whole request heads and response ends: a request being
/// answered (a live stream) is never timed out; the gap before a kept-alive connection's next head is the idle one.
public final class ConnectionGuard: Sendable {
    /// The limits in force.
    public let limits: ConnectionLimits
    /// The listener's name in log lines (`socket`, `web`).
    public let listener: String
    let notices: LimitNotices
    private let open = Atomic<Int>(0)

    /// A guard for one listener; `minimumNoticeInterval` is how long repeated hits of one limit stay quiet in the log.
    public init(
        limits: ConnectionLimits, listener: String, logger: Logger, minimumNoticeInterval: Duration = .seconds(60)
    ) {
        self.limits = limits
        self.listener = listener
        self.notices = LimitNotices(listener: listener, logger: logger, interval: minimumNoticeInterval)
    }

    /// Connections this listener has open now (the over-cap ones it is closing are not counted).
    public var openConnections: Int { open.load(ordering: .relaxed) }

    /// A fresh handler for one accepted connection; add it after the HTTP decoder.
    public func makeHandler() -> ConnectionGuardHandler { ConnectionGuardHandler(guard: self) }

    /// Hummingbird's HTTP/1 channel configuration with `handlers` (made anew per connection) and this guard's
    /// handler; Hummingbird's own idle timeout is off, this guard's replaces it.
    public func http1Configuration(
        _ handlers: @escaping @Sendable () -> [any RemovableChannelHandler] = { [] }
    ) -> HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(additionalChannelHandlers: handlers() + [self.makeHandler()], idleTimeout: nil)
    }

    /// Counts a new connection in, or returns false when the listener is full.
    func admit() -> Bool {
        if open.wrappingAdd(1, ordering: .relaxed).newValue <= limits.maxConnections { return true }
        open.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func release() { open.wrappingSubtract(1, ordering: .relaxed) }
}

/// Which limit closed a connection.
enum ConnectionLimit: String, Sendable, CaseIterable {
    case headerTimeout = "header_timeout"
    case idleTimeout = "idle_timeout"
    case maxConnections = "max_connections"

    var message: String {
        switch self {
        case .headerTimeout: "closed a connection that sent no complete request head in time (slow client)"
        case .idleTimeout: "closed a connection left idle between requests"
        case .maxConnections: "refused a connection: the listener is at its connection limit"
        }
    }
}

/// Logs each limit's first hit, then at most once per interval with the number of hits since the last line, so a
/// flood of slow clients costs a few log lines, not one per connection.
final class LimitNotices: Sendable {
    private struct Entry {
        var lastLogged: ContinuousClock.Instant
        var unlogged: Int
    }

    private let listener: String
    private let logger: Logger
    private let interval: Duration
    private let entries = Mutex<[ConnectionLimit: Entry]>([:])

    init(listener: String, logger: Logger, interval: Duration) {
        self.listener = listener
        self.logger = logger
        self.interval = interval
    }

    /// Notes one hit of `limit` at `now`, logging it when its kind has been quiet for the interval.
    func hit(_ limit: ConnectionLimit, setting: String, now: ContinuousClock.Instant = .now) {
        let count: Int? = entries.withLock { table in
            guard var entry = table[limit] else {
                table[limit] = Entry(lastLogged: now, unlogged: 0)
                return 1
            }
            entry.unlogged += 1
            defer { table[limit] = entry }
            guard now - entry.lastLogged >= interval else { return nil }
            let count = entry.unlogged
            entry = Entry(lastLogged: now, unlogged: 0)
            return count
        }
        guard let count else { return }
        logger.notice(
            "\(limit.message)",
            metadata: [
                "listener": "\(listener)", "limit": "\(limit.rawValue)", "setting": "\(setting)",
                "count": "\(count)", "quiet_for": "\(interval)",
            ])
    }
}

/// The timers of one connection as a value: what each request part read or response end written means.
struct ConnectionTimers {
    /// A timer to (re)start, or none to run.
    enum Timer: Equatable {
        case start(ConnectionLimit)
        case stop
        case keep
    }

    private var requestsInProgress = 0
    private var isReadingRequest = false

    /// A connection opened: it has the header timeout to send its first head.
    func opened() -> Timer { .start(.headerTimeout) }

    mutating func read(_ part: HTTPRequestPart) -> Timer {
        switch part {
        case .head:
            requestsInProgress += 1
            isReadingRequest = true
            return .stop
        case .body:
            // A body that trickles is bounded by the idle timeout between its parts.
            return isReadingRequest ? .start(.idleTimeout) : .keep
        case .end:
            isReadingRequest = false
            // Answered before the body ended (an early error): idle from here.
            return requestsInProgress > 0 ? .stop : .start(.idleTimeout)
        }
    }

    mutating func wrote(_ part: HTTPResponsePart) -> Timer {
        guard case .end = part else { return .keep }
        requestsInProgress = max(0, requestsInProgress - 1)
        // Answered, and no other request waiting: the connection is idle until the next head arrives.
        return requestsInProgress == 0 && !isReadingRequest ? .start(.idleTimeout) : .keep
    }
}

/// One connection's side of a `ConnectionGuard` (made by `ConnectionGuard.makeHandler()`).
public final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private let owner: ConnectionGuard
    private var timers = ConnectionTimers()
    private var scheduled: Scheduled<Void>?
    private var isStarted = false
    private var isCounted = false

    init(guard owner: ConnectionGuard) { self.owner = owner }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) { finish() }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        apply(timers.read(unwrapInboundIn(data)), context)
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        apply(timers.wrote(unwrapOutboundIn(data)), context)
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !isStarted else { return }
        isStarted = true
        guard owner.admit() else {
            owner.notices.hit(.maxConnections, setting: "\(owner.limits.maxConnections)")
            context.close(promise: nil)
            return
        }
        isCounted = true
        apply(timers.opened(), context)
    }

    private func finish() {
        scheduled?.cancel()
        scheduled = nil
        if isCounted {
            isCounted = false
            owner.release()
        }
    }

    private func apply(_ timer: ConnectionTimers.Timer, _ context: ChannelHandlerContext) {
        switch timer {
        case .keep: return
        case .stop:
            scheduled?.cancel()
            scheduled = nil
        case .start(let limit):
            scheduled?.cancel()
            let duration = limit == .headerTimeout ? owner.limits.headerTimeout : owner.limits.idleTimeout
            let (seconds, attoseconds) = duration.components
            let delay = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
            scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
                scheduled = nil
                owner.notices.hit(limit, setting: "\(duration)")
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension ConnectionGuardHandler: Sendable {}
