import Foundation
import Logging
import PostgresNIO
import SlotCore
import SlotEngine
import SlotRules
@testable import SlotStorePostgres
import Testing

@testable import SlotStore

/// What only the PostgreSQL store promises: the database itself forbids double booking, migrations refuse a newer
/// schema, cursors stay gap-free under concurrent writers, and several stores (daemons) share one outbox. The
/// behaviours every store shares run against it in the other suites (`StoreKind.tested`).
@Suite(
    "PostgreSQL store",
    .enabled(
        if: PostgresTestDatabase.server != nil,
        "SLOTD_TEST_POSTGRES is not set: the PostgreSQL store is not tested (scripts/test starts a cluster and sets it)"))
struct PostgresStoreTests {
    @Test("the store suite runs on PostgreSQL: a fresh database migrates to this binary's schema")
    func theSuiteRanOnPostgres() async throws {
        #expect(StoreKind.tested.contains(.postgres))
        let store = try await PostgresBookingStore.open(PostgresTestDatabase.fresh())
        #expect(try await store.databaseSchemaVersion() == PostgresBookingStore.schemaVersion)
        #expect(try await store.quickCheck() == "ok")
        try await store.shutDown()
    }

    @Test("the exclusion constraint refuses an overlapping active booking even when the check lets it through")
    func theDatabaseForbidsDoubleBooking() async throws {
        let store = try await PostgresBookingStore.open(PostgresTestDatabase.fresh())
        let first = Fixture.booking(at: 0)
        let letEverythingThrough: @Sendable ([BookedSpan]) -> String? = { _ in nil }
        let created = try await store.createBooking(first, at: Fixture.now, idempotency: nil, check: letEverythingThrough)
        #expect(created.booking != nil)
        // 20 minutes later: overlaps the first's 30 minutes (and its 10-minute buffer).
        let error = await storeError { () throws(StoreError) in
            _ = try await store.createBooking(
                Fixture.booking(at: 20, email: "other@example.com"), at: Fixture.now, idempotency: nil,
                check: letEverythingThrough)
        }
        #expect(error?.code == .constraintViolation)
        #expect(error?.message.contains("bookings_staff_no_overlap") == true, "\(String(describing: error))")
        #expect(try await store.bookings(matching: BookingQuery()).count == 1)
        #expect(try await store.latestCursor() == 1, "the refused write appended no event")
        // Another staff member at the same time, and the same one once the first is cancelled, are fine.
        let other = try await store.createBooking(
            Fixture.booking(staff: "ben", at: 20), at: Fixture.now, idempotency: nil, check: letEverythingThrough)
        #expect(other.booking != nil)
        let id = try #require(created.booking?.id)
        _ = try await store.cancel(id, at: Fixture.now, policy: Policies())
        let again = try await store.createBooking(
            Fixture.booking(at: 20), at: Fixture.now, idempotency: nil, check: letEverythingThrough)
        #expect(again.booking != nil)
        try await store.shutDown()
    }

    @Test("a booking's write that queues on the locks reads what their last holder committed while it waited")
    func theLockedReadSeesTheLastHolder() async throws {
        let location = try await PostgresTestDatabase.fresh()
        let store = try await PostgresBookingStore.open(location)
        let first = try await Fixture.book(store, Fixture.booking(at: 0))
        // The check refuses on any conflict it is shown: a read from before the wait would show it the first booking.
        let refuseAnyConflict: @Sendable ([BookedSpan]) -> String? = { $0.isEmpty ? nil : "conflict" }
        try await PostgresTestDatabase.withAdminConnection(location) { holder in
            // Another writer holds the staff member's lock and cancels the first booking in its transaction.
            try await holder.query("BEGIN", logger: PostgresTestDatabase.testLogger)
            try await holder.query(
                "SELECT pg_advisory_xact_lock(hashtextextended('slotd staff ana', 0))",
                logger: PostgresTestDatabase.testLogger)
            try await holder.query(
                """
                UPDATE bookings SET status = 'cancelled', cancel_reason = 'test', cancel_late = false
                WHERE id = \(first.id)
                """, logger: PostgresTestDatabase.testLogger)
            let waiting = Task {
                try await store.createBooking(
                    Fixture.booking(at: 0, email: "lou@example.com", phone: nil), at: Fixture.now, idempotency: nil,
                    check: refuseAnyConflict)
            }
            // Until the write queues on the lock (a bound for a broken store, not a speed check).
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let rows = try await holder.query(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                    logger: PostgresTestDatabase.testLogger)
                var queued = 0
                for try await count in rows.decode(Int.self) { queued = count }
                if queued > 0 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await holder.query("COMMIT", logger: PostgresTestDatabase.testLogger)
            let second = try await waiting.value
            #expect(second.booking != nil, "the cancellation committed while it waited is seen: no conflict")
        }
        try await store.shutDown()
    }

