import SlotProviders
import Yams

/// How long a listener waits on slow and idle clients and how many it serves at once (the `server:` section).
///
/// ```yaml
/// server:
///   header_timeout: 10s    # a new connection must send a complete request head within this
///   idle_timeout: 30s      # a kept-alive connection with no request in progress is closed after this
///   max_connections: 512   # connections open at once per listener; more are accepted and closed at once
///   stream_stall_limit: 30s  # a live stream whose client reads nothing for this long is cut off
/// ```
/// A request being answered (a live event stream, a slot watch) is never cut by either timeout; a stream is cut
/// only when a write to it has waited `stream_stall_limit` for its client to read.
public struct ConnectionLimits: Sendable, Hashable {
    /// How long a new connection may take to send its first complete request head.
    public var headerTimeout: Duration = .seconds(10)
    /// How long a connection may stay open with no request in progress (also bounds the gaps in a request body and
    /// the head of a kept-alive connection's next request).
    public var idleTimeout: Duration = .seconds(30)
    /// How many connections one listener serves at once; each holds a descriptor and some memory.
    public var maxConnections = 512
    /// How long a write to a live stream (events, a slot watch) may wait for its client to read before the stream
    /// is cut off.
    public var streamStallLimit: Duration = .seconds(30)

    public init(
        headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(30), maxConnections: Int = 512,
        streamStallLimit: Duration = .seconds(30)
    ) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.streamStallLimit = streamStallLimit
    }

    /// The largest `max_connections` accepted: beyond it the process runs out of descriptors first.
    static let connectionCeiling = 1_000_000

    /// Parses the `server:` mapping over `base`, reporting every mistake with its line.
    static func parse(_ node: Node, file: String, over base: ConnectionLimits) throws(ConfigurationError)
        -> ConnectionLimits
    {
        func fail(_ node: Node, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
        }
        guard let mapping = node.mapping else {
            throw fail(
                node, "`server` must be a mapping (header_timeout, idle_timeout, max_connections, stream_stall_limit)")
        }
        func timeout(_ value: Node, _ key: String) throws(ConfigurationError) -> Duration {
            guard let text = value.string, let duration = ProviderSettings.parseDuration(text), duration > .zero
            else {
                throw fail(
                    value, "`\(key)` must be a positive duration like 10s, 500ms or 2m (got '\(value.string ?? "")')")
            }
            return duration
        }
        var limits = base
        var problems: [ConfigurationProblem] = []
        for (keyNode, value) in mapping {
            ConfigurationFile.collect(into: &problems) { () throws(ConfigurationError) in
                let key = keyNode.string ?? ""
                switch key {
                case "header_timeout": limits.headerTimeout = try timeout(value, key)
                case "idle_timeout": limits.idleTimeout = try timeout(value, key)
                case "stream_stall_limit": limits.streamStallLimit = try timeout(value, key)
                case "max_connections":
                    guard let text = value.string, let count = Int(text), (1...connectionCeiling).contains(count)
                    else {
                        throw fail(
                            value,
                            "`max_connections` must be a whole number from 1 to \(connectionCeiling) "
                                + "(got '\(value.string ?? "")')")
                    }
                    limits.maxConnections = count
                default:
                    throw fail(
                        keyNode,
                        "unknown key '\(key)' in `server` — use header_timeout, idle_timeout, max_connections or "
                            + "stream_stall_limit")
                }
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return limits
    }
}
