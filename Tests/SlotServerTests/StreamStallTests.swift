import Foundation
import SlotBlocking
import Testing

@testable import SlotServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite("live streams and clients that read nothing")
struct StreamStallTests {
    // Every test here runs in the normal suite. The subscriber test once took twenty subscribers and hundreds of
    // small events (about 10 s alone), and beside it three outbox tests bounded at 120 s failed in whole-suite runs
    // at a load average of 20–25, starved of pool time, so it was opt-in (`SLOTD_STALL_STRESS`); it now fills the
    // buffers with a few large events towards fewer subscribers: the same check at a fraction of the cost (issue 15).

    /// A client that asks for `target` and never reads the answer (a 4 KiB receive buffer fills at once).
    static func silentClient(_ socketPath: String, _ target: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var size: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.prefix(107).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(connected == 0)
        let head = Array("GET \(target) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        try #require(send(fd, head, head.count, Int32(MSG_NOSIGNAL)) == head.count)
        return fd
    }

    /// How many bytes wait unread in the client's receive queue (at most 64 KiB counted), read without taking them.
    static func unreadBytes(_ fd: Int32) async -> Int {
        await BlockingWork.run {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            return max(0, recv(fd, &buffer, buffer.count, Int32(MSG_PEEK | MSG_DONTWAIT)))
        }
    }

    /// Reads until the server closes the connection; false when it is still open after `seconds`. The reads block,
    /// so they run off the cooperative pool: a test blocking a pool thread would stall the daemon under test and
    /// every test running beside it.
    static func readsToEnd(_ fd: Int32, seconds: Int) async -> Bool {
        await BlockingWork.run { readsToEndBlocking(fd, seconds: seconds) }
    }

    private static func readsToEndBlocking(_ fd: Int32, seconds: Int) -> Bool {
        var limit = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    @Test("a slot watcher that reads nothing is cut off once a write waits past the limit; the daemon serves on")
    func silentWatcherIsCutOff() async throws {
        // A 5-minute grid: a 90-day watch of one barber answers ~800 kB a line, and each booking of hers sends
        // another, so a few lines fill every buffer between the daemon and a client that reads nothing.
        let rules = TestDaemon.rules.replacingOccurrences(of: "slot_step: 30m", with: "slot_step: 5m")
            .replacingOccurrences(of: "horizon: 60d", with: "horizon: 120d")
        let test = try await TestDaemon(rules: rules, configure: { $0.connectionLimits.streamStallLimit = .milliseconds(300) })
        let bus = test.daemon.service.bus
        let socketPath = test.directory + "/slotd.sock"
        // (The event stream's lines are small, so a silent subscriber reaches the same `StallGuard` far later.)
        let watcher = try Self.silentClient(
            socketPath, "/v1/slots?service=haircut&staff=alice&from=2030-01-07&to=2030-04-06&watch=true")
        defer { close(watcher) }
        // The stream is live once the bus has its subscription (bounded: a stream that never starts fails).
        let started = ContinuousClock.now
        while bus.subscriberCount < 1 {
            try #require(ContinuousClock.now - started < .seconds(20), "the streams did not start")
            await Task.yield()
        }
        // Booking on while the watch lives: each change is another line, and once the daemon's buffers are full a
        // write waits for the client, which never reads.
        var booked = 0
        for day in 7...31 {
            for hour in 9...16 where bus.subscriberCount > 0 {
                let start = String(format: "2030-01-%02dT%02d:00", day, hour)
                let answer = try await test.client.post("/v1/bookings", json: TestDaemon.booking(start: start))
                if answer.status == 201 { booked += 1 }
            }
        }
        #expect(booked > 0)
        #expect(bus.subscriberCount == 0, "the watch ended after \(booked) bookings")
        #expect(await Self.readsToEnd(watcher, seconds: 20), "the daemon closed the silent watcher's connection")
        #expect(try await test.client.get("/_ping").status == 200, "and still serves")
        try await test.stop()
    }

    @Test("event subscribers that read nothing are all cut off at once; the daemon serves on")
    func manySilentSubscribersAreCutOff() async throws {
        // A small subscriber buffer and a short stall limit, so the cut comes after a few events. A stream that ends
        // with `overflow` before its writes stall leaves a kept-alive connection: the idle timeout closes it.
        let test = try await TestDaemon(
            bufferSize: 8,
            configure: {
                $0.connectionLimits.streamStallLimit = .milliseconds(300)
                $0.connectionLimits.idleTimeout = .seconds(1)
            })
        let bus = test.daemon.service.bus
        let socketPath = test.directory + "/slotd.sock"
        let subscribers = try (0..<8).map { _ in try Self.silentClient(socketPath, "/v1/events") }
        defer { subscribers.forEach { close($0) } }
        let started = ContinuousClock.now
        while bus.subscriberCount < subscribers.count {
            try #require(ContinuousClock.now - started < .seconds(20), "the streams did not start")
            await Task.yield()
        }
        // Book and cancel one start over and over: two events a cycle, to every subscriber, until the daemon's
        // buffers towards them are full and each is cut off. Each cancellation's reason is 16 KiB, so a few dozen
        // cycles fill what hundreds of small events did (bounded: 2,000 cycles are far more than needed).
        let cancel = #"{"reason": "\#(String(repeating: "r", count: 16_384))"}"#
        var cycles = 0
        while bus.subscriberCount > 0, cycles < 2_000 {
            let booked = try await test.client.post("/v1/bookings", json: TestDaemon.booking())
            try #require(booked.status == 201, "booking \(cycles): \(booked.status)")
            let id = try #require(booked.json["id"] as? String)
            #expect(try await test.client.post("/v1/bookings/\(id)/cancel", json: cancel).status == 200)
            cycles += 1
            if cycles % 10 == 0 {
                #expect(try await test.client.get("/_ping").status == 200, "the daemon answers meanwhile")
            }
        }
        #expect(bus.subscriberCount == 0, "every subscriber let go after \(cycles) cycles")
        for (number, fd) in subscribers.enumerated() {
            #expect(await Self.readsToEnd(fd, seconds: 10), "subscriber \(number + 1)'s connection was closed")
        }
        #expect(try await test.client.get("/_ping").status == 200, "and still serves")
        try await test.stop()
    }

    @Test("a slot watcher that reads nothing does not hold up a graceful shutdown")
    func silentWatcherDoesNotDelayShutdown() async throws {
        // A stall limit far past the bound below: only the shutdown can end the waiting write in time.
        let rules = TestDaemon.rules.replacingOccurrences(of: "slot_step: 30m", with: "slot_step: 5m")
            .replacingOccurrences(of: "horizon: 60d", with: "horizon: 120d")
        let test = try await TestDaemon(rules: rules, configure: { $0.connectionLimits.streamStallLimit = .seconds(120) })
        let bus = test.daemon.service.bus
        let watcher = try Self.silentClient(
            test.directory + "/slotd.sock",
            "/v1/slots?service=haircut&staff=alice&from=2030-01-07&to=2030-02-05&watch=true")
        defer { close(watcher) }
        let started = ContinuousClock.now
        while bus.subscriberCount < 1 {
            try #require(ContinuousClock.now - started < .seconds(20), "the watch did not start")
            await Task.yield()
        }
        // A 30-day answer on a 5-minute grid is a ~270 kB line, past every buffer towards a client that reads
        // nothing; a booking sends another. (Kept small: each line is computed on the shared cooperative pool.)
        let answer = try await test.client.post("/v1/bookings", json: TestDaemon.booking(start: "2030-01-07T09:00"))
        #expect(answer.status == 201)
        let stopping = ContinuousClock.now
        try await test.stop()
        #expect(ContinuousClock.now - stopping < .seconds(15), "stopped without waiting for the silent watcher")
        #expect(await Self.readsToEnd(watcher, seconds: 10), "its connection was closed")
    }

    @Test("a shutdown between the lines of a slot watcher that reads nothing ends its stream and stops at once")
    func silentWatcherBetweenLinesDoesNotHoldShutdown() async throws {
        // The stream ends on shutdown, with its last write still queued towards a client that reads nothing: the
        // end of the response waited on it, unguarded, and the shutdown with it, for good (issue 15).
        let rules = TestDaemon.rules.replacingOccurrences(of: "slot_step: 30m", with: "slot_step: 5m")
            .replacingOccurrences(of: "horizon: 60d", with: "horizon: 120d")
        let test = try await TestDaemon(rules: rules, configure: { $0.connectionLimits.streamStallLimit = .seconds(120) })
        // A 60-day answer on a 5-minute grid is a ~540 kB line: past the socket's buffer and NIO's high-water mark,
        // so once its first bytes arrive the channel is no longer writable.
        let watcher = try Self.silentClient(
            test.directory + "/slotd.sock",
            "/v1/slots?service=haircut&staff=alice&from=2030-01-07&to=2030-03-07&watch=true")
        defer { close(watcher) }
        let started = ContinuousClock.now
        while await Self.unreadBytes(watcher) < 16_384 {
            try #require(ContinuousClock.now - started < .seconds(60), "the watch's first line did not come")
            await Task.yield()
        }
        let stopping = ContinuousClock.now
        // Bounded (`returns(within:)`, OutboxWorkerTests): before the fix the stop never returned.
        let stopped = await returns(within: .seconds(30)) {
            do { try await test.stop() } catch { Issue.record(error, "the daemon's run ended with an error") }
        }
        #expect(stopped, "the daemon stopped (a stream's end waiting on a silent client held it)")
        #expect(ContinuousClock.now - stopping < .seconds(15), "stopped without waiting for the silent watcher")
        #expect(await Self.readsToEnd(watcher, seconds: 10), "its connection was closed")
    }
}
