import Foundation
import SlotAPI
import SlotClient
import SlotProviders
import SlotServer
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("slotd over its Unix socket", .serialized)
struct DaemonTests {
    @Test("ping, health and the OpenAPI document, which describes every route the server has")
    func healthAndOpenAPI() async throws {
        let daemon = try await TestDaemon()
        let ping = try await daemon.client.get("/_ping")
        #expect(ping.status == 200)
        #expect(ping.text == "OK")
        #expect(ping.header("API-Version") == APIVersion.current)

        let health = try await daemon.client.get("/v1/health")
        #expect(health.status == 200)
        let decoded = try JSONDecoder().decode(Health.self, from: health.body)
        #expect(decoded.status == "ok")
        #expect(decoded.role == "admin")
        #expect(!decoded.rulesVersion.isEmpty)

        let document = try await daemon.client.get("/v1/openapi.yaml")
        #expect(document.status == 200)
        #expect(document.text == OpenAPIDocument.yaml)
        let documented = Self.documentedRoutes(OpenAPIDocument.yaml)
        let served = Set(
            daemon.daemon.routeList.map { route -> String in
                let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
                var path = parts[1].hasPrefix("/") ? parts[1] : "/" + parts[1]
                path = path.replacingOccurrences(of: ":id", with: "{id}")
                return "\(parts[0]) \(path)"
            })
        let undocumented = served.subtracting(documented)
        let unserved = documented.subtracting(served)
        #expect(undocumented.isEmpty, "served but not in openapi.yaml: \(undocumented)")
        #expect(unserved.isEmpty, "in openapi.yaml but not served: \(unserved)")
        #expect(served.count == 45, "38, then the waitlist's six routes and PATCH of a booking's notes")
        try await daemon.stop()
    }

    /// `METHOD /path` for every operation under `paths:` of the document.
    static func documentedRoutes(_ yaml: String) -> Set<String> {
        var routes = Set<String>()
        var path: String?
        var inPaths = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            if inPaths, !line.hasPrefix(" "), !line.isEmpty { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "),
                let method = ["get", "post", "put", "delete", "patch"].first(where: { line == "    \($0):" })
            {
                routes.insert("\(method.uppercased()) \(path)")
            }
        }
        return routes
    }

    @Test("errors are problem+json with the right status and code")
    func problemShapes() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client

        let unknown = try await client.get("/v1/nope")
        #expect(unknown.status == 404)
        #expect(unknown.header("content-type") == "application/problem+json")
        let problem = try JSONDecoder().decode(Problem.self, from: unknown.body)
        #expect(problem.code == "not_found" && problem.status == 404 && problem.type.hasSuffix("not_found"))
        #expect(!problem.title.isEmpty && !problem.detail.isEmpty)

        let malformed = try await client.post("/v1/bookings", json: "{bad")
        #expect(malformed.status == 400)
        #expect(malformed.json["code"] as? String == "malformed_json")

