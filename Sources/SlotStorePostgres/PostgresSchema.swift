import PostgresNIO

/// The PostgreSQL schema as numbered, forward-only migrations, like the SQLite store's: a shipped migration is never
/// edited; a change is a new one appended to the list, and `schemaVersion` is its position. The version a database
/// has is the highest row of `slotd_schema`.
enum PostgresSchema {
    /// The schema version this binary writes.
    static var schemaVersion: Int { migrations.count }

    /// The migrations in order: identifier and SQL (several statements, run in one transaction).
    static let migrations: [(identifier: String, sql: String)] = [
        ("v1-bookings-events-outbox-payments", v1),
        ("v2-feeds-cards-customer-records-codes", v2),
        ("v3-waitlist", v3Waitlist),
        ("v4-booking-overrides", v4BookingOverrides),
        ("v5-outbox-pending-due", v5OutboxPendingDue),
    ]

    // The outbox's pending jobs in due order, for the worker's claims and its "next due" reads (issue 16). Those
    // walked `outbox_state_due`, or `outbox_kind_pending` with a bitmap scan, past the entries of row versions that
    // claims and finishes left dead: a bitmap scan visits their heap pages every time (84 pages for 2 pending jobs
    // under the booking benchmark), where an ordered scan of this index marks entries found dead so that later
    // scans skip them, and stops at the first job it needs.
    static let v5OutboxPendingDue = """
        CREATE INDEX outbox_pending_due ON outbox(due_at, id) WHERE state = 'pending';
        """

    // The waitlist, as the SQLite store's v10 (see StoreSchema): entries in `position` order (a sequence, so two
    // daemons joining at once never share a place), an offer's held booking one entry each.
    static let v3Waitlist = """
        CREATE TABLE waitlist (
            position bigserial PRIMARY KEY,
            id text NOT NULL UNIQUE CHECK (id LIKE 'wl\\_%'),
            service_id text NOT NULL CHECK (length(service_id) > 0),
            variant text,
            staff_id text CHECK (staff_id IS NULL OR length(staff_id) > 0),
            first_date text NOT NULL CHECK (length(first_date) = 10),
            last_date text NOT NULL CHECK (length(last_date) = 10 AND last_date >= first_date),
            from_minute integer CHECK (from_minute IS NULL OR from_minute BETWEEN 0 AND 1439),
            to_minute integer CHECK (to_minute IS NULL OR to_minute BETWEEN 1 AND 1440),
            customer_name text NOT NULL CHECK (length(trim(customer_name)) > 0),
            customer_email text,
            customer_phone text,
            notes text NOT NULL DEFAULT '',
            state text NOT NULL CHECK (state IN ('waiting', 'offered', 'booked', 'expired', 'left')),
            offer_booking_id text UNIQUE REFERENCES bookings(id),
            offer_staff_id text,
            offer_start bigint,
            offer_expires_at bigint,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            CHECK (customer_email IS NOT NULL OR customer_phone IS NOT NULL),
            CHECK (state <> 'offered' OR offer_booking_id IS NOT NULL)
        );
        CREATE INDEX waitlist_open ON waitlist(state, position) WHERE state IN ('waiting', 'offered');
        """

    // Event data and job payloads are `json`, not `jsonb`: `json` keeps the text as written, so a reader gets the
    // bytes the writer appended, as from SQLite.

