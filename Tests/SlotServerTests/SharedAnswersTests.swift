import Foundation
import Synchronization
import Testing

@testable import SlotServer

/// The slot watchers' shared answers: one computation per query, bus generation and minute.
struct SharedAnswersTests {
    typealias Stamp = SharedAnswers<Int>.Stamp

    /// A computation that counts its runs and answers the run's number.
    final class Counter: Sendable {
        let runs = Mutex(0)
        func compute() async throws -> Int? { runs.withLock { $0 += 1; return $0 } }
        var count: Int { runs.withLock { $0 } }
    }

    @Test func callersWithTheSameKeyAndStampShareOneComputation() async throws {
        let shared = SharedAnswers<Int>()
        let counter = Counter()
        let stamp = Stamp(generation: 7, minute: 100)
        let answers = try await withThrowingTaskGroup(of: Int?.self) { group in
            for _ in 0..<50 {
                group.addTask { try await shared.answer(key: "q", stamp: stamp, compute: counter.compute) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counter.count == 1 && Set(answers) == [1] && answers.count == 50)
    }

    @Test func aNewGenerationMinuteOrQueryComputesAgain() async throws {
        let shared = SharedAnswers<Int>()
        let counter = Counter()
        let first = Stamp(generation: 1, minute: 10)
        func answer(_ key: String, _ stamp: Stamp) async throws -> Int? {
            try await shared.answer(key: key, stamp: stamp, compute: counter.compute)
        }
        #expect(try await answer("q", first) == 1)
        #expect(try await answer("q", first) == 1)
        #expect(try await answer("q", Stamp(generation: 2, minute: 10)) == 2)
        #expect(try await answer("q", Stamp(generation: 2, minute: 11)) == 3)
        #expect(try await answer("other", Stamp(generation: 2, minute: 11)) == 4)
    }

    @Test func aFailureReachesItsCallersAndIsNotKeptForTheNextStamp() async throws {
        struct Boom: Error {}
        let shared = SharedAnswers<Int>()
        let stamp = Stamp(generation: 1, minute: 1)
        await #expect(throws: Boom.self) { try await shared.answer(key: "q", stamp: stamp) { throw Boom() } }
        #expect(try await shared.answer(key: "q", stamp: Stamp(generation: 2, minute: 1)) { 5 } == 5)
    }

    @Test func beyondItsCapacityOnlyTheCurrentStampsAnswersStay() async throws {
        let shared = SharedAnswers<Int>(capacity: 3)
        let old = Stamp(generation: 1, minute: 1)
        for key in ["a", "b", "c"] { _ = try await shared.answer(key: key, stamp: old) { 1 } }
        #expect(shared.count == 3)
        _ = try await shared.answer(key: "d", stamp: Stamp(generation: 2, minute: 1)) { 2 }
        #expect(shared.count == 1)
    }

    @Test func aSharedJSONIsWrittenAsItsJSONAndComparedByValue() throws {
        let value = SharedJSON(value: [1, 2], json: Data("[1,2]".utf8))
        #expect(try StreamRoutes.json(value) == Data("[1,2]".utf8))
        #expect(value == SharedJSON(value: [1, 2], json: Data()))
        #expect(value != SharedJSON(value: [1], json: Data("[1,2]".utf8)))
    }
}
