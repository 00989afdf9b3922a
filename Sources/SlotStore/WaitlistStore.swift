import Foundation
import SlotCore
import SlotEngine
import SlotRules

// MARK: - The boundary

/// The waitlist: customers in line for a service (a staff member or any) on a range of dates.
///
/// The store persists what `WaitlistLifecycle` and `WaitlistMatcher` decide, like bookings. An offer is a held
/// booking made in the same transaction as the entry's `offered` state, so no one else can take the start; the
/// offer's answers are that booking's transitions (confirm accepts, cancel declines, the hold's expiry lapses),
/// and every store's booking write carries them to the entry in its own transaction (`WaitlistPlanner.follow`).
/// A write that frees time while someone waits enqueues a `waitlist.match` job in that transaction.
public protocol WaitlistStore: Sendable {
    /// Puts a customer at the end of the line; refuses (`already_waiting`) a customer already in line for the same
    /// service and staff choice on overlapping dates. Enqueues a `waitlist.match` job.
    func joinWaitlist(_ new: NewWaitlistEntry, at now: Int64) async throws(StoreError) -> WaitlistChange

    /// The entry with that id, or nil.
    func waitlistEntry(id: String) async throws(StoreError) -> StoredWaitlistEntry?

    /// The entries the query selects, in line order.
    func waitlistEntries(_ query: WaitlistQuery) async throws(StoreError) -> [StoredWaitlistEntry]

    /// Applies a direct input (the customer leaves, the dates are over) and appends its event.
    func changeWaitlistEntry(
        _ id: String, _ input: WaitlistInput, at now: Int64
    ) async throws(StoreError) -> WaitlistChange

