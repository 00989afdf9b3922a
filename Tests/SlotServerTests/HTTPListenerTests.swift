import Foundation
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle
import SlotBlocking
import SlotClient
import Testing

@testable import SlotServer

/// The daemon's own HTTP server: where a connection's work runs, the `Date` header. (The bound socket's mode is
/// checked by the integration tests: the umask it sets is process-wide, so a test here would race the others' binds.)
@Suite("HTTP listener")
struct HTTPListenerTests {
    /// Runs a listener on a fresh Unix socket with `router` until `body` returns, then shuts it down gracefully.
    private static func serving(
        _ router: Router<BasicRequestContext>,
        _ body: (_ client: UnixHTTPClient, _ path: String) async throws -> Void
    ) async throws {
        let directory = "/tmp/slotd-listener-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/s.sock"
        let listening = Readiness()
        let listener = HTTPListener(
            address: .unixSocket(path: path, mode: 0o600), router: router,
            configuration: .init(), logger: Logger(label: "listener-test"))
        let group = ServiceGroup(
            configuration: .init(
                services: [ListenerService(listener: listener, listening: listening)],
                logger: Logger(label: "listener-test")))
        let run = Task { try await group.run() }
        try await listening.wait()
        do {
            try await body(UnixHTTPClient(socketPath: path, timeout: 60), path)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await run.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await run.value
    }

    private struct ListenerService: Service {
        let listener: HTTPListener<BasicRequestContext>
        let listening: Readiness

        func run() async throws {
            try await listener.run { listening.markReady() }
        }
    }

    @Test("a request is handled on its connection's event loop, and stays there across awaits that resume elsewhere")
    func handlerRunsOnTheConnectionsEventLoop() async throws {
        let router = Router()
        router.get("where") { _, _ -> String in
            func loop() -> String {
                MultiThreadedEventLoopGroup.currentEventLoop.map { "\(ObjectIdentifier($0))" } ?? "pool"
            }
            let first = loop()
            // Resumed by another thread: BlockingWork's own, then a timer.
            let blocking = await BlockingWork.run { MultiThreadedEventLoopGroup.currentEventLoop == nil }
            let afterBlocking = loop()
            try await Task.sleep(for: .milliseconds(1))
            let afterSleep = loop()
            // An actor without an executor of its own runs on the task's preferred one.
            let inActor = await Counter().where()
            return "\(first == afterBlocking && afterBlocking == afterSleep && inActor == first) \(blocking) \(first)"
        }
        try await Self.serving(router) { client, _ in
            for _ in 0..<4 {
                let answer = String(decoding: try await client.get("/where").body, as: UTF8.self)
                let words = answer.split(separator: " ")
                #expect(words.count == 3 && words[0] == "true", "\(answer)")
                #expect(words.count == 3 && words[1] == "true", "blocking work ran off the loop: \(answer)")
                #expect(words.count == 3 && words[2] != "pool", "ran on the task pool: \(answer)")
            }
        }
    }

    private actor Counter {
        func `where`() -> String {
            MultiThreadedEventLoopGroup.currentEventLoop.map { "\(ObjectIdentifier($0))" } ?? "pool"
        }
    }

    @Test("answers carry a Date header in IMF-fixdate form")
    func dateHeader() async throws {
        #expect(HTTPDateHeader.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDateHeader.format(1_893_999_600) == "Mon, 07 Jan 2030 07:00:00 GMT")
        let cache = HTTPDateHeader()
        #expect(cache.text(at: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(cache.text(at: 1) == "Thu, 01 Jan 1970 00:00:01 GMT")
        try await Self.serving(Router()) { client, _ in
            let response = try await client.get("/none")
            let header = response.headers["date"] ?? ""
            #expect(header.hasSuffix(" GMT") && header.count == 29, "\(header)")
        }
    }
}
