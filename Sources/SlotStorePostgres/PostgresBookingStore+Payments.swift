import Foundation
import PostgresNIO
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

extension PostgresBookingStore: PaymentStore {
    static let paymentColumns = """
        booking_id, provider, reference, status, client_secret, amount_minor, currency, refund_reference, created_at,
        updated_at
        """

    public func payment(bookingID: String) async throws(StoreError) -> StoredPayment? {
        try await read { connection in try await Self.fetchPayment(connection, bookingID: bookingID, forUpdate: false) }
    }

    public func payments(bookingIDs: [String]) async throws(StoreError) -> [String: StoredPayment] {
        guard !bookingIDs.isEmpty else { return [:] }
        return try await read { connection in
            var found: [String: StoredPayment] = [:]
            for payment in try await Self.fetchPayments(
                connection,
                "SELECT \(unescaped: Self.paymentColumns) FROM payments WHERE booking_id = ANY(\(bookingIDs)::text[])")
            {
                found[payment.bookingID] = payment
            }
            return found
        }
    }

    public func recordDeposit(
        bookingID: String, provider: String, reference: String, clientSecret: String?, amount: Money, at now: Int64
    ) async throws(StoreError) -> StoredPayment {
        try await write { connection in
            // The booking's row lock orders this against the booking's webhooks and transitions.
            guard try await Self.fetchBooking(connection, id: bookingID, forUpdate: true) != nil else {
                throw StoreError.notFound(bookingID)
            }
            let existing = try await Self.fetchPayment(connection, bookingID: bookingID, forUpdate: true)
            let (payment, plan) = PaymentPlanner.recordDeposit(
                existing: existing, bookingID: bookingID, provider: provider, reference: reference,
                clientSecret: clientSecret, amount: amount, at: now)
            if let plan { _ = try await Self.persist(connection, plan) }
            return payment
        }
    }

    public func settlePayment(
        bookingID: String, status: StoredPaymentStatus, refundReference: String?, reason: String, at now: Int64
    ) async throws(StoreError) -> [StoredEvent] {
        try await write { connection in
            _ = try await Self.fetchBooking(connection, id: bookingID, forUpdate: true)
            guard let payment = try await Self.fetchPayment(connection, bookingID: bookingID, forUpdate: true),
                let plan = PaymentPlanner.settle(
                    payment, to: status, refundReference: refundReference, reason: reason, at: now)
            else { return [] }
            return try await Self.persist(connection, plan)
        }
    }

    public func applyPaymentWebhook(
        _ update: PaymentWebhookUpdate, at now: Int64
    ) async throws(StoreError) -> PaymentWebhookOutcome {
        try await write { connection -> PaymentWebhookOutcome in
            // Recording the event id first makes a redelivery racing this one wait for it, then find it.
            let inserted = try await connection.query(
                """
                INSERT INTO webhook_events (event_id, provider, type, booking_id, received_at)
                VALUES (\(update.eventID), \(update.provider), \(update.type), NULL, \(now))
                ON CONFLICT (event_id) DO NOTHING RETURNING event_id
                """, logger: queryLogger
            ).collect()
            if inserted.isEmpty { return .duplicate }
            var bookingID = update.bookingID
            if bookingID == nil, let reference = update.reference {
                bookingID = try await Self.single(
                    connection,
                    "SELECT booking_id FROM payments WHERE provider = \(update.provider) AND reference = \(reference)")
            }
            var booking: StoredBooking?
            if let bookingID { booking = try await Self.fetchBooking(connection, id: bookingID, forUpdate: true) }
            if let booking {
                try await connection.query(
                    "UPDATE webhook_events SET booking_id = \(booking.id) WHERE event_id = \(update.eventID)",
                    logger: queryLogger)
            }
            var payment: StoredPayment?
            if let booking { payment = try await Self.fetchPayment(connection, bookingID: booking.id, forUpdate: true) }
            guard let booking, let plan = try PaymentPlanner.webhook(update, booking: booking, payment: payment, at: now)
            else { return .ignored }
            return .applied(booking: booking.id, events: try await Self.persist(connection, plan))
        }
    }

    /// Writes a payment plan: the payment, its jobs, the booking's plan, then every event in the plan's order.
    static func persist(_ connection: PostgresConnection, _ plan: PaymentPlan) async throws -> [StoredEvent] {
        if let payment = plan.payment { try await save(connection, payment) }
        try await insertJobs(connection, plan.jobs, createdAt: plan.at)
        var events = plan.events
        if let booking = plan.booking {
            try await update(connection, booking.booking)
            try await insertJobs(connection, booking.jobs, createdAt: booking.booking.updatedAt)
            events += booking.events
        }
        return try await appendEvents(connection, events)
    }

    // MARK: - Rows

    static func fetchPayment(_ connection: PostgresConnection, bookingID: String, forUpdate: Bool) async throws
        -> StoredPayment?
    {
        try await fetchPayments(
            connection,
            """
            SELECT \(unescaped: paymentColumns) FROM payments WHERE booking_id = \(bookingID)
            \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """
        ).first
    }

    static func fetchPayments(_ connection: PostgresConnection, _ query: PostgresQuery) async throws
        -> [StoredPayment]
    {
        var payments: [StoredPayment] = []
        for try await row in try await connection.query(query, logger: queryLogger) {
            let columns = row.makeRandomAccess()
            let statusText = try columns[3].decode(String.self)
            guard let status = StoredPaymentStatus(rawValue: statusText) else {
                throw StoreError(.database, "a payment has an unknown status '\(statusText)'")
            }
            payments.append(
                StoredPayment(
                    bookingID: try columns[0].decode(String.self), provider: try columns[1].decode(String.self),
                    reference: try columns[2].decode(String?.self), status: status,
                    clientSecret: try columns[4].decode(String?.self),
                    amount: Money(minorUnits: try columns[5].decode(Int.self), currency: try columns[6].decode(String.self)),
                    refundReference: try columns[7].decode(String?.self), createdAt: try columns[8].decode(Int64.self),
                    updatedAt: try columns[9].decode(Int64.self)))
        }
        return payments
    }

    static func save(_ connection: PostgresConnection, _ payment: StoredPayment) async throws {
        try await connection.query(
            """
            INSERT INTO payments (booking_id, provider, reference, status, client_secret, amount_minor, currency,
                refund_reference, created_at, updated_at)
            VALUES (\(payment.bookingID), \(payment.provider), \(payment.reference), \(payment.status.rawValue),
                \(payment.clientSecret), \(payment.amount.minorUnits), \(payment.amount.currency),
                \(payment.refundReference), \(payment.createdAt), \(payment.updatedAt))
            ON CONFLICT (booking_id) DO UPDATE SET reference = excluded.reference, status = excluded.status,
                client_secret = excluded.client_secret, refund_reference = excluded.refund_reference,
                updated_at = excluded.updated_at
            """, logger: queryLogger)
    }
}
