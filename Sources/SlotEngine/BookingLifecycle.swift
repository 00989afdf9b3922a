import SlotCore
import SlotRules

// MARK: - States and inputs

/// Where a booking is in its life.
///
/// `held → confirmed → completed | no_show`, `held | confirmed → cancelled`, `held → expired`. An expired hold is
/// its own state rather than `cancelled` with a reason: nobody decided to cancel it, its event (`booking.expired`)
/// is what a payment worker waits for, and listings can tell a lapsed deposit from a cancellation.
public enum BookingState: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case held
    case confirmed
    case completed
    case noShow = "no_show"
    case cancelled
    case expired

    /// Whether the booking still occupies its time (and so blocks other bookings).
    public var isActive: Bool { self == .held || self == .confirmed }

    /// Whether no further transition is possible.
    public var isFinal: Bool { !isActive }

    /// The wire and database spelling (`no_show`).
    public var description: String { rawValue }

    /// `a held booking`, `an expired booking`: for error messages.
    var phrase: String {
        switch self {
        case .held: return "a held booking"
        case .confirmed: return "a confirmed booking"
        case .completed: return "a completed booking"
        case .noShow: return "a booking marked as no-show"
        case .cancelled: return "a cancelled booking"
        case .expired: return "an expired booking"
        }
    }
}

/// The inputs a booking reacts to.
public enum BookingInput: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case confirm
    case cancel
    case complete
    case markNoShow = "no_show"
    case expire
    case reschedule

    public var description: String { rawValue }

    /// The verb for `cannot <verb> a cancelled booking`.
    var verb: String {
        switch self {
        case .confirm: return "confirm"
        case .cancel: return "cancel"
        case .complete: return "complete"
        case .markNoShow: return "mark as no-show"
        case .expire: return "expire"
        case .reschedule: return "reschedule"
        }
    }
}

// MARK: - Events, actions, errors

/// Why a booking was cancelled and what it costs: decided by the lifecycle from the policy.
public struct CancellationTerms: Hashable, Sendable {
    /// Whole minutes from the cancellation to the start (negative once the start has passed).
    public var minutesBeforeStart: Int64
    /// Whether the cancellation came later than the free window (`policies.cancellation_window`).
    public var isLate: Bool
    /// The fee owed; nil when the cancellation is free (early, or the policy charges nothing).
    public var fee: Money?
    /// Free text from whoever cancelled (`customer asked`), may be empty.
    public var reason: String

    public init(minutesBeforeStart: Int64, isLate: Bool, fee: Money?, reason: String) {
        self.minutesBeforeStart = minutesBeforeStart
        self.isLate = isLate
        self.fee = fee
        self.reason = reason
    }

    /// Whether a fee applies.
    public var feeApplies: Bool { fee != nil }
}

/// What a cancellation costs: its terms, and the deposit's fate (`refund`, `keepDeposit`, `cancelDeposit`).
public struct CancellationQuote: Hashable, Sendable {
    public var terms: CancellationTerms
    /// What cancelling does to a deposit, when the booking has one to act on (the caller knows whether it has).
    public var deposit: DepositJob?
    /// True when the booking is already cancelled and these are the terms it was cancelled on.
    public var applied: Bool

    public init(terms: CancellationTerms, deposit: DepositJob?, applied: Bool) {
        self.terms = terms
        self.deposit = deposit
        self.applied = applied
    }
}

/// The staff member a rescheduled booking had and the one it has now (the same when the barber stays).
public struct StaffChange: Hashable, Sendable {
    public var from: String
    public var to: String

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }
}

/// What happened to a booking, as recorded in the event log.
public enum BookingEvent: Hashable, Sendable {
    case created(BookingState)
    case confirmed
    case cancelled(CancellationTerms)
    /// New times, and the staff member before and after when the move changed them (nil when the caller did not
    /// say, as before staff could change).
    case rescheduled(from: Interval, to: Interval, staff: StaffChange? = nil)
    case completed
    case noShow
    case expired
    /// The shop changed the booking's notes: no change of state or time, but a new revision (calendars update).
    case noted

