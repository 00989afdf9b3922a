import Foundation
import PostgresNIO
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

extension PostgresBookingStore: BookingStore {
    public func createBooking<Rejection: Sendable>(
        _ new: NewBooking, at now: Int64, idempotency: IdempotencyRequest?,
        check: @escaping @Sendable ([StoredBooking]) -> Rejection?
    ) async throws(StoreError) -> BookingCreation<Rejection> {
        if let error = BookingPlanner.validate(new) { throw error }
        let bookingID = BookingPlanner.newBookingID()
        let freshCustomerID = BookingPlanner.newCustomerID()
        let logger = logger
        return try await write { connection -> BookingCreation<Rejection> in
            // The customer's contact is locked too: two bookings by one new customer at once make one record.
            try await Self.lockConflictKeys(
                connection, staffID: new.staffID, resources: new.times.footprint.resources,
                customer: new.customer)
            if let idempotency, let record = try await Self.idempotencyRecord(connection, key: idempotency.key) {
                guard record.fingerprint == idempotency.fingerprint else { throw StoreError.reused(idempotency.key) }
                return .replayed(record)
            }
            // The locks above make every writer that could conflict wait: nobody books in between.
            let conflicting = try await Self.candidates(
                connection, staffID: new.staffID, resources: new.times.footprint.resources, window: new.times.window,
                excluding: nil)
            if let rejection = check(conflicting) { return .rejected(rejection) }
            var response: IdempotentResponse?
            let (booking, events) = try await Self.insertBooking(
                connection, new, id: bookingID, freshCustomerID: freshCustomerID, at: now,
                inserted: { booking in
                guard let idempotency else { return }
                let rendered = idempotency.respond(booking)
                response = rendered
                try await connection.query(
                    """
                    INSERT INTO idempotency_keys (key, fingerprint, response_status, response_body, booking_id,
                        created_at)
                    VALUES (\(idempotency.key), \(idempotency.fingerprint), \(rendered.status), \(rendered.body),
                        \(booking.id), \(now))
                    """, logger: logger)
            })
            return .created(booking, events: events, response: response)
        }
    }

    public func booking(id: String) async throws(StoreError) -> StoredBooking? {
        try await read { connection in try await Self.fetchBooking(connection, id: id, forUpdate: false) }
    }

    public func bookings(matching query: BookingQuery) async throws(StoreError) -> [StoredBooking] {
        var clauses: [String] = []
        var binds = PostgresBindings()
        func parameter(_ append: (inout PostgresBindings) -> Void) -> String {
            append(&binds)
            return "$\(binds.count)"
        }
        if let from = query.from { clauses.append("b.start_at >= " + parameter { $0.append(from) }) }
        if let to = query.to { clauses.append("b.start_at < " + parameter { $0.append(to) }) }
        if let staff = query.staffID { clauses.append("b.staff_id = " + parameter { $0.append(staff) }) }
        if !query.statuses.isEmpty {
            let statuses = query.statuses.map(\.rawValue)
            clauses.append("b.status = ANY(" + parameter { $0.append(statuses) } + ")")
        }
        let limit = parameter { $0.append(max(0, query.limit)) }
        let sql = Self.selectBookings + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY b.start_at, b.id LIMIT \(limit)"
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await read { connection in try await Self.fetchBookings(connection, statement) }
    }

    public func bookedSpans(_ query: SpanQuery) async throws(StoreError) -> [BookedSpan] {
        var binds = PostgresBindings()
        binds.append(query.window.upper)
        binds.append(query.window.lower - StoreSchema.maxBusySeconds)
        binds.append(query.window.lower)
        var sql = """
            SELECT b.id, b.staff_id, b.start_at, b.segments::text, b.buffer_before_min, b.buffer_after_min,
                b.resources::text
            FROM bookings b WHERE \(Self.activeOverlap)
            """
        if let staff = query.staff {
            sql += " AND " + Self.staffOrResources(staff: staff, resources: query.resources, binds: &binds)
        }
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        let logger = logger
        return try await read { connection in
            var spans: [BookedSpan] = []
            for try await row in try await connection.query(statement, logger: logger) {
                let (id, staff, start, segments, before, after, resources) = try row.decode(
                    (String, String, Int64, String, Int, Int, String).self)
                spans.append(
                    BookedSpan(
                        id: id, staff: staff, start: start, segments: SQLiteBookingStore.decodeSegments(segments),
                        bufferBeforeMinutes: before, bufferAfterMinutes: after,
                        resources: SQLiteBookingStore.decodeResources(resources)))
            }
            return spans
        }
    }

