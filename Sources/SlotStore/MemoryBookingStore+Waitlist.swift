import SlotCore
import SlotEngine

extension MemoryBookingStore: WaitlistStore {
    public func joinWaitlist(_ new: NewWaitlistEntry, at now: Int64) async throws(StoreError) -> WaitlistChange {
        if let error = WaitlistPlanner.validate(new) { throw error }
        if let other = WaitlistPlanner.duplicate(of: new, among: Array(waitlistByID.values)) {
            throw .alreadyWaiting(other)
        }
        let plan = WaitlistPlanner.join(
            new, id: WaitlistPlanner.newEntryID(), position: nextWaitlistPosition, at: now)
        nextWaitlistPosition += 1
        return WaitlistChange(entry: plan.entry, events: apply(plan))
    }

    public func waitlistEntry(id: String) async throws(StoreError) -> StoredWaitlistEntry? { waitlistByID[id] }

    public func waitlistEntries(_ query: WaitlistQuery) async throws(StoreError) -> [StoredWaitlistEntry] {
        let selected = waitlistByID.values.filter(query.selects).sorted { $0.position < $1.position }
        return Array(selected.prefix(max(0, query.limit)))
    }

    public func changeWaitlistEntry(
        _ id: String, _ input: WaitlistInput, at now: Int64
    ) async throws(StoreError) -> WaitlistChange {
        guard let entry = waitlistByID[id] else { throw .noEntry(id) }
        let plan = try WaitlistPlanner.change(entry, input, at: now).get()
        return WaitlistChange(entry: plan.entry, events: apply(plan))
    }

    public func offerWaitlistEntry<Rejection: Sendable>(
        _ id: String, booking new: NewBooking, at now: Int64,
        check: @escaping @Sendable ([BookedSpan]) -> Rejection?
    ) async throws(StoreError) -> WaitlistOfferOutcome<Rejection> {
        guard let entry = waitlistByID[id] else { throw .noEntry(id) }
        if let error = BookingPlanner.validate(new) { throw error }
        // What could refuse the offer is checked before anything is written: the actor has no rollback.
        var trial = entry.lifecycle
        let probe = WaitlistOffer(
            booking: "", staff: new.staffID, start: new.times.start, expiresAt: new.holdExpiresAt ?? 0)
        if case .failure(let error) = trial.makeOffer(probe, at: now) { throw WaitlistPlanner.illegal(error) }
        let conflicting = candidates(
            staffID: new.staffID, resources: new.times.footprint.resources, window: new.times.window, excluding: nil)
        if let rejection = check(conflicting.map(\.bookedSpan)) { return .rejected(rejection) }
        var offer: WaitlistPlan?
        let (booking, events) = try insertBooking(new, at: now) { (plan: inout BookingPlan) throws(StoreError) in
            offer = try WaitlistPlanner.offer(entry, booking: &plan, at: now).get()
        }
        guard let offer else { throw StoreError(.database, "the offer was not planned") }
        return .offered(WaitlistChange(entry: offer.entry, events: events + apply(offer)), booking: booking)
    }

    // MARK: - Writes

    /// Stores a waitlist plan: the entry, its events and jobs.
    func apply(_ plan: WaitlistPlan) -> [StoredEvent] {
        waitlistByID[plan.entry.id] = plan.entry
        let appended = appendEvents(plan.events)
        insertPendingJobs(plan.jobs, createdAt: plan.entry.updatedAt)
        return appended
    }

    /// Carries a booking write to the entry whose offer the booking holds, and asks the waitlist to look when the
    /// write frees time and someone waits; returns the entry's plan to store after the booking's.
    func followWaitlist(_ plan: inout BookingPlan) -> WaitlistPlan? {
        var followed: WaitlistPlan?
        if WaitlistPlanner.mayConcernOffer(plan),
            let entry = waitlistByID.values.first(where: {
                $0.state == .offered && $0.offer?.booking == plan.booking.id
            })
        {
            followed = WaitlistPlanner.follow(entry, &plan)
        }
        let anyoneWaiting = waitlistByID.values.contains { $0.state == .waiting }
        if let job = WaitlistPlanner.matchJob(after: plan, anyoneWaiting: anyoneWaiting) { plan.jobs.append(job) }
        return followed
    }
}
