import Foundation
import Synchronization

/// Answers that many live streams need at the same moment, computed once: the watchers of one query share the
/// answer computed for the bus generation and minute they were woken in.
///
/// A slot list depends on the stored bookings and rules (every change is a bus message, so the bus generation
/// names what was committed) and on the time only through whole minutes (starts, minimum notice and horizon are
/// whole minutes), so two computations with the same query, generation and minute give the same answer. A
/// watcher woken by a message reads a generation at least as new as that message, so it never gets an answer
/// older than the change it was woken for.
final class SharedAnswers<Value: Sendable>: Sendable {
    /// When an answer was computed: the bus generation and the minute (seconds since the epoch / 60).
    struct Stamp: Hashable, Sendable {
        var generation: UInt64
        var minute: Int64
    }

    private struct Entry {
        var stamp: Stamp
        var task: Task<Value?, any Error>
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// How many queries keep an answer; beyond it the ones of older stamps are dropped.
    let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    /// The answer for `key` at `stamp`: the one being or already computed for it, else `compute()` run once for
    /// every caller that asks with the same key and stamp meanwhile. A failure is every such caller's.
    func answer(
        key: String, stamp: Stamp, compute: @escaping @Sendable () async throws -> Value?
    ) async throws -> Value? {
        let task = entries.withLock { entries -> Task<Value?, any Error> in
            if let entry = entries[key], entry.stamp == stamp { return entry.task }
            if entries.count >= capacity { entries = entries.filter { $0.value.stamp == stamp } }
            // Not a child of the first caller: it would be cancelled with that one caller's stream.
            let task = Task { try await compute() }
            entries[key] = Entry(stamp: stamp, task: task)
            return task
        }
        return try await task.value
    }

    /// How many queries hold an answer (for tests).
    var count: Int { entries.withLock { $0.count } }
}

/// A value that carries its JSON, written once for all the streams that send it.
protocol JSONWrittenOnce {
    /// The value's JSON, as `StreamRoutes.json` would write it.
    var json: Data { get }
}

/// A shared answer with its JSON: equal when the values are (a stream sends an answer only when it changed).
struct SharedJSON<Value: Encodable & Equatable & Sendable>: Encodable, Equatable, Sendable, JSONWrittenOnce {
    let value: Value
    let json: Data

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.value == rhs.value }

    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
