import Foundation
import SlotCore
import SlotEngine
import SlotRules

/// The in-memory twin of `SQLiteBookingStore`: every store protocol with the same semantics (idempotency keys,
/// event cursors, outbox claims with leases and attempts, payments, operations) and the same decisions (through
/// `BookingPlanner` and `PaymentPlanner`), but no durability: nothing survives the process. For tests and for
/// `slotd --db :memory:`. The actor serialises writes as SQLite's one writer does, so each method is one
/// transaction.
public actor MemoryBookingStore: SlotStorage {
    var bookingsByID: [String: StoredBooking] = [:]
    var customersByID: [String: StoredCustomer] = [:]
    /// Conflicts for the desk, in id order; ids count up from 1.
    var customerConflicts: [CustomerConflict] = []
    var nextConflictID: Int64 = 1
    /// Booking ids by code.
    private var bookingIDsByCode: [String: String] = [:]
    private var log: [StoredEvent] = []
    /// Outbox jobs by id; ids count up from 1 and are never reused.
    private var outbox: [Int64: OutboxJob] = [:]
    /// The ids of the pending jobs: a claim looks at these, not at every job the store ever held.
    private var pendingJobIDs: Set<Int64> = []
    private var nextJobID: Int64 = 1
    private var keys: [String: IdempotencyRecord] = [:]
    private var nextCursor: Int64 = 1
    private var paymentsByBookingID: [String: StoredPayment] = [:]
    private var cardsByBookingID: [String: StoredCard] = [:]
    /// Payment webhook event ids already acted on, so a redelivery changes nothing.
    private var webhookEventIDs: Set<String> = []
    private var feedsByID: [String: StoredFeed] = [:]
    var waitlistByID: [String: StoredWaitlistEntry] = [:]
    /// The next entry's place in line; counts up from 1, never reused.
    var nextWaitlistPosition: Int64 = 1

    /// An empty store.
    public init() {}

    // MARK: - BookingStore

    public func createBooking<Rejection: Sendable>(
        _ new: NewBooking, at now: Int64, idempotency: IdempotencyRequest?,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> BookingCreation<Rejection> {
        if let error = BookingPlanner.validate(new) { throw error }
        if let idempotency, let record = keys[idempotency.key] {
            guard record.fingerprint == idempotency.fingerprint else { throw .reused(idempotency.key) }
            return .replayed(record)
        }
        let conflicting = candidates(
            staffID: new.staffID, resources: new.times.footprint.resources, window: new.times.window, excluding: nil)
        if let rejection = check(conflicting.map(\.bookedSpan)) { return .rejected(rejection) }
        let (booking, events) = try insertBooking(new, at: now)
        var response: IdempotentResponse?
        if let idempotency {
            let rendered = idempotency.respond(booking)
            response = rendered
            keys[idempotency.key] = IdempotencyRecord(
                key: idempotency.key, fingerprint: idempotency.fingerprint, response: rendered,
                bookingID: booking.id, createdAt: now)
        }
        return .created(booking, events: events, response: response)
    }

    /// Files the customer, plans a booking that passed its check and stores it with a fresh code; `amend` sees the
    /// plan before it is stored and may change it (callers check what could refuse it first: the actor has no
    /// rollback).
    func insertBooking(
        _ new: NewBooking, at now: Int64, amend: (inout BookingPlan) throws(StoreError) -> Void = { _ in }
    ) throws(StoreError) -> (StoredBooking, [StoredEvent]) {
        let customer = fileCustomer(new.customer, at: now)
        var plan = try BookingPlanner.create(
            new, id: BookingPlanner.newBookingID(), customerID: customer.id, at: now
        ).get()
        guard let code = BookingPlanner.newBookingCode(isTaken: { bookingIDsByCode[$0] != nil }) else {
            throw .codesExhausted
        }
        plan.booking.code = code
        try amend(&plan)
        bookingIDsByCode[plan.booking.code] = plan.booking.id
        var events = apply(plan)
        events += recordConflicts(customer.conflicts, booking: plan.booking.id, at: now)
        return (plan.booking, events)
    }

    public func booking(id: String) async throws(StoreError) -> StoredBooking? { lookup(id) }

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
        guard let booking = lookup(id) else { throw .notFound(id) }
        let plan = try BookingPlanner.transition(booking, input, at: now, policy: policy, reason: reason).get()
        return TransitionOutcome(booking: plan.booking, events: apply(plan))
    }

    public func reschedule<Rejection: Sendable>(
        _ id: String, to times: BookingTimes, staff staffID: String?, at now: Int64,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> RescheduleOutcome<Rejection> {
        guard let booking = lookup(id) else { throw .notFound(id) }
        let plan = try BookingPlanner.reschedule(booking, to: times, staff: staffID, at: now).get()
        let conflicting = candidates(
            staffID: plan.booking.staffID, resources: times.footprint.resources, window: times.window,
            excluding: booking.id)
        if let rejection = check(conflicting.map(\.bookedSpan)) { return .rejected(rejection) }
        return .rescheduled(TransitionOutcome(booking: plan.booking, events: apply(plan)))
    }

    public func setNotes(_ id: String, to notes: String, at now: Int64) async throws(StoreError) -> TransitionOutcome {
        guard let booking = lookup(id) else { throw .notFound(id) }
        guard let plan = BookingPlanner.note(booking, notes, at: now) else {
            return TransitionOutcome(booking: booking, events: [])
        }
        return TransitionOutcome(booking: plan.booking, events: apply(plan))
    }

    public func expireHolds(at now: Int64) async throws(StoreError) -> [TransitionOutcome] {
        let due = bookingsByID.values.filter { $0.status == .held && ($0.holdExpiresAt ?? .max) <= now }
            .sorted { ($0.holdExpiresAt ?? 0, $0.id) < ($1.holdExpiresAt ?? 0, $1.id) }
        var outcomes: [TransitionOutcome] = []
        for booking in due {
            let plan = try BookingPlanner.transition(booking, .expire, at: now, policy: Policies(), reason: "").get()
            outcomes.append(TransitionOutcome(booking: plan.booking, events: apply(plan)))
        }
        return outcomes
    }

    public func events(after cursor: Int64, typePrefix: String?, limit: Int) async throws(StoreError) -> [StoredEvent] {
        // The log is in cursor order: start after `cursor` instead of scanning what a subscriber has seen.
        let first = log.partitioningIndex { $0.cursor > cursor }
        return Array(
            log[first...].lazy.filter { typePrefix.map($0.type.hasPrefix) ?? true }.prefix(max(0, limit)))
    }

    public func latestCursor() async throws(StoreError) -> Int64 { log.last?.cursor ?? 0 }

    public func outboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob] {
        Array(jobsByID.filter { state == nil || $0.state == state }.prefix(max(0, limit)))
    }

    public func idempotencyRecord(key: String) async throws(StoreError) -> IdempotencyRecord? { keys[key] }

    // MARK: - OutboxStore

    public func claimDueJobs(at now: Int64, lease: Int64, limit: Int) async throws(StoreError) -> [OutboxJob] {
        claim(at: now, lease: lease, limit: limit)
    }

    @discardableResult
    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent]
    ) async throws(StoreError) -> [StoredEvent] {
        finish(id, at: now, note: note, enqueue: jobs, events: events)
    }

    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        let appended = finish(id, at: now, note: note, enqueue: jobs, events: events)
        return (appended, claim(at: now, lease: lease, limit: limit))
    }

    public func claimDueJobs(
        at now: Int64, lease: Int64, limit: Int, seenDue: Bool, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> OutboxClaim {
        let jobs = claim(at: now, lease: lease, limit: limit, completing: completing)
        return OutboxClaim(jobs: jobs, nextDue: nextDue)
    }

    public func finishJob(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent],
        thenClaim limit: Int, lease: Int64, completing: @escaping OutboxInlineCompletion
    ) async throws(StoreError) -> (events: [StoredEvent], claimed: [OutboxJob]) {
        let appended = finish(id, at: now, note: note, enqueue: jobs, events: events)
        return (appended, claim(at: now, lease: lease, limit: limit, completing: completing))
    }

    public func retryJobLater(_ id: Int64, error: String, dueAt: Int64, at now: Int64) async throws(StoreError) {
        guard var job = outbox[id], job.state == .pending else { return }
        job.dueAt = dueAt
        job.lastError = error
        job.updatedAt = now
        outbox[id] = job
    }

    public func failJob(_ id: Int64, error: String, at now: Int64) async throws(StoreError) {
        guard var job = outbox[id], job.state == .pending else { return }
        pendingJobIDs.remove(id)
        job.state = .failed
        job.lastError = error
        job.updatedAt = now
        job.finishedAt = now
        outbox[id] = job
    }

    public func retryFailedJob(_ id: Int64, at now: Int64) async throws(StoreError) -> OutboxJob {
        guard var job = outbox[id] else {
            throw StoreError(.notFound, "no outbox job with id \(id) — `slotctl outbox` lists them")
        }
        guard job.state == .failed else {
            throw StoreError(
                .illegalTransition,
                "outbox job \(id) is \(job.state.rawValue), not failed: only failed jobs can be retried")
        }
        // Attempts restart so the job gets the full retry schedule again; the last error stays as a clue.
        job.state = .pending
        pendingJobIDs.insert(id)
        job.dueAt = now
        job.attempts = 0
        job.updatedAt = now
        job.finishedAt = nil
        outbox[id] = job
        return job
    }

    public func outboxJob(id: Int64) async throws(StoreError) -> OutboxJob? { outbox[id] }

    public func recentOutboxJobs(state: OutboxState?, limit: Int) async throws(StoreError) -> [OutboxJob] {
        Array(jobsByID.reversed().lazy.filter { state == nil || $0.state == state }.prefix(max(0, limit)))
    }

    public func outboxCounts() async throws(StoreError) -> [OutboxState: Int] {
        var counts = Dictionary(uniqueKeysWithValues: OutboxState.allCases.map { ($0, 0) })
        for job in outbox.values { counts[job.state, default: 0] += 1 }
        return counts
    }

    public func nextOutboxDue() async throws(StoreError) -> Int64? { nextDue }

    /// The earliest `due_at` of a pending job.
    private var nextDue: Int64? { pendingJobIDs.lazy.compactMap { self.outbox[$0]?.dueAt }.min() }

    public func enqueueJobs(_ jobs: [OutboxEnqueue], at now: Int64) async throws(StoreError) {
        insertJobs(jobs, at: now)
    }

    @discardableResult
    public func ensurePendingJob(_ job: OutboxEnqueue, at now: Int64) async throws(StoreError) -> Bool {
        if pendingJobIDs.contains(where: { outbox[$0]?.kind == job.kind }) { return false }
        insertJobs([job], at: now)
        return true
    }

    // MARK: - PaymentStore

    public func payment(bookingID: String) async throws(StoreError) -> StoredPayment? {
        paymentsByBookingID[bookingID]
    }

    public func payments(bookingIDs: [String]) async throws(StoreError) -> [String: StoredPayment] {
        var found: [String: StoredPayment] = [:]
        for id in bookingIDs { found[id] = paymentsByBookingID[id] }
        return found
    }

    public func recordDeposit(
        bookingID: String, provider: String, reference: String, clientSecret: String?, amount: Money, at now: Int64
    ) async throws(StoreError) -> StoredPayment {
        let existing = paymentsByBookingID[bookingID]
        if existing == nil, bookingsByID[bookingID] == nil { throw .notFound(bookingID) }
        let (payment, plan) = PaymentPlanner.recordDeposit(
            existing: existing, bookingID: bookingID, provider: provider, reference: reference,
            clientSecret: clientSecret, amount: amount, at: now)
        if let plan { _ = apply(plan) }
        return payment
    }

    public func settlePayment(
        bookingID: String, status: StoredPaymentStatus, refundReference: String?, reason: String, at now: Int64
    ) async throws(StoreError) -> [StoredEvent] {
        guard let payment = paymentsByBookingID[bookingID],
            let plan = PaymentPlanner.settle(
                payment, to: status, refundReference: refundReference, reason: reason, at: now)
        else { return [] }
        return apply(plan)
    }

    public func applyPaymentWebhook(
        _ update: PaymentWebhookUpdate, at now: Int64
    ) async throws(StoreError) -> PaymentWebhookOutcome {
        if webhookEventIDs.contains(update.eventID) { return .duplicate }
        var bookingID = update.bookingID
        if bookingID == nil, let reference = update.reference {
            bookingID =
                update.savedPaymentMethod == nil
                ? paymentsByBookingID.values.first { $0.provider == update.provider && $0.reference == reference }?
                    .bookingID
                : cardsByBookingID.values.first {
                    $0.provider == update.provider && $0.card.setupReference == reference
                }?.bookingID
        }
        let booking = bookingID.flatMap { bookingsByID[$0] }
        if let booking, let method = update.savedPaymentMethod {
            webhookEventIDs.insert(update.eventID)
            guard let plan = try PaymentPlanner.cardSaved(
                update, paymentMethod: method, booking: booking, card: cardsByBookingID[booking.id], at: now)
            else { return .ignored }
            return .applied(booking: booking.id, events: apply(plan))
        }
        let plan = try PaymentPlanner.webhook(
            update, booking: booking, payment: booking.flatMap { paymentsByBookingID[$0.id] }, at: now)
        // Recorded even when it changes nothing, as SQLite records it in the same transaction.
        webhookEventIDs.insert(update.eventID)
        guard let booking, let plan else { return .ignored }
        return .applied(booking: booking.id, events: apply(plan))
    }

    public func card(bookingID: String) async throws(StoreError) -> StoredCard? { cardsByBookingID[bookingID] }

    public func cards(bookingIDs: [String]) async throws(StoreError) -> [String: StoredCard] {
        var found: [String: StoredCard] = [:]
        for id in bookingIDs { found[id] = cardsByBookingID[id] }
        return found
    }

    public func providerCustomer(customerID: String, provider: String) async throws(StoreError) -> String? {
        cardsByBookingID.values.filter { $0.customerID == customerID && $0.provider == provider }
            .max { $0.createdAt < $1.createdAt }?.card.customerReference
    }

    public func recordCardSetup(
        bookingID: String, provider: String, customerReference: String, setupReference: String,
        clientSecret: String?, at now: Int64
    ) async throws(StoreError) -> StoredCard {
        guard let booking = bookingsByID[bookingID] else { throw .notFound(bookingID) }
        let (card, plan) = PaymentPlanner.recordCardSetup(
            existing: cardsByBookingID[bookingID], booking: booking, provider: provider,
            customerReference: customerReference, setupReference: setupReference, clientSecret: clientSecret, at: now)
        if let plan { _ = apply(plan) }
        return card
    }

    public func recordFee(
        bookingID: String, outcome: FeeOutcome, amount: Money, at now: Int64
    ) async throws(StoreError) -> [StoredEvent] {
        guard let card = cardsByBookingID[bookingID],
            let plan = PaymentPlanner.recordFee(card, outcome, amount: amount, at: now)
        else { return [] }
        return apply(plan)
    }

    // MARK: - OperationsStore

    public func appendEvents(_ events: [NewEvent]) async throws(StoreError) -> [StoredEvent] {
        appendEvents(events.map { PendingEvent(type: $0.type, at: $0.at, data: $0.data) })
    }

    public func bookingCountsByState() async throws(StoreError) -> [String: Int] {
        bookingsByID.values.reduce(into: [:]) { counts, booking in counts[booking.status.rawValue, default: 0] += 1 }
    }

    public func outboxCountsByState() async throws(StoreError) -> [String: Int] {
        outbox.values.reduce(into: [:]) { counts, job in counts[job.state.rawValue, default: 0] += 1 }
    }

    public func customers() async throws(StoreError) -> [StoredCustomer] {
        customersByID.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Memory always takes a write.
    public func checkWritable() async throws(StoreError) {}

    /// Nothing in memory can be torn or half written: always `ok`.
    public func quickCheck() async throws(StoreError) -> String { "ok" }

    /// There is no file to copy: throws `unavailable`.
    public nonisolated func backup(to destination: String) throws(StoreError) {
        throw .unavailable("a backup")
    }

    /// Nothing to close: the store ends with the process.
    public func shutDown() async throws(StoreError) {}

    // MARK: - FeedStore

    public func createFeed(staffID: String?, label: String, at now: Int64) async throws(StoreError) -> StoredFeed {
        if let error = FeedPlanner.validate(staffID: staffID, label: label) { throw error }
        let feed = StoredFeed(
            id: FeedPlanner.newFeedID(), staffID: staffID, label: label, createdAt: now, revokedAt: nil)
        feedsByID[feed.id] = feed
        return feed
    }

    public func feed(id: String) async throws(StoreError) -> StoredFeed? { feedsByID[id] }

    public func feeds(includingRevoked: Bool) async throws(StoreError) -> [StoredFeed] {
        feedsByID.values.filter { includingRevoked || $0.isActive }
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func revokeFeed(_ id: String, at now: Int64) async throws(StoreError) -> StoredFeed {
        guard var feed = feedsByID[id] else { throw FeedPlanner.notFound(id) }
        if feed.revokedAt == nil {
            feed.revokedAt = max(now, feed.createdAt)
            feedsByID[id] = feed
        }
        return feed
    }

    // MARK: - Private

    /// Outbox jobs in id order.
    private var jobsByID: [OutboxJob] { outbox.values.sorted { $0.id < $1.id } }

    func candidates(
        staffID: String, resources: [ResourceNeed], window: Interval, excluding id: String?
    ) -> [StoredBooking] {
        sorted(
            bookingsByID.values.filter {
                $0.id != id && BookingPlanner.couldConflict($0, staffID: staffID, resources: resources, window: window)
            }
        )
    }

    private func sorted(_ bookings: some Sequence<StoredBooking>) -> [StoredBooking] {
        bookings.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }

    /// Erasure's part in the outbox and the idempotency keys: message jobs of the customer's bookings (they hold
    /// the recipient and the rendered text) and stored answers about them, as SQLite deletes them.
    func forgetMessagesAndAnswers(ofCustomer id: String) {
        let bookings = Set(bookingsByID.values.filter { $0.customerID == id }.map(\.id))
        outbox = outbox.filter { _, job in
            !(job.kind.hasPrefix(NotificationJob.deliveryPrefix) && job.bookingID.map(bookings.contains) == true)
        }
        pendingJobIDs = pendingJobIDs.filter { outbox[$0] != nil }
        keys = keys.filter { _, record in record.bookingID.map(bookings.contains) != true }
    }

    /// The booking with that id, or with that code when `id` is a booking code.
    private func lookup(_ id: String) -> StoredBooking? {
        if !id.hasPrefix("bk_"), let code = BookingCode.normalise(id) {
            return bookingIDsByCode[code].flatMap { bookingsByID[$0] }
        }
        return bookingsByID[id]
    }

    func apply(_ plan: BookingPlan) -> [StoredEvent] {
        var plan = plan
        let waitlist = followWaitlist(&plan)
        bookingsByID[plan.booking.id] = plan.booking
        var appended = appendEvents(plan.events)
        insertPendingJobs(plan.jobs, createdAt: plan.booking.updatedAt)
        if let waitlist { appended += apply(waitlist) }
        return appended
    }

    /// Writes a payment plan in SQLite's order: the payment, its events and jobs, then the booking's plan.
    private func apply(_ plan: PaymentPlan) -> [StoredEvent] {
        if let payment = plan.payment { paymentsByBookingID[payment.bookingID] = payment }
        if let card = plan.card { cardsByBookingID[card.bookingID] = card }
        var appended = appendEvents(plan.events)
        insertPendingJobs(plan.jobs, createdAt: plan.at)
        if let booking = plan.booking { appended += apply(booking) }
        return appended
    }

    func appendEvents(_ events: [PendingEvent]) -> [StoredEvent] {
        events.map { event in
            let stored = StoredEvent(cursor: nextCursor, type: event.type, at: event.at, data: event.data)
            nextCursor += 1
            log.append(stored)
            return stored
        }
    }

    /// A plan's jobs: created with the write, not yet touched by a worker.
    func insertPendingJobs(_ jobs: [PendingJob], createdAt: Int64) {
        for job in jobs {
            insert(kind: job.kind, payload: job.payload, dueAt: job.dueAt, at: createdAt, touched: false)
        }
    }

    private func insertJobs(_ jobs: [OutboxEnqueue], at now: Int64) {
        for job in jobs {
            insert(
                kind: job.kind, payload: job.payload, dueAt: job.dueAt, at: now, touched: true,
                finishedNote: job.finishedNote)
        }
    }

    private func insert(
        kind: String, payload: Data, dueAt: Int64, at now: Int64, touched: Bool, finishedNote: String? = nil
    ) {
        var job = OutboxJob(
            id: nextJobID, kind: kind, payload: payload, dueAt: dueAt, attempts: finishedNote == nil ? 0 : 1,
            state: finishedNote == nil ? .pending : .done, lastError: nil, createdAt: now)
        // SQLite generates the column from the payload; the same rule here.
        job.bookingID = (try? StoreJSON.decoder.decode(BookingColumn.self, from: payload))?.booking
        job.updatedAt = touched ? now : nil
        if let finishedNote {
            job.finishedAt = now
            job.note = finishedNote
        } else {
            pendingJobIDs.insert(nextJobID)
        }
        outbox[nextJobID] = job
        nextJobID += 1
    }

    /// Claims up to `limit` due jobs, oldest due first: each is leased (due again at the lease's end) and counted.
    private func claim(at now: Int64, lease: Int64, limit: Int) -> [OutboxJob] {
        guard limit > 0 else { return [] }
        let due = pendingJobIDs.compactMap { outbox[$0] }.filter { $0.dueAt <= now }
            .sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }.prefix(limit)
        var claimed: [OutboxJob] = []
        for var job in due {
            job.dueAt = now + max(1, lease)
            job.attempts += 1
            job.updatedAt = now
            outbox[job.id] = job
            claimed.append(job)
        }
        return claimed.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// `claim` finishing what `completing` completes (`InlineCompletion`); the actor's method is the transaction.
    private func claim(
        at now: Int64, lease: Int64, limit: Int, completing: @escaping OutboxInlineCompletion
    ) -> [OutboxJob] {
        InlineCompletion.claim(
            limit: limit, completing: completing, booking: { lookup($0) },
            claim: { limit in claim(at: now, lease: lease, limit: limit) },
            finish: { job, completion in
                _ = finish(job.id, at: now, note: completion.note, enqueue: completion.enqueue, events: [])
            })
    }

    /// Marks a pending job done and fans out, once: a second finish (after a lost lease) changes nothing.
    private func finish(
        _ id: Int64, at now: Int64, note: String?, enqueue jobs: [OutboxEnqueue], events: [OutboxEvent]
    ) -> [StoredEvent] {
        guard var job = outbox[id], job.state == .pending else { return [] }
        pendingJobIDs.remove(id)
        job.state = .done
        job.updatedAt = now
        job.finishedAt = now
        job.note = note
        job.lastError = nil
        outbox[id] = job
        insertJobs(jobs, at: now)
        return appendEvents(events.map { PendingEvent(type: $0.type, at: now, data: $0.data) })
    }
}

extension Array {
    /// The index of the first element for which `isAbove` holds, in an array where it holds for a suffix.
    fileprivate func partitioningIndex(where isAbove: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if isAbove(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// The `booking` of a job's payload, as SQLite's generated `outbox.booking_id` column reads it.
private struct BookingColumn: Decodable {
    var booking: String?
}
