import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SlotAPI
import SlotBlocking
import SlotStore

/// The long-lived responses: the event stream and slot watches, both NDJSON.
///
/// Bus messages only wake a stream up: what it sends is always read back from the durable log after the last
/// cursor it sent, so lines go out in cursor order with no gap even when two commits publish out of order.
struct StreamRoutes: Sendable {
    let service: BookingService
    let heartbeatInterval: Duration
    let bufferSize: Int
    /// How long one write may wait for a client that reads nothing before the stream is cut off.
    var stallLimit: Duration = .seconds(30)
    let pageSize = 500
    /// The slot watchers' answers and their JSON, shared by every watcher of the same query (see `SharedAnswers`).
    let sharedSlots = SharedAnswers<SharedJSON<SlotList>>()

    /// `GET /v1/events` (NDJSON), and the admin page's live feed (Server-Sent Events whose `id` is the cursor, so
    /// a browser resumes with `Last-Event-ID`).
    func events(
        since: String?, type: String?, follow: String?, channel: (any Channel)? = nil,
        framing: StreamFraming = .ndjson
    ) async throws -> Response {
        var start: Int64 = 0
        if let since, !since.isEmpty {
            guard let value = Int64(since), value >= 0 else {
                throw APIError.invalid("since", "'\(since)' is not a cursor — use a number from a previous line")
            }
            start = value
        }
        let cursor = start
        let filter = try EventFilter(type)
        let follows = follow.map { !($0 == "false" || $0 == "0") } ?? true
        let loaded = try service.loaded()
        let wire = WireMapping(zone: loaded.ruleSet.shop.timeZone)
        let store = service.store
        let clock = service.clock
        let logger = service.logger
        let interval = heartbeatInterval
        let pageSize = self.pageSize
        let stall = StallGuard(channel: channel, limit: stallLimit, logger: logger, what: "an event subscriber")
        // Subscribe before the replay so nothing committed meanwhile is missed.
        let subscription = service.bus.subscribe(bufferSize: bufferSize)

        let body = ResponseBody { writer in
            defer { subscription.cancel() }
            var last = cursor
            /// Sends every stored event after `last`; returns whether anything was sent.
            func drain(_ writer: inout any ResponseBodyWriter) async throws -> Bool {
                var sent = false
                while true {
                    let page = try await store.events(after: last, typePrefix: filter.storePrefix, limit: pageSize)
                    var buffer = ByteBuffer()
                    for event in page where filter.matches(event.type) {
                        try framing.append(wire.event(event), to: &buffer, id: event.cursor)
                    }
                    if buffer.readableBytes > 0 {
                        try await stall.write(buffer, to: &writer)
                        sent = true
                    }
                    last = page.last?.cursor ?? last
                    if page.count < pageSize { return sent }
                }
            }
            _ = try await drain(&writer)
            guard follows else {
                try await stall.finish(&writer)
                return
            }
            // Read before the timer starts, so its first tick always finds a full interval since the last write.
            var lastWrite = clock.monotonic()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try await clock.sleep(for: interval)
                        subscription.tick()
                    }
                }
                for await message in subscription.stream.cancelOnGracefulShutdown() {
                    switch message {
                    // A write counts from when it started: read after it, the clock may already have moved on by
                    // the time the client acted on the line (a test's clock did), and the next tick found no full
                    // interval since and sent no heartbeat.
                    case .events:
                        let started = clock.monotonic()
                        if try await drain(&writer) { lastWrite = started }
                    case .tick:
                        let now = clock.monotonic()
                        if now - lastWrite >= interval * 0.9 {
                            var buffer = ByteBuffer()
                            try framing.append(
                                wire.control(EventLine.heartbeatType, cursor: last, at: clock.now()), to: &buffer)
                            try await stall.write(buffer, to: &writer)
                            lastWrite = now
                        }
                    case .rulesChanged:
                        break
                    }
                }
                if subscription.overflowed {
                    logger.notice("event subscriber fell behind; cut off", metadata: ["cursor": "\(last)"])
                    var buffer = ByteBuffer()
                    let detail = "this stream fell too far behind and is closed — reconnect with since=\(last)"
                    try framing.append(
                        wire.control(EventLine.overflowType, cursor: last, at: clock.now(), detail: detail),
                        to: &buffer)
                    try await stall.write(buffer, to: &writer)
                }
                group.cancelAll()
            }
            try await stall.finish(&writer)
        }
        return Response(
            status: .ok, headers: [.contentType: framing.contentType, .cacheControl: "no-store"], body: body)
    }

    /// `GET /v1/slots?watch=true`: the answer now, then a new line each time it changes (NDJSON on the socket,
    /// Server-Sent Events `slots` on the public listener).
    func watchSlots(
        service id: String?, variant: String?, staff: String?, from: String?, to: String?, channel: (any Channel)? = nil,
        framing: StreamFraming = .ndjson
    ) async throws -> Response {
        let service = self.service
        let shared = sharedSlots
        // One computation per change for all the watchers of a query (the booking page's visitors of one day
        // watch the same one), not one each: 500 open pages made 500 slot searches of each booking.
        let key = [id, variant, staff, from, to].map { $0 ?? "\u{0}" }.joined(separator: "\u{1F}")
        return try await watch(channel: channel, framing: framing, what: "a slot watcher") {
            try await shared.answer(
                key: key, stamp: .init(generation: service.bus.generation, minute: service.clock.now() / 60)
            ) {
                let list = try await service.slots(service: id, variant: variant, staff: staff, from: from, to: to)
                return SharedJSON(value: list, json: try SlotListJSON.encode(list))
            }
        }
    }

    /// A live answer: `current()` now, then again whenever the bus says something changed (or the heartbeat
    /// interval passed: time alone changes answers such as minimum notice), sent each time it differs. A current()
    /// that throws `APIError` sends the problem and ends the stream; one that returns nil ends it quietly.
    func watch<Value: Encodable & Equatable & Sendable>(
        channel: (any Channel)?, framing: StreamFraming, what: String,
        current: @escaping @Sendable () async throws -> Value?
    ) async throws -> Response {
        let service = self.service
        let subscription = service.bus.subscribe(bufferSize: bufferSize)
        // Compute the first answer before answering, so a bad query gets its problem status.
        let first: Value?
        do {
            first = try await current()
        } catch {
            subscription.cancel()
            throw error
        }
        let interval = heartbeatInterval
        let logger = service.logger
        let clock = service.clock
        let stall = StallGuard(channel: channel, limit: stallLimit, logger: logger, what: what)
        let body = ResponseBody { writer in
            defer { subscription.cancel() }
            guard let first else {
                try await stall.finish(&writer)
                return
            }
            var previous = first
            var buffer = ByteBuffer()
            try framing.append(first, to: &buffer)
            try await stall.write(buffer, to: &writer)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try await clock.sleep(for: interval)
                        subscription.tick()
                    }
                }
                for await _ in subscription.stream.cancelOnGracefulShutdown() {
                    let answer: Value?
                    do {
                        answer = try await current()
                    } catch let error as APIError {
                        // The query stopped making sense (a reload removed the service): say why and stop.
                        var buffer = ByteBuffer()
                        try framing.append(error.problem, to: &buffer, event: "problem")
                        try await stall.write(buffer, to: &writer)
                        break
                    }
                    guard let answer else { break }
                    guard answer != previous else {
                        if let comment = framing.keepAlive {
                            try await stall.write(comment, to: &writer)
                        }
                        continue
                    }
                    previous = answer
                    var buffer = ByteBuffer()
                    try framing.append(answer, to: &buffer)
                    try await stall.write(buffer, to: &writer)
                }
                if subscription.overflowed { logger.notice("\(what) fell behind; cut off") }
                group.cancelAll()
            }
            try await stall.finish(&writer)
        }
        return Response(
            status: .ok, headers: [.contentType: framing.contentType, .cacheControl: "no-store"], body: body)
    }

    /// Appends one JSON line.
    static func append(_ value: some Encodable, to buffer: inout ByteBuffer) throws {
        buffer.writeBytes(try json(value))
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// A streamed value's JSON: a slot list through its direct writer (the same bytes; every watcher of a query
    /// writes each change, so `JSONEncoder` per watcher was a large part of a fan-out), anything else as encoded.
    static func json(_ value: some Encodable) throws -> Data {
        if let encoded = value as? any JSONWrittenOnce { return encoded.json }
        if let list = value as? SlotList { return try SlotListJSON.encode(list) }
        return try JSONCoding.encoder.encode(value)
    }
}

