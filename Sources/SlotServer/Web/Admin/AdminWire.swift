import SlotAPI

// The admin page's JSON (the web listener only; not part of the socket's v1 contract).

/// `POST /admin/api/login`.
struct AdminLoginRequest: Decodable, Sendable {
    var name: String
    var password: String
}

/// Who is logged in: `/admin/api/me` and the login's answer.
struct AdminMe: Encodable, Sendable {
    var user: String
    var role: String
    var staff: String?
    /// Sent back in `X-CSRF-Token` with every change.
    var csrfToken: String
    var timeZone: String
    var today: String
    /// The start grid: a walk-in starts at the next multiple of it.
    var slotStepMinutes: Int

    enum CodingKeys: String, CodingKey {
        case user, role, staff
        case csrfToken = "csrf_token"
        case timeZone = "time_zone"
        case today
        case slotStepMinutes = "slot_step_minutes"
    }
}

/// `GET /admin/api/day`: one or more days, a column per staff member.
struct AdminDays: Encodable, Sendable {
    var from: String
    var timeZone: String
    /// The event log's cursor when this was read: the live feed starts after it.
    var cursor: Int64
    /// The grid's bounds, minutes after local midnight, from the earliest opening to the latest closing.
    var firstMinute: Int
    var lastMinute: Int
    var staff: [StaffInfo]
    var services: [ServiceInfo]
    var days: [Day]

    enum CodingKeys: String, CodingKey {
        case from, cursor, staff, services, days
        case timeZone = "time_zone"
        case firstMinute = "first_minute"
        case lastMinute = "last_minute"
    }

    struct Day: Encodable, Sendable {
        var date: String
        var columns: [Column]
        /// Per resource of the shop (chairs, a wash basin), how many are in use when: what the engine counts.
        var occupancy: [Occupancy]
    }

    /// One resource's use over a day: spans of constant, non-zero use by the day's bookings.
    struct Occupancy: Encodable, Sendable {
        var resource: String
        var name: String
        /// How many the shop has.
        var capacity: Int
        var levels: [Level]
    }

    /// `units` of a resource in use from `start` to `end`, minutes after local midnight.
    struct Level: Encodable, Sendable {
        var start: Int
        var end: Int
        var units: Int
    }

    struct Column: Encodable, Sendable {
        var staff: String
        var name: String
        /// Open time (hours minus breaks, holidays, time off), minutes after local midnight; the rest is closed.
        var open: [Span]
        var bookings: [Block]
    }

    struct Span: Encodable, Sendable {
        var start: Int
        var end: Int
    }

    /// A booking as a block: its place on the grid, its buffers, and why the rules no longer allow it (if so).
    struct Block: Encodable, Sendable {
        var booking: BookingDetails
        var start: Int
        var end: Int
        var bufferBefore: Int
        var bufferAfter: Int
        var conflicts: [ExplainReason]?

        enum CodingKeys: String, CodingKey {
            case booking, start, end, conflicts
            case bufferBefore = "buffer_before"
            case bufferAfter = "buffer_after"
        }
    }
}

/// `GET /admin/api/bookings/{id}`: a booking and what cancelling it now would cost (the policy's fee).
struct AdminBookingAnswer: Encodable, Sendable {
    var booking: BookingDetails
    var cancelFeeCents: Int
    var cancelInsideWindow: Bool
    var conflicts: [ExplainReason]

    enum CodingKeys: String, CodingKey {
        case booking, conflicts
        case cancelFeeCents = "cancel_fee_cents"
        case cancelInsideWindow = "cancel_inside_window"
    }
}

/// `GET /admin/api/find?q=`.
struct AdminFindAnswer: Encodable, Sendable {
    var bookings: [BookingDetails]
}

/// `GET /admin/api/rules`: the rule files, and whether the page may save them.
struct AdminRuleFiles: Encodable, Sendable {
    var editable: Bool
    /// Why not, when not.
    var reason: String?
    var files: [File]

    struct File: Encodable, Sendable {
        var name: String
        var text: String
    }
}

/// A saved rule file: the rules now in force, and how many future bookings they no longer allow.
struct AdminRuleSaveAnswer: Encodable, Sendable {
    var version: String
    var changed: Bool
    var conflicts: Int
    var warnings: [RuleDiagnostic]
}

/// `GET /admin/api/rules/history?name=`: kept versions, newest first.
struct AdminRuleHistory: Encodable, Sendable {
    var name: String
    var versions: [Version]

    struct Version: Encodable, Sendable {
        var version: String
        /// Epoch seconds.
        var savedAt: Int64

        enum CodingKeys: String, CodingKey {
            case version
            case savedAt = "saved_at"
        }
    }
}

/// The body of the rule editor's check, preview and save: one file's text.
struct AdminRuleText: Decodable, Sendable {
    var text: String
}
