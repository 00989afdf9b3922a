import Foundation
import SlotClient
import Testing

@testable import SlotServer

@Suite("Rule reload debouncing")
struct ReloadDebouncerTests {
    @Test("nothing pending: no wait and no fire")
    func idle() {
        var debouncer = ReloadDebouncer(quietMilliseconds: 300)
        #expect(debouncer.wait(at: 1_000) == nil)
        let fired = debouncer.fire(at: 1_000)
        #expect(!fired)
    }

    @Test("a burst of changes (temp file, rename, close) fires once, 300 ms after the last")
    func burstIsOneReload() {
        var debouncer = ReloadDebouncer(quietMilliseconds: 300)
        var fired: [UInt64] = []
        // An editor's save: create the temp file, write it, rename over the original, then a late attribute event.
        let changes: [UInt64] = [1_000, 1_002, 1_005, 1_120]
        for now in stride(from: UInt64(1_000), through: 2_000, by: 1) {
            if changes.contains(now) { debouncer.change(at: now) }
            if debouncer.fire(at: now) { fired.append(now) }
        }
        #expect(fired == [1_420])
    }

    @Test("changes further apart than the quiet time are separate reloads")
    func separateBursts() {
        var debouncer = ReloadDebouncer(quietMilliseconds: 300)
        var fired: [UInt64] = []
        for now in stride(from: UInt64(0), through: 3_000, by: 10) {
            if now == 100 || now == 1_000 { debouncer.change(at: now) }
            if debouncer.fire(at: now) { fired.append(now) }
        }
        #expect(fired == [400, 1_300])
    }

    @Test("wait counts down to the deadline and is 0 once due")
    func waitCountsDown() {
        var debouncer = ReloadDebouncer(quietMilliseconds: 300)
        debouncer.change(at: 500)
        #expect(debouncer.wait(at: 500) == 300)
        #expect(debouncer.wait(at: 700) == 100)
        #expect(debouncer.wait(at: 900) == 0)
        let early = debouncer.fire(at: 799)
        let due = debouncer.fire(at: 800)
        #expect(!early)
        #expect(due)
        #expect(debouncer.wait(at: 801) == nil)
    }

    @Test(
        "editor droppings are ignored, rule files and calendars are not",
        arguments: [
            ("shop.yaml", true), ("holidays.ics", true), ("staff.yml", true), (".shop.yaml.swp", false),
            (".shop.yaml.swx", false), ("4913", false), ("shop.yaml~", false), (".#shop.yaml", false),
            ("#shop.yaml#", false), (".hidden.yaml", false), ("shop.yaml.tmp", false),
        ])
    func names(name: String, matters: Bool) {
        #expect(ReloadDebouncer.matters(name) == matters)
    }
}

@Suite("Prometheus text")
struct PrometheusTextTests {
    func snapshot(_ counters: DaemonMetrics.State) -> MetricsSnapshot {
        MetricsSnapshot(
            counters: counters, bookingsByState: ["confirmed": 3, "cancelled": 1], outboxByState: ["pending": 2],
            subscribers: 1, uptimeSeconds: 42, startedAt: 1_700_000_000, version: "0.3.0", rulesVersion: "abc",
            rulesLoadedAt: 1_700_000_001)
    }

