import Foundation
import GRDB
import SlotCore
import SlotEngine
import SlotRules

extension SQLiteBookingStore: PaymentStore {
    public func payment(bookingID: String) async throws(StoreError) -> StoredPayment? {
        try await run { try await self.read { db in try Self.fetchPayment(db, bookingID: bookingID) } }
    }

    public func payments(bookingIDs: [String]) async throws(StoreError) -> [String: StoredPayment] {
        guard !bookingIDs.isEmpty else { return [:] }
        return try await run {
            try await self.read { db in
                var found: [String: StoredPayment] = [:]
                // Chunks keep each statement under SQLite's parameter limit.
                for start in stride(from: 0, to: bookingIDs.count, by: 500) {
                    let chunk = Array(bookingIDs[start..<min(start + 500, bookingIDs.count)])
                    let sql = "SELECT * FROM payments WHERE booking_id IN ("
                        + chunk.map { _ in "?" }.joined(separator: ", ") + ")"
                    for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(chunk)) {
                        let payment = try Self.decodePayment(row)
                        found[payment.bookingID] = payment
                    }
                }
                return found
            }
        }
    }

    public func recordDeposit(
        bookingID: String, provider: String, reference: String, clientSecret: String?, amount: Money, at now: Int64
    ) async throws(StoreError) -> StoredPayment {
        try await run {
            try await self.pool.write { db in
                let existing = try Self.fetchPayment(db, bookingID: bookingID)
                if existing == nil, try Self.fetchBooking(db, id: bookingID) == nil {
                    throw StoreError.notFound(bookingID)
                }
                let (payment, plan) = PaymentPlanner.recordDeposit(
                    existing: existing, bookingID: bookingID, provider: provider, reference: reference,
                    clientSecret: clientSecret, amount: amount, at: now)
                if let plan { _ = try Self.persist(db, plan) }
                return payment
            }
        }
    }

    public func settlePayment(
        bookingID: String, status: StoredPaymentStatus, refundReference: String?, reason: String, at now: Int64
    ) async throws(StoreError) -> [StoredEvent] {
        try await run {
            try await self.pool.write { db in
                guard let payment = try Self.fetchPayment(db, bookingID: bookingID),
                    let plan = PaymentPlanner.settle(
                        payment, to: status, refundReference: refundReference, reason: reason, at: now)
                else { return [] }
                return try Self.persist(db, plan)
            }
        }
    }

    public func applyPaymentWebhook(
        _ update: PaymentWebhookUpdate, at now: Int64
    ) async throws(StoreError) -> PaymentWebhookOutcome {
        try await run {
            try await self.pool.write { db -> PaymentWebhookOutcome in
                let seen = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM webhook_events WHERE event_id = ?", arguments: [update.eventID]) ?? false
                if seen { return .duplicate }
                var bookingID = update.bookingID
                if bookingID == nil, let reference = update.reference {
                    bookingID = try String.fetchOne(
                        db, sql: "SELECT booking_id FROM payments WHERE provider = ? AND reference = ?",
                        arguments: [update.provider, reference])
                }
                let booking = try bookingID.flatMap { id in try Self.fetchBooking(db, id: id) }
                try db.execute(
                    sql: """
                        INSERT INTO webhook_events (event_id, provider, type, booking_id, received_at)
                        VALUES (?, ?, ?, ?, ?)
                        """,
                    arguments: [update.eventID, update.provider, update.type, booking?.id, now])
                let payment = try booking.flatMap { booking in try Self.fetchPayment(db, bookingID: booking.id) }
                guard let booking,
                    let plan = try PaymentPlanner.webhook(update, booking: booking, payment: payment, at: now)
                else { return .ignored }
                return .applied(booking: booking.id, events: try Self.persist(db, plan))
            }
        }
    }

    /// Writes a payment plan: the payment, its events and jobs, then the booking's plan; returns the events.
    static func persist(_ db: Database, _ plan: PaymentPlan) throws -> [StoredEvent] {
        if let payment = plan.payment { try save(db, payment) }
        var appended = try appendEvents(db, plan.events)
        try insertPendingJobs(db, plan.jobs, createdAt: plan.at)
        if let booking = plan.booking {
            try update(db, booking.booking)
            appended += try append(db, booking)
        }
        return appended
    }

    // MARK: - Rows

    static func fetchPayment(_ db: Database, bookingID: String) throws -> StoredPayment? {
        try Row.fetchOne(db, sql: "SELECT * FROM payments WHERE booking_id = ?", arguments: [bookingID])
            .map(decodePayment)
    }

    static func decodePayment(_ row: Row) throws -> StoredPayment {
        let statusText: String = row["status"]
        guard let status = StoredPaymentStatus(rawValue: statusText) else {
            throw StoreError(.database, "a payment has an unknown status '\(statusText)'")
        }
        return StoredPayment(
            bookingID: row["booking_id"], provider: row["provider"], reference: row["reference"], status: status,
            clientSecret: row["client_secret"],
            amount: Money(minorUnits: row["amount_minor"], currency: row["currency"]),
            refundReference: row["refund_reference"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    static func save(_ db: Database, _ payment: StoredPayment) throws {
        try db.execute(
            sql: """
                INSERT INTO payments (booking_id, provider, reference, status, client_secret, amount_minor, currency,
                    refund_reference, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (booking_id) DO UPDATE SET reference = excluded.reference, status = excluded.status,
                    client_secret = excluded.client_secret, refund_reference = excluded.refund_reference,
                    updated_at = excluded.updated_at
                """,
            arguments: [
                payment.bookingID, payment.provider, payment.reference, payment.status.rawValue, payment.clientSecret,
                payment.amount.minorUnits, payment.amount.currency, payment.refundReference, payment.createdAt,
                payment.updatedAt,
            ])
    }
}
