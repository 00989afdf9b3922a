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
                if let existing = try Self.fetchPayment(db, bookingID: bookingID), existing.reference != nil {
                    return existing
                }
                guard try Self.fetchBooking(db, id: bookingID) != nil else { throw StoreError.notFound(bookingID) }
                try db.execute(
                    sql: """
                        INSERT INTO payments (booking_id, provider, reference, status, client_secret, amount_minor,
                            currency, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)
                        ON CONFLICT (booking_id) DO UPDATE SET reference = excluded.reference,
                            client_secret = excluded.client_secret, updated_at = excluded.updated_at
                        """,
                    arguments: [
                        bookingID, provider, reference, clientSecret, amount.minorUnits, amount.currency, now, now,
                    ])
                guard let payment = try Self.fetchPayment(db, bookingID: bookingID) else {
                    throw StoreError(.database, "the payment of \(bookingID) vanished while it was written")
                }
                return payment
            }
        }
    }

    public func settlePayment(
        bookingID: String, status: StoredPaymentStatus, refundReference: String?, reason: String, at now: Int64
    ) async throws(StoreError) -> [StoredEvent] {
        try await run {
            try await self.pool.write { db in
                guard var payment = try Self.fetchPayment(db, bookingID: bookingID) else { return [] }
                guard payment.status != status else { return [] }
                payment.status = status
                payment.clientSecret = nil
                payment.refundReference = refundReference ?? payment.refundReference
                payment.updatedAt = max(now, payment.createdAt)
                try Self.save(db, payment)
                return [try Self.appendPaymentEvent(db, payment, reason: reason, at: now)]
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
                guard let booking, let status = update.status, let deposit = booking.deposit else { return .ignored }
                var payment =
                    try Self.fetchPayment(db, bookingID: booking.id)
                    ?? StoredPayment(
                        bookingID: booking.id, provider: update.provider, reference: update.reference,
                        status: .pending, clientSecret: nil, amount: deposit, refundReference: nil, createdAt: now,
                        updatedAt: now)
                if status == .failed, payment.status == .pending {
                    // A declined attempt: the customer may try again with the same client secret until the hold
                    // lapses, so the payment stays pending; the event tells a front end to ask again.
                    var attempt = payment
                    attempt.status = .failed
                    return .applied(
                        booking: booking.id,
                        events: [try Self.appendPaymentEvent(db, attempt, reason: update.type, at: now)])
                }
                // A status the payment has already reached (or passed: refunded after succeeded) is not repeated.
                guard Self.webhookMayMove(payment.status, to: status) else { return .ignored }
                if payment.reference == nil { payment.reference = update.reference }
                payment.status = status
                payment.clientSecret = nil
                if status == .refunded, payment.refundReference == nil {
                    payment.refundReference = "\(update.provider):\(update.eventID)"
                }
                payment.updatedAt = max(now, payment.createdAt)
                try Self.save(db, payment)
                var events = [try Self.appendPaymentEvent(db, payment, reason: update.type, at: now)]
                if status == .succeeded {
                    if booking.status == .held {
                        let plan = try BookingPlanner.transition(
                            booking, .confirm, at: now, policy: Policies(), reason: "deposit paid"
                        ).get()
                        try Self.update(db, plan.booking)
                        events += try Self.append(db, plan)
                    } else if !booking.status.isActive {
                        // Paid after the hold lapsed or the booking was cancelled: give the money back.
                        try db.execute(
                            sql: "INSERT INTO outbox (kind, payload, due_at, created_at) VALUES (?, ?, ?, ?)",
                            arguments: [
                                PaymentJob.refund,
                                String(decoding: BookingPlanner.json(["booking": booking.id]), as: UTF8.self), now, now,
                            ])
                    }
                }
                return .applied(booking: booking.id, events: events)
            }
        }
    }

    /// Which moves a webhook may make: forward only (pending → anything; succeeded → refunded).
    static func webhookMayMove(_ from: StoredPaymentStatus, to: StoredPaymentStatus) -> Bool {
        switch (from, to) {
        case (.pending, .pending), (.pending, .failed): return false
        case (.pending, _): return true
        case (.succeeded, .refunded), (.kept, .refunded): return true
        case (.failed, .succeeded), (.cancelled, .succeeded): return true
        default: return false
        }
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

    /// Appends `payment.<status>` with the payment's facts (never the client secret).
    static func appendPaymentEvent(
        _ db: Database, _ payment: StoredPayment, reason: String, at now: Int64
    ) throws -> StoredEvent {
        var object: [String: Any] = [
            "booking": payment.bookingID, "provider": payment.provider, "status": payment.status.rawValue,
            "amount": payment.amount.minorUnits, "currency": payment.amount.currency, "reason": reason,
        ]
        if let reference = payment.reference { object["reference"] = reference }
        if let refund = payment.refundReference { object["refund_reference"] = refund }
        let data = BookingPlanner.json(object)
        let type = "payment.\(payment.status.rawValue)"
        try db.execute(
            sql: "INSERT INTO events (type, at, data) VALUES (?, ?, ?)",
            arguments: [type, now, String(decoding: data, as: UTF8.self)])
        return StoredEvent(cursor: db.lastInsertedRowID, type: type, at: now, data: data)
    }
}
