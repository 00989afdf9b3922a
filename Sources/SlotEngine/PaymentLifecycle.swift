import SlotCore

// MARK: - States, inputs and actions

/// Where a booking's deposit stands at the payment provider.
public enum PaymentState: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Created at the provider, waiting for the customer.
    case pending
    /// Paid.
    case succeeded
    /// Cancelled before it was paid (the hold expired or was cancelled).
    case cancelled
    /// Paid and given back.
    case refunded
    /// The provider refused it for good.
    case failed
    /// Paid and kept by the shop (a late cancellation or a no-show).
    case kept

    /// The wire and database spelling.
    public var description: String { rawValue }

    /// The event type that records a move to this state, e.g. `payment.refunded`.
    public var eventType: String {
        switch self {
        case .pending: return "payment.pending"
        case .succeeded: return "payment.succeeded"
        case .cancelled: return "payment.cancelled"
        case .refunded: return "payment.refunded"
        case .failed: return "payment.failed"
        case .kept: return "payment.kept"
        }
    }
}

/// What a verified payment webhook says about a deposit.
public struct PaymentNotice: Hashable, Sendable {
    /// The state the provider reports.
    public var state: PaymentState
    /// The provider's id for the payment (`pi_…`), if the event names it.
    public var reference: String?
    /// The refund reference to record when the event reports a refund and none is known (the event's own id).
    public var refundReference: String
    /// The provider's event type (`payment_intent.succeeded`), recorded as the reason.
    public var reason: String

    public init(state: PaymentState, reference: String?, refundReference: String, reason: String) {
        self.state = state
        self.reference = reference
        self.refundReference = refundReference
        self.reason = reason
    }
}

/// Work the store performs after a payment transition, in the same transaction.
public enum PaymentAction: Hashable, Sendable {
    /// Write the payment as the lifecycle now has it.
    case persist
    /// Append `payment.<state>` with the payment's facts. The state can differ from the payment's: a declined
    /// attempt is recorded as `payment.failed` while the payment stays `pending`.
    case record(PaymentState, reason: String)
    /// The deposit is paid: confirm the held booking (`BookingLifecycle.confirm`).
    case confirmBooking
    /// Enqueue this deposit job for the booking (`.refund` for money that came too late).
    case enqueue(DepositJob)
}

/// What a deposit job asks of the payment provider next, decided from what is recorded.
public enum DepositStep: Hashable, Sendable {
    /// Nothing to do: the work is recorded already, or there is nothing to collect or give back.
    case nothing
    /// Create the deposit at the provider.
    case create
    /// Cancel the open deposit at the provider.
    case cancel
    /// Refund the paid deposit at the provider.
    case refund
    /// Record a state without calling the provider.
    case settle(PaymentState, reason: String)
}

// MARK: - The state machine

/// A deposit's lifecycle as a value: one `mutating func` per input, each returning the actions the store performs
/// in the same transaction (an empty list: nothing changes). No I/O, no clock: the store passes what it read.
///
/// `pending → succeeded | cancelled | failed`, `succeeded | kept → refunded`, `succeeded → kept`; a payment that
/// arrives after a cancellation or a failure still counts (`cancelled | failed → succeeded`) and is given back when
/// its booking no longer holds its time.
public struct PaymentLifecycle: Hashable, Sendable {
    public private(set) var state: PaymentState
    /// The provider's id for the payment, once created.
    public private(set) var reference: String?
    /// What a front end needs to let the customer pay; kept only while `pending`.
    public private(set) var clientSecret: String?
    /// The refund's id at the provider, once refunded.
    public private(set) var refundReference: String?

    /// A lifecycle in any state (as read back from storage).
    public init(
        state: PaymentState, reference: String? = nil, clientSecret: String? = nil, refundReference: String? = nil
    ) {
        self.state = state
        self.reference = reference
        self.clientSecret = clientSecret
        self.refundReference = refundReference
    }

    /// A deposit nothing is recorded of yet: pending, without a reference.
    public static let unrecorded = PaymentLifecycle(state: .pending)

    /// The provider created the deposit: record its reference and client secret. A deposit already recorded with
    /// a reference is kept as it is, so a job that runs twice changes nothing.
    public mutating func recordDeposit(reference: String, clientSecret: String?) -> [PaymentAction] {
        guard self.reference == nil else { return [] }
        self.reference = reference
        self.clientSecret = clientSecret
        return [.persist]
    }

    /// A deposit job learnt the outcome from the provider (cancelled, refunded, kept, or paid after all): move
    /// there and record it; nothing when the payment is in that state already.
    public mutating func settle(
        _ next: PaymentState, refundReference: String?, reason: String
    ) -> [PaymentAction] {
        guard next != state else { return [] }
        state = next
        clientSecret = nil
        self.refundReference = refundReference ?? self.refundReference
        return [.persist, .record(next, reason: reason)]
    }

