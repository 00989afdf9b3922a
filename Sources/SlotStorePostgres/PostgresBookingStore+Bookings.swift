import Foundation
import PostgresNIO
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

extension PostgresBookingStore: BookingStore {
    public func createBooking<Rejection: Sendable>(
        _ new: NewBooking, at now: Int64, idempotency: IdempotencyRequest?,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> BookingCreation<Rejection> {
        if let error = BookingPlanner.validate(new) { throw error }
        let bookingID = BookingPlanner.newBookingID()
        let freshCustomerID = BookingPlanner.newCustomerID()
        // A booking is five round trips: BEGIN, the locks, one read (conflicts and codes), one write, COMMIT; one
        // more with an idempotency key, one more with a phone or e-mail (the customer's records).
        let lease = ownJobs.withLock { $0 }
        let (creation, leased) = try await write { connection -> (BookingCreation<Rejection>, [OutboxJob]) in
            // The customer's contact is locked too: two bookings by one new customer at once make one record.
            try await Self.lockConflictKeys(
                connection, staffID: new.staffID, resources: new.times.footprint.resources,
                customer: new.customer)
            if let idempotency, let record = try await Self.idempotencyRecord(connection, key: idempotency.key) {
                guard record.fingerprint == idempotency.fingerprint else { throw StoreError.reused(idempotency.key) }
                return (.replayed(record), [])
            }
            // The locks above make every writer that could conflict wait: nobody books in between. The same read
            // says which of a few drawn booking codes are taken; two writers drawing one code at once meet at the
            // unique index `bookings_code`, and the loser's transaction runs again (`isRetryable`).
            let drawn = Self.drawCodes(8)
            let (conflicting, taken) = try await Self.candidates(
                connection, staffID: new.staffID, resources: new.times.footprint.resources, window: new.times.window,
                excluding: nil, codes: drawn)
            if let rejection = check(conflicting.map(\.bookedSpan)) { return (.rejected(rejection), []) }
            // Every write in one statement (`WriteBatch`), the event log's append last; the booking's notification
            // leased to this daemon's worker (`leaseOwnJobs`), which then needs no claim to find it.
            var batch = WriteBatch()
            batch.leasing = lease.map { ($0.takes, now + max(1, $0.seconds)) }
            let (booking, events) = try await Self.insertBooking(
                connection, new, id: bookingID, freshCustomerID: freshCustomerID, at: now, drawn: drawn, taken: taken,
                into: &batch)
            var response: IdempotentResponse?
            if let idempotency {
                let rendered = idempotency.respond(booking)
                response = rendered
                batch.add(
                    """
                    INSERT INTO idempotency_keys (key, fingerprint, response_status, response_body, booking_id,
                        created_at)
                    VALUES (\(idempotency.key), \(idempotency.fingerprint), \(rendered.status), \(rendered.body),
                        \(booking.id), \(now))
                    """)
            }
            let written = try await batch.runLeasing(
                on: connection, appending: events.map { ($0.type, $0.at, $0.data) })
            return (.created(booking, events: written.events, response: response), written.leased)
        }
        if let lease, !leased.isEmpty, case .created(let booking, _, _) = creation { lease.handOff(leased, booking) }
        return creation
    }

    /// `count` distinct booking codes, drawn at random.
    static func drawCodes(_ count: Int) -> [String] {
        var drawn: [String] = []
        for _ in 0..<count {
            if let code = BookingPlanner.newBookingCode(isTaken: { drawn.contains($0) }) { drawn.append(code) }
        }
        return drawn
    }

    /// The first drawn code not taken; when all were (a nearly full code space), codes drawn one at a time until one
    /// is free, at most 32.
    static func freeCode(_ connection: PostgresConnection, drawn: [String], taken: Set<String>) async throws
        -> String?
    {
        if let free = drawn.first(where: { !taken.contains($0) }) { return free }
        var tried = drawn
        for _ in 0..<32 {
            guard let candidate = BookingPlanner.newBookingCode(isTaken: { tried.contains($0) }) else { return nil }
            if try await !codeIsTaken(connection, candidate) { return candidate }
            tried.append(candidate)
        }
        return nil
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
            return TransitionOutcome(
                booking: plan.booking, events: try await Self.persist(connection, [plan], updating: true))
        }
    }