    /// The event type in the log, e.g. `booking.no_show`.
    public var type: String {
        switch self {
        case .created: return "booking.created"
        case .confirmed: return "booking.confirmed"
        case .cancelled: return "booking.cancelled"
        case .rescheduled: return "booking.rescheduled"
        case .completed: return "booking.completed"
        case .noShow: return "booking.no_show"
        case .expired: return "booking.expired"
        case .noted: return "booking.noted"
        }
    }
}

/// Work the service around the lifecycle performs after a transition (in the same transaction or via the outbox).
public enum BookingAction: Hashable, Sendable {
    /// Append this event to the log.
    case record(BookingEvent)
    /// The booking's time is free again: tell slot watchers.
    case releaseSlot
    /// Enqueue this job about the booking (`.notify(.cancelled)`, `.chargeFee(fee)`).
    case enqueue(BookingFollowUp)
}

/// An input that is not allowed in the booking's state (or at that time), as a value.
public struct BookingTransitionError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The state does not accept the input.
        case illegalTransition = "illegal_transition"
        /// The input is legal in the state but not yet (a hold before its expiry, a completion or a no-show before
        /// the start).
        case tooEarly = "too_early"
        /// The new times are not a valid booking span.
        case invalidTimes = "invalid_times"
    }

    public var code: Code
    public var state: BookingState
    public var input: BookingInput
    /// What went wrong, e.g. `cannot complete a cancelled booking`.
    public var message: String

    public init(code: Code, state: BookingState, input: BookingInput, message: String) {
        self.code = code
        self.state = state
        self.input = input
        self.message = message
    }

    static func illegal(_ input: BookingInput, in state: BookingState) -> BookingTransitionError {
        var message = "cannot \(input.verb) \(state.phrase)"
        switch (input, state) {
        case (.confirm, .confirmed): message = "the booking is already confirmed"
        case (.complete, .held), (.markNoShow, .held): message += " (confirm it first)"
        case (.expire, .confirmed): message += " (only holds expire)"
        default: break
        }
        return BookingTransitionError(code: .illegalTransition, state: state, input: input, message: message)
    }

    public var description: String { message }
}

// MARK: - The state machine

/// A booking's lifecycle as a value: one `mutating func` per input, each returning the actions to perform (the
/// first is always the event to record) or an error naming the illegal transition. No I/O, no clock: the caller
/// passes `now` (seconds since the epoch).
public struct BookingLifecycle: Hashable, Sendable {
    public private(set) var state: BookingState
    /// `[start, end)` in seconds since the epoch.
    public private(set) var start: Int64
    public private(set) var end: Int64
    /// When a `held` booking lapses; nil for a booking created confirmed.
    public private(set) var holdExpiresAt: Int64?
    /// The booking's price (the base of a percentage cancellation fee).
    public private(set) var price: Money
    /// Set once cancelled.
    public private(set) var cancellation: CancellationTerms?

    /// A lifecycle in any state (as read back from storage).
    public init(
        state: BookingState, start: Int64, end: Int64, price: Money, holdExpiresAt: Int64? = nil,
        cancellation: CancellationTerms? = nil
    ) {
        self.state = state
        self.start = start
        self.end = end
        self.price = price
        self.holdExpiresAt = holdExpiresAt
        self.cancellation = cancellation
    }

    /// A new booking: `held` until `holdExpiresAt` when a deposit is due (or, with `savesCard`, until the customer's
    /// card is saved), otherwise `confirmed`. Returns the lifecycle and its creation actions, or an error for an
    /// empty span or a hold that expires before it starts.
    public static func create(
        start: Int64, end: Int64, price: Money, holdExpiresAt: Int64?, savesCard: Bool = false
    ) -> Result<(BookingLifecycle, [BookingAction]), BookingTransitionError> {
        let state: BookingState = holdExpiresAt == nil ? .confirmed : .held
        guard end > start else {
            return .failure(
                BookingTransitionError(
                    code: .invalidTimes, state: state, input: .confirm,
                    message: "a booking must end after it starts (start \(start), end \(end))"))
        }
        let lifecycle = BookingLifecycle(
            state: state, start: start, end: end, price: price, holdExpiresAt: holdExpiresAt)
        var actions: [BookingAction] = [.record(.created(state)), .enqueue(.notify(.created))]
        // A hold waits for a deposit collected online, or for a card to keep on file: ask the payment provider for
        // the one it waits for after commit.
        if state == .held { actions.append(.enqueue(savesCard ? .saveCard : .deposit(.createDeposit))) }
        return .success((lifecycle, actions))
    }