        let wrongType = try await client.post(
            "/v1/bookings", json: #"{"service": 5, "start": "2030-01-07T10:00", "customer": {"name": "A"}}"#)
        #expect(wrongType.status == 422)
        let fields = try JSONDecoder().decode(Problem.self, from: wrongType.body).fields ?? []
        #expect(fields.map(\.field) == ["service"])

        let missing = try await client.post("/v1/bookings", json: #"{"service": "haircut", "customer": {"name": "A"}}"#)
        #expect(missing.status == 422)
        #expect(try JSONDecoder().decode(Problem.self, from: missing.body).fields?.first?.field == "start")

        let unknownIDs = try await client.post(
            "/v1/bookings", json: TestDaemon.booking(service: "haircutt", staff: "zed", name: ""))
        #expect(unknownIDs.status == 422)
        let named = Set((try JSONDecoder().decode(Problem.self, from: unknownIDs.body).fields ?? []).map(\.field))
        #expect(named == ["service", "staff", "customer.name"])

        let past = try await client.post("/v1/bookings", json: TestDaemon.booking(start: "2030-01-06T10:00"))
        #expect(past.status == 422)
        #expect(past.text.contains("in the past"))

        let closed = try await client.post("/v1/bookings", json: TestDaemon.booking(start: "2030-01-07T20:00"))
        #expect(closed.status == 422)
        #expect(try JSONDecoder().decode(Problem.self, from: closed.body).reasons?.isEmpty == false)

        let huge = String(repeating: "x", count: 2 << 20)
        let tooLarge = try await client.post("/v1/bookings", json: #"{"notes": "\#(huge)"}"#)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.json["code"] as? String == "payload_too_large")

        let noBooking = try await client.get("/v1/bookings/bk_doesnotexist")
        #expect(noBooking.status == 404)
        #expect(noBooking.json["code"] as? String == "booking_not_found")

        let badQuery = try await client.get("/v1/slots?service=haircut&from=tomorrow")
        #expect(badQuery.status == 422)

        // Nothing above wrote anything, and the daemon still serves.
        let list = try await client.get("/v1/bookings")
        #expect(try JSONDecoder().decode(BookingList.self, from: list.body).bookings.isEmpty)
        try await daemon.stop()
    }

    @Test("a booking is created once per idempotency key; a taken slot is 409 with alternatives")
    func bookingConflictAndIdempotency() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client
        let body = TestDaemon.booking()
        let first = try await client.post("/v1/bookings", json: body, headers: ["Idempotency-Key": "key-1"])
        #expect(first.status == 201)
        let booking = try JSONDecoder().decode(BookingDetails.self, from: first.body)
        #expect(booking.status == .confirmed)
        #expect(booking.staff == "alice")
        #expect(booking.start == "2030-01-07T10:00:00+01:00")
        #expect(booking.end == "2030-01-07T10:30:00+01:00")
        #expect(booking.price.amount == 2000)

        let again = try await client.post("/v1/bookings", json: body, headers: ["Idempotency-Key": "key-1"])
        #expect(again.status == 201)
        #expect(again.body == first.body, "a repeat returns the first answer")

        let reused = try await client.post(
            "/v1/bookings", json: TestDaemon.booking(name: "Someone else"), headers: ["Idempotency-Key": "key-1"])
        #expect(reused.status == 422)
        #expect(reused.json["code"] as? String == "idempotency_key_reused")

        let taken = try await client.post("/v1/bookings", json: TestDaemon.booking(name: "Bea"))
        #expect(taken.status == 409)
        let conflict = try JSONDecoder().decode(Problem.self, from: taken.body)
        #expect(conflict.code == "slot_unavailable")
        #expect(conflict.alternatives?.isEmpty == false)
        #expect(conflict.reasons?.first?.code == .overlapsBooking)

        // "any" falls through to the next staff member.
        let any = try await client.post("/v1/bookings", json: TestDaemon.booking(staff: nil, name: "Cem"))
        #expect(any.status == 201)
        #expect(try JSONDecoder().decode(BookingDetails.self, from: any.body).staff == "bob")

        let list = try JSONDecoder().decode(BookingList.self, from: try await client.get("/v1/bookings").body)
        #expect(list.bookings.count == 2)
        let alice = try await client.get("/v1/bookings?staff=alice&status=confirmed&from=2030-01-07&to=2030-01-07")
        #expect(try JSONDecoder().decode(BookingList.self, from: alice.body).bookings.map(\.id) == [booking.id])

        let slots = try JSONDecoder().decode(
            SlotList.self, from: try await client.get("/v1/slots?service=haircut&from=2030-01-07&staff=alice").body)
        #expect(!slots.slots.isEmpty)
        #expect(!slots.slots.contains { $0.start == "2030-01-07T10:00:00+01:00" })
        #expect(slots.slots.first?.start == "2030-01-07T09:00:00+01:00")

        let explain = try JSONDecoder().decode(
            Explanation.self,
            from: try await client.get("/v1/slots/explain?service=haircut&staff=alice&at=2030-01-07T10:00").body)
        #expect(!explain.bookable)
        #expect(explain.reasons.map(\.code).contains(.overlapsBooking))
        #expect(!explain.nearest.isEmpty)
        try await daemon.stop()
    }

    @Test("concurrent clients booking one start: exactly one 201, the rest 409, one booking")
    func race() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await client.post("/v1/bookings", json: TestDaemon.booking(name: "Racer \(index)")).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 201 }.count == 1)
        #expect(statuses.filter { $0 == 409 }.count == 19)
        let list = try JSONDecoder().decode(BookingList.self, from: try await client.get("/v1/bookings").body)
        #expect(list.bookings.count == 1)
        try await daemon.stop()
    }

    @Test("transitions: reschedule, complete, and an illegal transition is 409")
    func transitions() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client
        let created = try await client.post("/v1/bookings", json: TestDaemon.booking())
        let id = try JSONDecoder().decode(BookingDetails.self, from: created.body).id

        let moved = try await client.post(
            "/v1/bookings/\(id)/reschedule", json: #"{"start": "2030-01-07T11:00:00+01:00"}"#)
        #expect(moved.status == 200)
        #expect(try JSONDecoder().decode(BookingDetails.self, from: moved.body).start == "2030-01-07T11:00:00+01:00")

        let other = try await client.post("/v1/bookings", json: TestDaemon.booking(start: "2030-01-07T12:00"))
        #expect(other.status == 201)
        let blocked = try await client.post("/v1/bookings/\(id)/reschedule", json: #"{"start": "2030-01-07T12:00"}"#)
        #expect(blocked.status == 409)

        let early = try await client.post("/v1/bookings/\(id)/complete", json: "")
        #expect(early.status == 409, "nothing can be completed before it starts")
        #expect(early.json["code"] as? String == "invalid_transition")
        #expect((early.json["detail"] as? String)?.contains("cannot complete a booking before it starts") == true)
        daemon.time.set(TestDaemon.monday0800 + 3 * 3_600)  // 11:00 in Berlin: the moved booking's start
        let done = try await client.post("/v1/bookings/\(id)/complete", json: "")
        #expect(done.status == 200)
        #expect(try JSONDecoder().decode(BookingDetails.self, from: done.body).status == .completed)
        let twice = try await client.post("/v1/bookings/\(id)/cancel", json: "")
        #expect(twice.status == 409)
        #expect(twice.json["code"] as? String == "invalid_transition")
        try await daemon.stop()
    }

    @Test("the event stream replays from a cursor, filters by type, then goes live")
    func eventsReplayAndLive() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client
        let one = try JSONDecoder().decode(
            BookingDetails.self, from: try await client.post("/v1/bookings", json: TestDaemon.booking()).body)
        _ = try await client.post("/v1/bookings", json: TestDaemon.booking(start: "2030-01-07T11:00"))
        _ = try await client.post("/v1/bookings/\(one.id)/cancel", json: #"{"reason": "ill"}"#)

        let all = try await client.get("/v1/events?follow=false")
        #expect(all.header("content-type") == APIVersion.ndjsonMediaType)
        let lines = try all.text.split(separator: "\n").map {
            try JSONDecoder().decode(EventLine.self, from: Data($0.utf8))
        }
        #expect(lines.map(\.type) == ["booking.created", "booking.created", "booking.cancelled"])
        #expect(lines.map(\.cursor) == lines.map(\.cursor).sorted())
        #expect(lines[0].data["booking"]?.stringValue == one.id)
        #expect(lines[0].data["start"]?.stringValue == "2030-01-07T10:00:00+01:00")

        let after = try await client.get("/v1/events?follow=false&since=\(lines[0].cursor)")
        #expect(after.text.split(separator: "\n").count == 2)
        let cancelled = try await client.get("/v1/events?follow=false&type=booking.cancelled")
        #expect(cancelled.text.split(separator: "\n").count == 1)
        let prefixed = try await client.get("/v1/events?follow=false&type=booking.*")
        #expect(prefixed.text.split(separator: "\n").count == 3)

        // Live: a follower from the latest cursor sees a booking made afterwards (whether it subscribed before or
        // after the commit: the stream replays from its cursor, then follows).
        let latest = lines[2].cursor
        async let follower = client.lines("/v1/events?since=\(latest)", count: 1)
        _ = try await client.post("/v1/bookings", json: TestDaemon.booking(start: "2030-01-07T14:00"))
        let (response, live) = try await follower
        #expect(response.status == 200)
        #expect(live.count == 1)
        let event = try JSONDecoder().decode(EventLine.self, from: Data(live[0].utf8))
        #expect(event.type == "booking.created" && event.cursor > latest)
        try await daemon.stop()
    }

    @Test("an idle event stream gets heartbeats carrying the last cursor, as the daemon's clock moves")
    func heartbeat() async throws {
        // The idle outbox worker sleeps an hour, so only the stream's heartbeat timer sleeps 15 s or less.
        let daemon = try await TestDaemon(heartbeat: .seconds(15), holdCheck: .seconds(3_600))
        let time = daemon.time
        // Each move waits until the heartbeat timer sleeps, so none is lost to a timer not started yet; the second
        // comes once the first heartbeat is in.
        async let stream = daemon.client.lines(
            "/v1/events", count: 2, timeout: 60,
            afterFirstLine: { Task { await time.advanceWhenSleeping(by: .seconds(15)) } })
        await time.advanceWhenSleeping(by: .seconds(15))
        let (_, lines) = try await stream
        let events = try lines.map { try JSONDecoder().decode(EventLine.self, from: Data($0.utf8)) }
        #expect(events.map(\.type) == ["heartbeat", "heartbeat"])
        #expect(events.allSatisfy { $0.cursor == 0 })
        try await daemon.stop()
    }

    @Test("a slot watch sends a new answer when a booking takes a slot")
    func slotWatch() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client
        // The booking is made once the watch has sent its first answer, so that answer is the one before it.
        let (response, lines) = try await client.lines(
            "/v1/slots?service=haircut&staff=alice&from=2030-01-07&watch=true", count: 2,
            afterFirstLine: {
                let booked = try client.requestOnThisThread(
                    "POST", "/v1/bookings", body: Data(TestDaemon.booking().utf8))
                guard booked.status == 201 else {
                    throw UnixHTTPClient.ClientError(description: "booking: \(booked.status) \(booked.text)")
                }
            })
        #expect(response.status == 200)
        #expect(lines.count == 2)
        let before = try JSONDecoder().decode(SlotList.self, from: Data(lines[0].utf8))
        let after = try JSONDecoder().decode(SlotList.self, from: Data(lines[1].utf8))
        #expect(before.slots.contains { $0.start == "2030-01-07T10:00:00+01:00" })
        #expect(!after.slots.contains { $0.start == "2030-01-07T10:00:00+01:00" })
        try await daemon.stop()
    }

    @Test("a held booking expires when its hold runs out, freeing the slot")
    func holdExpiry() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client
        let created = try await client.post("/v1/bookings", json: TestDaemon.booking(service: "shave"))
        #expect(created.status == 201)
        let held = try JSONDecoder().decode(BookingDetails.self, from: created.body)
        #expect(held.status == .held)
        #expect(held.deposit?.amount == 500)
        #expect(held.holdExpiresAt == "2030-01-07T08:15:00+01:00")

        daemon.time.advance(by: 16 * 60)
        // The worker's own lanes may run the due expiry job first; either way the hold is expired after this.
        _ = try await daemon.daemon.expireHoldsNow()
        let after = try JSONDecoder().decode(
            BookingDetails.self, from: try await client.get("/v1/bookings/\(held.id)").body)
        #expect(after.status == .expired)
        let again = try await client.post("/v1/bookings", json: TestDaemon.booking(service: "shave", name: "Bo"))
        #expect(again.status == 201, "the expired hold freed the slot")
        let expired = try await client.get("/v1/events?follow=false&type=booking.expired")
        #expect(expired.text.split(separator: "\n").count == 1)
        try await daemon.stop()
    }

    @Test("roles: read may GET but not book; a uid with no role gets 403 except on /_ping")
    func roles() async throws {
        let reader = try await TestDaemon(roles: [getuid(): .read])
        #expect(try await reader.client.get("/v1/services").status == 200)
        let denied = try await reader.client.post("/v1/bookings", json: TestDaemon.booking())
        #expect(denied.status == 403)
        #expect(denied.json["code"] as? String == "forbidden")
        #expect(try await reader.client.post("/v1/rules/reload", json: "").status == 403)
        try await reader.stop()

        let stranger = try await TestDaemon(roles: [:])
        #expect(try await stranger.client.get("/_ping").status == 200)
        let health = try await stranger.client.get("/v1/health")
        #expect(health.status == 403)
        #expect(health.header("content-type") == "application/problem+json")
        try await stranger.stop()
    }

    @Test("the socket is created with the configured mode; a live daemon on the path is refused")
    func socketFile() async throws {
        let daemon = try await TestDaemon()
        var info = stat()
        #expect(lstat(daemon.daemon.configuration.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)

        await #expect(throws: StartupError.self) {
            _ = try await buildDaemon(configuration: daemon.daemon.configuration)
        }
        try await daemon.stop()
    }

    @Test("rules: reload keeps an unchanged set, rejects a bad one and keeps serving; check validates a candidate")
    func rulesReload() async throws {
        let daemon = try await TestDaemon()
        let client = daemon.client
        let unchanged = try await client.post("/v1/rules/reload", json: "")
        #expect(unchanged.status == 200)
        #expect(unchanged.json["changed"] as? Bool == false)

        let check = try await client.post("/v1/rules/check?name=shop.yaml", json: "shop: [")
        #expect(check.status == 200)
        #expect(check.json["ok"] as? Bool == false)

        try "services: 5\n".write(toFile: daemon.directory + "/rules/zz-bad.yaml", atomically: true, encoding: .utf8)
        let rejected = try await client.post("/v1/rules/reload", json: "")
        #expect(rejected.status == 422)
        #expect(rejected.json["code"] as? String == "rules_invalid")
        #expect(try await client.get("/v1/health").status == 200, "the old rules keep serving")
        try await daemon.stop()
    }

    @Test("a configuration file maps users to roles and reports mistakes with their line")
    func configurationFile() throws {
        let base = DaemonConfiguration.development(directory: "/srv/shop")
        let text = """
            socket:
              path: run/slotd.sock
              mode: "0660"
            database: /var/lib/slotd/slotd.sqlite
            rules: rules
            roles:
              root: admin
              65534: read
            providers:
              journal: { type: log }
            """
        let configuration = try ConfigurationFile.parse(text, file: "slotd.yaml", relativeTo: "/etc/slotd", over: base)
        #expect(configuration.socketPath == "/etc/slotd/run/slotd.sock")
        #expect(configuration.socketMode == 0o660)
        #expect(configuration.databasePath == "/var/lib/slotd/slotd.sqlite")
        #expect(configuration.rulesDirectory == "/etc/slotd/rules")
        #expect(configuration.roles == [0: .admin, 65534: .read])

        #expect(throws: ConfigurationError.self) {
            _ = try ConfigurationFile.parse("roles:\n  root: superuser\n", file: "x.yaml", relativeTo: "/", over: base)
        }
        do {
            _ = try ConfigurationFile.parse("socket:\n  mode: 999\n", file: "x.yaml", relativeTo: "/", over: base)
            Issue.record("a bad mode must be refused")
        } catch {
            #expect(error.problems.map(\.line) == [2])
        }
    }

    @Test("a configuration with several mistakes reports each of them, located, in file order, not only the first")
    func configurationReportsEveryMistake() throws {
        let text = """
            socket:
              mode: 999
              colour: blue
            roles: { root: superuser }
            log_level: loud
            database: /var/lib/slotd/slotd.sqlite
            """
        do {
            _ = try ConfigurationFile.parse(
                text, file: "slotd.yaml", relativeTo: "/etc/slotd", over: .development(directory: "/srv/shop"))
            Issue.record("a configuration with mistakes must be refused")
        } catch {
            #expect(error.problems.map(\.line) == [2, 3, 4, 5], "\(error)")
            let lines = error.description.split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines[0].hasPrefix("slotd.yaml:2:9: `mode` must be octal"), "\(error)")
            #expect(lines[1].contains("unknown key 'colour' in `socket` — use path, mode or group"), "\(error)")
            #expect(lines[2].contains("unknown role 'superuser' — use admin"), "\(error)")
            #expect(lines[3].hasPrefix("slotd.yaml:5:12: `log_level` must be"), "\(error)")
        }
    }
}
