import SlotCore
import SlotRules

// The `data` of the events in the log, as typed values. Their JSON (sorted keys, absent optionals left out) is the
// event data that clients read and the OpenAPI document describes; the names are those of the first release.

/// An amount in minor units and its currency: `{"amount": 2500, "currency": "EUR"}`.
public struct MoneyData: Codable, Hashable, Sendable {
    public var amount: Int
    public var currency: String

    public init(_ money: Money) {
        amount = money.minorUnits
        currency = money.currency
    }
}

/// A span of time: `{"start": …, "end": …}`, seconds since the epoch.
public struct SpanData: Codable, Hashable, Sendable {
    public var start: Int64
    public var end: Int64

    public init(_ interval: Interval) {
        start = interval.lower
        end = interval.upper
    }
}

/// What every booking event says about its booking (the store's record, in the engine's terms).
public struct BookingFacts: Hashable, Sendable {
    public var booking: String
    public var status: BookingState
    public var staff: String
    public var services: [String]
    public var start: Int64
    public var end: Int64
    public var customer: String
    public var price: Money
    public var deposit: Money?
    public var holdExpiresAt: Int64?

    public init(
        booking: String, status: BookingState, staff: String, services: [String], start: Int64, end: Int64,
        customer: String, price: Money, deposit: Money?, holdExpiresAt: Int64?
    ) {
        self.booking = booking
        self.status = status
        self.staff = staff
        self.services = services
        self.start = start
        self.end = end
        self.customer = customer
        self.price = price
        self.deposit = deposit
        self.holdExpiresAt = holdExpiresAt
    }
}

/// The data of a `booking.*` event: the booking's facts, and the per-type fields (`customer`/`price` on creation,
/// `late`/`fee`/`reason` on cancellation, `from`/`to` and `from_staff`/`to_staff` on a reschedule).
public struct BookingEventData: Codable, Hashable, Sendable {
    public var booking: String
    public var status: String
    public var staff: String
    public var services: [String]
    public var start: Int64
    public var end: Int64
    // booking.created
    public var customer: String?
    public var price: MoneyData?
    public var deposit: MoneyData?
    public var holdExpiresAt: Int64?
    /// A walk-in or forced booking: what was set aside, who did it and why.
    public var override: BookingOverride?
    // booking.cancelled
    public var late: Bool?
    public var feeApplies: Bool?
    public var fee: MoneyData?
    public var minutesBeforeStart: Int64?
    public var reason: String?
    // booking.rescheduled
    public var from: SpanData?
    public var to: SpanData?
    public var fromStaff: String?
    public var toStaff: String?

    /// The data of `event` about the booking `facts` describes (as it is after the event); `override` is recorded
    /// on creation only.
    public init(_ event: BookingEvent, of facts: BookingFacts, override: BookingOverride? = nil) {
        booking = facts.booking
        status = facts.status.rawValue
        staff = facts.staff
        services = facts.services
        start = facts.start
        end = facts.end
        switch event {
        case .created:
            customer = facts.customer
            price = MoneyData(facts.price)
            deposit = facts.deposit.map(MoneyData.init)
            holdExpiresAt = facts.holdExpiresAt
            self.override = override
        case .cancelled(let terms):
            late = terms.isLate
            feeApplies = terms.feeApplies
            fee = terms.fee.map(MoneyData.init)
            minutesBeforeStart = terms.minutesBeforeStart
            reason = terms.reason
        case .rescheduled(let old, let new, let change):
            from = SpanData(old)
            to = SpanData(new)
            fromStaff = change?.from
            toStaff = change?.to
        case .confirmed, .completed, .noShow, .expired, .noted:
            // `booking.noted` carries no text: the log keeps ids and facts, never what the shop wrote.
            break
        }
    }

    enum CodingKeys: String, CodingKey {
        case booking, status, staff, services, start, end, customer, price, deposit, late, fee, reason, from, to
        case override
        case holdExpiresAt = "hold_expires_at"
        case feeApplies = "fee_applies"
        case minutesBeforeStart = "minutes_before_start"
        case fromStaff = "from_staff"
        case toStaff = "to_staff"
    }
}

