extension StoreSchema {
    // One payment per booking (its deposit), and every payment webhook event already acted on. The event row is
    // inserted in the same transaction as the change the webhook causes, so a redelivered event finds its id and
    // changes nothing.
    static let v2Payments = """
        CREATE TABLE payments (
            booking_id TEXT PRIMARY KEY NOT NULL REFERENCES bookings(id),
            provider TEXT NOT NULL CHECK (length(provider) > 0),
            reference TEXT CHECK (reference IS NULL OR length(reference) > 0),
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'succeeded', 'cancelled', 'refunded', 'failed', 'kept')),
            client_secret TEXT,
            amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
            currency TEXT NOT NULL CHECK (length(currency) = 3),
            refund_reference TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL CHECK (updated_at >= created_at),
            -- A client secret lets a browser pay: it is kept only while the payment waits for the customer.
            CHECK (client_secret IS NULL OR status = 'pending'),
            CHECK (status <> 'refunded' OR refund_reference IS NOT NULL)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX payments_reference ON payments(provider, reference) WHERE reference IS NOT NULL;

        CREATE TABLE webhook_events (
            event_id TEXT PRIMARY KEY NOT NULL CHECK (length(event_id) > 0),
            provider TEXT NOT NULL,
            type TEXT NOT NULL,
            booking_id TEXT,
            received_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """
}