/// How a live answer is written: NDJSON lines (the socket), or Server-Sent Events (the public listener, which
/// browsers read with `EventSource`).
enum StreamFraming: Sendable {
    case ndjson
    /// Each value as `event: <name>` with its JSON as `data:`.
    case serverSentEvents(event: String)

    var contentType: String {
        switch self {
        case .ndjson: return APIVersion.ndjsonMediaType
        case .serverSentEvents: return "text/event-stream"
        }
    }

    /// What keeps an idle stream's proxies from closing it: an SSE comment (NDJSON streams send nothing).
    var keepAlive: ByteBuffer? {
        switch self {
        case .ndjson: return nil
        case .serverSentEvents: return ByteBuffer(string: ": keep-alive\n\n")
        }
    }

    /// Appends one value (`event` overrides the SSE event name; `id` becomes the SSE id, which a reconnecting
    /// browser sends back as `Last-Event-ID`).
    func append(_ value: some Encodable, to buffer: inout ByteBuffer, event: String? = nil, id: Int64? = nil) throws {
        switch self {
        case .ndjson:
            try StreamRoutes.append(value, to: &buffer)
        case .serverSentEvents(let name):
            if let id { buffer.writeString("id: \(id)\n") }
            // JSONEncoder writes no raw line breaks, so the value is one `data:` line.
            buffer.writeString("event: \(event ?? name)\ndata: ")
            buffer.writeBytes(try StreamRoutes.json(value))
            buffer.writeString("\n\n")
        }
    }
}

