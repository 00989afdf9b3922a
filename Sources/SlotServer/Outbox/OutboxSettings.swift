import Foundation
import SlotProviders
import SlotRules
import Yams

/// The `outbox:` section of slotd.yaml: how many jobs run at once, how long a call may take, how failures retry.
///
/// `workers` is the number of handler calls in flight at once. The jobs of one budget hold at most `workers − 1` of
/// them, so a provider that hangs leaves the others a slot; with `workers: 1` jobs run one at a time, in due order.
/// `workers: 0` runs no jobs in this daemon: for daemons sharing a PostgreSQL store with one that runs them, and for
/// measuring a request without the outbox work it causes (`Benchmarks/cpu_bench.py`).
/// Each notification provider's deliveries (`notify.send.<provider>`) are a budget; so are the other notification
/// jobs (fan-out, reminders), `payment.`, `booking.expire_hold` and `sweep.`.
///
/// ```yaml
/// outbox:
///   workers: 2            # calls at once; one provider's jobs take at most workers − 1; 0: run no jobs here
///   call_timeout: 30s     # one provider call; longer is a temporary failure
///   initial_backoff: 10s  # first retry delay cap, doubling per attempt …
///   max_backoff: 1h       # … up to this (full jitter: a random delay up to the cap)
///   max_attempts: 10      # then the job parks as failed
///   end_of_day: "23:00"   # the daily sweep, shop time
/// ```
public struct OutboxSettings: Sendable, Hashable {
    /// How many handler calls run at once; one budget's jobs hold at most `workers − 1` of them (at least one).
    /// Zero: this daemon runs no outbox jobs (another daemon on the same store does).
    public var workers = 2
    /// The longest one handler call may take; a longer one counts as a temporary failure.
    public var callTimeout: Duration = .seconds(30)
    /// The cap of the first retry's delay, in seconds (doubling per attempt).
    public var initialBackoffSeconds: Int64 = 10
    /// The largest retry delay, in seconds.
    public var maxBackoffSeconds: Int64 = 3_600
    /// Attempts before a job parks as `failed`.
    public var maxAttempts = 10
    /// The end-of-day sweep's shop-local time, minutes after midnight.
    public var endOfDayMinute = 23 * 60
    /// The longest the worker sleeps without a signal (a safety net; it also wakes at the next due time).
    public var idleWake: Duration = .seconds(60)

    public init() {}

    /// How long a claimed job stays invisible to other claims: a claimed job may wait up to one call for its
    /// handler's slot, then its own call takes up to the call timeout (after which the worker records an outcome), so
    /// only a dead worker's job becomes due again — that long after a crash.
    public var leaseSeconds: Int64 { 2 * callTimeout.components.seconds + 10 }

    /// Parses the `outbox:` mapping.
    static func parse(_ node: Node, file: String, over base: OutboxSettings) throws(ConfigurationError)
        -> OutboxSettings
    {
        func fail(_ node: Node, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
        }
        guard let mapping = node.mapping else {
            throw fail(
                node,
                "`outbox` must be a mapping (workers, call_timeout, initial_backoff, max_backoff, "
                    + "max_attempts, end_of_day)")
        }
        func count(_ value: Node, _ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let text = value.string, let number = Int(text), range.contains(number) else {
                throw fail(value, "`\(key)` must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        func seconds(_ value: Node, _ key: String) throws(ConfigurationError) -> Int64 {
            guard let text = value.string, let seconds = Self.seconds(text), seconds > 0 else {
                throw fail(value, "`\(key)` must be a positive duration like 30s, 10m or 1h")
            }
            return seconds
        }
        var settings = base
        // Each setting's mistake is reported, not only the first.
        var problems: [ConfigurationProblem] = []
        for (keyNode, value) in mapping {
            ConfigurationFile.collect(into: &problems) { () throws(ConfigurationError) in
                let key = keyNode.string ?? ""
                switch key {
                case "workers": settings.workers = try count(value, key, 0...32)
                case "max_attempts": settings.maxAttempts = try count(value, key, 1...1000)
                case "call_timeout": settings.callTimeout = .seconds(try seconds(value, key))
                case "initial_backoff": settings.initialBackoffSeconds = try seconds(value, key)
                case "max_backoff": settings.maxBackoffSeconds = try seconds(value, key)
                case "end_of_day":
                    guard let text = value.string, let minute = Self.clockMinute(text) else {
                        throw fail(value, "`end_of_day` must be a shop-local time like \"23:00\" — quote it")
                    }
                    settings.endOfDayMinute = minute
                default:
                    throw fail(
                        keyNode,
                        "unknown key '\(key)' in `outbox` — use workers, call_timeout, initial_backoff, max_backoff, "
                            + "max_attempts or end_of_day")
                }
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        if settings.maxBackoffSeconds < settings.initialBackoffSeconds {
            throw fail(node, "`max_backoff` must not be shorter than `initial_backoff`")
        }
        return settings
    }

    /// `30s`, `10m`, `1h30m`, `2d`, or plain seconds.
    static func seconds(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let plain = Int64(trimmed) { return plain }
        var total: Int64 = 0
        var digits = ""
        for character in trimmed {
            if character.isNumber {
                digits.append(character)
                continue
            }
            guard let value = Int64(digits) else { return nil }
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3_600
            case "d": total += value * 86_400
            default: return nil
            }
            digits = ""
        }
        return digits.isEmpty && !trimmed.isEmpty ? total : nil
    }

    /// `HH:MM` as minutes after midnight.
    static func clockMinute(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }
}

/// The retry schedule: exponential backoff with full jitter.
public enum OutboxBackoff {
    /// The largest delay after the `attempt`-th failed attempt (1-based): `initial × 2^(attempt−1)`, capped.
    public static func cap(attempt: Int, initial: Int64, maximum: Int64) -> Int64 {
        let exponent = min(max(0, attempt - 1), 40)
        let (grown, overflow) = initial.multipliedReportingOverflow(by: Int64(1) << exponent)
        return overflow ? maximum : min(maximum, grown)
    }

    /// The delay before the next attempt: a uniformly random whole number of seconds from 1 to the cap ("full
    /// jitter", so jobs that failed together do not retry together).
    public static func delay(
        attempt: Int, initial: Int64, maximum: Int64, using generator: inout some RandomNumberGenerator
    ) -> Int64 {
        let cap = max(1, cap(attempt: attempt, initial: initial, maximum: maximum))
        return Int64.random(in: 1...cap, using: &generator)
    }
}
