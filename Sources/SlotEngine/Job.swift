import SlotCore
import SlotRules

// MARK: - The job

/// A unit of outbox work as one typed value: its family, kind and payload. Stored as `kind` and a JSON payload whose
/// names are those of the first release (`payment.charge_fee`, `{"booking": …}`), so rows written then still decode.
///
/// Each family is run by one outbox handler, which switches over its own enum: a new case is a compile error
/// wherever it is not handled.
public enum Job: Hashable, Sendable {
    /// `booking.expire_hold`: expire the holds that are due.
    case hold(HoldJob)
    /// `payment.*`: a booking's deposit or fee.
    case payment(PaymentJob)
    /// `notify.*`: a message to render, or one delivery of it.
    case notification(NotificationJob)
    /// `sweep.*`: periodic bookkeeping.
    case sweep(SweepJob)
    /// `waitlist.*`: offer freed starts to those waiting.
    case waitlist(WaitlistJob)

    /// The family, whose outbox handler runs the job.
    public var family: JobFamily {
        switch self {
        case .hold: return .hold
        case .payment: return .payment
        case .notification: return .notification
        case .sweep: return .sweep
        case .waitlist: return .waitlist
        }
    }

    /// The stored kind, e.g. `payment.refund`, `notify.send.mail`.
    public var kind: String {
        switch self {
        case .hold(let job): return job.kind
        case .payment(let job): return job.kind
        case .notification(let job): return job.kind
        case .sweep(let job): return job.kind
        case .waitlist(let job): return job.kind
        }
    }

    /// The stored payload, a JSON object.
    public var payload: any Encodable & Sendable {
        switch self {
        case .hold(.expire(let payload)): return payload
        case .payment(.deposit(_, let payload)): return payload
        case .payment(.chargeFee(let payload)): return payload
        case .payment(.saveCard(let payload)): return payload
        case .notification(.booking(_, let payload)): return payload
        case .notification(.reminder(let payload)): return payload
        case .notification(.daySummary(let payload)): return payload
        case .notification(.delivery(_, let payload)): return payload
        case .sweep(.endOfDay(let payload)): return payload
        case .waitlist(.match(let payload)): return payload
        }
    }

    /// Reads a stored job back: the kind picks the case, `payloads` decodes its payload. Throws for a kind this
    /// version does not know (written by a newer one) and for a payload that is not the kind's shape.
    public init(kind: String, payloads: some JobPayloadDecoder) throws(JobDecodingError) {
        func decode<Payload: Decodable>(_ type: Payload.Type) throws(JobDecodingError) -> Payload {
            do { return try payloads.decode(type) } catch {
                throw JobDecodingError(kind: kind, message: "its payload does not fit: \(error)")
            }
        }
        if kind == HoldJob.expireKind {
            self = .hold(.expire(try decode(BookingJobPayload.self)))
        } else if let step = DepositJob(kind: kind) {
            self = .payment(.deposit(step, try decode(BookingJobPayload.self)))
        } else if kind == PaymentJob.chargeFeeKind {
            self = .payment(.chargeFee(try decode(FeeChargePayload.self)))
        } else if kind == PaymentJob.saveCardKind {
            self = .payment(.saveCard(try decode(BookingJobPayload.self)))
        } else if let notice = BookingNotice(kind: kind) {
            self = .notification(.booking(notice, try decode(BookingJobPayload.self)))
        } else if kind == NotificationJob.reminderKind {
            self = .notification(.reminder(try decode(ReminderPayload.self)))
        } else if kind == NotificationJob.daySummaryKind {
            self = .notification(.daySummary(try decode(DaySummaryPayload.self)))
        } else if kind.hasPrefix(NotificationJob.deliveryPrefix), kind.count > NotificationJob.deliveryPrefix.count {
            let provider = String(kind.dropFirst(NotificationJob.deliveryPrefix.count))
            self = .notification(.delivery(provider: provider, try decode(DeliveryPayload.self)))
        } else if kind == SweepJob.endOfDayKind {
            self = .sweep(.endOfDay(try decode(EndOfDayPayload.self)))
        } else if kind == WaitlistJob.matchKind {
            self = .waitlist(.match(try decode(WaitlistMatchPayload.self)))
        } else {
            throw JobDecodingError(
                kind: kind, message: "this slotd does not know the kind (was it written by a newer version?)")
        }
    }
}

