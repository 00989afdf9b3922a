/// `GET /v1/status`: what an operator (or `slotctl status` / `slotctl doctor`) needs to know about a running slotd.
public struct DaemonStatus: Codable, Hashable, Sendable {
    public var version: String
    public var uptimeSeconds: Int
    /// The caller's role as the daemon sees it.
    public var role: String
    public var socket: String
    public var database: String
    public var rulesDirectory: String
    public var rules: RulesState
    public var lastReload: ReloadState?
    /// Active bookings starting today (shop-local) and their states.
    public var bookingsToday: Int
    public var bookingsByState: [String: Int]
    public var outboxByState: [String: Int]
    public var conflicts: Int
    public var subscribers: Int
    public var store: StoreCheck
    public var providers: ProvidersState

    enum CodingKeys: String, CodingKey {
        case version, role, socket, database, rules, conflicts, subscribers, store, providers
        case uptimeSeconds = "uptime_seconds"
        case rulesDirectory = "rules_directory"
        case lastReload = "last_reload"
        case bookingsToday = "bookings_today"
        case bookingsByState = "bookings_by_state"
        case outboxByState = "outbox_by_state"
    }

    public init(
        version: String, uptimeSeconds: Int, role: String, socket: String, database: String, rulesDirectory: String,
        rules: RulesState, lastReload: ReloadState?, bookingsToday: Int, bookingsByState: [String: Int],
        outboxByState: [String: Int], conflicts: Int, subscribers: Int, store: StoreCheck, providers: ProvidersState
    ) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.role = role
        self.socket = socket
        self.database = database
        self.rulesDirectory = rulesDirectory
        self.rules = rules
        self.lastReload = lastReload
        self.bookingsToday = bookingsToday
        self.bookingsByState = bookingsByState
        self.outboxByState = outboxByState
        self.conflicts = conflicts
        self.subscribers = subscribers
        self.store = store
        self.providers = providers
    }

    /// The rules in force.
    public struct RulesState: Codable, Hashable, Sendable {
        public var version: String
        public var files: [String]
        public var loadedAt: String
        public var timezone: String

        enum CodingKeys: String, CodingKey {
            case version, files, timezone
            case loadedAt = "loaded_at"
        }

        public init(version: String, files: [String], loadedAt: String, timezone: String) {
            self.version = version
            self.files = files
            self.loadedAt = loadedAt
            self.timezone = timezone
        }
    }

    /// The last reload: when, why, and whether it was accepted.
    public struct ReloadState: Codable, Hashable, Sendable {
        public var at: String
        public var trigger: String
        /// `loaded`, `unchanged` or `rejected`.
        public var outcome: String
        public var message: String
        public var errors: [RuleDiagnostic]

        public init(at: String, trigger: String, outcome: String, message: String, errors: [RuleDiagnostic]) {
            self.at = at
            self.trigger = trigger
            self.outcome = outcome
            self.message = message
            self.errors = errors
        }
    }

    /// Whether the database takes a write and passes `PRAGMA quick_check`.
    public struct StoreCheck: Codable, Hashable, Sendable {
        public var writable: Bool
        /// `ok`, or what went wrong.
        public var detail: String
        public var schemaVersion: Int?

        enum CodingKeys: String, CodingKey {
            case writable, detail
            case schemaVersion = "schema_version"
        }

        public init(writable: Bool, detail: String, schemaVersion: Int? = nil) {
            self.writable = writable
            self.detail = detail
            self.schemaVersion = schemaVersion
        }
    }

    /// The configured providers, by name (never their settings).
    public struct ProvidersState: Codable, Hashable, Sendable {
        public var payment: String
        public var paymentCollectsOnline: Bool
        public var notifications: [String]

        enum CodingKeys: String, CodingKey {
            case payment, notifications
            case paymentCollectsOnline = "payment_collects_online"
        }

        public init(payment: String, paymentCollectsOnline: Bool, notifications: [String]) {
            self.payment = payment
            self.paymentCollectsOnline = paymentCollectsOnline
            self.notifications = notifications
        }
    }
}

/// `GET /v1/bookings?conflicts=true`: active future bookings the rules in force no longer allow.
public struct BookingConflictList: Codable, Hashable, Sendable {
    public var rulesVersion: String
    public var bookings: [BookingDetails]
    public var conflicts: [BookingConflict]

    enum CodingKeys: String, CodingKey {
        case bookings, conflicts
        case rulesVersion = "rules_version"
    }

    public init(rulesVersion: String, bookings: [BookingDetails], conflicts: [BookingConflict]) {
        self.rulesVersion = rulesVersion
        self.bookings = bookings
        self.conflicts = conflicts
    }
}

/// One booking and why the rules in force would not allow it.
public struct BookingConflict: Codable, Hashable, Sendable {
    public var booking: String
    public var reasons: [ExplainReason]

    public init(booking: String, reasons: [ExplainReason]) {
        self.booking = booking
        self.reasons = reasons
    }
}