    @Test("processing time is free: a booking may sit in another's processing gap, not in its active time")
    func processingGapsMayInterleave() async throws {
        let store = try await PostgresBookingStore.open(PostgresTestDatabase.fresh())
        let colour = BookingFootprint(
            segments: [Segment(.active, minutes: 20), Segment(.processing, minutes: 30), Segment(.active, minutes: 10)])
        let throughAll: @Sendable ([BookedSpan]) -> String? = { _ in nil }
        let long = try await store.createBooking(
            Fixture.booking(at: 0, footprint: colour), at: Fixture.now, idempotency: nil, check: throughAll)
        #expect(long.booking != nil)
        let quick = BookingFootprint(segments: [Segment(.active, minutes: 30)])
        let inGap = try await store.createBooking(
            Fixture.booking(at: 20, footprint: quick, email: "gap@example.com"), at: Fixture.now, idempotency: nil,
            check: throughAll)
        #expect(inGap.booking != nil, "20…50 is the first booking's processing time")
        let error = await storeError { () throws(StoreError) in
            _ = try await store.createBooking(
                Fixture.booking(at: 45, footprint: quick, email: "late@example.com"), at: Fixture.now,
                idempotency: nil, check: throughAll)
        }
        #expect(error?.code == .constraintViolation)
        try await store.shutDown()
    }

