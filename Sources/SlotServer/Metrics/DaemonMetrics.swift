import Foundation
import Hummingbird
import SlotBlocking
import Synchronization

/// The daemon's in-process counters: HTTP requests by route pattern, their latency, and rule reloads.
///
/// Written by hand in the Prometheus text format (`PrometheusText`): a handful of counters does not need a metrics
/// package. Gauges read from the store (bookings, outbox) are gathered when `/v1/metrics` is scraped.
public final class DaemonMetrics: Sendable {
    /// One series of `slotd_http_requests_total`.
    struct RequestKey: Hashable, Sendable, Comparable {
        var route: String
        var method: String
        var status: Int

        static func < (a: RequestKey, b: RequestKey) -> Bool {
            (a.route, a.method, a.status) < (b.route, b.method, b.status)
        }
    }

    /// A cumulative histogram with fixed upper bounds (seconds).
    struct Histogram: Sendable, Equatable {
        var bounds: [Double]
        /// Per bucket (not cumulative), plus one for +Inf at the end.
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0

        init(bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count + 1)
        }

        mutating func observe(_ value: Double) {
            let index = bounds.firstIndex { value <= $0 } ?? bounds.count
            counts[index] += 1
            sum += value
            count += 1
        }

        /// `(le, cumulative count)` pairs, ending with `+Inf`.
        var cumulative: [(String, UInt64)] {
            var running: UInt64 = 0
            var result: [(String, UInt64)] = []
            for (index, bound) in bounds.enumerated() {
                running += counts[index]
                result.append((PrometheusText.number(bound), running))
            }
            result.append(("+Inf", count))
            return result
        }
    }

    /// Latency buckets from 1 ms to 10 s: a socket round trip is ~50 µs, a slow disk sync a few ms.
    static let latencyBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct State: Sendable {
        var requests: [RequestKey: UInt64] = [:]
        var latency: [String: Histogram] = [:]
        var reloads: [String: UInt64] = [:]
        var rejections: UInt64 = 0
        var conflictEvents: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts one answered request (route is the pattern, like `/v1/bookings/{id}`).
    func recordRequest(route: String, method: String, status: Int, seconds: Double) {
        state.withLock { state in
            state.requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            state.latency[route, default: Histogram(bounds: Self.latencyBounds)].observe(seconds)
        }
    }

    /// Counts a reload that swapped in new rules (or found them unchanged), by what triggered it.
    func recordReload(trigger: String) { state.withLock { $0.reloads[trigger, default: 0] += 1 } }

    /// Counts a rejected rule set.
    func recordRejection() { state.withLock { $0.rejections += 1 } }

    /// Counts `booking.conflicts_rules` events written.
    func recordConflicts(_ count: Int) { state.withLock { $0.conflictEvents += UInt64(count) } }

    var snapshot: State { state.withLock { $0 } }
}

/// Everything `/v1/metrics` shows at one scrape: the counters and the gauges read for it.
struct MetricsSnapshot: Sendable {
    var counters: DaemonMetrics.State
    var bookingsByState: [String: Int]
    var outboxByState: [String: Int]
    var subscribers: Int
    var uptimeSeconds: Int64
    var startedAt: Int64
    var version: String
    var rulesVersion: String
    var rulesLoadedAt: Int64
}

