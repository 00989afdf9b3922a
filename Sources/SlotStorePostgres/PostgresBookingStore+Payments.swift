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
                // A setup's reference names a card on file, a payment's a deposit.
                let provider = update.provider
                let lookup: PostgresQuery =
                    update.savedPaymentMethod == nil
                    ? "SELECT booking_id FROM payments WHERE provider = \(provider) AND reference = \(reference)"
                    : "SELECT booking_id FROM cards WHERE provider = \(provider) AND setup_reference = \(reference)"
                bookingID = try await Self.single(connection, lookup)
            }
            var booking: StoredBooking?
            if let bookingID { booking = try await Self.fetchBooking(connection, id: bookingID, forUpdate: true) }
            if let booking {
                try await connection.query(
                    "UPDATE webhook_events SET booking_id = \(booking.id) WHERE event_id = \(update.eventID)",
                    logger: queryLogger)
            }
            if let booking, let method = update.savedPaymentMethod {
                let card = try await Self.fetchCard(connection, bookingID: booking.id, forUpdate: true)
                guard
                    let plan = try PaymentPlanner.cardSaved(
                        update, paymentMethod: method, booking: booking, card: card, at: now)
                else { return .ignored }
                return .applied(booking: booking.id, events: try await Self.persist(connection, plan))
            }
            var payment: StoredPayment?
            if let booking { payment = try await Self.fetchPayment(connection, bookingID: booking.id, forUpdate: true) }
            guard let booking, let plan = try PaymentPlanner.webhook(update, booking: booking, payment: payment, at: now)
            else { return .ignored }
            return .applied(booking: booking.id, events: try await Self.persist(connection, plan))
        }
    }

    // MARK: - Cards on file

    public func card(bookingID: String) async throws(StoreError) -> StoredCard? {
        try await read { connection in try await Self.fetchCard(connection, bookingID: bookingID, forUpdate: false) }
    }

    public func cards(bookingIDs: [String]) async throws(StoreError) -> [String: StoredCard] {
        guard !bookingIDs.isEmpty else { return [:] }
        return try await read { connection in
            var found: [String: StoredCard] = [:]
            for card in try await Self.fetchCards(
                connection,
                "SELECT \(unescaped: Self.cardColumns) FROM cards WHERE booking_id = ANY(\(bookingIDs)::text[])")
            {
                found[card.bookingID] = card
            }
            return found
        }
    }

    public func providerCustomer(customerID: String, provider: String) async throws(StoreError) -> String? {
        try await read { connection in
            try await Self.single(
                connection,
                """
                SELECT customer_reference FROM cards WHERE customer_id = \(customerID) AND provider = \(provider)
                ORDER BY created_at DESC LIMIT 1
                """)
        }
    }

    public func recordCardSetup(
        bookingID: String, provider: String, customerReference: String, setupReference: String,
        clientSecret: String?, at now: Int64
    ) async throws(StoreError) -> StoredCard {
        try await write { connection in
            // The booking's row lock orders this against the booking's webhooks and a second run of the job.
            guard let booking = try await Self.fetchBooking(connection, id: bookingID, forUpdate: true) else {
                throw StoreError.notFound(bookingID)
            }
            let (card, plan) = PaymentPlanner.recordCardSetup(
                existing: try await Self.fetchCard(connection, bookingID: booking.id, forUpdate: true),
                booking: booking, provider: provider, customerReference: customerReference,
                setupReference: setupReference, clientSecret: clientSecret, at: now)
            if let plan { _ = try await Self.persist(connection, plan) }
            return card
        }
    }

    public func recordFee(
        bookingID: String, outcome: FeeOutcome, amount: Money, at now: Int64
    ) async throws(StoreError) -> [StoredEvent] {
        try await write { connection in
            guard let card = try await Self.fetchCard(connection, bookingID: bookingID, forUpdate: true),
                let plan = PaymentPlanner.recordFee(card, outcome, amount: amount, at: now)
            else { return [] }
            return try await Self.persist(connection, plan)
        }
    }

    static let cardColumns = """
        booking_id, customer_id, provider, customer_reference, setup_reference, status, client_secret, payment_method,
        fee_status, fee_amount_minor, fee_currency, fee_reference, fee_reason, created_at, updated_at
        """

    static func fetchCard(_ connection: PostgresConnection, bookingID: String, forUpdate: Bool) async throws
        -> StoredCard?
    {
        try await fetchCards(
            connection,
            """
            SELECT \(unescaped: cardColumns) FROM cards WHERE booking_id = \(bookingID)
            \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """
        ).first
    }

    static func fetchCards(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [StoredCard] {
        var cards: [StoredCard] = []
        for try await row in try await connection.query(query, logger: queryLogger) {
            let columns = row.makeRandomAccess()
            let statusText = try columns[5].decode(String.self)
            guard let state = CardState(rawValue: statusText) else {
                throw StoreError(.database, "a card on file has an unknown status '\(statusText)'")
            }
            let fee = try CardFeeColumns.decode(
                status: try columns[8].decode(String?.self), reference: try columns[11].decode(String?.self),
                reason: try columns[12].decode(String?.self))
            let amount = try columns[9].decode(Int?.self)
            let currency = try columns[10].decode(String?.self)
            cards.append(
                StoredCard(
                    bookingID: try columns[0].decode(String.self), customerID: try columns[1].decode(String.self),
                    provider: try columns[2].decode(String.self),
                    card: CardOnFile(
                        state: state, customerReference: try columns[3].decode(String.self),
                        setupReference: try columns[4].decode(String.self),
                        clientSecret: try columns[6].decode(String?.self),
                        paymentMethod: try columns[7].decode(String?.self), fee: fee),
                    feeAmount: amount.flatMap { minor in currency.map { Money(minorUnits: minor, currency: $0) } },
                    createdAt: try columns[13].decode(Int64.self), updatedAt: try columns[14].decode(Int64.self)))
        }
        return cards
    }

    static func save(_ connection: PostgresConnection, _ stored: StoredCard) async throws {
        let (feeReference, feeReason) = CardFeeColumns.encode(stored.card.fee)
        try await connection.query(
            """
            INSERT INTO cards (booking_id, customer_id, provider, customer_reference, setup_reference, status,
                client_secret, payment_method, fee_status, fee_amount_minor, fee_currency, fee_reference, fee_reason,
                created_at, updated_at)
            VALUES (\(stored.bookingID), \(stored.customerID), \(stored.provider), \(stored.card.customerReference),
                \(stored.card.setupReference), \(stored.card.state.rawValue), \(stored.card.clientSecret),
                \(stored.card.paymentMethod), \(stored.card.fee?.status), \(stored.feeAmount?.minorUnits),
                \(stored.feeAmount?.currency), \(feeReference), \(feeReason), \(stored.createdAt), \(stored.updatedAt))
            ON CONFLICT (booking_id) DO UPDATE SET status = excluded.status,
                client_secret = excluded.client_secret, payment_method = excluded.payment_method,
                fee_status = excluded.fee_status, fee_amount_minor = excluded.fee_amount_minor,
                fee_currency = excluded.fee_currency, fee_reference = excluded.fee_reference,
                fee_reason = excluded.fee_reason, updated_at = excluded.updated_at
            """, logger: queryLogger)
    }

    /// Writes a payment plan: the payment (or card), its jobs, the booking's plan, then every event in the plan's
    /// order.
    static func persist(_ connection: PostgresConnection, _ plan: PaymentPlan) async throws -> [StoredEvent] {
        if let payment = plan.payment { try await save(connection, payment) }
        if let card = plan.card { try await save(connection, card) }
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