    public func transition(
        _ id: String, _ input: BookingInput, at now: Int64, policy: Policies, reason: String
    ) async throws(StoreError) -> TransitionOutcome {
        try await write { connection in
            guard let booking = try await Self.fetchBooking(connection, id: id, forUpdate: true) else {
                throw StoreError.notFound(id)
            }
            let plan = try BookingPlanner.transition(booking, input, at: now, policy: policy, reason: reason).get()
            try await Self.update(connection, plan.booking)
            return TransitionOutcome(booking: plan.booking, events: try await Self.persist(connection, plan))
        }
    }

    public func reschedule<Rejection: Sendable>(
        _ id: String, to times: BookingTimes, staff staffID: String?, at now: Int64,
        check: @escaping @Sendable ([StoredBooking]) -> Rejection?
    ) async throws(StoreError) -> RescheduleOutcome<Rejection> {
        try await write { connection -> RescheduleOutcome<Rejection> in
            guard let before = try await Self.fetchBooking(connection, id: id, forUpdate: false) else {
                throw StoreError.notFound(id)
            }
            // The conflict keys first, then the row: the same order as a new booking's write.
            try await Self.lockConflictKeys(
                connection, staffID: staffID ?? before.staffID, resources: times.footprint.resources)
            guard let booking = try await Self.fetchBooking(connection, id: id, forUpdate: true) else {
                throw StoreError.notFound(id)
            }
            let plan = try BookingPlanner.reschedule(booking, to: times, staff: staffID, at: now).get()
            let conflicting = try await Self.candidates(
                connection, staffID: plan.booking.staffID, resources: times.footprint.resources,
                window: times.window, excluding: id)
            if let rejection = check(conflicting) { return .rejected(rejection) }
            try await Self.update(connection, plan.booking)
            return .rescheduled(TransitionOutcome(booking: plan.booking, events: try await Self.persist(connection, plan)))
        }
    }

    public func setNotes(_ id: String, to notes: String, at now: Int64) async throws(StoreError) -> TransitionOutcome {
        try await write { connection in
            guard let booking = try await Self.fetchBooking(connection, id: id, forUpdate: true) else {
                throw StoreError.notFound(id)
            }
            guard let plan = BookingPlanner.note(booking, notes, at: now) else {
                return TransitionOutcome(booking: booking, events: [])
            }
            try await Self.update(connection, plan.booking)
            return TransitionOutcome(booking: plan.booking, events: try await Self.persist(connection, plan))
        }
    }

    public func expireHolds(at now: Int64) async throws(StoreError) -> [TransitionOutcome] {
        try await write { connection in
            let due = try await Self.fetchBookings(
                connection,
                PostgresQuery(
                    unsafeSQL: Self.selectBookings
                        + " WHERE b.status = 'held' AND b.hold_expires_at <= $1 ORDER BY b.hold_expires_at, b.id"
                        + " FOR UPDATE OF b SKIP LOCKED",
                    binds: Self.bindings(now)))
            var outcomes: [TransitionOutcome] = []
            var plans: [BookingPlan] = []
            for booking in due {
                let plan = try BookingPlanner.transition(booking, .expire, at: now, policy: Policies(), reason: "")
                    .get()
                try await Self.update(connection, plan.booking)
                plans.append(plan)
            }
            // One append for all, in order: the event log's head row is taken once, at the end.
            let (written, events) = try await Self.persistFollowing(connection, plans)
            var offset = 0
            for plan in written {
                let count = plan.events.count
                outcomes.append(TransitionOutcome(booking: plan.booking, events: Array(events[offset..<offset + count])))
                offset += count
            }
            return outcomes
        }
    }