    /// The deposit arrived (or staff confirmed by hand): `held → confirmed`.
    public mutating func confirm(at now: Int64) -> Result<[BookingAction], BookingTransitionError> {
        guard state == .held else { return .failure(.illegal(.confirm, in: state)) }
        state = .confirmed
        holdExpiresAt = nil
        return .success([.record(.confirmed), .enqueue(.notify(.confirmed))])
    }

    /// `held | confirmed → cancelled`; late (inside `policy.cancellationWindowMinutes` of the start, or after it)
    /// costs the policy's fee.
    public mutating func cancel(
        at now: Int64, policy: Policies, reason: String = ""
    ) -> Result<[BookingAction], BookingTransitionError> {
        guard state.isActive else { return .failure(.illegal(.cancel, in: state)) }
        let wasHeld = state == .held
        let secondsBefore = start - now
        // Floor division so that one second late is a minute late, not zero minutes.
        let minutesBefore = secondsBefore >= 0 ? secondsBefore / 60 : -((-secondsBefore + 59) / 60)
        let isLate = secondsBefore < Int64(policy.cancellationWindowMinutes) * 60
        // A hold never took a deposit, so lapsing or cancelling it costs nothing.
        let fee = isLate && state == .confirmed ? Self.fee(policy.cancellationFee, price: price) : nil
        let terms = CancellationTerms(minutesBeforeStart: minutesBefore, isLate: isLate, fee: fee, reason: reason)
        state = .cancelled
        cancellation = terms
        holdExpiresAt = nil
        var actions: [BookingAction] = [.record(.cancelled(terms)), .releaseSlot, .enqueue(.notify(.cancelled))]
        if let fee { actions.append(.enqueue(.chargeFee(fee))) }
        // The deposit: a hold's is not paid yet (cancel it), an early cancellation gets it back, a late one keeps it.
        let depositJob: DepositJob = wasHeld ? .cancelDeposit : isLate ? .keepDeposit : .refund
        actions.append(.enqueue(.deposit(depositJob)))
        return .success(actions)
    }

    /// What cancelling at `now` would cost, without cancelling: the terms and what happens to the deposit
    /// (nil without one to act on), or why the booking cannot be cancelled. A cancelled booking answers with the
    /// terms it was cancelled on.
    public func cancellationQuote(
        at now: Int64, policy: Policies
    ) -> Result<CancellationQuote, BookingTransitionError> {
        if state == .cancelled, let cancellation {
            return .success(CancellationQuote(terms: cancellation, deposit: nil, applied: true))
        }
        var trial = self
        return trial.cancel(at: now, policy: policy).flatMap { actions in
            guard let terms = trial.cancellation else { return .failure(.illegal(.cancel, in: state)) }
            var deposit: DepositJob?
            for action in actions { if case .enqueue(.deposit(let job)) = action { deposit = job } }
            return .success(CancellationQuote(terms: terms, deposit: deposit, applied: false))
        }
    }

    /// The service was done: `confirmed → completed`, only once the start has passed (like a no-show: before
    /// the start nothing can have been done yet, and a completed booking no longer holds its time).
    public mutating func complete(at now: Int64) -> Result<[BookingAction], BookingTransitionError> {
        guard state == .confirmed else { return .failure(.illegal(.complete, in: state)) }
        guard now >= start else {
            return .failure(
                BookingTransitionError(
                    code: .tooEarly, state: state, input: .complete,
                    message:
                        "cannot complete a booking before it starts (\(Minutes.spelled(seconds: start - now)) to go)"))
        }
        state = .completed
        return .success([.record(.completed), .enqueue(.notify(.completed))])
    }

