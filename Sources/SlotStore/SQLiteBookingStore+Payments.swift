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
                try Self.fetchByBooking(db, table: "payments", bookingIDs, decode: Self.decodePayment, id: \.bookingID)
            }
        }
    }

    public func recordDeposit(
        bookingID: String, provider: String, reference: String, clientSecret: String?, amount: Money, at now: Int64
    ) async throws(StoreError) -> StoredPayment {
        try await run {
            try await self.write { db in
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
            try await self.write { db in
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
            try await self.write { db -> PaymentWebhookOutcome in
                let seen = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM webhook_events WHERE event_id = ?", arguments: [update.eventID]) ?? false
                if seen { return .duplicate }
                var bookingID = update.bookingID
                if bookingID == nil, let reference = update.reference {
                    // A setup's reference names a card on file, a payment's a deposit.
                    let table = update.savedPaymentMethod == nil ? "payments" : "cards"
                    let column = update.savedPaymentMethod == nil ? "reference" : "setup_reference"
                    bookingID = try String.fetchOne(
                        db, sql: "SELECT booking_id FROM \(table) WHERE provider = ? AND \(column) = ?",
                        arguments: [update.provider, reference])
                }
                let booking = try bookingID.flatMap { id in try Self.fetchBooking(db, id: id) }
                try db.execute(
                    sql: """
                        INSERT INTO webhook_events (event_id, provider, type, booking_id, received_at)
                        VALUES (?, ?, ?, ?, ?)
                        """,
                    arguments: [update.eventID, update.provider, update.type, booking?.id, now])
                if let booking, let method = update.savedPaymentMethod {
                    let card = try Self.fetchCard(db, bookingID: booking.id)
                    guard let plan = try PaymentPlanner.cardSaved(
                        update, paymentMethod: method, booking: booking, card: card, at: now)
                    else { return .ignored }
                    return .applied(booking: booking.id, events: try Self.persist(db, plan))
                }
                let payment = try booking.flatMap { booking in try Self.fetchPayment(db, bookingID: booking.id) }
                guard let booking,
                    let plan = try PaymentPlanner.webhook(update, booking: booking, payment: payment, at: now)
                else { return .ignored }
                return .applied(booking: booking.id, events: try Self.persist(db, plan))
            }
        }
    }

    // MARK: - Cards on file

    public func card(bookingID: String) async throws(StoreError) -> StoredCard? {
        try await run { try await self.read { db in try Self.fetchCard(db, bookingID: bookingID) } }
    }

    public func cards(bookingIDs: [String]) async throws(StoreError) -> [String: StoredCard] {
        guard !bookingIDs.isEmpty else { return [:] }
        return try await run {
            try await self.read { db in
                try Self.fetchByBooking(db, table: "cards", bookingIDs, decode: Self.decodeCard, id: \.bookingID)
            }
        }
    }

    public func providerCustomer(customerID: String, provider: String) async throws(StoreError) -> String? {
        try await run {
            try await self.read { db in
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT customer_reference FROM cards WHERE customer_id = ? AND provider = ?
                        ORDER BY created_at DESC LIMIT 1
                        """,
                    arguments: [customerID, provider])
            }
        }
    }

    public func recordCardSetup(
        bookingID: String, provider: String, customerReference: String, setupReference: String,
        clientSecret: String?, at now: Int64
    ) async throws(StoreError) -> StoredCard {
        try await run {
            try await self.write { db in
                guard let booking = try Self.fetchBooking(db, id: bookingID) else {
                    throw StoreError.notFound(bookingID)
                }
                let (card, plan) = PaymentPlanner.recordCardSetup(
                    existing: try Self.fetchCard(db, bookingID: bookingID), booking: booking, provider: provider,
                    customerReference: customerReference, setupReference: setupReference,
                    clientSecret: clientSecret, at: now)
                if let plan { _ = try Self.persist(db, plan) }
                return card
            }
        }
    }

    public func recordFee(
        bookingID: String, outcome: FeeOutcome, amount: Money, at now: Int64
    ) async throws(StoreError) -> [StoredEvent] {
        try await run {
            try await self.write { db in
                guard let card = try Self.fetchCard(db, bookingID: bookingID),
                    let plan = PaymentPlanner.recordFee(card, outcome, amount: amount, at: now)
                else { return [] }
                return try Self.persist(db, plan)
            }
        }
    }

    /// The rows of `table` (keyed by `booking_id`) for several bookings, decoded, by booking id.
    static func fetchByBooking<Record>(
        _ db: Database, table: String, _ bookingIDs: [String], decode: (Row) throws -> Record,
        id: KeyPath<Record, String>
    ) throws -> [String: Record] {
        var found: [String: Record] = [:]
        // Chunks keep each statement under SQLite's parameter limit.
        for start in stride(from: 0, to: bookingIDs.count, by: 500) {
            let chunk = Array(bookingIDs[start..<min(start + 500, bookingIDs.count)])
            let sql = "SELECT * FROM \(table) WHERE booking_id IN ("
                + chunk.map { _ in "?" }.joined(separator: ", ") + ")"
            for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(chunk)) {
                let record = try decode(row)
                found[record[keyPath: id]] = record
            }
        }
        return found
    }

    static func fetchCard(_ db: Database, bookingID: String) throws -> StoredCard? {
        try Row.fetchOne(db, sql: "SELECT * FROM cards WHERE booking_id = ?", arguments: [bookingID]).map(decodeCard)
    }

    static func decodeCard(_ row: Row) throws -> StoredCard {
        let statusText: String = row["status"]
        guard let state = CardState(rawValue: statusText) else {
            throw StoreError(.database, "a card on file has an unknown status '\(statusText)'")
        }
        let fee = try CardFeeColumns.decode(
            status: row["fee_status"], reference: row["fee_reference"], reason: row["fee_reason"])
        let amount: Int? = row["fee_amount_minor"]
        let currency: String? = row["fee_currency"]
        return StoredCard(
            bookingID: row["booking_id"], customerID: row["customer_id"], provider: row["provider"],
            card: CardOnFile(
                state: state, customerReference: row["customer_reference"], setupReference: row["setup_reference"],
                clientSecret: row["client_secret"], paymentMethod: row["payment_method"], fee: fee),
            feeAmount: amount.flatMap { minor in currency.map { Money(minorUnits: minor, currency: $0) } },
            createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    static func save(_ db: Database, _ stored: StoredCard) throws {
        let (feeReference, feeReason) = CardFeeColumns.encode(stored.card.fee)
        try db.execute(
            sql: """
                INSERT INTO cards (booking_id, customer_id, provider, customer_reference, setup_reference, status,
                    client_secret, payment_method, fee_status, fee_amount_minor, fee_currency, fee_reference,
                    fee_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (booking_id) DO UPDATE SET status = excluded.status,
                    client_secret = excluded.client_secret, payment_method = excluded.payment_method,
                    fee_status = excluded.fee_status, fee_amount_minor = excluded.fee_amount_minor,
                    fee_currency = excluded.fee_currency, fee_reference = excluded.fee_reference,
                    fee_reason = excluded.fee_reason, updated_at = excluded.updated_at
                """,
            arguments: [
                stored.bookingID, stored.customerID, stored.provider, stored.card.customerReference,
                stored.card.setupReference, stored.card.state.rawValue, stored.card.clientSecret,
                stored.card.paymentMethod, stored.card.fee?.status, stored.feeAmount?.minorUnits,
                stored.feeAmount?.currency, feeReference, feeReason, stored.createdAt, stored.updatedAt,
            ])
    }

    /// Writes a payment plan: the payment (or card), its events and jobs, then the booking's plan; returns the
    /// events.
    static func persist(_ db: Database, _ plan: PaymentPlan) throws -> [StoredEvent] {
        if let payment = plan.payment { try save(db, payment) }
        if let card = plan.card { try save(db, card) }
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
