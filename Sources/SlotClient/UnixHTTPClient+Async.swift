import Foundation

// The async face of the client. Each call blocks a thread of its own, never one of Swift's cooperative pool: the
// pool has about one thread per core, and the daemon under test (or any other async code) needs them. Dispatch's
// global queues are no way out either: on Linux they are limited to about one thread a core as well.
extension UnixHTTPClient {
    /// Sends one request and reads the whole response on a thread of its own.
    public func request(
        _ method: String, _ target: String, body: Data? = nil, headers: [String: String] = [:]
    ) async throws(TransportError) -> HTTPResponse {
        try await onThreadOfItsOwn { () throws(TransportError) in
            try send(method, target, body: body, headers: headers)
        }
    }

    /// The same request, blocking the calling thread: for a thread that is already off the pool (a stream's
    /// reader, in `lines`' `afterFirstLine`).
    public func requestOnThisThread(
        _ method: String, _ target: String, body: Data? = nil, headers: [String: String] = [:]
    ) throws(TransportError) -> HTTPResponse {
        try send(method, target, body: body, headers: headers)
    }

    /// Opens a streaming GET and reads its first `count` non-empty lines, then closes; fewer when the body ends
    /// first. `afterFirstLine` runs on the reader's thread once the first line is in, before more is read: a caller
    /// acts after the stream has answered, instead of sleeping and hoping it has. The response's body is the lines
    /// read, joined by newlines; each read waits at most `timeout` seconds.
    public func lines(
        _ target: String, count: Int, timeout: Double = 10,
        afterFirstLine: (@Sendable () throws -> Void)? = nil
    ) async throws -> (HTTPResponse, [String]) {
        try await onThreadOfItsOwn { () throws -> (HTTPResponse, [String]) in
            let stream = try openLines(target, timeout: timeout)
            defer { stream.close() }
            var lines: [String] = []
            while lines.count < count, let line = try stream.nextOnThisThread() {
                lines.append(line)
                if lines.count == 1 { try afterFirstLine?() }
            }
            var response = stream.head
            response.body = Data(lines.joined(separator: "\n").utf8)
            return (response, lines)
        }
    }

    /// Opens a streaming GET on a thread of its own, to read its lines one by one with `next()`.
    public func openLines(_ target: String, timeout: Double? = nil) async throws(TransportError) -> LineStream {
        try await onThreadOfItsOwn { () throws(TransportError) in try openLines(target, timeout: timeout) }
    }
}

extension LineStream {
    /// The next non-empty line, read on a thread of its own; nil when the server ended the stream.
    public func next() async throws(TransportError) -> String? {
        try await onThreadOfItsOwn { [self] () throws(TransportError) in try nextOnThisThread() }
    }
}

/// Runs blocking `work` on a new thread and resumes with its result.
private func onThreadOfItsOwn<Value: Sendable, Failure: Error>(
    _ work: @escaping @Sendable () throws(Failure) -> Value
) async throws(Failure) -> Value {
    let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
        Thread {
            continuation.resume(returning: Result { () throws(Failure) in try work() })
        }.start()
    }
    return try result.get()
}