/// The Prometheus text exposition format (version 0.0.4), written by hand.
enum PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Every booking state and outbox state, so a series exists (at 0) before the first of its kind.
    static let bookingStates = ["held", "confirmed", "completed", "no_show", "cancelled", "expired"]
    static let outboxStates = ["pending", "done", "failed"]

    static func render(_ snapshot: MetricsSnapshot) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)] = [], _ value: String) {
            out += name + labelText(labels) + " " + value + "\n"
        }

        family("slotd_build_info", "gauge", "The running slotd's version (value is always 1).")
        sample("slotd_build_info", [("version", snapshot.version)], "1")
        family("slotd_start_time_seconds", "gauge", "When slotd started, in seconds since the epoch.")
        sample("slotd_start_time_seconds", [], String(snapshot.startedAt))
        family("slotd_uptime_seconds", "gauge", "Seconds since slotd started.")
        sample("slotd_uptime_seconds", [], String(snapshot.uptimeSeconds))

        let counters = snapshot.counters
        family("slotd_http_requests_total", "counter", "HTTP requests answered, by route pattern, method and status.")
        for (key, count) in counters.requests.sorted(by: { $0.key < $1.key }) {
            sample(
                "slotd_http_requests_total",
                [("route", key.route), ("method", key.method), ("status", String(key.status))], String(count))
        }
        family(
            "slotd_http_request_duration_seconds", "histogram",
            "Time from request to response head, by route pattern (streams count until their head).")
        for (route, histogram) in counters.latency.sorted(by: { $0.key < $1.key }) {
            for (bound, count) in histogram.cumulative {
                sample("slotd_http_request_duration_seconds_bucket", [("route", route), ("le", bound)], String(count))
            }
            sample("slotd_http_request_duration_seconds_sum", [("route", route)], number(histogram.sum))
            sample("slotd_http_request_duration_seconds_count", [("route", route)], String(histogram.count))
        }

        family("slotd_bookings", "gauge", "Bookings in the database, by state.")
        let bookingStates = Set(bookingStates).union(snapshot.bookingsByState.keys).sorted()
        for state in bookingStates {
            sample("slotd_bookings", [("state", state)], String(snapshot.bookingsByState[state] ?? 0))
        }
        family("slotd_outbox_jobs", "gauge", "Outbox jobs, by state (failed ones wait for a retry by hand).")
        let outboxStates = Set(outboxStates).union(snapshot.outboxByState.keys).sorted()
        for state in outboxStates {
            sample("slotd_outbox_jobs", [("state", state)], String(snapshot.outboxByState[state] ?? 0))
        }
        family("slotd_outbox_failed_jobs", "gauge", "Outbox jobs that failed for good.")
        sample("slotd_outbox_failed_jobs", [], String(snapshot.outboxByState["failed"] ?? 0))

        family("slotd_rule_reloads_total", "counter", "Rule reloads that loaded valid rules, by trigger.")
        for trigger in Set(["start", "signal", "api", "watch"]).union(counters.reloads.keys).sorted() {
            sample("slotd_rule_reloads_total", [("trigger", trigger)], String(counters.reloads[trigger] ?? 0))
        }
        family("slotd_rule_rejections_total", "counter", "Rule reloads rejected (the old rules kept serving).")
        sample("slotd_rule_rejections_total", [], String(counters.rejections))
        family("slotd_rule_conflict_events_total", "counter", "booking.conflicts_rules events written after reloads.")
        sample("slotd_rule_conflict_events_total", [], String(counters.conflictEvents))
        family("slotd_rules_info", "gauge", "The rules in force (value is always 1).")
        sample("slotd_rules_info", [("version", snapshot.rulesVersion)], "1")
        family("slotd_rules_loaded_time_seconds", "gauge", "When the rules in force were loaded.")
        sample("slotd_rules_loaded_time_seconds", [], String(snapshot.rulesLoadedAt))

        family("slotd_event_subscribers", "gauge", "Live event stream and slot watch subscribers.")
        sample("slotd_event_subscribers", [], String(snapshot.subscribers))
        return out
    }

    /// `{a="1",b="2"}` with values escaped (backslash, quote, newline), or nothing without labels.
    static func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// A float the way Prometheus clients write it: integers without a fraction, no exponent for small values.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// Records every answered request in `DaemonMetrics` by its route pattern (never the raw path, so ids do not
/// explode the series); runs outside `ProblemMiddleware`, so a problem's status is what is counted.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: DaemonMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: status, since: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let seconds = elapsed.inSeconds
        // The router's pattern (`/v1/bookings/{id}`); every unmatched path is one series, whatever was asked.
        let pattern = context.endpointPath ?? "NotFound"
        let route = pattern == "NotFound" ? "unmatched" : pattern
        metrics.recordRequest(route: route, method: request.method.rawValue, status: status, seconds: seconds)
    }
}