    public func events(after cursor: Int64, typePrefix: String?, limit: Int) async throws(StoreError) -> [StoredEvent] {
        var binds = Self.bindings(cursor)
        var sql = "SELECT cursor, type, at, data::text FROM events WHERE cursor > $1"
        if let typePrefix, !typePrefix.isEmpty {
            // left(), not LIKE: a prefix may contain `_` or `%`, which LIKE would read as wildcards.
            binds.append(typePrefix)
            sql += " AND left(type, char_length($2)) = $2"
        }
        binds.append(max(0, limit))
        sql += " ORDER BY cursor LIMIT $\(binds.count)"
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        let logger = logger
        return try await read { connection in
            var events: [StoredEvent] = []
            for try await row in try await connection.query(statement, logger: logger) {
                let (cursor, type, at, data) = try row.decode((Int64, String, Int64, String).self)
                events.append(StoredEvent(cursor: cursor, type: type, at: at, data: Data(data.utf8)))
            }
            return events
        }
    }

    public func latestCursor() async throws(StoreError) -> Int64 {
        // The head, not max(cursor): it only moves when a transaction that appended has committed.
        try await read { connection in try await Self.single(connection, "SELECT last_cursor FROM event_log_head") ?? 0 }
    }

    public func outboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob] {
        try await jobs(state: state, limit: limit, newestFirst: false)
    }

    public func idempotencyRecord(key: String) async throws(StoreError) -> IdempotencyRecord? {
        try await read { connection in try await Self.idempotencyRecord(connection, key: key) }
    }
}

// MARK: - Rows

extension PostgresBookingStore {
    static let bookingColumns = """
        b.id, b.status, b.staff_id, b.services::text, b.variant, b.start_at, b.end_at, b.segments::text,
        b.buffer_before_min, b.buffer_after_min, b.resources::text, b.price_minor, b.deposit_minor, b.currency,
        b.customer_id, b.customer_name, b.customer_email, b.customer_phone, b.notes, b.hold_expires_at, b.created_at,
        b.updated_at, b.cancel_reason, b.cancel_late, b.cancel_fee_minor, b.cancel_minutes_before, b.revision, b.code,
        b.staff_override::text
        """

    /// A booking row carries the customer's name and contact as booked (no join with `customers`).
    static let selectBookings = "SELECT \(bookingColumns) FROM bookings b"

    /// Active and busy inside the window (binds $1 window end, $2 window start − `maxBusySeconds`, $3 window
    /// start); the middle bound lets the index range on `busy_start` start low, as in the SQLite store.
    static let activeOverlap = "b.active AND b.busy_start < $1 AND b.busy_start > $2 AND b.busy_end > $3"

