import Foundation
import GRDB
import SlotCore
import SlotEngine

extension SQLiteBookingStore: WaitlistStore {
    public func joinWaitlist(_ new: NewWaitlistEntry, at now: Int64) async throws(StoreError) -> WaitlistChange {
        if let error = WaitlistPlanner.validate(new) { throw error }
        let id = WaitlistPlanner.newEntryID()
        return try await run {
            try await self.write { db in
                let open = try Self.fetchEntries(db, where: "state IN ('waiting', 'offered')", arguments: [])
                if let other = WaitlistPlanner.duplicate(of: new, among: open) {
                    throw StoreError.alreadyWaiting(other)
                }
                let position = try Int64.fetchOne(db, sql: "SELECT coalesce(max(position), 0) + 1 FROM waitlist") ?? 1
                let plan = WaitlistPlanner.join(new, id: id, position: position, at: now)
                return WaitlistChange(entry: plan.entry, events: try Self.writeWaitlist(db, plan, inserting: true))
            }
        }
    }

    public func waitlistEntry(id: String) async throws(StoreError) -> StoredWaitlistEntry? {
        try await run {
            try await self.read { db in try Self.fetchEntries(db, where: "id = ?", arguments: [id]).first }
        }
    }

    public func waitlistEntries(_ query: WaitlistQuery) async throws(StoreError) -> [StoredWaitlistEntry] {
        try await run {
            try await self.read { db in
                // The state and offer filters in SQL (their indexes); the rest, on a short line, in `selects`.
                let states = query.states.map(\.rawValue)
                let placeholders = states.map { _ in "?" }.joined(separator: ", ")
                var filters = states.isEmpty ? [] : ["state IN (\(placeholders))"]
                var arguments = StatementArguments(states)
                if let booking = query.offerBooking {
                    filters.append("offer_booking_id = ?")
                    arguments += [booking]
                }
                let filter = filters.isEmpty ? "1" : filters.joined(separator: " AND ")
                let entries = try Self.fetchEntries(db, where: filter, arguments: arguments)
                return Array(entries.filter(query.selects).prefix(max(0, query.limit)))
            }
        }
    }

    public func changeWaitlistEntry(
        _ id: String, _ input: WaitlistInput, at now: Int64
    ) async throws(StoreError) -> WaitlistChange {
        try await run {
            try await self.write { db in
                guard let entry = try Self.fetchEntries(db, where: "id = ?", arguments: [id]).first else {
                    throw StoreError.noEntry(id)
                }
                let plan = try WaitlistPlanner.change(entry, input, at: now).get()
                return WaitlistChange(entry: plan.entry, events: try Self.writeWaitlist(db, plan))
            }
        }
    }

