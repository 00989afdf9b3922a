import GRDB

/// The database schema as named, forward-only migrations. A shipped migration is never edited: a change is a new
/// migration appended to the list, and `schemaVersion` is its position.
package enum StoreSchema {
    /// The schema version this binary writes (the count of migrations), kept in `PRAGMA user_version` as well as in
    /// GRDB's `grdb_migrations`, so `sqlite3 slotd.db 'PRAGMA user_version'` tells an operator what a file is.
    static var schemaVersion: Int { migrations.count }

    /// Longest time a booking with its buffers may block: it bounds the overlap query's index range.
    package static let maxBusySeconds: Int64 = 2 * 86_400

    /// The migrations in order: identifier and SQL.
    static let migrations: [(identifier: String, sql: String)] = [
        ("v1-bookings-events-outbox", v1),
        ("v2-outbox-worker", v2OutboxWorker),
        ("v3-payments-webhook-events", StoreSchema.v2Payments),
        ("v4-hold-expiry-jobs", v4HoldExpiryJobs),
        ("v5-range-indexes", v5RangeIndexes),
        ("v6-covering-span-index", v6CoveringSpanIndex),
        ("v7-calendar-feeds", v7CalendarFeeds),
        ("v8-cards-on-file", StoreSchema.v8Cards),
        ("v9-customer-records-booking-codes", v9CustomerRecords),
        ("v10-waitlist", v10Waitlist),
        ("v11-booking-overrides", v11BookingOverrides),
        ("v12-fewer-indexes-per-write", v12FewerIndexesPerWrite),
    ]

    /// Work a migration needs beyond its SQL, run right after it in the same transaction, by identifier.
    static let migrationSteps: [String: @Sendable (Database) throws -> Void] = [
        "v9-customer-records-booking-codes": giveBookingsCodes
    ]

    // Customers are records (issue 14): a booking keeps the name and contact it was made with (they were read
    // from the customer row, which the next booking with the same e-mail renamed); customers are matched by phone
    // or by e-mail in any case, so both get an index and e-mail loses its case-sensitive unique index (records that
    // two spellings of one address made are left for the desk to merge); a match that does not fit is kept in
    // `customer_conflicts`; the desk's note and the erasure time join the customer. Bookings get a short code
    // (`BookingCode`), filled in for existing ones by `giveBookingsCodes`, which then makes it unique.
    // The waitlist (issue 14): customers in line for a service on a range of dates, in `position` order. An offer is
    // a held booking (`offer_booking_id`), one entry per booking; the open entries have their own index, which every
    // booking write that frees time reads to know whether anyone waits.
    static let v10Waitlist = """
        CREATE TABLE waitlist (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE CHECK (id LIKE 'wl_%'),
            service_id TEXT NOT NULL CHECK (service_id <> ''),
            variant TEXT,
            staff_id TEXT CHECK (staff_id IS NULL OR staff_id <> ''),
            first_date TEXT NOT NULL CHECK (length(first_date) = 10),
            last_date TEXT NOT NULL CHECK (length(last_date) = 10 AND last_date >= first_date),
            from_minute INTEGER CHECK (from_minute IS NULL OR from_minute BETWEEN 0 AND 1439),
            to_minute INTEGER CHECK (to_minute IS NULL OR to_minute BETWEEN 1 AND 1440),
            customer_name TEXT NOT NULL CHECK (trim(customer_name) <> ''),
            customer_email TEXT,
            customer_phone TEXT,
            notes TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL CHECK (state IN ('waiting', 'offered', 'booked', 'expired', 'left')),
            offer_booking_id TEXT REFERENCES bookings(id),
            offer_staff_id TEXT,
            offer_start INTEGER,
            offer_expires_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            CHECK (customer_email IS NOT NULL OR customer_phone IS NOT NULL),
            CHECK (state <> 'offered' OR offer_booking_id IS NOT NULL)
        );
        CREATE INDEX waitlist_open ON waitlist(state, position) WHERE state IN ('waiting', 'offered');
        CREATE UNIQUE INDEX waitlist_offer_booking ON waitlist(offer_booking_id) WHERE offer_booking_id IS NOT NULL;
        """

    static let v9CustomerRecords = """
        ALTER TABLE bookings ADD COLUMN customer_name TEXT NOT NULL DEFAULT '';
        ALTER TABLE bookings ADD COLUMN customer_email TEXT;
        ALTER TABLE bookings ADD COLUMN customer_phone TEXT;
        ALTER TABLE bookings ADD COLUMN code TEXT
            CHECK (code IS NULL OR (length(code) = 6 AND code NOT GLOB '*[^23456789ABCDEFGHJKMNPQRSTUVWXYZ]*'));
        UPDATE bookings SET
            customer_name = (SELECT c.name FROM customers c WHERE c.id = bookings.customer_id),
            customer_email = (SELECT c.email FROM customers c WHERE c.id = bookings.customer_id),
            customer_phone = (SELECT c.phone FROM customers c WHERE c.id = bookings.customer_id);

        ALTER TABLE customers ADD COLUMN note TEXT NOT NULL DEFAULT '';
        ALTER TABLE customers ADD COLUMN erased_at INTEGER;
        DROP INDEX customers_email;
        CREATE INDEX customers_email_key ON customers(lower(email)) WHERE email IS NOT NULL;
        CREATE INDEX customers_phone ON customers(phone) WHERE phone IS NOT NULL;

        CREATE TABLE customer_conflicts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('two_records', 'different_name', 'different_contact')),
            customer_id TEXT NOT NULL REFERENCES customers(id),
            other_customer_id TEXT REFERENCES customers(id),
            booking_id TEXT NOT NULL REFERENCES bookings(id),
            detail TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            CHECK ((kind = 'two_records') = (other_customer_id IS NOT NULL))
        );
        CREATE INDEX customer_conflicts_customer ON customer_conflicts(customer_id);
        CREATE INDEX customer_conflicts_other ON customer_conflicts(other_customer_id);
        """

    // A walk-in's or forced booking's override (issue 14) was only in its `booking.created` event, so every later
    // check against the rules counted what staff had set aside as a conflict. The booking keeps it now, as the JSON
    // of `BookingOverride`; bookings made before get their event's (without `waived`: every check of its kind
    // counts as set aside), unless they were moved since (a reschedule is checked against the rules in full).
    // Every index a row belongs to is one more page written to the WAL (and synced) by the commit that inserts it: a
    // booking's commit wrote 15 pages, 11 of them index pages (more with a customer conflict), and the WAL writes and
    // their `fdatasync` were a quarter of a create's CPU (issue 11). Kept: the indexes a frequent read needs. Gone:
    // - `outbox_state (state, id)`, `outbox_state_due (state, due_at)`, `outbox_kind_pending` and `outbox_booking`,
    //   four pages per job: the claim, the next wake and the pending-kind check read the pending jobs through one
    //   partial index on `due_at` (the planner preferred `outbox_state`'s equality while it existed, see v5), the
    //   failed jobs have their own partial index (written only when a job fails), a listing of done jobs walks the
    //   table backwards by id, and only a customer's erasure, rare, scans the outbox for that customer's jobs;
    // - `bookings_staff_start (staff_id, start_at)`: a staff member's bookings on some days come from the
    //   `bookings_start` range, and the checks and slot queries use the span indexes;
    // - `customer_conflicts_other` held every conflict, most with no other customer: now only those with one.
    static let v12FewerIndexesPerWrite = """
        DROP INDEX outbox_state;
        DROP INDEX outbox_state_due;
        DROP INDEX outbox_kind_pending;
        DROP INDEX outbox_booking;
        CREATE INDEX outbox_pending_due ON outbox(due_at) WHERE state = 'pending';
        CREATE INDEX outbox_failed ON outbox(id) WHERE state = 'failed';
        DROP INDEX bookings_staff_start;
        DROP INDEX customer_conflicts_other;
        CREATE INDEX customer_conflicts_other ON customer_conflicts(other_customer_id)
            WHERE other_customer_id IS NOT NULL;
        """

    static let v11BookingOverrides = """
        ALTER TABLE bookings ADD COLUMN staff_override TEXT
            CHECK (staff_override IS NULL OR (json_valid(staff_override)
                AND json_extract(staff_override, '$.kind') IN ('walk_in', 'forced')));
        WITH overridden AS (
            SELECT json_extract(data, '$.booking') AS booking, json_extract(data, '$.override') AS override
            FROM events WHERE type = 'booking.created' AND json_type(data, '$.override') = 'object'
        ), moved AS (
            SELECT json_extract(data, '$.booking') AS booking FROM events WHERE type = 'booking.rescheduled'
        )
        UPDATE bookings SET staff_override = overridden.override FROM overridden
            WHERE overridden.booking = bookings.id AND bookings.id NOT IN (SELECT booking FROM moved);
        """

    /// Gives every booking without a code one (drawn again on a collision), then makes codes unique.
    @Sendable static func giveBookingsCodes(_ db: Database) throws {
        let ids = try String.fetchAll(db, sql: "SELECT id FROM bookings WHERE code IS NULL ORDER BY id")
        var taken = Set(try String.fetchAll(db, sql: "SELECT code FROM bookings WHERE code IS NOT NULL"))
        for id in ids {
            guard let code = BookingPlanner.newBookingCode(isTaken: { taken.contains($0) }) else {
                throw StoreError.codesExhausted
            }
            taken.insert(code)
            try db.execute(sql: "UPDATE bookings SET code = ? WHERE id = ?", arguments: [code, id])
        }
        try db.execute(sql: "CREATE UNIQUE INDEX bookings_code ON bookings(code)")
    }

    // Every slot query reads the spans of the staff asked for: through `(staff_id, busy_start)` each candidate
    // row cost a table lookup (to test `busy_end` and `status` and read the footprint), so a 90-day query made
    // thousands of them. This index holds every column the span query reads, so it reads the index range alone
    // (`USING COVERING INDEX`: 3,440 spans in 1.3 ms instead of 4.7 ms with the sqlite3 shell); it replaces the v5
    // index, whose columns it starts with, so the conflict check's range is the same.
    static let v6CoveringSpanIndex = """
        DROP INDEX bookings_staff_active_busy;
        CREATE INDEX bookings_staff_active_spans ON bookings(
            staff_id, busy_start, busy_end, status, start_at, id, segments, buffer_before_min, buffer_after_min,
            resources
        ) WHERE status IN ('held', 'confirmed');
        """

    // Two queries read more the longer a shop runs, because the planner prefers an index's equality over a range:
    // - the worker's claim (`state = 'pending' AND due_at <= ? ORDER BY due_at, id`) and its next-wake query went
    //   through `outbox_state (state, id)` and sorted every pending job, future reminders included, on every claim;
    //   `(state, due_at)` serves the equality and the order, so a claim reads only the jobs that are due;
    // - the conflict check and slot query of one staff member went through `bookings_staff_start (staff_id, …)` and
    //   visited every booking that staff member ever had; `(staff_id, busy_start)` over active bookings reads only
    //   the window (checked with EXPLAIN QUERY PLAN in the store's tests).
    static let v5RangeIndexes = """
        DROP INDEX outbox_pending;
        CREATE INDEX outbox_state_due ON outbox(state, due_at);
        CREATE INDEX bookings_staff_active_busy ON bookings(staff_id, busy_start) WHERE status IN ('held', 'confirmed');
        """

    // Holds used to expire on an in-memory timer; from v4 each hold has a durable `booking.expire_hold` job,
    // written with the booking. Holds already waiting get theirs here.
    static let v4HoldExpiryJobs = """
        INSERT INTO outbox (kind, payload, due_at, created_at, updated_at)
            SELECT 'booking.expire_hold', json_object('booking', id), hold_expires_at, created_at, created_at
            FROM bookings WHERE status = 'held';
        """

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: migration.sql)
                try migrationSteps[migration.identifier]?(db)
            }
        }
        return migrator
    }

    // The CHECKs state what the Swift code assumes, so a bug (or a hand edit with sqlite3) cannot store a booking
    // the code would misread: SQLite is the last line of defence ("trust SQLite more than yourself").
    static let v1 = """
        CREATE TABLE customers (
            id TEXT PRIMARY KEY NOT NULL CHECK (id GLOB 'cu_?*'),
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            email TEXT CHECK (email IS NULL OR length(email) > 0),
            phone TEXT CHECK (phone IS NULL OR length(phone) > 0),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX customers_email ON customers(email) WHERE email IS NOT NULL;

        CREATE TABLE bookings (
            id TEXT PRIMARY KEY NOT NULL CHECK (id GLOB 'bk_?*'),
            status TEXT NOT NULL
                CHECK (status IN ('held', 'confirmed', 'completed', 'no_show', 'cancelled', 'expired')),
            staff_id TEXT NOT NULL CHECK (length(staff_id) > 0),
            services TEXT NOT NULL
                CHECK (json_valid(services) AND json_type(services) = 'array' AND json_array_length(services) > 0),
            variant TEXT,
            start_at INTEGER NOT NULL,
            end_at INTEGER NOT NULL,
            -- The staff-busy hull with buffers: what the overlap query selects by.
            busy_start INTEGER NOT NULL,
            busy_end INTEGER NOT NULL,
            segments TEXT NOT NULL CHECK (json_valid(segments) AND json_type(segments) = 'array'),
            buffer_before_min INTEGER NOT NULL DEFAULT 0 CHECK (buffer_before_min >= 0),
            buffer_after_min INTEGER NOT NULL DEFAULT 0 CHECK (buffer_after_min >= 0),
            resources TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(resources) AND json_type(resources) = 'array'),
            price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
            deposit_minor INTEGER CHECK (deposit_minor IS NULL OR deposit_minor >= 0),
            currency TEXT NOT NULL CHECK (length(currency) = 3),
            customer_id TEXT NOT NULL REFERENCES customers(id),
            notes TEXT NOT NULL DEFAULT '',
            hold_expires_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL CHECK (updated_at >= created_at),
            cancel_reason TEXT,
            cancel_late INTEGER CHECK (cancel_late IS NULL OR cancel_late IN (0, 1)),
            cancel_fee_minor INTEGER CHECK (cancel_fee_minor IS NULL OR cancel_fee_minor > 0),
            cancel_minutes_before INTEGER,
            CHECK (end_at > start_at),
            CHECK (busy_start <= start_at AND busy_end >= end_at AND busy_end - busy_start <= 172800),
            CHECK ((status = 'held') = (hold_expires_at IS NOT NULL)),
            CHECK ((status = 'cancelled') = (cancel_late IS NOT NULL AND cancel_reason IS NOT NULL))
        );
        CREATE INDEX bookings_active_busy ON bookings(busy_start) WHERE status IN ('held', 'confirmed');
        CREATE INDEX bookings_start ON bookings(start_at);
        CREATE INDEX bookings_staff_start ON bookings(staff_id, start_at);
        CREATE INDEX bookings_hold_expiry ON bookings(hold_expires_at) WHERE status = 'held';
        CREATE INDEX bookings_customer ON bookings(customer_id);

        CREATE TABLE events (
            cursor INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL CHECK (length(type) > 0),
            at INTEGER NOT NULL,
            data TEXT NOT NULL CHECK (json_valid(data))
        );

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (length(kind) > 0),
            payload TEXT NOT NULL CHECK (json_valid(payload)),
            due_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
            last_error TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX outbox_pending ON outbox(due_at) WHERE state = 'pending';

        CREATE TABLE idempotency_keys (
            key TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
            fingerprint TEXT NOT NULL,
            response_status INTEGER NOT NULL CHECK (response_status BETWEEN 100 AND 599),
            response_body BLOB NOT NULL,
            booking_id TEXT REFERENCES bookings(id),
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """
}
