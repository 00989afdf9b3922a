import Foundation
import SlotCore
import SlotEngine
import SlotRules

/// The in-memory twin of `SQLiteBookingStore`: the same decisions (through `BookingPlanner`), no durability.
/// For tests of the server and for `slotd --db :memory:`-style development runs.
public actor MemoryBookingStore: BookingStore {
    private var bookingsByID: [String: StoredBooking] = [:]
    private var customerIDsByEmail: [String: String] = [:]
    private var log: [StoredEvent] = []
    private var outbox: [OutboxJob] = []
    private var keys: [String: IdempotencyRecord] = [:]
    private var nextCursor: Int64 = 1

    /// An empty store.
    public init() {}

    public func createBooking<Rejection: Sendable>(
        _ new: NewBooking, at now: Int64, idempotency: IdempotencyRequest?,
        check: @escaping @Sendable ([StoredBooking]) -> Rejection?
    ) async throws(StoreError) -> BookingCreation<Rejection> {
        if let idempotency, let record = keys[idempotency.key] {
            guard record.fingerprint == idempotency.fingerprint else { throw .reused(idempotency.key) }
            return .replayed(record)
        }
        if let error = BookingPlanner.validate(new) { throw error }
        let conflicting = candidates(
            staffID: new.staffID, resources: new.times.footprint.resources, window: new.times.window, excluding: nil)
        if let rejection = check(conflicting) { return .rejected(rejection) }
        let customerID = new.customer.email.flatMap { customerIDsByEmail[$0] } ?? BookingPlanner.newCustomerID()
        let plan = try BookingPlanner.create(
            new, id: BookingPlanner.newBookingID(), customerID: customerID, at: now
        ).get()
        if let email = new.customer.email { customerIDsByEmail[email] = customerID }
        let events = apply(plan)
        var response: IdempotentResponse?
        if let idempotency {
            let rendered = idempotency.respond(plan.booking)
            response = rendered
            keys[idempotency.key] = IdempotencyRecord(
                key: idempotency.key, fingerprint: idempotency.fingerprint, response: rendered,
                bookingID: plan.booking.id, createdAt: now)
        }
        return .created(plan.booking, events: events, response: response)
    }

    public func booking(id: String) async throws(StoreError) -> StoredBooking? { bookingsByID[id] }

    public func bookings(matching query: BookingQuery) async throws(StoreError) -> [StoredBooking] {
        let selected = bookingsByID.values.filter { booking in
            (query.from.map { booking.start >= $0 } ?? true) && (query.to.map { booking.start < $0 } ?? true)
                && (query.staffID.map { booking.staffID == $0 } ?? true)
                && (query.statuses.isEmpty || query.statuses.contains(booking.status))
        }
        return Array(sorted(selected).prefix(max(0, query.limit)))
    }

    public func bookedSpans(_ query: SpanQuery) async throws(StoreError) -> [BookedSpan] {
        sorted(bookingsByID.values.filter(query.selects)).map(\.bookedSpan)
    }

    public func transition(
        _ id: String, _ input: BookingInput, at now: Int64, policy: Policies, reason: String
    ) async throws(StoreError) -> TransitionOutcome {
        guard let booking = bookingsByID[id] else { throw .notFound(id) }
        let plan = try BookingPlanner.transition(booking, input, at: now, policy: policy, reason: reason).get()
        return TransitionOutcome(booking: plan.booking, events: apply(plan))
    }

    public func reschedule<Rejection: Sendable>(
        _ id: String, to times: BookingTimes, at now: Int64,
        check: @escaping @Sendable ([StoredBooking]) -> Rejection?
    ) async throws(StoreError) -> RescheduleOutcome<Rejection> {
        guard let booking = bookingsByID[id] else { throw .notFound(id) }
        let plan = try BookingPlanner.reschedule(booking, to: times, at: now).get()
        let conflicting = candidates(
            staffID: booking.staffID, resources: times.footprint.resources, window: times.window, excluding: id)
        if let rejection = check(conflicting) { return .rejected(rejection) }
        return .rescheduled(TransitionOutcome(booking: plan.booking, events: apply(plan)))
    }

    public func expireHolds(at now: Int64) async throws(StoreError) -> [TransitionOutcome] {
        let due = sorted(bookingsByID.values.filter { $0.status == .held && ($0.holdExpiresAt ?? .max) <= now })
        var outcomes: [TransitionOutcome] = []
        for booking in due {
            let plan = try BookingPlanner.transition(booking, .expire, at: now, policy: Policies(), reason: "").get()
            outcomes.append(TransitionOutcome(booking: plan.booking, events: apply(plan)))
        }
        return outcomes
    }

    public func events(after cursor: Int64, typePrefix: String?, limit: Int) async throws(StoreError) -> [StoredEvent] {
        Array(
            log.lazy.filter { $0.cursor > cursor && (typePrefix.map($0.type.hasPrefix) ?? true) }.prefix(max(0, limit)))
    }

    public func latestCursor() async throws(StoreError) -> Int64 { log.last?.cursor ?? 0 }

    public func outboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob] {
        Array(outbox.filter { state == nil || $0.state == state }.prefix(max(0, limit)))
    }

    public func idempotencyRecord(key: String) async throws(StoreError) -> IdempotencyRecord? { keys[key] }

    // MARK: - Private

    private func candidates(
        staffID: String, resources: [ResourceNeed], window: Interval, excluding id: String?
    ) -> [StoredBooking] {
        sorted(
            bookingsByID.values.filter {
                $0.id != id && BookingPlanner.couldConflict($0, staffID: staffID, resources: resources, window: window)
            })
    }

    private func sorted(_ bookings: some Sequence<StoredBooking>) -> [StoredBooking] {
        bookings.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }

    private func apply(_ plan: BookingPlan) -> [StoredEvent] {
        bookingsByID[plan.booking.id] = plan.booking
        var appended: [StoredEvent] = []
        for event in plan.events {
            let stored = StoredEvent(cursor: nextCursor, type: event.type, at: event.at, data: event.data)
            nextCursor += 1
            log.append(stored)
            appended.append(stored)
        }
        for job in plan.jobs {
            outbox.append(
                OutboxJob(
                    id: Int64(outbox.count + 1), kind: job.kind, payload: job.payload, dueAt: job.dueAt, attempts: 0,
                    state: .pending, lastError: nil, createdAt: job.dueAt))
        }
        return appended
    }
}
