import Hummingbird
import Logging
import NIOHTTPTypes
import SlotProviders
import Synchronization
import Testing

@testable import SlotServer

/// The pure parts of the connection guard: its timers, its log throttle and the `server:` section.
@Suite("connection guard")
struct ConnectionGuardTests {
    private static let head = HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/"))
    private static let responseHead = HTTPResponsePart.head(HTTPResponse(status: .ok))

    @Test("a connection has the header timeout for its first head, none while answered, then the idle timeout")
    func timersOfAKeptAliveConnection() {
        var timers = ConnectionTimers()
        #expect(timers.opened() == .start(.headerTimeout))
        #expect(timers.read(Self.head) == .stop)
        #expect(timers.read(.end(nil)) == .stop)
        // A long answer (a live stream) runs with no timer at all.
        #expect(timers.wrote(Self.responseHead) == .keep)
        #expect(timers.wrote(.body(.init())) == .keep)
        #expect(timers.wrote(.end(nil)) == .start(.idleTimeout))
        #expect(timers.read(Self.head) == .stop, "the next request stops the idle timer")
    }

    @Test("a trickling body restarts the idle timer per part; an early answer leaves the rest of the body idle-timed")
    func timersOfABody() {
        var timers = ConnectionTimers()
        _ = timers.opened()
        _ = timers.read(Self.head)
        #expect(timers.read(.body(.init())) == .start(.idleTimeout))
        #expect(timers.read(.body(.init())) == .start(.idleTimeout))
        #expect(timers.wrote(.end(nil)) == .keep, "still reading the body")
        #expect(timers.read(.end(nil)) == .start(.idleTimeout))
    }

    @Test("pipelined requests keep the connection busy until the last answer")
    func timersOfPipelinedRequests() {
        var timers = ConnectionTimers()
        _ = timers.opened()
        _ = timers.read(Self.head)
        _ = timers.read(.end(nil))
        _ = timers.read(Self.head)
        _ = timers.read(.end(nil))
        #expect(timers.wrote(.end(nil)) == .keep)
        #expect(timers.wrote(.end(nil)) == .start(.idleTimeout))
    }

    @Test("each limit is logged on its first hit, then once per interval with the hits since")
    func noticesAreThrottled() {
        let lines = CapturedLines()
        let logger = Logger(label: "test") { _ in CapturingHandler(lines: lines) }
        let notices = LimitNotices(listener: "socket", logger: logger, interval: .seconds(60))
        let start = ContinuousClock.now
        for second in 0..<5 { notices.hit(.headerTimeout, setting: "1s", now: start + .seconds(second)) }
        notices.hit(.maxConnections, setting: "3", now: start + .seconds(5))
        #expect(lines.texts.count == 2, "one line per limit, not per connection: \(lines.texts)")
        #expect(lines.texts.first?.contains("count=1") == true)
        notices.hit(.headerTimeout, setting: "1s", now: start + .seconds(61))
        #expect(lines.texts.count == 3)
        #expect(lines.texts.last?.contains("count=5") == true, "the four quiet hits and this one: \(lines.texts)")
        #expect(lines.texts.last?.contains("limit=header_timeout") == true)
    }

    @Test("the server section of slotd.yaml reads durations and a count")
    func parsesTheServerSection() throws {
        let text = "server:\n  header_timeout: 2s\n  idle_timeout: 500ms\n  max_connections: 7\n"
        let configuration = try ConfigurationFile.parse(
            text, file: "slotd.yaml", relativeTo: "/tmp", over: .development(directory: "/tmp"))
        #expect(
            configuration.connectionLimits
                == ConnectionLimits(headerTimeout: .seconds(2), idleTimeout: .milliseconds(500), maxConnections: 7))
    }

    @Test(
        "bad server settings are refused with their line",
        arguments: [
            ("header_timeout: -1s", "slotd.yaml:2:19: `header_timeout` must be a positive duration"),
            ("header_timeout: 0", "slotd.yaml:2:19: `header_timeout` must be a positive duration"),
            ("idle_timeout: soon", "slotd.yaml:2:17: `idle_timeout` must be a positive duration"),
            ("max_connections: 0", "slotd.yaml:2:20: `max_connections` must be a whole number from 1"),
            ("max_connections: many", "slotd.yaml:2:20: `max_connections` must be a whole number from 1"),
            ("max_conections: 5", "slotd.yaml:2:3: unknown key 'max_conections' in `server`"),
        ])
    func refusesBadSettings(line: String, expected: String) {
        do {
            _ = try ConfigurationFile.parse(
                "server:\n  \(line)\n", file: "slotd.yaml", relativeTo: "/tmp", over: .development(directory: "/tmp"))
            Issue.record("accepted \(line)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }
}

/// Log lines captured by `CapturingHandler`, message and metadata as `key=value`.
private final class CapturedLines: Sendable {
    private let storage = Mutex<[String]>([])
    var texts: [String] { storage.withLock { $0 } }
    func append(_ line: String) { storage.withLock { $0.append(line) } }
}

private struct CapturingHandler: LogHandler {
    let lines: CapturedLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        lines.append(([event.message.description] + fields).joined(separator: " "))
    }
}
