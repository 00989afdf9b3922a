import Foundation
import SlotCore
import SlotEngine
import SlotRules

/// An event to append, before the log has given it a cursor.
package struct PendingEvent: Hashable, Sendable {
    package var type: String
    package var at: Int64
    package var data: Data
}

/// An outbox job to enqueue, in its row form.
package struct PendingJob: Hashable, Sendable {
    package var kind: String
    package var payload: Data
    package var dueAt: Int64

    init(_ job: Job, dueAt: Int64) {
        kind = job.kind
        payload = StoreJSON.encode(job.payload)
        self.dueAt = dueAt
    }
}

/// What one write does: the booking after it, its event and its jobs. Both stores persist a plan the same way, so
/// the memory twin and SQLite cannot drift apart in what they decide.
package struct BookingPlan: Sendable {
    package var booking: StoredBooking
    package var events: [PendingEvent]
    package var jobs: [PendingJob]
    /// The lifecycle's event, which a waitlist offer held by the booking follows (`WaitlistPlanner.follow`).
    package var event: BookingEvent? = nil
    /// Whether the write frees time (a cancellation, a lapsed hold, a move): those waiting may get it.
    package var releasesTime = false
}

/// The shared, pure decisions of both stores: validation, lifecycle, event data and outbox payloads.
package enum BookingPlanner {
    /// A new random booking id: `bk_` and 16 base-32 characters (80 bits).
    package static func newBookingID() -> String { "bk_" + randomToken(16) }

    /// A new random customer id: `cu_` and 16 base-32 characters.
    package static func newCustomerID() -> String { "cu_" + randomToken(16) }

    /// A new booking code (`BookingCode`) that `isTaken` says is free: drawn again on a collision, inside the
    /// caller's write transaction so no other writer can take it in between. Nil after 32 collisions in a row,
    /// which means the code space is nearly full (hundreds of millions of bookings): `StoreError.codesExhausted`.
    package static func newBookingCode(isTaken: (String) throws -> Bool) rethrows -> String? {
        for _ in 0..<32 {
            let code = randomCode()
            if try !isTaken(code) { return code }
        }
        return nil
    }

    /// Six characters of `BookingCode.alphabet`, uniformly: 5 random bits each, a draw of 31 (outside the
    /// 31-character alphabet) drawn again.
    static func randomCode() -> String {
        var generator = SystemRandomNumberGenerator()
        var characters: [Character] = []
        var bits: UInt64 = 0
        var left = 0
        while characters.count < BookingCode.length {
            if left == 0 {
                bits = generator.next()
                left = 12
            }
            let index = Int(bits & 31)
            bits >>= 5
            left -= 1
            if index < BookingCode.alphabet.count { characters.append(BookingCode.alphabet[index]) }
        }
        return String(characters)
    }

    static func randomToken(_ count: Int) -> String {
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
        var generator = SystemRandomNumberGenerator()
        // Each draw is a getrandom(2) call: take 12 characters (5 bits each; 32 letters, so unbiased) from every
        // 64 bits instead of one character per call.
        var characters: [Character] = []
        characters.reserveCapacity(count)
        var bits: UInt64 = 0
        var left = 0
        while characters.count < count {
            if left == 0 {
                bits = generator.next()
                left = 12
            }
            characters.append(alphabet[Int(bits & 31)])
            bits >>= 5
            left -= 1
        }
        return String(characters)
    }

    /// Checks what the schema would refuse, so both stores refuse it with the same message.
    package static func validate(_ new: NewBooking) -> StoreError? {
        func violation(_ message: String) -> StoreError { StoreError(.constraintViolation, message) }
        if new.staffID.isEmpty { return violation("a booking needs a staff member") }
        if new.services.isEmpty || new.services.contains(where: \.isEmpty) {
            return violation("a booking needs at least one service id, none empty")
        }
        if new.customer.name.trimmingWhitespace().isEmpty {
            return violation("the customer's name must not be empty")
        }
        if new.price.minorUnits < 0 || (new.deposit?.minorUnits ?? 0) < 0 {
            return violation("prices and deposits must not be negative")
        }
        if let deposit = new.deposit, deposit.currency != new.price.currency {
            return violation(
                "the deposit's currency \(deposit.currency) differs from the price's \(new.price.currency)")
        }
        if let error = validate(new.times) { return error }
        if let expiry = new.holdExpiresAt, expiry > new.times.start {
            return violation("a hold must expire before the booking starts")
        }
        return nil
    }

    static func validate(_ times: BookingTimes) -> StoreError? {
        if times.end <= times.start {
            return StoreError(
                .constraintViolation, "a booking must end after it starts (start \(times.start), end \(times.end))")
        }
        if times.footprint.bufferBeforeMinutes < 0 || times.footprint.bufferAfterMinutes < 0 {
            return StoreError(.constraintViolation, "buffers must not be negative")
        }
        if times.busy.length > StoreSchema.maxBusySeconds {
            return StoreError(.constraintViolation, "a booking with its buffers must not last longer than 2 days")
        }
        return nil
    }

    /// The plan for a new booking, or why it is invalid.
    package static func create(
        _ new: NewBooking, id: String, customerID: String, at now: Int64
    ) -> Result<BookingPlan, StoreError> {
        if let error = validate(new) { return .failure(error) }
        let created = BookingLifecycle.create(
            start: new.times.start, end: new.times.end, price: new.price, holdExpiresAt: new.holdExpiresAt,
            savesCard: new.savesCard)
        switch created {
        case .failure(let error):
            return .failure(StoreError(.constraintViolation, error.message))
        case .success(let (lifecycle, actions)):
            var booking = StoredBooking(
                id: id, status: lifecycle.state, staffID: new.staffID, services: new.services, variant: new.variant,
                start: new.times.start, end: new.times.end, footprint: new.times.footprint, price: new.price,
                deposit: new.deposit, customerID: customerID, customer: new.customer, notes: new.notes,
                holdExpiresAt: lifecycle.holdExpiresAt, createdAt: now, updatedAt: now, cancellation: nil)
            booking.override = new.override
            var planned = plan(
                booking, actions, at: now, reminders: new.times.reminderMinutesBefore, override: new.override)
            if booking.status == .held, let expiry = booking.holdExpiresAt {
                // The hold's timer is a durable job like every other timed work: a restart loses none.
                planned.jobs.append(
                    PendingJob(.hold(.expire(BookingJobPayload(booking: booking.id))), dueAt: expiry))
            }
            return .success(planned)
        }
    }

    /// The plan for a transition of `booking`, or the lifecycle's refusal.
    package static func transition(
        _ booking: StoredBooking, _ input: BookingInput, at now: Int64, policy: Policies, reason: String
    ) -> Result<BookingPlan, StoreError> {
        if input == .reschedule {
            return .failure(StoreError(.illegalTransition, "reschedule needs new times: use reschedule(_:to:at:)"))
        }
        var lifecycle = booking.lifecycle
        switch lifecycle.apply(input, at: now, policy: policy, reason: reason) {
        case .failure(let error):
            return .failure(.illegal(error))
        case .success(let actions):
            var updated = booking
            updated.status = lifecycle.state
            updated.holdExpiresAt = lifecycle.holdExpiresAt
            updated.cancellation = lifecycle.cancellation
            updated.updatedAt = now
            updated.revision += 1
            return .success(plan(updated, actions, at: now, reminders: policy.remindersMinutesBefore))
        }
    }

    /// The plan for moving `booking` to `times` and to `staffID` (nil: the same staff member), or why not.
    package static func reschedule(
        _ booking: StoredBooking, to times: BookingTimes, staff staffID: String?, at now: Int64
    ) -> Result<BookingPlan, StoreError> {
        if let error = validate(times) { return .failure(error) }
        if staffID?.isEmpty == true {
            return .failure(StoreError(.constraintViolation, "a booking needs a staff member"))
        }
        let change = StaffChange(from: booking.staffID, to: staffID ?? booking.staffID)
        var lifecycle = booking.lifecycle
        switch lifecycle.reschedule(start: times.start, end: times.end, staff: change, at: now) {
        case .failure(let error):
            return error.code == .invalidTimes
                ? .failure(StoreError(.constraintViolation, error.message)) : .failure(.illegal(error))
        case .success(let actions):
            var updated = booking
            updated.staffID = change.to
            updated.start = times.start
            updated.end = times.end
            updated.footprint = times.footprint
            // The new times passed the rules in full: what staff set aside at the old ones no longer applies.
            updated.override = nil
            updated.updatedAt = now
            updated.revision += 1
            return .success(plan(updated, actions, at: now, reminders: times.reminderMinutesBefore))
        }
    }

    /// The plan for replacing `booking`'s notes with `notes`, in any state (a note on a finished visit is the shop's
    /// record too), or nil when they are already those notes: nothing to write, no event, no new revision.
    package static func note(_ booking: StoredBooking, _ notes: String, at now: Int64) -> BookingPlan? {
        guard notes != booking.notes else { return nil }
        var updated = booking
        updated.notes = notes
        updated.updatedAt = now
        // A new revision, so a calendar feed's SEQUENCE rises and subscribed calendars refresh the booking.
        updated.revision += 1
        return plan(updated, [.record(.noted)], at: now)
    }

    /// Turns lifecycle actions into the event to append and the jobs to enqueue.
    static func plan(
        _ booking: StoredBooking, _ actions: [BookingAction], at now: Int64, reminders: [Int] = [],
        override: BookingOverride? = nil
    ) -> BookingPlan {
        var events: [PendingEvent] = []
        var jobs: [PendingJob] = []
        var recorded: BookingEvent?
        var releasesTime = false
        for action in actions {
            switch action {
            case .record(let event):
                recorded = event
                events.append(
                    PendingEvent(type: event.type, at: now, data: eventData(booking, event, override: override)))
            case .enqueue(let followUp):
                // Deposit jobs only for a booking that has one: nothing to create, cancel, refund or keep otherwise.
                if case .deposit = followUp, booking.deposit == nil { continue }
                jobs.append(PendingJob(followUp.job(for: booking.id), dueAt: now))
            case .releaseSlot:
                // Slot watchers learn of a freed slot from the event itself, published after commit; the store
                // asks the waitlist to look (`WaitlistPlanner.matchJob`) when someone waits.
                releasesTime = true
            }
        }
        jobs += reminderJobs(booking, actions, at: now, minutesBefore: reminders)
        return BookingPlan(
            booking: booking, events: events, jobs: jobs, event: recorded, releasesTime: releasesTime)
    }

    /// The event's `data` object.
    static func eventData(_ booking: StoredBooking, _ event: BookingEvent, override: BookingOverride? = nil) -> Data {
        let facts = BookingFacts(
            booking: booking.id, status: booking.status, staff: booking.staffID, services: booking.services,
            start: booking.start, end: booking.end, customer: booking.customerID, price: booking.price,
            deposit: booking.deposit, holdExpiresAt: booking.holdExpiresAt)
        return StoreJSON.encode(BookingEventData(event, of: facts, override: override))
    }

    /// Whether `booking` can conflict with a booking of `staffID` needing `resources`: same staff or a shared
    /// resource, active, and busy inside `window`.
    static func couldConflict(
        _ booking: StoredBooking, staffID: String, resources: [ResourceNeed], window: Interval
    ) -> Bool {
        guard booking.status.isActive, booking.busy.overlaps(window) else { return false }
        if booking.staffID == staffID { return true }
        let needed = Set(resources.map(\.resource))
        return booking.footprint.resources.contains { needed.contains($0.resource) }
    }
}