    /// A database written before the customer records (schema v1) opens with a unique code for each booking, each
    /// booking keeping its customer's name and contact, and a revision from its times as on SQLite.
    @Test("a v1 database migrates: old bookings get unique codes and keep their customer's name")
    func aVersionOneDatabaseGetsCodesAndNames() async throws {
        let location = try await PostgresTestDatabase.fresh()
        let logger = PostgresTestDatabase.testLogger
        try await PostgresTestDatabase.withAdminConnection(location) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.versionTable), logger: logger)
            for statement in PostgresSchema.statements(PostgresSchema.v1) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(
                "INSERT INTO slotd_schema (version, identifier) VALUES (1, 'v1-bookings-events-outbox-payments')",
                logger: logger)
            try await connection.query(
                """
                INSERT INTO customers (id, name, email, phone, created_at, updated_at)
                VALUES ('cu_old', 'Old Name', 'old@example.com', '+491511', 1, 1)
                """, logger: logger)
            for index in 0..<3 {
                let id = "bk_old\(index)"
                let start = Int64(1_000 * index + 100)
                let end = start + 100
                try await connection.query(
                    """
                    INSERT INTO bookings (id, status, staff_id, services, start_at, end_at, busy_start, busy_end,
                        staff_busy, segments, price_minor, currency, customer_id, created_at, updated_at)
                    VALUES (\(id), 'confirmed', 'ana', '["haircut"]', \(start), \(end), \(start), \(end),
                        slotd_staff_busy(ARRAY[\(start), \(end)]::int8[]), '[]', 2500, 'EUR', 'cu_old', 1, 5)
                    """, logger: logger)
            }
        }
        let store = try await PostgresBookingStore.open(location)
        #expect(try await store.databaseSchemaVersion() == PostgresBookingStore.schemaVersion)
        let bookings = try await store.bookings(matching: BookingQuery())
        #expect(bookings.map(\.id) == ["bk_old0", "bk_old1", "bk_old2"])
        #expect(Set(bookings.map(\.code)).count == 3)
        #expect(bookings.allSatisfy { BookingCode.normalise($0.code) == $0.code })
        let old = CustomerInfo(name: "Old Name", email: "old@example.com", phone: "+491511")
        #expect(bookings.allSatisfy { $0.customer == old })
        #expect(bookings.map(\.revision) == [4, 4, 4], "seconds from creation to the last change, as on SQLite")
        #expect(try await store.booking(id: bookings[1].code)?.id == "bk_old1")
        try await store.shutDown()
        // Codes are unique from now on.
        let taken = bookings[0].code
        await #expect(throws: (any Error).self) {
            try await PostgresTestDatabase.withAdminConnection(location) { connection in
                try await connection.query(
                    "UPDATE bookings SET code = \(taken) WHERE id = 'bk_old1'", logger: logger)
            }
        }
    }

    @Test("a v2 database migrates: a walk-in's or forced booking keeps its event's override unless moved since")
    func aVersionTwoDatabaseKeepsOverridesFromEvents() async throws {
        let location = try await PostgresTestDatabase.fresh()
        let logger = PostgresTestDatabase.testLogger
        try await PostgresTestDatabase.withAdminConnection(location) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.versionTable), logger: logger)
            for (version, migration) in PostgresSchema.migrations.prefix(2).enumerated() {
                for statement in PostgresSchema.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO slotd_schema (version, identifier) VALUES (\(version + 1), \(migration.identifier))",
                    logger: logger)
            }
            try await connection.query(
                "INSERT INTO customers (id, name, created_at, updated_at) VALUES ('cu_old', 'Old', 1, 1)",
                logger: logger)
            for (index, id) in ["bk_forced", "bk_moved", "bk_plain"].enumerated() {
                let start = Int64(1_000 * index + 100)
                let end = start + 100
                try await connection.query(
                    """
                    INSERT INTO bookings (id, status, staff_id, services, start_at, end_at, busy_start, busy_end,
                        staff_busy, segments, price_minor, currency, customer_id, customer_name, created_at,
                        updated_at)
                    VALUES (\(id), 'confirmed', 'ana', '["haircut"]', \(start), \(end), \(start), \(end),
                        slotd_staff_busy(ARRAY[\(start), \(end)]::int8[]), '[]', 2500, 'EUR', 'cu_old', 'Old', 1, 1)
                    """, logger: logger)
            }
            let events = [
                ("booking.created", #"{"booking":"bk_forced","override":{"kind":"forced","reason":"late","uid":7}}"#),
                ("booking.created", #"{"booking":"bk_moved","override":{"kind":"walk_in","uid":7}}"#),
                ("booking.rescheduled", #"{"booking":"bk_moved"}"#),
                ("booking.created", #"{"booking":"bk_plain"}"#),
            ]
            for (index, (type, data)) in events.enumerated() {
                try await connection.query(
                    "INSERT INTO events (cursor, type, at, data) VALUES (\(index + 1), \(type), 1, \(data)::json)",
                    logger: logger)
            }
        }
        let store = try await PostgresBookingStore.open(location)
        #expect(try await store.databaseSchemaVersion() == PostgresBookingStore.schemaVersion)
        let bookings = try await store.bookings(matching: BookingQuery())
        #expect(bookings.map(\.id) == ["bk_forced", "bk_moved", "bk_plain"])
        #expect(bookings.first?.override == BookingOverride(waiver: .forced, reason: "late", uid: 7, waived: nil))
        #expect(bookings.dropFirst().allSatisfy { $0.override == nil }, "moved since, or never overridden")
        try await store.shutDown()
    }

    @Test("a database with a newer schema refuses to open, saying which versions")
    func aNewerSchemaRefusesToStart() async throws {
        let location = try await PostgresTestDatabase.fresh()
        let store = try await PostgresBookingStore.open(location)
        try await store.shutDown()
        try await PostgresTestDatabase.withAdminConnection(location) { connection in
            try await connection.query(
                "INSERT INTO slotd_schema (version, identifier) VALUES (99, 'from-the-future')",
                logger: PostgresTestDatabase.testLogger)
        }
        let error = await storeError { () throws(StoreError) in _ = try await PostgresBookingStore.open(location) }
        #expect(error?.code == .schemaTooNew)
        #expect(error?.message.contains("schema version 99") == true, "\(String(describing: error))")
    }

    @Test("two stores on one database (two daemons) append with gap-free cursors and never claim a job twice")
    func twoDaemonsShareTheLogAndTheOutbox() async throws {
        let location = try await PostgresTestDatabase.fresh()
        let first = try await PostgresBookingStore.open(location)
        let second = try await PostgresBookingStore.open(location)
        let stores = [first, second]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let store = stores[index % 2]
                    if index % 4 == 0 {
                        _ = try await store.appendEvents([NewEvent(type: "test.ping", at: Fixture.now, data: Data("{}".utf8))])
                    } else {
                        _ = try await Fixture.create(
                            // A customer each (no shared phone), so no `customer.conflict` joins the log.
                            store, Fixture.booking(staff: "s\(index)", email: "p\(index)@example.com", phone: nil))
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try await first.events(after: 0, typePrefix: nil, limit: 1000)
        #expect(events.map(\.cursor) == Array(1...Int64(events.count)), "gap-free and ordered")
        #expect(events.count == 40 + 0, "one event per write")
        #expect(try await second.latestCursor() == Int64(events.count))
        // Both claim at once: SKIP LOCKED hands each job to one of them.
        try await first.enqueueJobs(
            (0..<30).map { OutboxEnqueue(kind: "test.job", payload: Data("{\"n\":\($0)}".utf8), dueAt: Fixture.now) },
            at: Fixture.now)
        let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for store in stores {
                group.addTask {
                    var ids: [Int64] = []
                    while true {
                        let claimed = try await store.claimDueJobs(at: Fixture.now, lease: 600, limit: 3)
                        if claimed.isEmpty { return ids }
                        ids += claimed.filter { $0.kind == "test.job" }.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        #expect(claims.count == 30, "every job claimed once")
        #expect(Set(claims).count == 30, "none twice")
        try await first.shutDown()
        try await second.shutDown()
    }

    @Test("the outbox worker's frequent steps are prepared: their SQL depends on their shape, never on their values")
    func outboxStepsArePrepared() throws {
        let shapes = [ClaimStep.sql, FanOutStep.sql, FinishStep.sql]
        #expect(shapes.allSatisfy { $0.hasPrefix("WITH ") } && Set(shapes).count == 3, "three distinct statements")
        let deliveries = (0..<3).map { OutboxEnqueue(kind: "notify.send.\($0)", object: ["n": $0], dueAt: 7 * $0) }
        for (now, lease, limit) in [(Int64(5), Int64(40), 1), (1_900_000_000, 600, 0), (9, 1, 32)] {
            #expect(try OutboxStep.completingClaim(at: now, lease: lease, limit: limit).query.sql == ClaimStep.sql)
            for (note, fanOut) in [(nil, [deliveries[0]]), ("sent to a, b, c", deliveries)] {
                let completion = OutboxCompletion(note: note, enqueue: fanOut)
                let step = OutboxStep.completion(now, completion, at: now, lease: lease, thenClaim: limit)
                #expect(try step.query.sql == FanOutStep.sql)
                let finish = OutboxStep.Finish(id: now, note: note, enqueue: [], events: [])
                #expect(try OutboxStep.laneFinish(finish, at: now, lease: lease, thenClaim: limit).query.sql
                    == FinishStep.sql)
            }
        }
    }

    @Test("two stores (two daemons) completing fan-outs in their claims finish each once, hand out each delivery once")
    func twoDaemonsCompleteInClaims() async throws {
        let location = try await PostgresTestDatabase.fresh()
        let first = try await PostgresBookingStore.open(location)
        let second = try await PostgresBookingStore.open(location)
        for index in 0..<20 {
            _ = try await Fixture.book(
                first, Fixture.booking(staff: "s\(index)", email: "p\(index)@example.com", phone: nil))
        }
        let handedOut = try await withThrowingTaskGroup(of: [OutboxJob].self) { group in
            for store in [first, second] {
                group.addTask {
                    var jobs: [OutboxJob] = []
                    while true {
                        let claim = try await store.claimDueJobs(
                            at: Fixture.now, lease: 600, limit: 1, seenDue: false,
                            completing: OutboxStoreTests.twoDeliveries)
                        if claim.jobs.isEmpty && (claim.nextDue ?? .max) > Fixture.now { return jobs }
                        jobs += claim.jobs
                    }
                }
            }
            return try await group.reduce(into: [OutboxJob]()) { $0 += $1 }
        }
        #expect(handedOut.count == 40 && Set(handedOut.map(\.id)).count == 40, "each delivery handed out once")
        #expect(handedOut.allSatisfy { $0.kind.hasPrefix("notify.send.") && $0.attempts == 1 })
        let fanOuts = try await first.recentOutboxJobs(state: nil, limit: 100).filter {
            $0.kind == "notify.booking_created"
        }
        #expect(fanOuts.count == 20 && fanOuts.allSatisfy { $0.state == .done && $0.attempts == 1 })
        #expect(try await first.outboxCounts() == [.pending: 40, .done: 20, .failed: 0])
        try await first.shutDown()
        try await second.shutDown()
    }

    @Test("a NOTIFY's payload reads as a notice: head, count, whether jobs were enqueued, whose write; others are nil")
    func noticesRead() {
        let notice = EventLogNotice(payload: "17 3 1 slotd 9f", writer: "slotd 9f")
        #expect(notice == EventLogNotice(head: 17, count: 3, enqueuedJobs: true, isOwn: true))
        #expect(notice?.first == 15)
        #expect(EventLogNotice(payload: "17 3 0 slotd 9f", writer: "slotd 10")?.isOwn == false)
        for unreadable in ["17", "17 3", "x 3 1 w", "17 0 1 w", "17 3 2 w"] {
            #expect(EventLogNotice(payload: unreadable, writer: "w") == nil, "\(unreadable)")
        }
    }

    @Test("every append is announced with its head and count, whether it enqueued jobs and whether this store wrote it")
    func appendsAreAnnounced() async throws {
        let location = try await PostgresTestDatabase.fresh()
        let listener = try await PostgresBookingStore.open(location)
        let other = try await PostgresBookingStore.open(location)
        let (notices, heard) = AsyncStream<EventLogNotice?>.makeStream()
        let following = Task { await listener.followEventLog { heard.yield($0) } }
        var next = notices.makeAsyncIterator()
        #expect(await next.next() == .some(nil), "nil once subscribed: anything before may have been missed")
        let created = try await Fixture.create(
            other, Fixture.booking(staff: "anna", email: "a@example.com", phone: nil))
        guard case .created(_, let events, _) = created else { throw StoreError(.database, "not booked: \(created)") }
        let booked = try #require(await next.next() ?? nil)
        #expect(booked.head == events.last?.cursor && booked.count == Int64(events.count))
        #expect(booked.enqueuedJobs && !booked.isOwn, "a booking enqueues its notice; another store wrote it")
        let test = OutboxEnqueue(kind: "test.job", object: ["n": 1], dueAt: Fixture.now)
        try await listener.enqueueJobs([test], at: Fixture.now)
        let claimed = try await listener.claimDueJobs(at: Fixture.now, lease: 60, limit: 5)
        let job = try #require(claimed.first { $0.kind == "test.job" })
        let finished = try await listener.finishJob(
            job.id, at: Fixture.now, note: nil, enqueue: [],
            events: [OutboxEvent(type: "day.closed", value: ["date": "2027-01-15"])], thenClaim: 0, lease: 60)
        let closed = try #require(await next.next() ?? nil)
        #expect(closed == EventLogNotice(head: finished.events[0].cursor, count: 1, enqueuedJobs: false, isOwn: true))
        following.cancel()
        heard.finish()
        await following.value
        try await listener.shutDown()
        try await other.shutDown()
    }
}