    /// A verified webhook for the deposit of a booking in `booking`. A paid deposit confirms a held booking, and
    /// one paid after its booking stopped holding its time (expired, cancelled) is given back.
    public mutating func receive(_ notice: PaymentNotice, booking: BookingState) -> [PaymentAction] {
        if notice.state == .failed, state == .pending {
            // A declined attempt: the customer may try again with the same client secret until the hold lapses, so
            // the payment stays pending; the event tells a front end to ask again.
            return [.record(.failed, reason: notice.reason)]
        }
        // A state the payment has already reached (or passed: refunded after succeeded) is not repeated.
        guard Self.webhookMayMove(state, to: notice.state) else { return [] }
        if reference == nil { reference = notice.reference }
        state = notice.state
        clientSecret = nil
        if state == .refunded, refundReference == nil { refundReference = notice.refundReference }
        var actions: [PaymentAction] = [.persist, .record(state, reason: notice.reason)]
        if state == .succeeded {
            if booking == .held {
                actions.append(.confirmBooking)
            } else if !booking.isActive {
                actions.append(.enqueue(.refund))
            }
        }
        return actions
    }

    /// Which moves a webhook may make: forward only (pending → anything; succeeded → refunded).
    static func webhookMayMove(_ from: PaymentState, to: PaymentState) -> Bool {
        switch (from, to) {
        case (.pending, .pending), (.pending, .failed): return false
        case (.pending, _): return true
        case (.succeeded, .refunded), (.kept, .refunded): return true
        case (.failed, .succeeded), (.cancelled, .succeeded): return true
        default: return false
        }
    }
}

// MARK: - Deposit jobs

extension PaymentLifecycle {
    /// `payment.create_deposit`: only a held booking's deposit is created, and only once.
    public static func onCreateJob(_ payment: PaymentLifecycle?, booking: BookingState) -> DepositStep {
        if payment?.reference != nil { return .nothing }
        // Expired or cancelled before this job ran: there is nothing to collect.
        return booking == .held ? .create : .nothing
    }

    /// After the provider created a deposit: a hold that lapsed (or was cancelled) meanwhile found nothing to cancel
    /// when its job ran, so the fresh deposit is cancelled now.
    public static func afterCreating(booking: BookingState) -> DepositStep {
        booking.isActive ? .nothing : .cancel
    }

    /// `payment.cancel_deposit`: only an open deposit the provider knows is cancelled.
    public var onCancelJob: DepositStep { state == .pending && reference != nil ? .cancel : .nothing }

    /// The provider's answer to a cancel: cancelled, or paid just before the cancel reached it, in which case it
    /// cannot be cancelled any more and is given back.
    public static func afterCancelling(paidMeanwhile: Bool) -> [DepositStep] {
        paidMeanwhile
            ? [.settle(.succeeded, reason: "paid before it could be cancelled"), .refund]
            : [.settle(.cancelled, reason: "booking no longer held")]
    }

    /// `payment.refund`: a paid deposit goes back; one still open (confirmed by hand, then cancelled before the
    /// customer paid) is cancelled.
    public var onRefundJob: DepositStep {
        guard reference != nil else { return .nothing }
        switch state {
        case .pending: return .cancel
        case .succeeded: return .refund
        case .cancelled, .refunded, .failed, .kept: return .nothing
        }
    }

    /// The reason recorded with a refund the provider made.
    public static let refundReason = "cancelled inside the free window"

    /// `payment.keep_deposit`: the shop keeps a paid deposit; an open one is cancelled (an unpaid deposit due at
    /// the shop has nothing to keep online).
    public var onKeepJob: DepositStep {
        switch state {
        case .succeeded: return .settle(.kept, reason: "late cancellation or no-show")
        case .pending: return .cancel
        case .cancelled, .refunded, .failed, .kept: return .nothing
        }
    }
}

// MARK: - A card on file (`policies.card_on_file`)

/// Where a booking's saved card stands at the payment provider.
public enum CardState: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The provider is set up to save the card (a Stripe SetupIntent); waiting for the customer to enter it.
    case pending
    /// The customer's card is saved for off-session charges (a late-cancellation or no-show fee).
    case saved

    /// The wire and database spelling.
    public var description: String { rawValue }
}

/// What became of a late-cancellation or no-show fee charged to a card on file.
public enum FeeOutcome: Hashable, Sendable {
    /// Charged; the provider's payment id (`pi_…`).
    case charged(reference: String)
    /// The card was declined (or the bank wants the customer present): recorded, never retried by itself.
    case declined(reason: String, reference: String?)