/// Decodes a stored job's payload into the type its kind names (the store's JSON decoder).
public protocol JobPayloadDecoder {
    /// The payload as `type`, or an error saying why it is not one.
    func decode<Payload: Decodable>(_ type: Payload.Type) throws -> Payload
}

/// A stored job that this version cannot read: an unknown kind or a payload of the wrong shape. Running it is a
/// permanent failure; it cannot succeed on retry.
/// The families of jobs, each run by one outbox handler; a stored kind names its family by its prefix.
public enum JobFamily: String, Hashable, Sendable, CaseIterable {
    case hold
    case payment
    case notification
    case sweep
    case waitlist

    /// Every stored kind of the family starts with this.
    public var kindPrefix: String {
        switch self {
        case .hold: return HoldJob.expireKind
        case .payment: return "payment."
        case .notification: return "notify."
        case .sweep: return "sweep."
        case .waitlist: return "waitlist."
        }
    }

    /// The family of a stored kind; nil for a kind of no family (written by hand or by another version).
    public init?(kind: String) {
        guard let family = Self.allCases.first(where: { kind.hasPrefix($0.kindPrefix) }) else { return nil }
        self = family
    }
}

public struct JobDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stored kind.
    public var kind: String
    /// What is wrong with it.
    public var message: String

    public init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "job kind '\(kind)': \(message)" }
}

// MARK: - Families

/// The hold jobs (`booking.*`).
public enum HoldJob: Hashable, Sendable {
    /// `booking.expire_hold`, due at a hold's expiry.
    case expire(BookingJobPayload)

    static let expireKind = "booking.expire_hold"

    /// The stored kind.
    public var kind: String {
        switch self {
        case .expire: return Self.expireKind
        }
    }
}

/// The payment jobs (`payment.*`).
public enum PaymentJob: Hashable, Sendable {
    /// A step of a booking's deposit at the payment provider.
    case deposit(DepositJob, BookingJobPayload)
    /// `payment.charge_fee`: a late-cancellation or no-show fee.
    case chargeFee(FeeChargePayload)
    /// `payment.save_card`: ask the provider to save the customer's card for a held booking (`card_on_file`).
    case saveCard(BookingJobPayload)

    static let chargeFeeKind = "payment.charge_fee"
    static let saveCardKind = "payment.save_card"

    /// The stored kind.
    public var kind: String {
        switch self {
        case .deposit(let step, _): return step.kind
        case .chargeFee: return Self.chargeFeeKind
        case .saveCard: return Self.saveCardKind
        }
    }

    /// The booking the job is about.
    public var bookingID: String {
        switch self {
        case .deposit(_, let payload): return payload.booking
        case .chargeFee(let payload): return payload.booking
        case .saveCard(let payload): return payload.booking
        }
    }
}

/// The deposit jobs a booking or payment transition asks for; the store adds the booking (`Job.deposit`) and drops
/// them for a booking without a deposit.
public enum DepositJob: String, Hashable, Sendable, CaseIterable {
    /// Create the deposit at the payment provider (a held booking).
    case createDeposit = "payment.create_deposit"
    /// Cancel a deposit not yet paid (the hold expired or was cancelled).
    case cancelDeposit = "payment.cancel_deposit"
    /// Give a paid deposit back (cancelled inside the free window).
    case refund = "payment.refund"
    /// The shop keeps a paid deposit (a late cancellation or a no-show).
    case keepDeposit = "payment.keep_deposit"

    /// The stored kind.
    public var kind: String { rawValue }

    /// The job of a stored kind, or nil.
    public init?(kind: String) { self.init(rawValue: kind) }
}

/// The notification jobs (`notify.*`).
public enum NotificationJob: Hashable, Sendable {
    /// `notify.booking_<event>`: tell the customer what happened to their booking.
    case booking(BookingNotice, BookingJobPayload)
    /// `notify.booking_reminder`: remind the customer ahead of the start.
    case reminder(ReminderPayload)
    /// `notify.day_summary`: the end-of-day summary, sent to the shop.
    case daySummary(DaySummaryPayload)
    /// `notify.send.<provider>`: one rendered message for one provider.
    case delivery(provider: String, DeliveryPayload)