    /// The customer did not come: `confirmed → no_show`, only once the start has passed. A no-show owes the
    /// late-cancellation fee of `policy` (the latest cancellation there is): charged to a card on file, otherwise
    /// settled from the kept deposit or at the shop.
    public mutating func markNoShow(
        at now: Int64, policy: Policies = Policies()
    ) -> Result<[BookingAction], BookingTransitionError> {
        guard state == .confirmed else { return .failure(.illegal(.markNoShow, in: state)) }
        guard now >= start else {
            return .failure(
                BookingTransitionError(
                    code: .tooEarly, state: state, input: .markNoShow,
                    message:
                        "cannot mark a booking as no-show before it starts "
                        + "(\(Minutes.spelled(seconds: start - now)) to go)"))
        }
        state = .noShow
        var actions: [BookingAction] = [.record(.noShow), .releaseSlot, .enqueue(.notify(.noShow))]
        if let fee = Self.fee(policy.cancellationFee, price: price) { actions.append(.enqueue(.chargeFee(fee))) }
        actions.append(.enqueue(.deposit(.keepDeposit)))
        return .success(actions)
    }

    /// The hold lapsed without a deposit: `held → expired`, only once `holdExpiresAt` has passed.
    public mutating func expire(at now: Int64) -> Result<[BookingAction], BookingTransitionError> {
        guard state == .held else { return .failure(.illegal(.expire, in: state)) }
        if let due = holdExpiresAt, now < due {
            return .failure(
                BookingTransitionError(
                    code: .tooEarly, state: state, input: .expire,
                    message: "the hold does not expire yet (\(Minutes.spelled(seconds: due - now)) to go)"))
        }
        state = .expired
        holdExpiresAt = nil
        return .success([
            .record(.expired), .releaseSlot, .enqueue(.notify(.expired)), .enqueue(.deposit(.cancelDeposit)),
        ])
    }

    /// New times (and possibly another staff member, recorded in the event) for an active booking; the state stays.
    /// Whether the new time is free is the caller's check.
    public mutating func reschedule(
        start newStart: Int64, end newEnd: Int64, staff: StaffChange? = nil, at now: Int64
    ) -> Result<[BookingAction], BookingTransitionError> {
        guard state.isActive else { return .failure(.illegal(.reschedule, in: state)) }
        guard newEnd > newStart else {
            return .failure(
                BookingTransitionError(
                    code: .invalidTimes, state: state, input: .reschedule,
                    message: "a booking must end after it starts (start \(newStart), end \(newEnd))"))
        }
        let old = Interval(start, end)
        start = newStart
        end = newEnd
        return .success([
            .record(.rescheduled(from: old, to: Interval(newStart, newEnd), staff: staff)), .releaseSlot,
            .enqueue(.notify(.rescheduled)),
        ])
    }

    /// Applies any input; `reschedule` needs times and is only reachable through `reschedule(start:end:at:)`.
    public mutating func apply(
        _ input: BookingInput, at now: Int64, policy: Policies = Policies(), reason: String = ""
    ) -> Result<[BookingAction], BookingTransitionError> {
        switch input {
        case .confirm: return confirm(at: now)
        case .cancel: return cancel(at: now, policy: policy, reason: reason)
        case .complete: return complete(at: now)
        case .markNoShow: return markNoShow(at: now, policy: policy)
        case .expire: return expire(at: now)
        case .reschedule: return reschedule(start: start, end: end, at: now)
        }
    }

    /// The fee of a late cancellation under `fee` for a booking of `price`; nil when it is nothing.
    static func fee(_ fee: Policies.Fee, price: Money) -> Money? {
        switch fee {
        case .none:
            return nil
        case .percent(let percent):
            let amount = price.minorUnits * percent / 100
            return amount > 0 ? Money(minorUnits: amount, currency: price.currency) : nil
        case .amount(let money):
            return money.minorUnits > 0 ? money : nil
        }
    }
}

extension BookingAction {
    /// The event of an action list (every transition records exactly one).
    public static func event(in actions: [BookingAction]) -> BookingEvent? {
        for action in actions { if case .record(let event) = action { return event } }
        return nil
    }
}