    /// The table that records applied migrations; created before any migration runs.
    static let versionTable = """
        CREATE TABLE IF NOT EXISTS slotd_schema (
            version integer PRIMARY KEY CHECK (version > 0),
            identifier text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    /// Every daemon that starts migrates under this transaction-level advisory lock, so three daemons starting at
    /// once apply each migration once.
    static let migrationLockKey: Int64 = 0x736C_6F74_645F_6D67  // "slotd_mg"

    // The CHECKs state what the Swift code assumes, as in the SQLite schema. What differs:
    // - `staff_busy` is the set of instants the staff member works on the booking (active segments widened by the
    //   buffers; processing time is free), as a multirange, and the exclusion constraint makes two overlapping active
    //   bookings of one staff member impossible to commit whatever the application does. `busy_start`/`busy_end`
    //   (the hull) stay for the window queries, as in SQLite.
    // - `slotd_staff_busy` turns the Swift side's `[lower, upper, lower, upper, …]` (seconds) into that multirange.
    // - `event_log_head` is the one row every transaction that appends events updates: the row lock orders those
    //   transactions, so cursors are handed out in commit order with no gap (see PostgresBookingStore+Events).
    static let v1 = """
        CREATE EXTENSION IF NOT EXISTS btree_gist;

        CREATE FUNCTION slotd_staff_busy(bounds int8[]) RETURNS tstzmultirange LANGUAGE sql IMMUTABLE AS $$
            SELECT coalesce(range_agg(tstzrange(to_timestamp(bounds[i]), to_timestamp(bounds[i + 1]), '[)')), '{}')
            FROM generate_series(1, coalesce(array_length(bounds, 1), 0) - 1, 2) AS i
        $$;

        CREATE TABLE customers (
            id text PRIMARY KEY CHECK (id LIKE 'cu\\_%'),
            name text NOT NULL CHECK (length(btrim(name)) > 0),
            email text CHECK (email IS NULL OR length(email) > 0),
            phone text CHECK (phone IS NULL OR length(phone) > 0),
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL
        );
        CREATE UNIQUE INDEX customers_email ON customers(email) WHERE email IS NOT NULL;

