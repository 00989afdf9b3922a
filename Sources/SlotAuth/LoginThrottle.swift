/// Login attempts limited per user name and per client address: after `maxFailures` wrong attempts for a name
/// (or `maxFailuresPerAddress` from an address) within `windowSeconds`, that name (address) is locked for
/// `lockoutSeconds` after its last failure. Unknown names are counted like known ones, so a lockout tells nothing
/// about which names exist. A value: the time comes in as a parameter.
public struct LoginThrottle: Sendable {
    public enum Verdict: Sendable, Hashable {
        case allowed
        case locked(retryAfterSeconds: Int)
    }

    public var maxFailures = 5
    public var maxFailuresPerAddress = 20
    public var windowSeconds: Double = 900
    public var lockoutSeconds: Double = 300
    private var failures: [String: [Double]] = [:]

    public init() {}

    /// Whether `user` may try from `address` at `now`.
    public func check(user: String, address: String, now: Double) -> Verdict {
        let waits = [
            wait(key: "user:" + user.lowercased(), limit: maxFailures, now: now),
            wait(key: "address:" + address, limit: maxFailuresPerAddress, now: now),
        ]
        guard let longest = waits.compactMap({ $0 }).max() else { return .allowed }
        return .locked(retryAfterSeconds: max(1, Int(longest.rounded(.up))))
    }

    /// Counts a wrong attempt.
    public mutating func recordFailure(user: String, address: String, now: Double) {
        if failures.count > 10_000 {
            failures = failures.filter { ($0.value.last ?? 0) > now - max(windowSeconds, lockoutSeconds) }
        }
        let keys = [("user:" + user.lowercased(), maxFailures), ("address:" + address, maxFailuresPerAddress)]
        for (key, limit) in keys {
            var times = failures[key, default: []].filter { $0 > now - windowSeconds }
            times.append(now)
            failures[key] = Array(times.suffix(limit))
        }
    }

    /// A good login clears the user's count (not the address's: one good account must not unlock guessing).
    public mutating func recordSuccess(user: String) { failures["user:" + user.lowercased()] = nil }

    private func wait(key: String, limit: Int, now: Double) -> Double? {
        let recent = (failures[key] ?? []).filter { $0 > now - windowSeconds }
        guard recent.count >= limit, let last = recent.last else { return nil }
        let remaining = last + lockoutSeconds - now
        return remaining > 0 ? remaining : nil
    }
}
