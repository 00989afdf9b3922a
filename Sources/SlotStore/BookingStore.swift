import Foundation
import SlotCore
import SlotEngine
import SlotRules

// MARK: - The boundary

/// Durable bookings, customers, the event log, the outbox and idempotency keys.
///
/// Times are seconds since the epoch (UTC), the unit of `Interval`. Nothing here reads a clock: every write takes
/// `now`. The store knows no rules: whether a booking fits is the caller's pure `check` closure, which the store
/// runs inside the write transaction with the active bookings that could conflict, so two writers racing for one
/// slot cannot both pass. Every write returns the events it appended, to be published after commit.
public protocol BookingStore: Sendable {
    /// Creates a booking if `check` passes (returns nil) for the active bookings that share its staff member or a
    /// resource and lie in `new.conflictWindow`; with an idempotency key, a repeat returns the first answer.
    func createBooking<Rejection: Sendable>(
        _ new: NewBooking, at now: Int64, idempotency: IdempotencyRequest?,
        check: @escaping @Sendable (_ conflicting: [BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> BookingCreation<Rejection>

    /// The booking with that id (or that booking code, `BookingCode`), or nil.
    func booking(id: String) async throws(StoreError) -> StoredBooking?

    /// Bookings whose start lies in the query's window, filtered by staff and status, ordered by start.
    func bookings(matching query: BookingQuery) async throws(StoreError) -> [StoredBooking]

    /// What availability needs of the active (held or confirmed) bookings that `query` selects: staff member, start
    /// and footprint, without customers or prices, in no particular order. Every slot query reads this.
    func bookedSpans(_ query: SpanQuery) async throws(StoreError) -> [BookedSpan]

    /// Applies a transition (confirm, cancel, complete, no-show, expire) and appends its event atomically.
    func transition(
        _ id: String, _ input: BookingInput, at now: Int64, policy: Policies, reason: String
    ) async throws(StoreError) -> TransitionOutcome

    /// Moves an active booking to new times and, when `staffID` is given, to that staff member, if `check` passes
    /// for the bookings that would then conflict (those of the new staff member or a shared resource, the booking
    /// itself excluded), in one transaction.
    func reschedule<Rejection: Sendable>(
        _ id: String, to times: BookingTimes, staff staffID: String?, at now: Int64,
        check: @escaping @Sendable (_ conflicting: [BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> RescheduleOutcome<Rejection>

    /// Replaces the booking's notes (empty removes them) and appends `booking.noted`, in any state; notes equal to
    /// the stored ones change nothing and append no event.
    func setNotes(_ id: String, to notes: String, at now: Int64) async throws(StoreError) -> TransitionOutcome

    /// Expires every hold whose `holdExpiresAt` is at or before `now`; returns what it expired and their events.
    func expireHolds(at now: Int64) async throws(StoreError) -> [TransitionOutcome]


    /// Events with a cursor greater than `cursor`, oldest first, optionally only types starting with `typePrefix`.
    func events(after cursor: Int64, typePrefix: String?, limit: Int) async throws(StoreError) -> [StoredEvent]

    /// The cursor of the newest event (0 when the log is empty).
    func latestCursor() async throws(StoreError) -> Int64

    /// Outbox jobs, oldest first, optionally in one state.
    func outboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob]

    /// The stored answer for an idempotency key, if any.
    func idempotencyRecord(key: String) async throws(StoreError) -> IdempotencyRecord?
}

extension BookingStore {
    /// Confirms a held booking.
    public func confirm(_ id: String, at now: Int64) async throws(StoreError) -> TransitionOutcome {
        try await transition(id, .confirm, at: now, policy: Policies(), reason: "")
    }

    /// Cancels an active booking under `policy` (late cancellations carry the fee in the event).
    public func cancel(
        _ id: String, at now: Int64, policy: Policies, reason: String = ""
    ) async throws(StoreError) -> TransitionOutcome {
        try await transition(id, .cancel, at: now, policy: policy, reason: reason)
    }

    /// Moves an active booking to new times with the same staff member (see `reschedule(_:to:staff:at:check:)`).
    public func reschedule<Rejection: Sendable>(
        _ id: String, to times: BookingTimes, at now: Int64,
        check: @escaping @Sendable (_ conflicting: [BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> RescheduleOutcome<Rejection> {
        try await reschedule(id, to: times, staff: nil, at: now, check: check)
    }

    /// Marks a confirmed booking as done.
    public func complete(_ id: String, at now: Int64) async throws(StoreError) -> TransitionOutcome {
        try await transition(id, .complete, at: now, policy: Policies(), reason: "")
    }

    /// Marks a confirmed booking whose start has passed as a no-show.
    public func markNoShow(_ id: String, at now: Int64) async throws(StoreError) -> TransitionOutcome {
        try await transition(id, .markNoShow, at: now, policy: Policies(), reason: "")
    }
}

// MARK: - Values

/// What one booking takes besides its span: the footprint availability needs to rebuild a `BookedSpan` exactly as
/// it was booked, even after the rules change.
public struct BookingFootprint: Hashable, Sendable {
    public var segments: [Segment]
    public var bufferBeforeMinutes: Int
    public var bufferAfterMinutes: Int
    public var resources: [ResourceNeed]

    public init(segments: [Segment], bufferBeforeMinutes: Int = 0, bufferAfterMinutes: Int = 0,
                resources: [ResourceNeed] = []) {
        self.segments = segments
        self.bufferBeforeMinutes = bufferBeforeMinutes
        self.bufferAfterMinutes = bufferAfterMinutes
        self.resources = resources
    }

    /// The footprint of a resolved offering.
    public init(_ offering: ServiceOffering) {
        self.init(
            segments: offering.segments, bufferBeforeMinutes: offering.bufferBeforeMinutes,
            bufferAfterMinutes: offering.bufferAfterMinutes, resources: offering.resources)
    }

    /// Length of all segments, in seconds.
    public var durationSeconds: Int64 { Int64(segments.reduce(0) { $0 + max(0, $1.minutes) }) * 60 }

    /// `[start − buffer_before, start + duration + buffer_after)`: the widest time the booking can block, which is
    /// what the store's overlap query selects by.
    public func busyHull(start: Int64, end: Int64) -> Interval {
        Interval(start - Int64(max(0, bufferBeforeMinutes)) * 60, end + Int64(max(0, bufferAfterMinutes)) * 60)
    }
}

/// New times for a booking: `[start, end)` and the footprint at those times.
public struct BookingTimes: Hashable, Sendable {
    public var start: Int64
    public var end: Int64
    public var footprint: BookingFootprint
    /// Reminder offsets (minutes before the start, `policies.reminders`): a confirmed booking at these times gets
    /// `notify.booking_reminder` jobs, enqueued in the same transaction.
    public var reminderMinutesBefore: [Int] = []
    /// Which active bookings the check sees: those whose busy span overlaps this window (nil: the busy hull).
    /// Pass a wider window (the whole local day) when the check counts daily limits.
    public var conflictWindow: Interval?

    public init(start: Int64, end: Int64, footprint: BookingFootprint, conflictWindow: Interval? = nil) {
        self.start = start
        self.end = end
        self.footprint = footprint
        self.conflictWindow = conflictWindow
    }

    /// The busy hull, with buffers.
    public var busy: Interval { footprint.busyHull(start: start, end: end) }

    /// The window the conflict query uses.
    public var window: Interval { conflictWindow ?? busy }
}

/// Who booked, as they gave it for one booking (a booking keeps these even when its customer record differs).
public struct CustomerInfo: Hashable, Sendable {
    public var name: String
    public var email: String?
    public var phone: String?

    public init(name: String, email: String? = nil, phone: String? = nil) {
        self.name = name
        self.email = email
        self.phone = phone
    }
}

/// A booking to create. The caller (the server) has resolved the offering and the staff member and normalised the
/// customer's phone to E.164; the store assigns the id, the code and the customer (`CustomerMatching`).
public struct NewBooking: Hashable, Sendable {
    public var staffID: String
    /// Service ids in order (several back to back are one booking).
    public var services: [String]
    public var variant: String?
    public var times: BookingTimes
    public var price: Money
    public var deposit: Money?
    public var customer: CustomerInfo
    public var notes: String
    /// Set for a booking that waits for its deposit or card (`held`); nil creates it `confirmed`.
    public var holdExpiresAt: Int64?
    /// A walk-in or forced booking's waiver, who made it, why, and which checks it set aside: kept with the booking
    /// (so later rule checks do not count them as conflicts) and recorded in its `booking.created` event.
    public var override: BookingOverride?
    /// Whether the hold waits for the customer's card to be saved (`policies.card_on_file`) rather than a deposit.
    public var savesCard: Bool

    public init(
        staffID: String, services: [String], variant: String? = nil, times: BookingTimes, price: Money,
        deposit: Money? = nil, customer: CustomerInfo, notes: String = "", holdExpiresAt: Int64? = nil,
        override: BookingOverride? = nil, savesCard: Bool = false
    ) {
        self.staffID = staffID
        self.services = services
        self.variant = variant
        self.times = times
        self.price = price
        self.deposit = deposit
        self.customer = customer
        self.notes = notes
        self.holdExpiresAt = holdExpiresAt
        self.override = override
        self.savesCard = savesCard
    }
}

/// A booking as stored.
public struct StoredBooking: Hashable, Sendable {
    /// `bk_` and 16 random base-32 characters.
    public var id: String
    public var status: BookingState
    public var staffID: String
    public var services: [String]
    public var variant: String?
    public var start: Int64
    public var end: Int64
    public var footprint: BookingFootprint
    public var price: Money
    public var deposit: Money?
    public var customerID: String
    public var customer: CustomerInfo
    public var notes: String
    public var holdExpiresAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Set once cancelled: the reason given and what the policy decided.
    public var cancellation: CancellationTerms?
    /// How many times the booking changed after it was made (a transition or a move each count one): durable, so
    /// a calendar's `SEQUENCE` rises with every change and never goes down, whatever the clock does.
    public var revision: Int
    /// The short code a person reads out on the phone (`BookingCode`), unique; accepted wherever the id is.
    public var code: String = ""
    /// The walk-in's or forced booking's override while the booking stands where it was made; nil otherwise (a
    /// reschedule is checked against the rules in full, so it drops the override).
    public var override: BookingOverride?

    public init(
        id: String, status: BookingState, staffID: String, services: [String], variant: String?, start: Int64,
        end: Int64, footprint: BookingFootprint, price: Money, deposit: Money?, customerID: String,
        customer: CustomerInfo, notes: String, holdExpiresAt: Int64?, createdAt: Int64, updatedAt: Int64,
        cancellation: CancellationTerms?, revision: Int = 0
    ) {
        self.id = id
        self.status = status
        self.staffID = staffID
        self.services = services
        self.variant = variant
        self.start = start
        self.end = end
        self.footprint = footprint
        self.price = price
        self.deposit = deposit
        self.customerID = customerID
        self.customer = customer
        self.notes = notes
        self.holdExpiresAt = holdExpiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.cancellation = cancellation
        self.revision = revision
    }

    /// `[start, end)` without buffers.
    public var span: Interval { Interval(start, end) }

    /// With buffers: what the overlap query selects by.
    public var busy: Interval { footprint.busyHull(start: start, end: end) }

    /// The booking as availability sees it.
    public var bookedSpan: BookedSpan {
        BookedSpan(
            id: id, staff: staffID, start: start, segments: footprint.segments,
            bufferBeforeMinutes: footprint.bufferBeforeMinutes, bufferAfterMinutes: footprint.bufferAfterMinutes,
            resources: footprint.resources)
    }

    /// The lifecycle value for the booking's current state.
    public var lifecycle: BookingLifecycle {
        BookingLifecycle(
            state: status, start: start, end: end, price: price, holdExpiresAt: holdExpiresAt,
            cancellation: cancellation)
    }
}

/// Filters for listing bookings; all optional. The window selects by start: `from ≤ start < to`.
public struct BookingQuery: Hashable, Sendable {
    public var from: Int64?
    public var to: Int64?
    public var staffID: String?
    /// Empty: every status.
    public var statuses: [BookingState]
    public var limit: Int

    public init(
        from: Int64? = nil, to: Int64? = nil, staffID: String? = nil, statuses: [BookingState] = [],
        limit: Int = 1000
    ) {
        self.from = from
        self.to = to
        self.staffID = staffID
        self.statuses = statuses
        self.limit = limit
    }
}

/// Which active bookings availability reads: those busy (with buffers) inside `window`, of the staff members
/// named (all when nil) or holding one of the resources named (their bookings take capacity from everyone).
public struct SpanQuery: Hashable, Sendable {
    public var window: Interval
    /// Nil: every staff member.
    public var staff: [String]?
    /// Resource names whose bookings count whoever the staff member is.
    public var resources: [String]

    public init(window: Interval, staff: [String]? = nil, resources: [String] = []) {
        self.window = window
        self.staff = staff
        self.resources = resources
    }

    /// The bookings that can change the answer for starts of `offering` by `choice` on `first` through `last`: the
    /// staff members who could take it (and bookings holding a resource it needs), inside the window its footprint
    /// reaches, so a slot query's cost follows the days asked, not the size of the store.
    public init(
        for offering: ServiceOffering, by choice: StaffChoice, from first: LocalDate, through last: LocalDate,
        engine: AvailabilityEngine
    ) {
        let staff: [String]
        switch choice {
        case .member(let id): staff = [id]
        case .any: staff = engine.rules.staff.filter { $0.performs(offering) }.map(\.id)
        }
        self.init(
            window: engine.bookingWindow(for: offering, from: first, through: last), staff: staff,
            resources: offering.resources.filter { $0.count > 0 }.map(\.resource))
    }

    /// Whether `booking` is one the query selects.
    public func selects(_ booking: StoredBooking) -> Bool {
        guard booking.status.isActive, booking.busy.overlaps(window) else { return false }
        guard let staff else { return true }
        return staff.contains(booking.staffID)
            || booking.footprint.resources.contains { $0.count > 0 && resources.contains($0.resource) }
    }
}

/// One entry of the durable event log.
public struct StoredEvent: Hashable, Sendable {
    /// Strictly increasing, never reused (SQLite AUTOINCREMENT).
    public var cursor: Int64
    /// `booking.created`, `booking.cancelled`, …
    public var type: String
    /// When it happened (seconds since the epoch).
    public var at: Int64
    /// A JSON object: `booking` (the id), `status`, `staff`, `services`, `start`, `end` (epoch seconds), plus
    /// per-type fields (`from`/`to` for a reschedule, `late`/`fee`/`reason` for a cancellation).
    public var data: Data

    public init(cursor: Int64, type: String, at: Int64, data: Data) {
        self.cursor = cursor
        self.type = type
        self.at = at
        self.data = data
    }
}

/// The state of an outbox job.
public enum OutboxState: String, Hashable, Sendable, CaseIterable {
    case pending
    case done
    case failed
}

/// Work to do after commit (notifications, payments), durable so a crash loses none.
public struct OutboxJob: Hashable, Sendable {
    public var id: Int64
    /// `notify.booking_created`, `payment.charge_fee`, …
    public var kind: String
    /// A JSON object, at least `{"booking": id}`.
    public var payload: Data
    public var dueAt: Int64
    public var attempts: Int
    public var state: OutboxState
    public var lastError: String?
    public var createdAt: Int64
    /// The booking the job is about (`payload.booking`), if any.
    public var bookingID: String? = nil
    /// When the worker last touched it (claim, retry, finish).
    public var updatedAt: Int64? = nil
    /// When it became `done` or `failed`.
    public var finishedAt: Int64? = nil
    /// Why a `done` job sent nothing (`skipped: booking cancelled`), or what it produced.
    public var note: String? = nil

    public init(
        id: Int64, kind: String, payload: Data, dueAt: Int64, attempts: Int, state: OutboxState,
        lastError: String?, createdAt: Int64
    ) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.dueAt = dueAt
        self.attempts = attempts
        self.state = state
        self.lastError = lastError
        self.createdAt = createdAt
    }
}

/// The response the server sent for an idempotent request, stored so a repeat gets the same bytes.
public struct IdempotentResponse: Hashable, Sendable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }
}

/// An `Idempotency-Key` with the fingerprint of the request it came with (a hash of method, path and body), and
/// how to render the response to store, run inside the transaction so the key and the booking commit together.
public struct IdempotencyRequest: Sendable {
    public var key: String
    public var fingerprint: String
    public var respond: @Sendable (StoredBooking) -> IdempotentResponse

    public init(key: String, fingerprint: String, respond: @escaping @Sendable (StoredBooking) -> IdempotentResponse) {
        self.key = key
        self.fingerprint = fingerprint
        self.respond = respond
    }
}

/// A stored idempotency key.
public struct IdempotencyRecord: Hashable, Sendable {
    public var key: String
    public var fingerprint: String
    public var response: IdempotentResponse
    public var bookingID: String?
    public var createdAt: Int64

    public init(key: String, fingerprint: String, response: IdempotentResponse, bookingID: String?, createdAt: Int64) {
        self.key = key
        self.fingerprint = fingerprint
        self.response = response
        self.bookingID = bookingID
        self.createdAt = createdAt
    }
}

/// The answer of `createBooking`.
///
/// Only successful creations are stored under an idempotency key: a rejected request changed nothing, so
/// retrying it with the same key asks again (the slot may have been freed meanwhile).
public enum BookingCreation<Rejection: Sendable>: Sendable {
    /// Booked: the booking, the events appended (publish them), and the response stored under the key.
    case created(StoredBooking, events: [StoredEvent], response: IdempotentResponse?)
    /// The key was used before with the same request: the first answer, nothing written.
    case replayed(IdempotencyRecord)
    /// The check refused it; nothing written.
    case rejected(Rejection)

    /// The booking when created.
    public var booking: StoredBooking? {
        if case .created(let booking, _, _) = self { return booking }
        return nil
    }

    /// The events appended (empty unless created).
    public var events: [StoredEvent] {
        if case .created(_, let events, _) = self { return events }
        return []
    }
}

/// The answer of a transition: the booking after it and the events appended.
public struct TransitionOutcome: Hashable, Sendable {
    public var booking: StoredBooking
    public var events: [StoredEvent]

    public init(booking: StoredBooking, events: [StoredEvent]) {
        self.booking = booking
        self.events = events
    }
}

/// The answer of `reschedule`.
public enum RescheduleOutcome<Rejection: Sendable>: Sendable {
    case rescheduled(TransitionOutcome)
    case rejected(Rejection)

    /// The outcome when rescheduled.
    public var outcome: TransitionOutcome? {
        if case .rescheduled(let outcome) = self { return outcome }
        return nil
    }
}

// MARK: - Errors

/// Everything the store can refuse or fail with, as a value with a stable code.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// No booking with that id.
        case notFound = "not_found"
        /// The booking's state does not allow the input (the lifecycle's error is in `transition`).
        case illegalTransition = "illegal_transition"
        /// The same idempotency key came with a different request.
        case idempotencyKeyReused = "idempotency_key_reused"
        /// The input breaks a constraint of the schema (empty name, end before start, unknown status).
        case constraintViolation = "constraint_violation"
        /// The database file was written by a newer slotd.
        case schemaTooNew = "schema_too_new"
        /// The database could not be opened, read or written.
        case database = "database_error"
        /// The store cannot do this at all (an in-memory store has no file to back up).
        case unavailable = "unavailable"
        /// The customer is already in the waitlist's line for the same thing.
        case alreadyWaiting = "already_waiting"
    }

    public var code: Code
    /// What went wrong and, where there is one, how to fix it.
    public var message: String
    /// The lifecycle's refusal, for `illegalTransition`.
    public var transition: BookingTransitionError?

    public init(_ code: Code, _ message: String, transition: BookingTransitionError? = nil) {
        self.code = code
        self.message = message
        self.transition = transition
    }

    package static func notFound(_ id: String) -> StoreError { StoreError(.notFound, "no booking with id '\(id)'") }

    static func unavailable(_ what: String) -> StoreError {
        StoreError(.unavailable, "\(what) is not available for an in-memory store — run slotd with a database file")
    }

    package static func illegal(_ error: BookingTransitionError) -> StoreError {
        StoreError(.illegalTransition, error.message, transition: error)
    }

    package static func reused(_ key: String) -> StoreError {
        StoreError(
            .idempotencyKeyReused,
            "idempotency key '\(key)' was already used with a different request; use a new key for a new request")
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
