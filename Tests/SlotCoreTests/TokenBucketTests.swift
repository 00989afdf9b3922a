import SlotCore
import Testing

@Suite("Token bucket on a manual clock")
struct TokenBucketTests {
    @Test("a full bucket allows a burst of its capacity, then refuses with the wait for the next token")
    func burstThenRefusal() {
        var bucket = TokenBucket.perMinute(3, now: 100)
        #expect(bucket.take(at: 100) == .allowed)
        #expect(bucket.take(at: 100) == .allowed)
        #expect(bucket.take(at: 100) == .allowed)
        // 3 a minute = one token every 20 s.
        #expect(bucket.take(at: 100) == .refused(retryAfterSeconds: 20))
        #expect(bucket.take(at: 115) == .refused(retryAfterSeconds: 5))
        #expect(bucket.take(at: 120) == .allowed)
        #expect(bucket.take(at: 120) == .refused(retryAfterSeconds: 20))
    }

    @Test("refills never exceed the capacity, and a clock going backwards adds nothing")
    func capacityAndBackwardsClock() {
        var bucket = TokenBucket(capacity: 2, refillPerSecond: 1, now: 0)
        #expect(bucket.take(at: 0) == .allowed)
        #expect(bucket.take(at: 0) == .allowed)
        #expect(bucket.take(at: -50) == .refused(retryAfterSeconds: 1))
        #expect(bucket.isFull(at: 1000))
        #expect(bucket.take(at: 1000) == .allowed)
        #expect(bucket.take(at: 1000) == .allowed)
        #expect(bucket.take(at: 1000) == .refused(retryAfterSeconds: 1))
        #expect(!bucket.isFull(at: 1000.5))
    }
}
