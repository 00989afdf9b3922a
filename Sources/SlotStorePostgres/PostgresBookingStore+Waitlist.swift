import Foundation
import PostgresNIO
import SlotCore
import SlotEngine
import SlotStore

extension PostgresBookingStore: WaitlistStore {
    /// Joins take this transaction-level advisory lock, so two daemons cannot let one customer in line twice.
    static let waitlistLockKey: Int64 = 0x736C_6F74_645F_776C  // "slotd_wl"

    public func joinWaitlist(_ new: NewWaitlistEntry, at now: Int64) async throws(StoreError) -> WaitlistChange {
        if let error = WaitlistPlanner.validate(new) { throw error }
        let id = WaitlistPlanner.newEntryID()
        return try await write { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.waitlistLockKey))", logger: queryLogger)
            let open = try await Self.fetchEntries(
                connection, where: "state IN ('waiting', 'offered')", binds: PostgresBindings())
            if let other = WaitlistPlanner.duplicate(of: new, among: open) { throw StoreError.alreadyWaiting(other) }
            let position: Int64 =
                try await Self.single(connection, "SELECT nextval(pg_get_serial_sequence('waitlist', 'position'))") ?? 1
            let plan = WaitlistPlanner.join(new, id: id, position: position, at: now)
            let events = try await Self.writeWaitlist(connection, plan, inserting: true)
            return WaitlistChange(entry: plan.entry, events: events)
        }
    }

    public func waitlistEntry(id: String) async throws(StoreError) -> StoredWaitlistEntry? {
        try await read { connection in
            var binds = PostgresBindings()
            binds.append(id)
            return try await Self.fetchEntries(connection, where: "id = $1", binds: binds).first
        }
    }

    public func waitlistEntries(_ query: WaitlistQuery) async throws(StoreError) -> [StoredWaitlistEntry] {
        try await read { connection in
            // The state and offer filters in SQL (their indexes); the rest, on a short line, in `selects`.
            var binds = PostgresBindings()
            for state in query.states { binds.append(state.rawValue) }
            var filters =
                query.states.isEmpty
                ? [] : ["state IN (" + query.states.indices.map { "$\($0 + 1)" }.joined(separator: ", ") + ")"]
            if let booking = query.offerBooking {
                binds.append(booking)
                filters.append("offer_booking_id = $\(query.states.count + 1)")
            }
            let filter = filters.isEmpty ? "true" : filters.joined(separator: " AND ")
            let entries = try await Self.fetchEntries(connection, where: filter, binds: binds)
            return Array(entries.filter(query.selects).prefix(max(0, query.limit)))
        }
    }

    public func changeWaitlistEntry(
        _ id: String, _ input: WaitlistInput, at now: Int64
    ) async throws(StoreError) -> WaitlistChange {
        try await write { connection in
            guard let entry = try await Self.lockEntry(connection, id: id) else { throw StoreError.noEntry(id) }
            let plan = try WaitlistPlanner.change(entry, input, at: now).get()
            return WaitlistChange(entry: plan.entry, events: try await Self.writeWaitlist(connection, plan))
        }
    }

    public func offerWaitlistEntry<Rejection: Sendable>(
        _ id: String, booking new: NewBooking, at now: Int64,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> WaitlistOfferOutcome<Rejection> {
        if let error = BookingPlanner.validate(new) { throw error }
        let bookingID = BookingPlanner.newBookingID()
        let freshCustomerID = BookingPlanner.newCustomerID()
        return try await write { connection -> WaitlistOfferOutcome<Rejection> in
            // The same locks as a new booking's, in the same order, then the entry.
            try await Self.lockConflictKeys(
                connection, staffID: new.staffID, resources: new.times.footprint.resources, customer: new.customer)
            guard let entry = try await Self.lockEntry(connection, id: id) else { throw StoreError.noEntry(id) }
            let drawn = Self.drawCodes(8)
            let (conflicting, taken) = try await Self.candidates(
                connection, staffID: new.staffID, resources: new.times.footprint.resources, window: new.times.window,
                excluding: nil, codes: drawn)
            if let rejection = check(conflicting.map(\.bookedSpan)) { return .rejected(rejection) }
            // The booking's writes and the entry's in one statement, as a new booking's (`WriteBatch`).
            var batch = WriteBatch()
            var offer: WaitlistPlan?
            let (booking, events) = try await Self.insertBooking(
                connection, new, id: bookingID, freshCustomerID: freshCustomerID, at: now, drawn: drawn, taken: taken,
                into: &batch
            ) { plan in offer = try WaitlistPlanner.offer(entry, booking: &plan, at: now).get() }
            guard let offer else { throw StoreError(.database, "the offer was not planned") }
            Self.addWaitlist(offer, to: &batch)
            let change = WaitlistChange(
                entry: offer.entry, events: try await batch.run(on: connection, appending: events + offer.events))
            return .offered(change, booking: booking)
        }
    }

    // MARK: - Rows

    static let entryColumns = """
        position, id, service_id, variant, staff_id, first_date, last_date, from_minute, to_minute, customer_name,
        customer_email, customer_phone, notes, state, offer_booking_id, offer_staff_id, offer_start,
        offer_expires_at, created_at, updated_at
        """

    static func lockEntry(_ connection: PostgresConnection, id: String) async throws -> StoredWaitlistEntry? {
        var binds = PostgresBindings()
        binds.append(id)
        return try await fetchEntries(connection, where: "id = $1", binds: binds, forUpdate: true).first
    }

    static func fetchEntries(
        _ connection: PostgresConnection, where filter: String, binds: PostgresBindings, forUpdate: Bool = false
    ) async throws -> [StoredWaitlistEntry] {
        let sql =
            "SELECT \(entryColumns) FROM waitlist WHERE \(filter) ORDER BY position" + (forUpdate ? " FOR UPDATE" : "")
        var entries: [StoredWaitlistEntry] = []
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: queryLogger)
        for try await row in rows {
            entries.append(try decodeEntry(row.makeRandomAccess()))
        }
        return entries
    }

    static func decodeEntry(_ row: PostgresRandomAccessRow) throws -> StoredWaitlistEntry {
        let id = try row[1].decode(String.self)
        let stateText = try row[13].decode(String.self)
        guard let first = LocalDate(iso: try row[5].decode(String.self)),
            let last = LocalDate(iso: try row[6].decode(String.self)), let state = WaitlistState(rawValue: stateText)
        else {
            throw StoreError(.database, "waitlist entry \(id) has unreadable dates or state")
        }
        let staff = try row[4].decode(String?.self)
        let wish = WaitlistWish(
            service: try row[2].decode(String.self), variant: try row[3].decode(String?.self),
            staff: staff.map(StaffChoice.member) ?? .any, first: first, last: last,
            fromMinute: try row[7].decode(Int?.self), toMinute: try row[8].decode(Int?.self))
        var offer: WaitlistOffer?
        if let booking = try row[14].decode(String?.self) {
            offer = WaitlistOffer(
                booking: booking, staff: try row[15].decode(String?.self) ?? "",
                start: try row[16].decode(Int64?.self) ?? 0, expiresAt: try row[17].decode(Int64?.self) ?? 0)
        }
        return StoredWaitlistEntry(
            id: id, position: try row[0].decode(Int64.self), wish: wish,
            customer: CustomerInfo(
                name: try row[9].decode(String.self), email: try row[10].decode(String?.self),
                phone: try row[11].decode(String?.self)),
            notes: try row[12].decode(String.self), state: state, offer: offer,
            createdAt: try row[18].decode(Int64.self), updatedAt: try row[19].decode(Int64.self))
    }

    /// Writes a waitlist plan (inserting a new entry or updating one), its jobs and events, in one statement.
    static func writeWaitlist(
        _ connection: PostgresConnection, _ plan: WaitlistPlan, inserting: Bool = false
    ) async throws -> [StoredEvent] {
        var batch = WriteBatch()
        addWaitlist(plan, inserting: inserting, to: &batch)
        return try await batch.run(on: connection, appending: plan.events)
    }

    /// Adds a waitlist plan's entry write and jobs to `batch`; its events are the caller's to append.
    static func addWaitlist(_ plan: WaitlistPlan, inserting: Bool = false, to batch: inout WriteBatch) {
        batch.add(entryWrite(plan.entry, inserting: inserting))
        batch.addJobs(jobsInsert(plan.jobs, createdAt: plan.entry.updatedAt))
    }

    /// The `INSERT` of a new entry or the `UPDATE` of an entry's state and offer, for a `WriteBatch`.
    static func entryWrite(_ entry: StoredWaitlistEntry, inserting: Bool) -> SQLFragment {
        var staffID: String?
        if case .member(let id) = entry.wish.staff { staffID = id }
        let offer = entry.offer
        guard inserting else {
            return """
                UPDATE waitlist SET state = \(entry.state.rawValue), offer_booking_id = \(offer?.booking),
                    offer_staff_id = \(offer?.staff), offer_start = \(offer?.start),
                    offer_expires_at = \(offer?.expiresAt), updated_at = \(entry.updatedAt)
                WHERE id = \(entry.id)
                """
        }
        return """
            INSERT INTO waitlist (position, id, service_id, variant, staff_id, first_date, last_date, from_minute,
                to_minute, customer_name, customer_email, customer_phone, notes, state, created_at, updated_at)
            VALUES (\(entry.position), \(entry.id), \(entry.wish.service), \(entry.wish.variant), \(staffID),
                \(entry.wish.first.description), \(entry.wish.last.description), \(entry.wish.fromMinute),
                \(entry.wish.toMinute), \(entry.customer.name), \(entry.customer.email), \(entry.customer.phone),
                \(entry.notes), \(entry.state.rawValue), \(entry.createdAt), \(entry.updatedAt))
            """
    }

    /// Carries a booking write to the entry whose offer the booking holds (its row's update added to `batch`, its
    /// events and jobs joined to the booking's), and asks the waitlist to look when the write frees time and someone
    /// waits.
    static func followWaitlist(
        _ connection: PostgresConnection, _ booking: BookingPlan, into batch: inout WriteBatch
    ) async throws -> BookingPlan {
        var plan = booking
        if WaitlistPlanner.mayConcernOffer(plan) {
            var binds = PostgresBindings()
            binds.append(plan.booking.id)
            if let entry = try await fetchEntries(
                connection, where: "state = 'offered' AND offer_booking_id = $1", binds: binds, forUpdate: true
            ).first, let followed = WaitlistPlanner.follow(entry, &plan) {
                batch.add(entryWrite(followed.entry, inserting: false))
                plan.events += followed.events
                plan.jobs += followed.jobs
            }
        }
        if plan.releasesTime {
            let anyoneWaiting: Bool =
                try await single(connection, "SELECT EXISTS (SELECT 1 FROM waitlist WHERE state = 'waiting')") ?? false
            if let job = WaitlistPlanner.matchJob(after: plan, anyoneWaiting: anyoneWaiting) { plan.jobs.append(job) }
        }
        return plan
    }
}
