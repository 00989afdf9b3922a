import Foundation
import SlotCore
import Synchronization

/// Who a request on the public listener comes from: the TCP peer, or — only when that peer is a configured trusted
/// proxy — the nearest untrusted address in `X-Forwarded-For` (read from the right, so a client cannot forge it
/// by sending the header itself).
enum ClientAddress {
    static func resolve(peer: String?, forwardedFor: [String], trustedProxies: Set<String>) -> String {
        guard let peer else { return "unknown" }
        guard trustedProxies.contains(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        for hop in hops.reversed() where !trustedProxies.contains(hop) {
            return isIPAddress(hop) ? hop : peer
        }
        return hops.first.flatMap { isIPAddress($0) ? $0 : nil } ?? peer
    }

    /// Whether `text` is an IPv4 or IPv6 address.
    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}

/// Per-client token buckets (`TokenBucket`) keyed by address; full buckets are forgotten so memory stays bounded by
/// the clients of the last minute.
final class RateLimiter: Sendable {
    private let perMinute: Int
    private let now: @Sendable () -> Double
    private let buckets = Mutex<[String: TokenBucket]>([:])

    init(perMinute: Int, now: @escaping @Sendable () -> Double) {
        self.perMinute = perMinute
        self.now = now
    }

    /// Takes a token for `client`.
    func take(_ client: String) -> TokenBucket.Decision {
        let time = now()
        return buckets.withLock { buckets in
            if buckets.count > 10_000 { buckets = buckets.filter { !$0.value.isFull(at: time) } }
            var bucket = buckets[client] ?? .perMinute(perMinute, now: time)
            let decision = bucket.take(at: time)
            buckets[client] = bucket
            return decision
        }
    }
}