    public func reschedule<Rejection: Sendable>(
        _ id: String, to times: BookingTimes, staff staffID: String?, at now: Int64,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
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
            let (conflicting, _) = try await Self.candidates(
                connection, staffID: plan.booking.staffID, resources: times.footprint.resources,
                window: times.window, excluding: id)
            if let rejection = check(conflicting.map(\.bookedSpan)) { return .rejected(rejection) }
            let events = try await Self.persist(connection, [plan], updating: true)
            return .rescheduled(TransitionOutcome(booking: plan.booking, events: events))
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
            return TransitionOutcome(
                booking: plan.booking, events: try await Self.persist(connection, [plan], updating: true))
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
                plans.append(plan)
            }
            // One append for all, in order: the event log's head row is taken once, at the end.
            let (written, events) = try await Self.persistFollowing(connection, plans, updating: true)
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

    /// Active bookings that share the staff member or a resource and are busy inside `window`, and which of `codes`
    /// bookings have already, in one read.
    static func candidates(
        _ connection: PostgresConnection, staffID: String, resources: [ResourceNeed], window: Interval,
        excluding id: String?, codes: [String] = []
    ) async throws -> (conflicting: [StoredBooking], takenCodes: Set<String>) {
        var binds = bindings(window.upper, window.lower - StoreSchema.maxBusySeconds, window.lower)
        var sql = "SELECT \(bookingColumns), true AS conflicting FROM bookings b WHERE " + activeOverlap + " AND "
            + staffOrResources(
                staff: [staffID], resources: resources.filter { $0.count > 0 }.map(\.resource), binds: &binds)
        if let id {
            binds.append(id)
            sql += " AND b.id <> $\(binds.count)"
        }
        if !codes.isEmpty {
            binds.append(codes)
            sql += " UNION ALL SELECT \(bookingColumns), false FROM bookings b WHERE b.code = ANY($\(binds.count))"
        }
        var conflicting: [StoredBooking] = []
        var taken = Set<String>()
        let query = PostgresQuery(unsafeSQL: sql + " ORDER BY start_at, id", binds: binds)
        for try await row in try await connection.query(query, logger: queryLogger) {
            let columns = row.makeRandomAccess()
            let booking = try decodeBooking(columns)
            // The flag is the last column, after `bookingColumns`.
            if try columns[columns.count - 1].decode(Bool.self) {
                conflicting.append(booking)
            } else {
                taken.insert(booking.code)
            }
        }
        return (conflicting, taken)
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

    /// A booking from `bookingColumns`, the first of them at `offset`.
    static func decodeBooking(_ columns: PostgresRandomAccessRow, from offset: Int = 0) throws -> StoredBooking {
        func row(_ index: Int) -> PostgresCell { columns[offset + index] }
        let id = try row(0).decode(String.self)
        let statusText = try row(1).decode(String.self)
        guard let status = BookingState(rawValue: statusText) else {
            throw StoreError(.database, "booking \(id) has an unknown status '\(statusText)'")
        }
        let currency = try row(13).decode(String.self)
        let services = StoreJSON.decode([String].self, try row(3).decode(String.self)) ?? []
        let footprint = BookingFootprint(
            segments: SQLiteBookingStore.decodeSegments(try row(7).decode(String.self)),
            bufferBeforeMinutes: try row(8).decode(Int.self), bufferAfterMinutes: try row(9).decode(Int.self),
            resources: SQLiteBookingStore.decodeResources(try row(10).decode(String.self)))
        var cancellation: CancellationTerms?
        if status == .cancelled, let late = try row(23).decode(Bool?.self) {
            let fee = try row(24).decode(Int?.self)
            cancellation = CancellationTerms(
                minutesBeforeStart: try row(25).decode(Int64?.self) ?? 0, isLate: late,
                fee: fee.map { Money(minorUnits: $0, currency: currency) },
                reason: try row(22).decode(String?.self) ?? "")
        }
        let deposit = try row(12).decode(Int?.self)
        var booking = StoredBooking(
            id: id, status: status, staffID: try row(2).decode(String.self), services: services,
            variant: try row(4).decode(String?.self), start: try row(5).decode(Int64.self),
            end: try row(6).decode(Int64.self), footprint: footprint,
            price: Money(minorUnits: try row(11).decode(Int.self), currency: currency),
            deposit: deposit.map { Money(minorUnits: $0, currency: currency) },
            customerID: try row(14).decode(String.self),
            customer: CustomerInfo(
                name: try row(15).decode(String.self), email: try row(16).decode(String?.self),
                phone: try row(17).decode(String?.self)),
            notes: try row(18).decode(String.self), holdExpiresAt: try row(19).decode(Int64?.self),
            createdAt: try row(20).decode(Int64.self), updatedAt: try row(21).decode(Int64.self),
            cancellation: cancellation, revision: try row(26).decode(Int.self))
        booking.code = try row(27).decode(String?.self) ?? ""
        booking.override = try row(28).decode(String?.self).flatMap { StoreJSON.decode(BookingOverride.self, $0) }
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

    /// The columns a write sets (`insertStatement`'s and `updateStatement`'s), each with its value.
    static func writtenColumns(_ booking: StoredBooking) -> [(name: String, value: SQLFragment)] {
        let busy = booking.busy
        let cancellation = booking.cancellation
        let staffBusy = booking.bookedSpan.staffBusy.intervals.flatMap { [$0.lower, $0.upper] }
        let override = booking.override.map { String(decoding: StoreJSON.encode($0), as: UTF8.self) }
        var columns: [(name: String, value: SQLFragment)] = []
        func column(_ name: String, _ value: SQLFragment) { columns.append((name, value)) }
        column("status", "\(booking.status.rawValue)")
        column("staff_id", "\(booking.staffID)")
        column("services", "\(StoreJSON.array(of: booking.services))::jsonb")
        column("variant", "\(booking.variant)")
        column("start_at", "\(booking.start)")
        column("end_at", "\(booking.end)")
        column("busy_start", "\(busy.lower)")
        column("busy_end", "\(busy.upper)")
        column("staff_busy", "slotd_staff_busy(\(staffBusy)::int8[])")
        column("segments", "\(SQLiteBookingStore.encodeSegments(booking.footprint.segments))::jsonb")
        column("buffer_before_min", "\(booking.footprint.bufferBeforeMinutes)")
        column("buffer_after_min", "\(booking.footprint.bufferAfterMinutes)")
        column("resources", "\(SQLiteBookingStore.encodeResources(booking.footprint.resources))::jsonb")
        column("price_minor", "\(booking.price.minorUnits)")
        column("deposit_minor", "\(booking.deposit?.minorUnits)")
        column("currency", "\(booking.price.currency)")
        column("notes", "\(booking.notes)")
        column("hold_expires_at", "\(booking.holdExpiresAt)")
        column("updated_at", "\(booking.updatedAt)")
        column("cancel_reason", "\(cancellation?.reason)")
        column("cancel_late", "\(cancellation?.isLate)")
        column("cancel_fee_minor", "\(cancellation?.fee?.minorUnits)")
        column("cancel_minutes_before", "\(cancellation?.minutesBeforeStart)")
        column("revision", "\(booking.revision)")
        column("staff_override", "\(override)::jsonb")
        return columns
    }

    /// The `INSERT` of a new booking, for a `WriteBatch`.
    static func insertStatement(_ booking: StoredBooking) -> SQLFragment {
        var columns = writtenColumns(booking)
        columns.append(("id", "\(booking.id)"))
        columns.append(("customer_id", "\(booking.customerID)"))
        columns.append(("created_at", "\(booking.createdAt)"))
        // The booking keeps the name and contact it was made with, whatever its customer record says later.
        columns.append(("customer_name", "\(booking.customer.name)"))
        columns.append(("customer_email", "\(booking.customer.email)"))
        columns.append(("customer_phone", "\(booking.customer.phone)"))
        columns.append(("code", "\(booking.code)"))
        let names = columns.map(\.name).joined(separator: ", ")
        return "INSERT INTO bookings (\(unescaped: names)) VALUES ("
            + SQLFragment.joined(columns.map(\.value), separator: ", ") + ")"
    }

    /// The `UPDATE` of a booking's row to `booking`, for a `WriteBatch`.
    static func updateStatement(_ booking: StoredBooking) -> SQLFragment {
        let assignments = writtenColumns(booking).map { column -> SQLFragment in
            "\(unescaped: column.name) = " + column.value
        }
        return "UPDATE bookings SET " + SQLFragment.joined(assignments, separator: ", ") + " WHERE id = \(booking.id)"
    }

    static func update(_ connection: PostgresConnection, _ booking: StoredBooking) async throws {
        var batch = WriteBatch()
        batch.add(updateStatement(booking))
        _ = try await batch.run(on: connection)
    }

    /// Writes the plans' booking rows when `updating`, follows the waitlist (`followWaitlist`), enqueues their jobs,
    /// then appends their events (last: see `appendEvents`), in one statement; returns the events.
    static func persist(_ connection: PostgresConnection, _ plans: [BookingPlan], updating: Bool = false) async throws
        -> [StoredEvent]
    {
        try await persistFollowing(connection, plans, updating: updating).events
    }

    /// `persist`, returning the plans as written: each with what it meant for the waitlist (`followWaitlist`), whose
    /// events follow the booking's.
    static func persistFollowing(
        _ connection: PostgresConnection, _ plans: [BookingPlan], updating: Bool = false
    ) async throws -> (plans: [BookingPlan], events: [StoredEvent]) {
        var batch = WriteBatch()
        let written = try await addPlans(connection, plans, updating: updating, to: &batch)
        return (written, try await batch.run(on: connection, appending: written.flatMap(\.events)))
    }

    /// Adds the plans' writes to `batch`: each booking's row when `updating`, what the plan means for the waitlist
    /// (`followWaitlist`: a read or two, only for a write that can concern it) and its jobs; returns the plans as
    /// followed, whose events the caller appends.
    static func addPlans(
        _ connection: PostgresConnection, _ plans: [BookingPlan], updating: Bool, to batch: inout WriteBatch
    ) async throws -> [BookingPlan] {
        var written: [BookingPlan] = []
        for plan in plans {
            if updating { batch.add(updateStatement(plan.booking)) }
            written.append(try await followWaitlist(connection, plan, into: &batch))
        }
        for plan in written {
            batch.addJobs(plan.jobs, createdAt: plan.booking.updatedAt)
        }
        return written
    }

    /// Files the customer, plans a booking that passed its check with a free code (the first of `drawn` not
    /// `taken`), and adds its writes to `batch` (customer, booking, conflicts, jobs) in the caller's transaction;
    /// returns the booking and its events, for the caller to append. `amend` may change the plan first.
    static func insertBooking(
        _ connection: PostgresConnection, _ new: NewBooking, id: String, freshCustomerID: String, at now: Int64,
        drawn: [String], taken: Set<String>, into batch: inout WriteBatch,
        amend: (inout BookingPlan) throws -> Void = { _ in }
    ) async throws -> (booking: StoredBooking, events: [PendingEvent]) {
        let matching = try await matchCustomer(connection, new.customer)
        var plan = try BookingPlanner.create(new, id: id, customerID: matching.customerID ?? freshCustomerID, at: now)
            .get()
        guard let code = try await freeCode(connection, drawn: drawn, taken: taken) else {
            throw StoreError.codesExhausted
        }
        plan.booking.code = code
        try amend(&plan)
        if let write = customerWrite(matching, new.customer, freshID: freshCustomerID, at: now) { batch.add(write) }
        batch.add(insertStatement(plan.booking))
        let conflictEvents = addConflicts(matching.conflicts, booking: plan.booking.id, at: now, to: &batch)
        let written = try await addPlans(connection, [plan], updating: false, to: &batch)
        return (plan.booking, written.flatMap(\.events) + conflictEvents)
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