    static let reminderKind = "notify.booking_reminder"
    static let daySummaryKind = "notify.day_summary"
    /// The kind prefix of deliveries, followed by the provider's name.
    public static let deliveryPrefix = "notify.send."

    /// Whether a stored kind is a message about one booking (a notice or a reminder), told from the kind alone.
    public static func isAboutABooking(kind: String) -> Bool {
        kind == reminderKind || BookingNotice(kind: kind) != nil
    }

    /// The stored kind.
    public var kind: String {
        switch self {
        case .booking(let notice, _): return notice.kind
        case .reminder: return Self.reminderKind
        case .daySummary: return Self.daySummaryKind
        case .delivery(let provider, _): return Self.deliveryPrefix + provider
        }
    }

    /// The event a message is about, which routes it and picks its template (`booking.no_show`, `day.summary`);
    /// nil for a delivery, which carries it in its payload.
    public var event: String? {
        switch self {
        case .booking(let notice, _): return notice.event
        case .reminder: return "booking.reminder"
        case .daySummary: return "day.summary"
        case .delivery: return nil
        }
    }
}

/// What happened to a booking that the customer is told of.
public enum BookingNotice: String, Hashable, Sendable, CaseIterable {
    case created = "notify.booking_created"
    case confirmed = "notify.booking_confirmed"
    case cancelled = "notify.booking_cancelled"
    case completed = "notify.booking_completed"
    case noShow = "notify.booking_no_show"
    case expired = "notify.booking_expired"
    case rescheduled = "notify.booking_rescheduled"
    /// A start held for a customer from the waitlist (the booking is the offer's held booking).
    case waitlistOffered = "notify.waitlist_offered"

    /// The stored kind.
    public var kind: String { rawValue }

    /// The notice of a stored kind, or nil.
    public init?(kind: String) { self.init(rawValue: kind) }

    /// The event it tells of, which routes and picks the message (`booking.no_show`).
    public var event: String {
        switch self {
        case .created: return "booking.created"
        case .confirmed: return "booking.confirmed"
        case .cancelled: return "booking.cancelled"
        case .completed: return "booking.completed"
        case .noShow: return "booking.no_show"
        case .expired: return "booking.expired"
        case .rescheduled: return "booking.rescheduled"
        case .waitlistOffered: return "waitlist.offered"
        }
    }
}

/// The sweep jobs (`sweep.*`).
public enum SweepJob: Hashable, Sendable {
    /// `sweep.end_of_day`: close the day at the shop's end of day.
    case endOfDay(EndOfDayPayload)

    static let endOfDayKind = "sweep.end_of_day"

    /// The stored kind.
    public var kind: String {
        switch self {
        case .endOfDay: return Self.endOfDayKind
        }
    }
}

/// The waitlist jobs (`waitlist.*`).
public enum WaitlistJob: Hashable, Sendable {
    /// `waitlist.match`: a start may have freed (a cancellation, a lapsed hold, a move, a reload, a join): offer
    /// it to the first in line.
    case match(WaitlistMatchPayload)

    static let matchKind = "waitlist.match"

    /// The stored kind.
    public var kind: String {
        switch self {
        case .match: return Self.matchKind
        }
    }
}

// MARK: - Payloads

/// `waitlist.match`: why it was asked for (`booking.cancelled`, `rules.reloaded`, `waitlist.joined`) and the booking
/// or entry that freed or asked, for the log; the job itself looks at everyone waiting.
public struct WaitlistMatchPayload: Codable, Hashable, Sendable {
    public var reason: String
    public var booking: String?
    public var entry: String?

    public init(reason: String, booking: String? = nil, entry: String? = nil) {
        self.reason = reason
        self.booking = booking
        self.entry = entry
    }
}

/// `{"booking": id}`: the payload of every job about one booking that needs nothing else.
public struct BookingJobPayload: Codable, Hashable, Sendable {
    public var booking: String

    public init(booking: String) { self.booking = booking }
}

/// `payment.charge_fee`: the booking and the fee.
public struct FeeChargePayload: Codable, Hashable, Sendable {
    public var booking: String
    /// The fee in minor units.
    public var amount: Int
    public var currency: String