/// The data of a `payment.<status>` event: the payment's facts, never the client secret.
public struct PaymentEventData: Codable, Hashable, Sendable {
    public var booking: String
    public var provider: String
    public var status: String
    public var amount: Int
    public var currency: String
    public var reason: String
    public var reference: String?
    public var refundReference: String?

    public init(
        booking: String, provider: String, status: PaymentState, amount: Money, reason: String, reference: String?,
        refundReference: String?
    ) {
        self.booking = booking
        self.provider = provider
        self.status = status.rawValue
        self.amount = amount.minorUnits
        self.currency = amount.currency
        self.reason = reason
        self.reference = reference
        self.refundReference = refundReference
    }

    enum CodingKeys: String, CodingKey {
        case booking, provider, status, amount, currency, reason, reference
        case refundReference = "refund_reference"
    }
}

/// The data of `payment.card_saved`, `payment.fee_charged` and `payment.fee_declined`: the booking, the provider,
/// the card's state, and for a fee its amount, outcome and the provider's payment id or the decline's reason.
public struct CardEventData: Codable, Hashable, Sendable {
    public var booking: String
    public var provider: String
    /// `pending` or `saved`.
    public var card: String
    /// The fee's amount in minor units, and `charged` or `declined`.
    public var amount: Int?
    public var currency: String?
    public var status: String?
    public var reference: String?
    public var reason: String?

    public init(booking: String, provider: String, card: CardOnFile, fee: Money?) {
        self.booking = booking
        self.provider = provider
        self.card = card.state.rawValue
        self.amount = fee?.minorUnits
        self.currency = fee?.currency
        self.status = card.fee?.status
        switch card.fee {
        case .charged(let reference): self.reference = reference
        case .declined(let reason, let reference):
            self.reason = reason
            self.reference = reference
        case nil: break
        }
    }
}

/// The data of `day.closed`: the day's completed, no-show and cancelled counts, and the confirmed bookings that
/// ended but were never marked.
public struct DayClosedEventData: Codable, Hashable, Sendable {
    /// `YYYY-MM-DD`, shop-local.
    public var date: String
    public var completed: Int
    public var noShow: Int
    public var cancelled: Int
    /// The ids of the confirmed bookings that ended unmarked.
    public var open: [String]

    public init(date: String, completed: Int, noShow: Int, cancelled: Int, open: [String]) {
        self.date = date
        self.completed = completed
        self.noShow = noShow
        self.cancelled = cancelled
        self.open = open
    }

    enum CodingKeys: String, CodingKey {
        case date, completed, cancelled, open
        case noShow = "no_show"
    }

    /// The `notify.day_summary` message fields of the day.
    public var summary: DaySummaryPayload {
        DaySummaryPayload(
            date: date, completed: completed, noShow: noShow, cancelled: cancelled, openCount: open.count,
            openBookings: open.joined(separator: ", "))
    }
}

/// The data of a `waitlist.*` event: the entry, its state after the event, what it waits for, and the offer (the
/// held booking, its staff member and start, when it lapses) or why it left. No personal data: the customer's
/// contact stays on the entry.
public struct WaitlistEventData: Codable, Hashable, Sendable {
    public var entry: String
    public var status: String
    public var service: String
    /// A staff id or `any`.
    public var staff: String
    /// `YYYY-MM-DD`, shop-local.
    public var from: String
    public var to: String
    public var booking: String?
    public var offeredStaff: String?
    public var start: Int64?
    public var offerExpiresAt: Int64?
    public var reason: String?

    /// The data of `event` about the entry `id` asking for `wish`, in `state` after the event.
    public init(_ event: WaitlistEvent, entry id: String, wish: WaitlistWish, state: WaitlistState) {
        entry = id
        status = state.rawValue
        service = wish.service
        staff = wish.staff.description
        from = wish.first.description
        to = wish.last.description
        switch event {
        case .offered(let offer), .offerExpired(let offer), .booked(let offer):
            booking = offer.booking
            offeredStaff = offer.staff
            start = offer.start
            offerExpiresAt = offer.expiresAt
        case .left(let why):
            reason = why
        case .joined, .closed:
            break
        }
    }

    enum CodingKeys: String, CodingKey {
        case entry, status, service, staff, from, to, booking, start, reason
        case offeredStaff = "offered_staff"
        case offerExpiresAt = "offer_expires_at"
    }
}