    public func offerWaitlistEntry<Rejection: Sendable>(
        _ id: String, booking new: NewBooking, at now: Int64,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> WaitlistOfferOutcome<Rejection> {
        if let error = BookingPlanner.validate(new) { throw error }
        let bookingID = BookingPlanner.newBookingID()
        let freshCustomerID = BookingPlanner.newCustomerID()
        return try await run {
            try await self.write { db -> WaitlistOfferOutcome<Rejection> in
                guard let entry = try Self.fetchEntries(db, where: "id = ?", arguments: [id]).first else {
                    throw StoreError.noEntry(id)
                }
                let conflicting = try Self.candidates(
                    db, staffID: new.staffID, resources: new.times.footprint.resources, window: new.times.window,
                    excluding: nil)
                if let rejection = check(conflicting) { return .rejected(rejection) }
                var offer: WaitlistPlan?
                let (booking, events) = try Self.insertBooking(
                    db, new, id: bookingID, freshCustomerID: freshCustomerID, at: now
                ) { plan in
                    offer = try WaitlistPlanner.offer(entry, booking: &plan, at: now).get()
                }
                guard let offer else { throw StoreError(.database, "the offer was not planned") }
                let change = WaitlistChange(entry: offer.entry, events: events + (try Self.writeWaitlist(db, offer)))
                return .offered(change, booking: booking)
            }
        }
    }

    // MARK: - Rows

    static let selectEntries = """
        SELECT position, id, service_id, variant, staff_id, first_date, last_date, from_minute, to_minute,
            customer_name, customer_email, customer_phone, notes, state, offer_booking_id, offer_staff_id,
            offer_start, offer_expires_at, created_at, updated_at
        FROM waitlist
        """

    static func fetchEntries(
        _ db: Database, where filter: String, arguments: StatementArguments
    ) throws -> [StoredWaitlistEntry] {
        try Row.fetchAll(db, sql: selectEntries + " WHERE " + filter + " ORDER BY position", arguments: arguments)
            .map(decodeEntry)
    }

    static func decodeEntry(_ row: Row) throws -> StoredWaitlistEntry {
        let firstText: String = row["first_date"]
        let lastText: String = row["last_date"]
        let stateText: String = row["state"]
        guard let first = LocalDate(iso: firstText), let last = LocalDate(iso: lastText),
            let state = WaitlistState(rawValue: stateText)
        else {
            throw StoreError(.database, "waitlist entry \(row["id"] as String? ?? "?") has unreadable dates or state")
        }
        let staff: String? = row["staff_id"]
        let wish = WaitlistWish(
            service: row["service_id"], variant: row["variant"], staff: staff.map(StaffChoice.member) ?? .any,
            first: first, last: last, fromMinute: row["from_minute"], toMinute: row["to_minute"])
        var offer: WaitlistOffer?
        if let booking: String = row["offer_booking_id"] {
            offer = WaitlistOffer(
                booking: booking, staff: (row["offer_staff_id"] as String?) ?? "",
                start: (row["offer_start"] as Int64?) ?? 0, expiresAt: (row["offer_expires_at"] as Int64?) ?? 0)
        }
        return StoredWaitlistEntry(
            id: row["id"], position: row["position"], wish: wish,
            customer: CustomerInfo(
                name: row["customer_name"], email: row["customer_email"], phone: row["customer_phone"]),
            notes: row["notes"], state: state, offer: offer, createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    /// Writes a waitlist plan (inserting a new entry or updating one), its events and jobs.
    static func writeWaitlist(_ db: Database, _ plan: WaitlistPlan, inserting: Bool = false) throws -> [StoredEvent] {
        let entry = plan.entry
        var staffID: String?
        if case .member(let id) = entry.wish.staff { staffID = id }
        let offer = entry.offer
        if inserting {
            try db.execute(
                sql: """
                    INSERT INTO waitlist (position, id, service_id, variant, staff_id, first_date, last_date,
                        from_minute, to_minute, customer_name, customer_email, customer_phone, notes, state,
                        created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.position, entry.id, entry.wish.service, entry.wish.variant, staffID,
                    entry.wish.first.description, entry.wish.last.description, entry.wish.fromMinute,
                    entry.wish.toMinute, entry.customer.name, entry.customer.email, entry.customer.phone, entry.notes,
                    entry.state.rawValue, entry.createdAt, entry.updatedAt,
                ])
        } else {
            try db.execute(
                sql: """
                    UPDATE waitlist SET state = ?, offer_booking_id = ?, offer_staff_id = ?, offer_start = ?,
                        offer_expires_at = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    entry.state.rawValue, offer?.booking, offer?.staff, offer?.start, offer?.expiresAt,
                    entry.updatedAt, entry.id,
                ])
        }
        let appended = try appendEvents(db, plan.events)
        try insertPendingJobs(db, plan.jobs, createdAt: entry.updatedAt)
        return appended
    }

    /// Carries a booking write to the entry whose offer the booking holds, and asks the waitlist to look when the
    /// write frees time and someone waits; returns the entry's plan to write after the booking's.
    static func followWaitlist(_ db: Database, _ plan: inout BookingPlan) throws -> WaitlistPlan? {
        var followed: WaitlistPlan?
        if WaitlistPlanner.mayConcernOffer(plan),
            let entry = try fetchEntries(
                db, where: "state = 'offered' AND offer_booking_id = ?", arguments: [plan.booking.id]
            ).first
        {
            followed = WaitlistPlanner.follow(entry, &plan)
        }
        if plan.releasesTime {
            let anyoneWaiting =
                try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM waitlist WHERE state = 'waiting')")) ?? false
            if let job = WaitlistPlanner.matchJob(after: plan, anyoneWaiting: anyoneWaiting) { plan.jobs.append(job) }
        }
        return followed
    }
}