    /// Offers a start to a waiting entry: creates `booking` (held until the offer lapses) if `check` passes for the
    /// bookings that could conflict, files its customer, and marks the entry offered, in one transaction. The
    /// booking's `notify.booking_created` becomes `notify.waitlist_offered`.
    func offerWaitlistEntry<Rejection: Sendable>(
        _ id: String, booking: NewBooking, at now: Int64,
        check: @escaping @Sendable (_ conflicting: [BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> WaitlistOfferOutcome<Rejection>
}

// MARK: - Values

/// A customer joining the line.
public struct NewWaitlistEntry: Hashable, Sendable {
    public var wish: WaitlistWish
    /// The contact the offer is sent to (an e-mail or a phone), as the booking it becomes will have it.
    public var customer: CustomerInfo
    public var notes: String

    public init(wish: WaitlistWish, customer: CustomerInfo, notes: String = "") {
        self.wish = wish
        self.customer = customer
        self.notes = notes
    }
}

/// A waitlist entry as stored.
public struct StoredWaitlistEntry: Hashable, Sendable {
    /// `wl_` and 16 random base-32 characters.
    public var id: String
    /// The place in line: increasing with every join, never reused.
    public var position: Int64
    public var wish: WaitlistWish
    public var customer: CustomerInfo
    public var notes: String
    public var state: WaitlistState
    /// The current or last offer (kept once answered, for the record).
    public var offer: WaitlistOffer?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        id: String, position: Int64, wish: WaitlistWish, customer: CustomerInfo, notes: String,
        state: WaitlistState, offer: WaitlistOffer?, createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.position = position
        self.wish = wish
        self.customer = customer
        self.notes = notes
        self.state = state
        self.offer = offer
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The lifecycle value for the entry's current state.
    public var lifecycle: WaitlistLifecycle { WaitlistLifecycle(state: state, offer: offer) }

    /// The entry as the matcher sees it.
    public var waiting: WaitingEntry { WaitingEntry(id: id, wish: wish, position: position) }
}

/// Filters for listing entries; all optional.
public struct WaitlistQuery: Hashable, Sendable {
    /// Empty: every state.
    public var states: [WaitlistState]
    public var service: String?
    /// A staff id, or `any` for entries that take anyone.
    public var staff: String?
    /// Entries whose dates include this one.
    public var date: LocalDate?
    /// The entry whose offer is this held booking (one at most: a booking offers one entry).
    public var offerBooking: String?
    public var limit: Int

    public init(
        states: [WaitlistState] = [], service: String? = nil, staff: String? = nil, date: LocalDate? = nil,
        offerBooking: String? = nil, limit: Int = 1000
    ) {
        self.states = states
        self.service = service
        self.staff = staff
        self.date = date
        self.offerBooking = offerBooking
        self.limit = limit
    }

    /// Whether the query selects `entry` (the state filter included).
    public func selects(_ entry: StoredWaitlistEntry) -> Bool {
        (states.isEmpty || states.contains(entry.state)) && (service.map { entry.wish.service == $0 } ?? true)
            && (staff.map { entry.wish.staff.description == $0 } ?? true)
            && (date.map { entry.wish.first <= $0 && $0 <= entry.wish.last } ?? true)
            && (offerBooking.map { entry.offer?.booking == $0 } ?? true)
    }
}

/// An entry after a write, and the events the write appended (publish them after commit).
public struct WaitlistChange: Hashable, Sendable {
    public var entry: StoredWaitlistEntry
    public var events: [StoredEvent]

    public init(entry: StoredWaitlistEntry, events: [StoredEvent]) {
        self.entry = entry
        self.events = events
    }
}

/// The answer of `offerWaitlistEntry`.
public enum WaitlistOfferOutcome<Rejection: Sendable>: Sendable {
    /// Offered: the entry, the held booking, and every event appended.
    case offered(WaitlistChange, booking: StoredBooking)
    /// The check refused the start (someone took it meanwhile); nothing written.
    case rejected(Rejection)
}

extension StoreError {
    /// No entry with that id.
    package static func noEntry(_ id: String) -> StoreError {
        StoreError(.notFound, "no waitlist entry with id '\(id)' (GET /v1/waitlist lists them)")
    }

    /// A customer in line twice for one thing.
    package static func alreadyWaiting(_ entry: StoredWaitlistEntry) -> StoreError {
        StoreError(
            .alreadyWaiting,
            "\(entry.customer.name) is already waiting for \(entry.wish.service) (\(entry.wish.staff)) from "
                + "\(entry.wish.first) to \(entry.wish.last) as \(entry.id); leave that entry first to change it")
    }
}

// MARK: - Shared decisions

/// What one waitlist write does: the entry after it, its events and jobs.
package struct WaitlistPlan: Sendable {
    package var entry: StoredWaitlistEntry
    package var events: [PendingEvent]
    package var jobs: [PendingJob]
}

/// The shared, pure decisions of the three stores about the waitlist: validation, the lifecycle's events, the
/// jobs, and how a booking write carries to the entry whose offer it holds.
package enum WaitlistPlanner {
    /// A new random entry id: `wl_` and 16 base-32 characters.
    package static func newEntryID() -> String { "wl_" + BookingPlanner.randomToken(16) }

    /// Checks what the schema would refuse, so every store refuses it with the same message.
    package static func validate(_ new: NewWaitlistEntry) -> StoreError? {
        func violation(_ message: String) -> StoreError { StoreError(.constraintViolation, message) }
        if new.wish.service.isEmpty { return violation("a waitlist entry needs a service") }
        if new.wish.last < new.wish.first { return violation("a waitlist entry's last date is before its first") }
        if new.customer.name.trimmingWhitespace().isEmpty {
            return violation("the customer's name must not be empty")
        }
        if new.customer.email == nil && new.customer.phone == nil {
            return violation("a waitlist entry needs an e-mail or a phone to send the offer to")
        }
        let from = new.wish.fromMinute ?? 0
        let to = new.wish.toMinute ?? 1440
        if from < 0 || to > 1440 || from >= to {
            return violation("a waitlist entry's window must be a part of the day, its start before its end")
        }
        return nil
    }

    /// Whether two contacts are one customer: the same phone, or the same e-mail in any case.
    static func sameCustomer(_ one: CustomerInfo, _ other: CustomerInfo) -> Bool {
        if let phone = one.phone, phone == other.phone { return true }
        if let email = one.email?.lowercased(), email == other.email?.lowercased() { return true }
        return false
    }

    /// An open entry of the same customer for the same thing on overlapping dates, if any.
    package static func duplicate(
        of new: NewWaitlistEntry, among entries: [StoredWaitlistEntry]
    ) -> StoredWaitlistEntry? {
        entries.first { entry in
            entry.state.isOpen && entry.wish.overlaps(new.wish) && sameCustomer(entry.customer, new.customer)
        }
    }

    /// The plan for a new entry: waiting, `waitlist.joined`, and a match job (a start may already be free).
    package static func join(
        _ new: NewWaitlistEntry, id: String, position: Int64, at now: Int64
    ) -> WaitlistPlan {
        let (lifecycle, event) = WaitlistLifecycle.join()
        let entry = StoredWaitlistEntry(
            id: id, position: position, wish: new.wish, customer: new.customer, notes: new.notes,
            state: lifecycle.state, offer: nil, createdAt: now, updatedAt: now)
        let match = Job.waitlist(.match(WaitlistMatchPayload(reason: event.type, entry: id)))
        return WaitlistPlan(
            entry: entry, events: [pending(event, entry, at: now)], jobs: [PendingJob(match, dueAt: now)])
    }

    /// The plan for a direct input, or the lifecycle's refusal.
    package static func change(
        _ entry: StoredWaitlistEntry, _ input: WaitlistInput, at now: Int64
    ) -> Result<WaitlistPlan, StoreError> {
        var lifecycle = entry.lifecycle
        return lifecycle.apply(input).mapError(illegal).map { event in
            plan(entry, lifecycle, event, at: now)
        }
    }

    /// The plan for offering `entry` the start `booking` holds; rewrites the booking's creation notice into the
    /// offer's.
    package static func offer(
        _ entry: StoredWaitlistEntry, booking: inout BookingPlan, at now: Int64
    ) -> Result<WaitlistPlan, StoreError> {
        guard let expiresAt = booking.booking.holdExpiresAt else {
            return .failure(StoreError(.constraintViolation, "an offer's booking must be held until the offer lapses"))
        }
        let offer = WaitlistOffer(
            booking: booking.booking.id, staff: booking.booking.staffID, start: booking.booking.start,
            expiresAt: expiresAt)
        var lifecycle = entry.lifecycle
        return lifecycle.makeOffer(offer, at: now).mapError(illegal).map { event in
            let created = BookingNotice.created.kind
            let offered = Job.notification(.booking(.waitlistOffered, BookingJobPayload(booking: offer.booking)))
            booking.jobs = booking.jobs.map { $0.kind == created ? PendingJob(offered, dueAt: $0.dueAt) : $0 }
            return plan(entry, lifecycle, event, at: now)
        }
    }

    /// Whether a booking write can change the entry whose offer the booking holds (so the store looks it up).
    package static func mayConcernOffer(_ booking: BookingPlan) -> Bool {
        switch booking.event {
        case .confirmed, .cancelled, .expired: return true
        case .created, .rescheduled, .completed, .noShow, .noted, nil: return false
        }
    }

    /// What a write of the booking holding `entry`'s offer does to the entry: nil when nothing. A lapsed or
    /// declined offer drops the booking's own customer notice (the customer never asked for that booking).
    package static func follow(_ entry: StoredWaitlistEntry, _ booking: inout BookingPlan) -> WaitlistPlan? {
        guard let event = booking.event, entry.state == .offered, entry.offer?.booking == booking.booking.id else {
            return nil
        }
        var lifecycle = entry.lifecycle
        guard case .success(.apply(let waitlistEvent)) = lifecycle.follow(event) else { return nil }
        if lifecycle.state != .booked {
            let quiet: Set<String> = [BookingNotice.cancelled.kind, BookingNotice.expired.kind]
            booking.jobs.removeAll { quiet.contains($0.kind) }
        }
        return plan(entry, lifecycle, waitlistEvent, at: booking.booking.updatedAt)
    }

    /// The `waitlist.match` job for a booking write that frees time, when anyone waits; nil otherwise.
    package static func matchJob(after booking: BookingPlan, anyoneWaiting: Bool) -> PendingJob? {
        guard booking.releasesTime, anyoneWaiting else { return nil }
        let reason = booking.event.map(\.type) ?? "booking.changed"
        let job = Job.waitlist(.match(WaitlistMatchPayload(reason: reason, booking: booking.booking.id)))
        return PendingJob(job, dueAt: booking.booking.updatedAt)
    }

    static func plan(
        _ entry: StoredWaitlistEntry, _ lifecycle: WaitlistLifecycle, _ event: WaitlistEvent, at now: Int64
    ) -> WaitlistPlan {
        var updated = entry
        updated.state = lifecycle.state
        updated.offer = lifecycle.offer
        updated.updatedAt = now
        return WaitlistPlan(entry: updated, events: [pending(event, updated, at: now)], jobs: [])
    }

    static func pending(_ event: WaitlistEvent, _ entry: StoredWaitlistEntry, at now: Int64) -> PendingEvent {
        let data = WaitlistEventData(event, entry: entry.id, wish: entry.wish, state: entry.state)
        return PendingEvent(type: event.type, at: now, data: StoreJSON.encode(data))
    }

    static func illegal(_ error: WaitlistTransitionError) -> StoreError {
        StoreError(.illegalTransition, error.message)
    }
}