    public init(booking: String, fee: Money) {
        self.booking = booking
        self.amount = fee.minorUnits
        self.currency = fee.currency
    }
}

/// `notify.booking_reminder`: the start it was made for, so a reminder for a moved booking sends nothing.
public struct ReminderPayload: Codable, Hashable, Sendable {
    public var booking: String
    public var start: Int64
    public var minutesBefore: Int

    public init(booking: String, start: Int64, minutesBefore: Int) {
        self.booking = booking
        self.start = start
        self.minutesBefore = minutesBefore
    }

    enum CodingKeys: String, CodingKey {
        case booking, start
        case minutesBefore = "minutes_before"
    }
}

/// `notify.day_summary`: the day's counts as message fields.
public struct DaySummaryPayload: Codable, Hashable, Sendable {
    /// `YYYY-MM-DD`.
    public var date: String
    public var completed: Int
    public var noShow: Int
    public var cancelled: Int
    /// How many confirmed bookings ended without being marked, and their ids joined by `, `.
    public var openCount: Int
    public var openBookings: String

    public init(date: String, completed: Int, noShow: Int, cancelled: Int, openCount: Int, openBookings: String) {
        self.date = date
        self.completed = completed
        self.noShow = noShow
        self.cancelled = cancelled
        self.openCount = openCount
        self.openBookings = openBookings
    }

    enum CodingKeys: String, CodingKey {
        case date, completed, cancelled
        case noShow = "no_show"
        case openCount = "open_count"
        case openBookings = "open_bookings"
    }

    /// The template fields, all strings.
    public var values: [String: String] {
        [
            "date": date, "completed": String(completed), "no_show": String(noShow), "cancelled": String(cancelled),
            "open_count": String(openCount), "open_bookings": openBookings,
        ]
    }
}

/// `notify.send.<provider>`: a rendered message, with a message id receivers deduplicate on.
public struct DeliveryPayload: Codable, Hashable, Sendable {
    /// Who the message goes to.
    public struct Recipient: Codable, Hashable, Sendable {
        public var name: String
        public var email: String?
        public var phone: String?

        public init(name: String, email: String?, phone: String?) {
            self.name = name
            self.email = email
            self.phone = phone
        }
    }

    public var provider: String
    public var messageID: String
    /// The event the message is about (`booking.created`).
    public var event: String
    public var to: Recipient
    public var subject: String
    public var body: String
    /// The template values.
    public var data: [String: String]
    /// The booking it is about, if any.
    public var booking: String?

    public init(
        provider: String, messageID: String, event: String, to: Recipient, subject: String, body: String,
        data: [String: String], booking: String?
    ) {
        self.provider = provider
        self.messageID = messageID
        self.event = event
        self.to = to
        self.subject = subject
        self.body = body
        self.data = data
        self.booking = booking
    }

    enum CodingKeys: String, CodingKey {
        case provider, event, to, subject, body, data, booking
        case messageID = "message_id"
    }
}

/// `sweep.end_of_day`: the shop-local date to close.
public struct EndOfDayPayload: Codable, Hashable, Sendable {
    /// `YYYY-MM-DD`.
    public var date: String

    public init(date: String) { self.date = date }
}

// MARK: - Jobs about one booking

/// Outbox work a booking transition asks for; the store adds the booking's id (`job(for:)`).
public enum BookingFollowUp: Hashable, Sendable {
    /// Tell the customer.
    case notify(BookingNotice)
    /// A step of the deposit; dropped for a booking without one.
    case deposit(DepositJob)
    /// Charge a late-cancellation or no-show fee.
    case chargeFee(Money)
    /// Save the customer's card at the payment provider (a held booking under `card_on_file`).
    case saveCard

    /// The job for booking `bookingID`.
    public func job(for bookingID: String) -> Job {
        let booking = BookingJobPayload(booking: bookingID)
        switch self {
        case .notify(let notice): return .notification(.booking(notice, booking))
        case .deposit(let step): return .payment(.deposit(step, booking))
        case .chargeFee(let fee): return .payment(.chargeFee(FeeChargePayload(booking: bookingID, fee: fee)))
        case .saveCard: return .payment(.saveCard(booking))
        }
    }
}