    @Test("counters, histogram and gauges render as the exposition format")
    func renders() {
        let metrics = DaemonMetrics()
        metrics.recordRequest(route: "/v1/bookings/{id}", method: "GET", status: 200, seconds: 0.004)
        metrics.recordRequest(route: "/v1/bookings/{id}", method: "GET", status: 200, seconds: 0.2)
        metrics.recordRequest(route: "/v1/bookings/{id}", method: "GET", status: 404, seconds: 20)
        metrics.recordReload(trigger: "watch")
        metrics.recordRejection()
        let text = PrometheusText.render(snapshot(metrics.snapshot))
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains(#"slotd_http_requests_total{route="/v1/bookings/{id}",method="GET",status="200"} 2"#))
        #expect(lines.contains(#"slotd_http_requests_total{route="/v1/bookings/{id}",method="GET",status="404"} 1"#))
        #expect(lines.contains(#"slotd_http_request_duration_seconds_bucket{route="/v1/bookings/{id}",le="0.005"} 1"#))
        #expect(lines.contains(#"slotd_http_request_duration_seconds_bucket{route="/v1/bookings/{id}",le="0.25"} 2"#))
        #expect(lines.contains(#"slotd_http_request_duration_seconds_bucket{route="/v1/bookings/{id}",le="10"} 2"#))
        #expect(lines.contains(#"slotd_http_request_duration_seconds_bucket{route="/v1/bookings/{id}",le="+Inf"} 3"#))
        #expect(lines.contains(#"slotd_http_request_duration_seconds_count{route="/v1/bookings/{id}"} 3"#))
        #expect(lines.contains(#"slotd_bookings{state="confirmed"} 3"#))
        #expect(lines.contains(#"slotd_bookings{state="held"} 0"#))
        #expect(lines.contains(#"slotd_outbox_jobs{state="pending"} 2"#))
        #expect(lines.contains(#"slotd_outbox_failed_jobs 0"#))
        #expect(lines.contains(#"slotd_rule_reloads_total{trigger="watch"} 1"#))
        #expect(lines.contains(#"slotd_rule_reloads_total{trigger="api"} 0"#))
        #expect(lines.contains("slotd_rule_rejections_total 1"))
        #expect(lines.contains(#"slotd_build_info{version="0.3.0"} 1"#))
        #expect(lines.contains("slotd_uptime_seconds 42"))
        #expect(lines.contains("# TYPE slotd_http_request_duration_seconds histogram"))
        #expect(text.hasSuffix("\n"))
    }

    @Test("every sample line belongs to a family declared with HELP and TYPE before it")
    func familiesDeclared() {
        let metrics = DaemonMetrics()
        metrics.recordRequest(route: "/v1/health", method: "GET", status: 200, seconds: 0.001)
        var declared = Set<String>()
        for line in PrometheusText.render(snapshot(metrics.snapshot)).split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                declared.insert(String(line.split(separator: " ")[2]))
                continue
            }
            if line.hasPrefix("#") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = ["_bucket", "_sum", "_count"].reduce(name) { result, suffix in
                declared.contains(result)
                    ? result : (name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : result)
            }
            #expect(declared.contains(family), "\(line) has no # TYPE")
        }
    }

    @Test("label values escape backslash, quote and newline")
    func escaping() {
        #expect(PrometheusText.labelText([("route", "a\"b\\c\nd")]) == #"{route="a\"b\\c\nd"}"#)
        #expect(PrometheusText.labelText([]) == "")
    }

    @Test("numbers: integers without a fraction, others as decimals")
    func numbers() {
        #expect(PrometheusText.number(10) == "10")
        #expect(PrometheusText.number(0.005) == "0.005")
        #expect(PrometheusText.number(.infinity) == "+Inf")
    }
}

@Suite("Rule reload in a running daemon")
struct RuleReloadDaemonTests {
    func lines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    @Test("concurrent reloads run one at a time: one change, one rules.reloaded, one conflict event per booking")
    func concurrentReloadsAndConflicts() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client
        let booked = try await client.post("/v1/bookings", json: TestDaemon.booking(start: "2030-01-07T16:00"))
        #expect(booked.status == 201)
        let id = try #require(booked.json["id"] as? String)
        let before = try await client.get("/v1/rules").json["version"] as? String

        let shorter = TestDaemon.rules.replacingOccurrences(of: "Mo-Su 09:00-17:00", with: "Mo-Su 09:00-15:00")
        try shorter.write(toFile: daemon.directory + "/rules/shop.yaml", atomically: true, encoding: .utf8)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await client.post("/v1/rules/reload", json: "").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == [200, 200, 200, 200])

        let events = lines(try await client.get("/v1/events?follow=false").text)
        let reloaded = events.filter { $0["type"] as? String == "rules.reloaded" }
        #expect(reloaded.count == 1, "only the first reload changed anything: \(reloaded)")
        let data = reloaded.first?["data"] as? [String: Any]
        #expect(data?["previous_version"] as? String == before)
        let conflicts = events.filter { $0["type"] as? String == "booking.conflicts_rules" }
        #expect(conflicts.count == 1)
        let conflict = conflicts.first?["data"] as? [String: Any]
        #expect(conflict?["booking"] as? String == id)
        let reasons = conflict?["reasons"] as? [[String: Any]]
        #expect(reasons?.first?["code"] as? String == "shop_closed")

        // Another edit that leaves it conflicting for the same reason is no new event; one that makes it conflict
        // again after it was fine is.
        for hours in ["Mo-Su 09:00-14:00", "Mo-Su 09:00-17:00", "Mo-Su 10:00-15:00"] {
            let text = TestDaemon.rules.replacingOccurrences(of: "Mo-Su 09:00-17:00", with: hours)
            try text.write(toFile: daemon.directory + "/rules/shop.yaml", atomically: true, encoding: .utf8)
            #expect(try await client.post("/v1/rules/reload", json: "").status == 200)
        }
        let later = lines(try await client.get("/v1/events?follow=false&type=booking.conflicts_rules").text)
        #expect(later.count == 2, "\(later)")

        let listed = try await client.get("/v1/bookings?conflicts=true").json
        #expect((listed["bookings"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        #expect(try await client.get("/v1/bookings/\(id)").json["status"] as? String == "confirmed")
        try await daemon.stop()
    }
}
