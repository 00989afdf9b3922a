import Testing

@testable import SlotBlocking

@Suite("blocking work off the pool, and durations in plain units")
struct BlockingWorkTests {
    @Test("work handed to run executes outside any task and returns its value")
    func runLeavesTheTask() async throws {
        #expect(BlockingWork.isInsideTask)
        let wasInsideTask = await BlockingWork.run { BlockingWork.isInsideTask }
        #expect(!wasInsideTask)
    }

    @Test("an error thrown by the work reaches the caller as is")
    func runRethrows() async {
        struct Refused: Error, Equatable {}
        await #expect(throws: Refused()) {
            try await BlockingWork.run { () throws(Refused) -> Int in throw Refused() }
        }
    }

    @Test(
        "durations convert to seconds, milliseconds and nanoseconds, rounding down",
        arguments: [
            (Duration.seconds(2), 2.0, Int64(2_000), Int64(2_000_000_000)),
            (.milliseconds(1_500), 1.5, 1_500, 1_500_000_000),
            (.microseconds(999), 0.000_999, 0, 999_000),
            (.nanoseconds(1), 0.000_000_001, 0, 1),
            (.zero, 0, 0, 0),
        ])
    func units(duration: Duration, seconds: Double, milliseconds: Int64, nanoseconds: Int64) {
        #expect(abs(duration.inSeconds - seconds) < 1e-12)
        #expect(duration.wholeMilliseconds == milliseconds)
        #expect(duration.wholeNanoseconds == nanoseconds)
    }
}
