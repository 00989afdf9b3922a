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

extension StoreSchema {
    // One card on file per booking (`policies.card_on_file`): the provider's customer (reused for the customer's
    // later bookings, hence the index), the setup, the saved card, and the one fee charged to it.
    static let v8Cards = """
        CREATE TABLE cards (
            booking_id TEXT PRIMARY KEY NOT NULL REFERENCES bookings(id),
            customer_id TEXT NOT NULL REFERENCES customers(id),
            provider TEXT NOT NULL CHECK (length(provider) > 0),
            customer_reference TEXT NOT NULL CHECK (length(customer_reference) > 0),
            setup_reference TEXT NOT NULL CHECK (length(setup_reference) > 0),
            status TEXT NOT NULL CHECK (status IN ('pending', 'saved')),
            client_secret TEXT,
            payment_method TEXT,
            fee_status TEXT CHECK (fee_status IS NULL OR fee_status IN ('charged', 'declined')),
            fee_amount_minor INTEGER CHECK (fee_amount_minor IS NULL OR fee_amount_minor > 0),
            fee_currency TEXT CHECK (fee_currency IS NULL OR length(fee_currency) = 3),
            fee_reference TEXT,
            fee_reason TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL CHECK (updated_at >= created_at),
            -- The client secret lets a browser save the card: kept only while it waits for the customer.
            CHECK (client_secret IS NULL OR status = 'pending'),
            CHECK (status <> 'saved' OR payment_method IS NOT NULL),
            -- A fee is only ever tried on a saved card, and then has its amount.
            CHECK (fee_status IS NULL OR (status = 'saved' AND fee_amount_minor IS NOT NULL)),
            CHECK (fee_status <> 'charged' OR fee_reference IS NOT NULL)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX cards_setup_reference ON cards(provider, setup_reference);
        CREATE INDEX cards_customer ON cards(customer_id, provider);
        """
}