/// Cuts off a live stream whose client reads nothing: a write still waiting for the client after `limit` closes the
/// connection (a NIO timer on the channel's event loop, so a stuck write never needs the cooperative pool to end).
/// Without it such a subscriber held its handler, its buffers and its connection for good. On graceful shutdown a
/// waiting write closes the connection at once, so silent clients never delay a stop. Every write of a stream goes
/// through it, the response's end too.
struct StallGuard: Sendable {
    let channel: (any Channel)?
    let limit: Duration
    let logger: Logger
    /// Who is cut off, for the log line.
    let what: String

    func write(_ buffer: ByteBuffer, to writer: inout any ResponseBodyWriter) async throws {
        try await guarded { try await writer.write(buffer) }
    }

    /// Ends the response. The end is a write too: a stream that ends (an overflow, a shutdown) while its client reads
    /// nothing waits on it like on any line, and unguarded that wait held the connection, and a shutdown, for good.
    func finish(_ writer: inout any ResponseBodyWriter) async throws {
        try await guarded { try await writer.finish(nil) }
    }

    /// Runs one write under the stall timer and the shutdown handler.
    private func guarded(_ operation: () async throws -> Void) async throws {
        guard let channel else { return try await operation() }
        let (logger, what, limit) = (self.logger, self.what, self.limit)
        let wait = TimeAmount.nanoseconds(limit.wholeNanoseconds)
        let cut = channel.eventLoop.scheduleTask(in: wait) {
            logger.notice("\(what) read nothing for \(limit); cut off")
            channel.close(promise: nil)
        }
        defer { cut.cancel() }
        // A write still waiting when the daemon shuts down would hold the shutdown for the rest of the limit: the
        // stream ends on shutdown anyway, so a client that reads nothing is cut off at once then. Only a write can
        // wait, and only on a channel that is not writable (its buffers towards the client full); on one that is,
        // the stream's end goes out cleanly. (On the event loop, after every write handed over before it.)
        try await withGracefulShutdownHandler {
            try await operation()
        } onGracefulShutdown: {
            channel.eventLoop.execute {
                if !channel.isWritable { channel.close(promise: nil) }
            }
        }
    }
}

/// `type=` of the event stream: an exact type, or a prefix ending in `*`.
struct EventFilter: Sendable {
    var exact: String?
    var prefix: String?

    init(_ text: String?) throws(APIError) {
        guard let text, !text.isEmpty, text != "*" else { return }
        if text.hasSuffix("*") {
            prefix = String(text.dropLast())
        } else {
            exact = text
        }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        guard (prefix ?? exact ?? "").unicodeScalars.allSatisfy(allowed.contains) else {
            throw APIError.invalid("type", "'\(text)' is not an event type — e.g. booking.created or booking.*")
        }
    }

    /// The prefix the store filters by.
    var storePrefix: String? { prefix ?? exact }

    func matches(_ type: String) -> Bool {
        if let exact { return type == exact }
        if let prefix { return type.hasPrefix(prefix) }
        return true
    }
}