    static func bindings(_ values: Int64...) -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        return binds
    }

    /// `(b.staff_id = ANY(…) OR <holds one of the resources>)`, its values appended to `binds`.
    static func staffOrResources(staff: [String], resources: [String], binds: inout PostgresBindings) -> String {
        var parts: [String] = []
        if !staff.isEmpty {
            binds.append(staff)
            parts.append("b.staff_id = ANY($\(binds.count))")
        }
        let names = Array(Set(resources)).sorted()
        if !names.isEmpty {
            binds.append(names)
            parts.append(
                "EXISTS (SELECT 1 FROM jsonb_array_elements(b.resources) r WHERE r->>'resource' = ANY($\(binds.count))"
                    + " AND (r->>'count')::int > 0)")
        }
        return parts.isEmpty ? "false" : "(" + parts.joined(separator: " OR ") + ")"
    }

    /// Takes the transaction's advisory locks on the staff member and on every resource needed, in the order of
    /// their keys, so two writers that need the same keys queue instead of deadlocking.
    static func lockConflictKeys(
        _ connection: PostgresConnection, staffID: String, resources: [ResourceNeed], customer: CustomerInfo? = nil
    ) async throws {
        var keys = ["staff " + staffID] + resources.filter { $0.count > 0 }.map { "resource " + $0.resource }
        if let email = customer?.email { keys.append("customer email " + CustomerMatching.emailKey(email)) }
        if let phone = customer?.phone { keys.append("customer phone " + phone) }
        try await connection.query(
            """
            SELECT pg_advisory_xact_lock(key) FROM (
                SELECT DISTINCT hashtextextended('slotd ' || name, 0) AS key FROM unnest(\(keys)::text[]) AS name
                ORDER BY key
            ) AS keys
            """, logger: queryLogger)
    }

    /// Active bookings that share the staff member or a resource and are busy inside `window`.
    static func candidates(
        _ connection: PostgresConnection, staffID: String, resources: [ResourceNeed], window: Interval,
        excluding id: String?
    ) async throws -> [StoredBooking] {
        var binds = bindings(window.upper, window.lower - StoreSchema.maxBusySeconds, window.lower)
        var sql = selectBookings + " WHERE " + activeOverlap + " AND "
            + staffOrResources(
                staff: [staffID], resources: resources.filter { $0.count > 0 }.map(\.resource), binds: &binds)
        if let id {
            binds.append(id)
            sql += " AND b.id <> $\(binds.count)"
        }
        return try await fetchBookings(connection, PostgresQuery(unsafeSQL: sql + " ORDER BY b.start_at, b.id", binds: binds))
    }

    static func fetchBooking(_ connection: PostgresConnection, id: String, forUpdate: Bool) async throws
        -> StoredBooking?
    {
        var binds = PostgresBindings()
        // A booking code is accepted wherever the id is.
        var column = "b.id"
        if !id.hasPrefix("bk_"), let code = BookingCode.normalise(id) {
            binds.append(code)
            column = "b.code"
        } else {
            binds.append(id)
        }
        let sql = selectBookings + " WHERE \(column) = $1" + (forUpdate ? " FOR UPDATE OF b" : "")
        return try await fetchBookings(connection, PostgresQuery(unsafeSQL: sql, binds: binds)).first
    }

    static func fetchBookings(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [StoredBooking] {
        var bookings: [StoredBooking] = []
        for try await row in try await connection.query(query, logger: queryLogger) {
            bookings.append(try decodeBooking(row.makeRandomAccess()))
        }
        return bookings
    }

    static func decodeBooking(_ row: PostgresRandomAccessRow) throws -> StoredBooking {
        let id = try row[0].decode(String.self)
        let statusText = try row[1].decode(String.self)
        guard let status = BookingState(rawValue: statusText) else {
            throw StoreError(.database, "booking \(id) has an unknown status '\(statusText)'")
        }
        let currency = try row[13].decode(String.self)
        let services = StoreJSON.decode([String].self, try row[3].decode(String.self)) ?? []
        let footprint = BookingFootprint(
            segments: SQLiteBookingStore.decodeSegments(try row[7].decode(String.self)),
            bufferBeforeMinutes: try row[8].decode(Int.self), bufferAfterMinutes: try row[9].decode(Int.self),
            resources: SQLiteBookingStore.decodeResources(try row[10].decode(String.self)))
        var cancellation: CancellationTerms?
        if status == .cancelled, let late = try row[23].decode(Bool?.self) {
            let fee = try row[24].decode(Int?.self)
            cancellation = CancellationTerms(
                minutesBeforeStart: try row[25].decode(Int64?.self) ?? 0, isLate: late,
                fee: fee.map { Money(minorUnits: $0, currency: currency) },
                reason: try row[22].decode(String?.self) ?? "")
        }
        let deposit = try row[12].decode(Int?.self)
        var booking = StoredBooking(
            id: id, status: status, staffID: try row[2].decode(String.self), services: services,
            variant: try row[4].decode(String?.self), start: try row[5].decode(Int64.self),
            end: try row[6].decode(Int64.self), footprint: footprint,
            price: Money(minorUnits: try row[11].decode(Int.self), currency: currency),
            deposit: deposit.map { Money(minorUnits: $0, currency: currency) },
            customerID: try row[14].decode(String.self),
            customer: CustomerInfo(
                name: try row[15].decode(String.self), email: try row[16].decode(String?.self),
                phone: try row[17].decode(String?.self)),
            notes: try row[18].decode(String.self), holdExpiresAt: try row[19].decode(Int64?.self),
            createdAt: try row[20].decode(Int64.self), updatedAt: try row[21].decode(Int64.self),
            cancellation: cancellation, revision: try row[26].decode(Int.self))
        booking.code = try row[27].decode(String?.self) ?? ""
        booking.override = try row[28].decode(String?.self).flatMap { StoreJSON.decode(BookingOverride.self, $0) }
        return booking
    }

    static func idempotencyRecord(_ connection: PostgresConnection, key: String) async throws -> IdempotencyRecord? {
        let rows = try await connection.query(
            """
            SELECT key, fingerprint, response_status, response_body, booking_id, created_at
            FROM idempotency_keys WHERE key = \(key)
            """, logger: queryLogger
        ).collect()
        guard let row = rows.first else { return nil }
        let (key, fingerprint, status, body, bookingID, createdAt) = try row.decode(
            (String, String, Int, Data, String?, Int64).self)
        return IdempotencyRecord(
            key: key, fingerprint: fingerprint, response: IdempotentResponse(status: status, body: body),
            bookingID: bookingID, createdAt: createdAt)
    }

    /// The columns a write sets, in `insert`'s and `update`'s order, and their values.
    static func columnBindings(_ booking: StoredBooking) -> PostgresBindings {
        let busy = booking.busy
        let cancellation = booking.cancellation
        var binds = PostgresBindings()
        binds.append(booking.status.rawValue)
        binds.append(booking.staffID)
        binds.append(StoreJSON.array(of: booking.services))
        binds.append(booking.variant)
        binds.append(booking.start)
        binds.append(booking.end)
        binds.append(busy.lower)
        binds.append(busy.upper)
        binds.append(booking.bookedSpan.staffBusy.intervals.flatMap { [$0.lower, $0.upper] })
        binds.append(SQLiteBookingStore.encodeSegments(booking.footprint.segments))
        binds.append(booking.footprint.bufferBeforeMinutes)
        binds.append(booking.footprint.bufferAfterMinutes)
        binds.append(SQLiteBookingStore.encodeResources(booking.footprint.resources))
        binds.append(booking.price.minorUnits)
        binds.append(booking.deposit?.minorUnits)
        binds.append(booking.price.currency)
        binds.append(booking.notes)
        binds.append(booking.holdExpiresAt)
        binds.append(booking.updatedAt)
        binds.append(cancellation?.reason)
        binds.append(cancellation?.isLate)
        binds.append(cancellation?.fee?.minorUnits)
        binds.append(cancellation?.minutesBeforeStart)
        binds.append(booking.revision)
        binds.append(booking.override.map { String(decoding: StoreJSON.encode($0), as: UTF8.self) })
        return binds
    }

    /// `columnBindings`' columns and how each parameter is written ($3 and others are JSON, $9 the staff-busy bounds).
    static let writtenColumns: [(name: String, value: String)] = [
        ("status", "$1"), ("staff_id", "$2"), ("services", "$3::jsonb"), ("variant", "$4"), ("start_at", "$5"),
        ("end_at", "$6"), ("busy_start", "$7"), ("busy_end", "$8"), ("staff_busy", "slotd_staff_busy($9::int8[])"),
        ("segments", "$10::jsonb"), ("buffer_before_min", "$11"), ("buffer_after_min", "$12"),
        ("resources", "$13::jsonb"), ("price_minor", "$14"), ("deposit_minor", "$15"), ("currency", "$16"),
        ("notes", "$17"), ("hold_expires_at", "$18"), ("updated_at", "$19"), ("cancel_reason", "$20"),
        ("cancel_late", "$21"), ("cancel_fee_minor", "$22"), ("cancel_minutes_before", "$23"), ("revision", "$24"),
        ("staff_override", "$25::jsonb"),
    ]

    static func insert(_ connection: PostgresConnection, _ booking: StoredBooking) async throws {
        var binds = columnBindings(booking)
        binds.append(booking.id)
        binds.append(booking.customerID)
        binds.append(booking.createdAt)
        // The booking keeps the name and contact it was made with, whatever its customer record says later.
        binds.append(booking.customer.name)
        binds.append(booking.customer.email)
        binds.append(booking.customer.phone)
        binds.append(booking.code)
        let fixed = ["id", "customer_id", "created_at", "customer_name", "customer_email", "customer_phone", "code"]
        let count = writtenColumns.count
        let names: [String] = writtenColumns.map(\.name) + fixed
        let values: [String] = writtenColumns.map(\.value) + fixed.indices.map { "$\(count + 1 + $0)" }
        let sql = "INSERT INTO bookings (\(names.joined(separator: ", "))) VALUES (\(values.joined(separator: ", ")))"
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: queryLogger)
    }

    static func update(_ connection: PostgresConnection, _ booking: StoredBooking) async throws {
        var binds = columnBindings(booking)
        binds.append(booking.id)
        let sql = "UPDATE bookings SET " + writtenColumns.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")
            + " WHERE id = $\(writtenColumns.count + 1)"
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: queryLogger)
    }

    /// Enqueues the plans' jobs, then appends their events (last: see `appendEvents`); returns the events.
    static func persist(_ connection: PostgresConnection, _ plans: [BookingPlan]) async throws -> [StoredEvent] {
        try await persistFollowing(connection, plans).events
    }

    /// `persist`, returning the plans as written: each with what it meant for the waitlist (`followWaitlist`), whose
    /// events follow the booking's.
    static func persistFollowing(
        _ connection: PostgresConnection, _ plans: [BookingPlan]
    ) async throws -> (plans: [BookingPlan], events: [StoredEvent]) {
        var written: [BookingPlan] = []
        for plan in plans { written.append(try await followWaitlist(connection, plan)) }
        for plan in written { try await insertJobs(connection, plan.jobs, createdAt: plan.booking.updatedAt) }
        return (written, try await appendEvents(connection, written.flatMap(\.events)))
    }

    /// Files the customer, plans a booking that passed its check and inserts it with a fresh code, in the caller's
    /// transaction; `amend` may change the plan first, `inserted` runs after the row is written (before events).
    static func insertBooking(
        _ connection: PostgresConnection, _ new: NewBooking, id: String, freshCustomerID: String, at now: Int64,
        amend: (inout BookingPlan) async throws -> Void = { _ in },
        inserted: (StoredBooking) async throws -> Void = { _ in }
    ) async throws -> (StoredBooking, [StoredEvent]) {
        let customer = try await fileCustomer(connection, new.customer, freshID: freshCustomerID, at: now)
        var plan = try BookingPlanner.create(new, id: id, customerID: customer.id, at: now).get()
        // Codes are drawn until one is free; two writers drawing the same one at once meet at the unique index
        // `bookings_code`, and the loser's transaction runs again (`isRetryable`).
        var taken: [String] = []
        for _ in 0..<32 {
            let candidate = BookingPlanner.newBookingCode(isTaken: { taken.contains($0) }) ?? ""
            if try await codeIsTaken(connection, candidate) { taken.append(candidate) } else {
                plan.booking.code = candidate
                break
            }
        }
        if plan.booking.code.isEmpty { throw StoreError.codesExhausted }
        try await amend(&plan)
        try await insert(connection, plan.booking)
        try await inserted(plan.booking)
        var events = try await persist(connection, plan)
        events += try await recordConflicts(connection, customer.conflicts, booking: plan.booking.id, at: now)
        return (plan.booking, events)
    }

    static func persist(_ connection: PostgresConnection, _ plan: BookingPlan) async throws -> [StoredEvent] {
        try await persist(connection, [plan])
    }

    /// Single value of a one-column, one-row query, or nil.
    static func single<Value: PostgresDecodable>(_ connection: PostgresConnection, _ query: PostgresQuery)
        async throws -> Value? where Value._DecodableType == Value
    {
        let rows = try await connection.query(query, logger: queryLogger).collect()
        return try rows.first.map { try $0.decode(Value?.self) } ?? nil
    }
}
