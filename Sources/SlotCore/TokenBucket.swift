/// A token bucket: `capacity` requests at once, refilled at `refillPerSecond`; time is a parameter (seconds on a
/// monotonic clock), so tests drive it by hand.
public struct TokenBucket: Hashable, Sendable {
    public let capacity: Double
    public let refillPerSecond: Double
    private var tokens: Double
    private var updatedAt: Double

    /// What `take` decided.
    public enum Decision: Hashable, Sendable {
        case allowed
        /// Refused; a token is back after `retryAfterSeconds` (rounded up, at least 1).
        case refused(retryAfterSeconds: Int)
    }

    /// A full bucket at `now`.
    public init(capacity: Int, refillPerSecond: Double, now: Double) {
        precondition(capacity > 0 && refillPerSecond > 0, "a token bucket needs a capacity and a refill rate")
        self.capacity = Double(capacity)
        self.refillPerSecond = refillPerSecond
        tokens = Double(capacity)
        updatedAt = now
    }

    /// `perMinute` requests a minute, all of them allowed in a burst.
    public static func perMinute(_ perMinute: Int, now: Double) -> TokenBucket {
        TokenBucket(capacity: perMinute, refillPerSecond: Double(perMinute) / 60, now: now)
    }

    /// Takes one token if there is one.
    public mutating func take(at now: Double) -> Decision {
        refill(at: now)
        if tokens >= 1 {
            tokens -= 1
            return .allowed
        }
        let wait = (1 - tokens) / refillPerSecond
        return .refused(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
    }

    /// Whether the bucket is full again at `now` (so a limiter may forget it).
    public func isFull(at now: Double) -> Bool {
        tokens + max(0, now - updatedAt) * refillPerSecond >= capacity
    }

    private mutating func refill(at now: Double) {
        // A clock that went backwards adds nothing (monotonic clocks do not, but a test may pass anything).
        let elapsed = max(0, now - updatedAt)
        tokens = min(capacity, tokens + elapsed * refillPerSecond)
        updatedAt = max(updatedAt, now)
    }
}