        CREATE TABLE bookings (
            id text PRIMARY KEY CHECK (id LIKE 'bk\\_%'),
            status text NOT NULL
                CHECK (status IN ('held', 'confirmed', 'completed', 'no_show', 'cancelled', 'expired')),
            active boolean GENERATED ALWAYS AS (status IN ('held', 'confirmed')) STORED,
            staff_id text NOT NULL CHECK (length(staff_id) > 0),
            services jsonb NOT NULL CHECK (jsonb_typeof(services) = 'array' AND jsonb_array_length(services) > 0),
            variant text,
            start_at bigint NOT NULL,
            end_at bigint NOT NULL,
            busy_start bigint NOT NULL,
            busy_end bigint NOT NULL,
            staff_busy tstzmultirange NOT NULL,
            segments jsonb NOT NULL CHECK (jsonb_typeof(segments) = 'array'),
            buffer_before_min integer NOT NULL DEFAULT 0 CHECK (buffer_before_min >= 0),
            buffer_after_min integer NOT NULL DEFAULT 0 CHECK (buffer_after_min >= 0),
            resources jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(resources) = 'array'),
            price_minor bigint NOT NULL CHECK (price_minor >= 0),
            deposit_minor bigint CHECK (deposit_minor IS NULL OR deposit_minor >= 0),
            currency text NOT NULL CHECK (length(currency) = 3),
            customer_id text NOT NULL REFERENCES customers(id),
            notes text NOT NULL DEFAULT '',
            hold_expires_at bigint,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL CHECK (updated_at >= created_at),
            cancel_reason text,
            cancel_late boolean,
            cancel_fee_minor bigint CHECK (cancel_fee_minor IS NULL OR cancel_fee_minor > 0),
            cancel_minutes_before integer,
            CHECK (end_at > start_at),
            CHECK (busy_start <= start_at AND busy_end >= end_at AND busy_end - busy_start <= 172800),
            CHECK ((status = 'held') = (hold_expires_at IS NOT NULL)),
            CHECK ((status = 'cancelled') = (cancel_late IS NOT NULL AND cancel_reason IS NOT NULL)),
            CONSTRAINT bookings_staff_no_overlap EXCLUDE USING gist (staff_id WITH =, staff_busy WITH &&)
                WHERE (active)
        );
        CREATE INDEX bookings_staff_active_busy ON bookings(staff_id, busy_start) WHERE active;
        CREATE INDEX bookings_active_busy ON bookings(busy_start) WHERE active;
        CREATE INDEX bookings_start ON bookings(start_at);
        CREATE INDEX bookings_hold_expiry ON bookings(hold_expires_at) WHERE status = 'held';
        CREATE INDEX bookings_customer ON bookings(customer_id);

        CREATE TABLE events (
            cursor bigint PRIMARY KEY CHECK (cursor > 0),
            type text NOT NULL CHECK (length(type) > 0),
            at bigint NOT NULL,
            data json NOT NULL
        );
        CREATE TABLE event_log_head (
            only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            last_cursor bigint NOT NULL CHECK (last_cursor >= 0)
        );
        INSERT INTO event_log_head (last_cursor) VALUES (0);

        CREATE TABLE outbox (
            id bigserial PRIMARY KEY,
            kind text NOT NULL CHECK (length(kind) > 0),
            payload json NOT NULL,
            booking_id text GENERATED ALWAYS AS (payload ->> 'booking') STORED,
            due_at bigint NOT NULL,
            attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
            last_error text,
            created_at bigint NOT NULL,
            updated_at bigint,
            finished_at bigint,
            note text
        );
        CREATE INDEX outbox_state_due ON outbox(state, due_at);
        CREATE INDEX outbox_booking ON outbox(booking_id);
        CREATE INDEX outbox_kind_pending ON outbox(kind) WHERE state = 'pending';

        CREATE TABLE idempotency_keys (
            key text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
            fingerprint text NOT NULL,
            response_status integer NOT NULL CHECK (response_status BETWEEN 100 AND 599),
            response_body bytea NOT NULL,
            booking_id text REFERENCES bookings(id),
            created_at bigint NOT NULL
        );

        CREATE TABLE payments (
            booking_id text PRIMARY KEY REFERENCES bookings(id),
            provider text NOT NULL CHECK (length(provider) > 0),
            reference text CHECK (reference IS NULL OR length(reference) > 0),
            status text NOT NULL
                CHECK (status IN ('pending', 'succeeded', 'cancelled', 'refunded', 'failed', 'kept')),
            client_secret text,
            amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
            currency text NOT NULL CHECK (length(currency) = 3),
            refund_reference text,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL CHECK (updated_at >= created_at),
            CHECK (client_secret IS NULL OR status = 'pending'),
            CHECK (status <> 'refunded' OR refund_reference IS NOT NULL)
        );
        CREATE UNIQUE INDEX payments_reference ON payments(provider, reference) WHERE reference IS NOT NULL;

        CREATE TABLE webhook_events (
            event_id text PRIMARY KEY CHECK (length(event_id) > 0),
            provider text NOT NULL,
            type text NOT NULL,
            booking_id text,
            received_at bigint NOT NULL
        );
        """

    // What the SQLite store's v7 to v9 added, in one step (see StoreSchema): a booking's change counter
    // (`revision`), calendar feeds, cards on file, customer records (a booking keeps the name and contact it was
    // made with; customers are matched by phone or by e-mail in any case; conflicts for the desk; notes and
    // erasure) and booking codes. Existing bookings get their codes from `PostgresBookingStore.giveBookingsCodes`
    // in the same transaction, before `bookings_code` makes them unique.
    static let v2 = """
        ALTER TABLE bookings ADD COLUMN revision integer NOT NULL DEFAULT 0 CHECK (revision >= 0);
        UPDATE bookings SET revision = least(updated_at - created_at, 2147483647)::integer;
        CREATE TABLE calendar_feeds (
            id text PRIMARY KEY CHECK (id LIKE 'fd\\_%'),
            staff_id text CHECK (staff_id IS NULL OR length(staff_id) > 0),
            label text NOT NULL DEFAULT '' CHECK (char_length(label) <= 200),
            created_at bigint NOT NULL,
            revoked_at bigint CHECK (revoked_at IS NULL OR revoked_at >= created_at)
        );

        CREATE TABLE cards (
            booking_id text PRIMARY KEY REFERENCES bookings(id),
            customer_id text NOT NULL REFERENCES customers(id),
            provider text NOT NULL CHECK (length(provider) > 0),
            customer_reference text NOT NULL CHECK (length(customer_reference) > 0),
            setup_reference text NOT NULL CHECK (length(setup_reference) > 0),
            status text NOT NULL CHECK (status IN ('pending', 'saved')),
            client_secret text,
            payment_method text,
            fee_status text CHECK (fee_status IS NULL OR fee_status IN ('charged', 'declined')),
            fee_amount_minor bigint CHECK (fee_amount_minor IS NULL OR fee_amount_minor > 0),
            fee_currency text CHECK (fee_currency IS NULL OR length(fee_currency) = 3),
            fee_reference text,
            fee_reason text,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL CHECK (updated_at >= created_at),
            CHECK (client_secret IS NULL OR status = 'pending'),
            CHECK (status <> 'saved' OR payment_method IS NOT NULL),
            CHECK (fee_status IS NULL OR (status = 'saved' AND fee_amount_minor IS NOT NULL)),
            CHECK (fee_status <> 'charged' OR fee_reference IS NOT NULL)
        );
        CREATE UNIQUE INDEX cards_setup_reference ON cards(provider, setup_reference);
        CREATE INDEX cards_customer ON cards(customer_id, provider);

        ALTER TABLE bookings ADD COLUMN customer_name text NOT NULL DEFAULT '';
        ALTER TABLE bookings ADD COLUMN customer_email text;
        ALTER TABLE bookings ADD COLUMN customer_phone text;
        ALTER TABLE bookings ADD COLUMN code text
            CHECK (code IS NULL OR code ~ '^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$');
        UPDATE bookings b SET customer_name = c.name, customer_email = c.email, customer_phone = c.phone
            FROM customers c WHERE c.id = b.customer_id;

        ALTER TABLE customers ADD COLUMN note text NOT NULL DEFAULT '';
        ALTER TABLE customers ADD COLUMN erased_at bigint;
        DROP INDEX customers_email;
        CREATE INDEX customers_email_key ON customers(lower(email)) WHERE email IS NOT NULL;
        CREATE INDEX customers_phone ON customers(phone) WHERE phone IS NOT NULL;

        CREATE TABLE customer_conflicts (
            id bigserial PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('two_records', 'different_name', 'different_contact')),
            customer_id text NOT NULL REFERENCES customers(id),
            other_customer_id text REFERENCES customers(id),
            booking_id text NOT NULL REFERENCES bookings(id),
            detail text NOT NULL,
            created_at bigint NOT NULL,
            CHECK ((kind = 'two_records') = (other_customer_id IS NOT NULL))
        );
        CREATE INDEX customer_conflicts_customer ON customer_conflicts(customer_id);
        CREATE INDEX customer_conflicts_other ON customer_conflicts(other_customer_id);
        """

    // A walk-in's or forced booking's override kept with the booking, as in the SQLite store's v11 (see there):
    // bookings made before get their `booking.created` event's, unless they were moved since.
    static let v4BookingOverrides = """
        ALTER TABLE bookings ADD COLUMN staff_override jsonb
            CHECK (staff_override IS NULL OR staff_override->>'kind' IN ('walk_in', 'forced'));
        UPDATE bookings b SET staff_override = (e.data->'override')::jsonb FROM events e
            WHERE e.type = 'booking.created' AND e.data->>'booking' = b.id
                AND json_typeof(e.data->'override') = 'object'
                AND NOT EXISTS (
                    SELECT 1 FROM events r WHERE r.type = 'booking.rescheduled' AND r.data->>'booking' = b.id);
        """

    /// Work a migration needs beyond its SQL, run right after it in the same transaction, by identifier.
    static let migrationSteps: [String: @Sendable (PostgresConnection) async throws -> Void] = [
        "v2-feeds-cards-customer-records-codes": PostgresBookingStore.giveBookingsCodes
    ]
}