    /// The wire and database spelling: `charged` or `declined`.
    public var status: String {
        switch self {
        case .charged: return "charged"
        case .declined: return "declined"
        }
    }
}

/// The events a card on file records.
public enum CardEvent: Hashable, Sendable {
    /// `payment.card_saved`: the card is on file.
    case saved
    /// `payment.fee_charged` / `payment.fee_declined`.
    case fee(FeeOutcome)

    /// The event type in the log.
    public var type: String {
        switch self {
        case .saved: return "payment.card_saved"
        case .fee(.charged): return "payment.fee_charged"
        case .fee(.declined): return "payment.fee_declined"
        }
    }
}

/// Work the store performs after a card transition, in the same transaction.
public enum CardAction: Hashable, Sendable {
    /// Write the card as the lifecycle now has it.
    case persist
    /// Append the event.
    case record(CardEvent)
    /// The card is saved: confirm the held booking (`BookingLifecycle.confirm`).
    case confirmBooking
}

/// What a `payment.charge_fee` job asks of the payment provider, decided from what is recorded.
public enum FeeStep: Hashable, Sendable {
    /// No card on file: the fee is settled from a kept deposit or at the shop, nothing is charged online.
    case collectAtShop
    /// The fee was charged or declined already (a job that ran twice): nothing to do.
    case nothing
    /// Charge the fee off-session to the saved card.
    case charge(customer: String, paymentMethod: String)
}

/// A booking's card on file as a value: the provider's customer and SetupIntent, the saved payment method once the
/// customer entered the card, and the outcome of the fee it was charged (at most one: a booking is cancelled late
/// or marked as no-show, not both). `pending → saved`; a saved card carries at most one fee outcome.
public struct CardOnFile: Hashable, Sendable {
    public private(set) var state: CardState
    /// The provider's customer (`cus_…`), reused for the customer's later bookings.
    public private(set) var customerReference: String
    /// The provider's id for the setup (`seti_…`).
    public private(set) var setupReference: String
    /// What a front end needs to let the customer enter the card; kept only while `pending`.
    public private(set) var clientSecret: String?
    /// The saved card at the provider (`pm_…`), once saved.
    public private(set) var paymentMethod: String?
    /// The fee charged to the card, once tried.
    public private(set) var fee: FeeOutcome?

    /// A card in any state (as read back from storage).
    public init(
        state: CardState, customerReference: String, setupReference: String, clientSecret: String? = nil,
        paymentMethod: String? = nil, fee: FeeOutcome? = nil
    ) {
        self.state = state
        self.customerReference = customerReference
        self.setupReference = setupReference
        self.clientSecret = clientSecret
        self.paymentMethod = paymentMethod
        self.fee = fee
    }

    /// `payment.save_card`: only a held booking without a recorded setup asks the provider for one.
    public static func onSaveJob(_ card: CardOnFile?, booking: BookingState) -> Bool {
        card == nil && booking == .held
    }

    /// The provider set up the card's saving: a pending card. (Recorded once; the store keeps an existing one.)
    public static func setUp(customer: String, setup: String, clientSecret: String?) -> (CardOnFile, [CardAction]) {
        (CardOnFile(state: .pending, customerReference: customer, setupReference: setup, clientSecret: clientSecret),
         [.persist])
    }

    /// A verified webhook says the customer's card is saved (`setup_intent.succeeded`): record it and confirm a held
    /// booking. A card saved after its hold lapsed is kept on record but confirms nothing; a repeat changes nothing.
    public mutating func receiveSaved(paymentMethod: String, booking: BookingState) -> [CardAction] {
        guard state == .pending else { return [] }
        state = .saved
        clientSecret = nil
        self.paymentMethod = paymentMethod
        var actions: [CardAction] = [.persist, .record(.saved)]
        if booking == .held { actions.append(.confirmBooking) }
        return actions
    }

    /// `payment.charge_fee` for a booking with this card (nil: none on file).
    public static func onChargeFeeJob(_ card: CardOnFile?) -> FeeStep {
        guard let card, card.state == .saved, let method = card.paymentMethod else { return .collectAtShop }
        return card.fee == nil ? .charge(customer: card.customerReference, paymentMethod: method) : .nothing
    }

    /// The provider charged or declined the fee: record it once (a second outcome for the same fee is ignored).
    public mutating func recordFee(_ outcome: FeeOutcome) -> [CardAction] {
        guard fee == nil, state == .saved else { return [] }
        fee = outcome
        return [.persist, .record(.fee(outcome))]
    }
}
