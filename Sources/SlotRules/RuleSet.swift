import SlotCore

/// A validated, merged set of rules: everything the engine needs to answer availability. Pure data.
public struct RuleSet: Sendable {
    public var shop: Shop
    /// Shop opening hours.
    public var hours: HoursExpression
    /// Shop-wide breaks: times inside opening hours when nobody is booked (e.g. `Mo-Fr 12:00-13:00`).
    public var breaks: [HoursExpression]
    /// Whole local days the shop is closed (and the days `PH` matches in hour expressions).
    public var holidays: [Holiday]
    /// Dates with other hours than usual, for the shop or for one staff member.
    public var overrides: [Override]
    public var services: [Service]
    /// Things a service needs besides a staff member (chairs, a wash basin), with how many the shop has.
    public var resources: [Resource]
    /// Staff in declared order (the order "any" breaks ties in; `Policies.assign`).
    public var staff: [StaffMember]
    public var policies: Policies
    /// The rule files this set was built from, in load order.
    public var files: [String]
    /// A stable hash of the sources, so an unchanged rule set is recognisable.
    public var version: String

    public init(
        shop: Shop, hours: HoursExpression, breaks: [HoursExpression] = [], holidays: [Holiday] = [],
        overrides: [Override] = [], services: [Service] = [], resources: [Resource] = [],
        staff: [StaffMember] = [], policies: Policies = Policies(), files: [String] = [], version: String = ""
    ) {
        self.shop = shop
        self.hours = hours
        self.breaks = breaks
        self.holidays = holidays
        self.overrides = overrides
        self.services = services
        self.resources = resources
        self.staff = staff
        self.policies = policies
        self.files = files
        self.version = version
    }

    /// The service with that id.
    public func service(_ id: String) -> Service? { services.first { $0.id == id } }

    /// The staff member with that id.
    public func staffMember(_ id: String) -> StaffMember? { staff.first { $0.id == id } }

    /// The resource with that id.
    public func resource(_ id: String) -> Resource? { resources.first { $0.id == id } }

    /// Every holiday date between `first` and `last` inclusive.
    public func holidayDates(from first: LocalDate, through last: LocalDate) -> Set<LocalDate> {
        var dates = Set<LocalDate>()
        guard first <= last else { return dates }
        for holiday in holidays {
            for date in holiday.dates(from: first, through: last) { dates.insert(date) }
        }
        return dates
    }

    /// What a booking of `serviceID` (optionally one of its variants) takes: segments, buffers, resources, price.
    public func offering(service serviceID: String, variant variantID: String? = nil) -> ServiceOffering? {
        guard let service = service(serviceID) else { return nil }
        guard let variantID else { return ServiceOffering(service) }
        guard let variant = service.variants.first(where: { $0.id == variantID }) else { return nil }
        return ServiceOffering(service, variant: variant)
    }
}

/// The `shop` section.
public struct Shop: Sendable, Hashable {
    public var name: String
    public var timeZone: ShopTimeZone
    /// Distance between candidate starts, counted from each local midnight.
    public var slotStepMinutes: Int
    /// How long before a start it can still be booked.
    public var minNoticeMinutes: Int
    /// How far ahead a start can be booked (real elapsed time).
    public var horizonMinutes: Int
    /// ISO 4217 code, e.g. `EUR`.
    public var currency: String

    public init(
        name: String, timeZone: ShopTimeZone, slotStepMinutes: Int = 15, minNoticeMinutes: Int = 0,
        horizonMinutes: Int = 60 * 1440, currency: String = "EUR"
    ) {
        self.name = name
        self.timeZone = timeZone
        self.slotStepMinutes = slotStepMinutes
        self.minNoticeMinutes = minNoticeMinutes
        self.horizonMinutes = horizonMinutes
        self.currency = currency
    }
}

/// An amount of money in the currency's minor units (cents).
public struct Money: Hashable, Sendable, CustomStringConvertible {
    public var minorUnits: Int
    public var currency: String

    public init(minorUnits: Int, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Digits after the decimal point for a currency (ISO 4217; 2 unless listed).
    public static func minorDigits(_ currency: String) -> Int {
        switch currency {
        case "JPY", "KRW", "VND", "CLP", "ISK", "HUF", "XOF", "XAF", "UGX", "PYG", "RWF": return 0
        case "BHD", "KWD", "OMR", "JOD", "TND", "LYD", "IQD": return 3
        default: return 2
        }
    }

    /// `25.00 EUR`.
    public var description: String {
        let digits = Money.minorDigits(currency)
        guard digits > 0 else { return "\(minorUnits) \(currency)" }
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let fraction = String(abs(minorUnits) % scale)
        let padded = String(repeating: "0", count: digits - fraction.count) + fraction
        return "\(minorUnits < 0 ? "-" : "")\(abs(minorUnits) / scale).\(padded) \(currency)"
    }
}

/// A closed day: a date, an inclusive date range, a yearly date, or a day relative to Easter Sunday.
public struct Holiday: Sendable, Hashable {
    public enum Rule: Sendable, Hashable {
        case date(LocalDate)
        case range(LocalDate, LocalDate)
        case yearly(month: Int, day: Int)
        case easter(offsetDays: Int)
    }

    public var name: String
    public var rule: Rule

    public init(name: String, rule: Rule) {
        self.name = name
        self.rule = rule
    }

    /// The dates this holiday falls on between `first` and `last` inclusive.
    public func dates(from first: LocalDate, through last: LocalDate) -> [LocalDate] {
        var result: [LocalDate] = []
        func add(_ date: LocalDate) { if date >= first && date <= last { result.append(date) } }
        switch rule {
        case .date(let date):
            add(date)
        case .range(let start, let end):
            var date = max(start, first)
            while date <= min(end, last) {
                result.append(date)
                date = date.adding(days: 1)
            }
        case .yearly(let month, let day):
            for year in first.year...last.year {
                if let date = LocalDate(year: year, month: month, day: day) { add(date) }
            }
        case .easter(let offset):
            for year in (first.year - 1)...(last.year + 1) { add(LocalDate.easter(year: year).adding(days: offset)) }
        }
        return result
    }
}

/// Other hours on some dates, for the whole shop or for one staff member. On those dates they replace the usual
/// hours (shop hours, or the staff member's hours) and lift a holiday closure.
///
/// An override is dated (`2026-12-24`, `2026-12-24..2026-12-26`) or yearly (`Dec 24`, `Dec 24..Dec 26`). On a date
/// both cover, the dated one wins: this year's exception to the yearly rule.
public struct Override: Sendable, Hashable {
    /// First and last date, inclusive; for a yearly override, the month and day in the leap year 2000.
    public var first: LocalDate
    public var last: LocalDate
    /// Whether it applies every year on the month and day of `first` through those of `last`.
    public var repeatsYearly: Bool
    /// The hours on those dates; nil means closed.
    public var hours: HoursExpression?
    /// The staff member it applies to; nil means the shop.
    public var staff: String?
    public var note: String

    public init(first: LocalDate, last: LocalDate, hours: HoursExpression?, staff: String? = nil, note: String = "") {
        self.first = first
        self.last = last
        self.repeatsYearly = false
        self.hours = hours
        self.staff = staff
        self.note = note
    }

    /// A yearly override from month and day `from` through `through` (in one calendar year), e.g. Dec 24; nil for
    /// a day no year has or a range that ends before it starts.
    public init?(
        yearlyFrom from: (month: Int, day: Int), through: (month: Int, day: Int), hours: HoursExpression?,
        staff: String? = nil, note: String = ""
    ) {
        guard let first = LocalDate(year: 2000, month: from.month, day: from.day),
            let last = LocalDate(year: 2000, month: through.month, day: through.day), first <= last
        else { return nil }
        self.init(first: first, last: last, hours: hours, staff: staff, note: note)
        repeatsYearly = true
    }

    /// Whether `date` is one of the override's dates.
    public func covers(_ date: LocalDate) -> Bool {
        guard repeatsYearly else { return date >= first && date <= last }
        let day = (date.month, date.day)
        return day >= (first.month, first.day) && day <= (last.month, last.day)
    }

    /// The dates it covers from `lower` through `upper`, ascending.
    public func dates(from lower: LocalDate, through upper: LocalDate) -> [LocalDate] {
        guard repeatsYearly else {
            return lower > upper ? [] : days(from: max(first, lower), through: min(last, upper))
        }
        guard lower <= upper else { return [] }
        var result: [LocalDate] = []
        for year in lower.year...upper.year {
            // Feb 29 in a year without it is left out.
            let start = LocalDate(year: year, month: first.month, day: first.day)
                ?? LocalDate(year: year, month: 3, day: 1)
            let end = LocalDate(year: year, month: last.month, day: last.day)
                ?? LocalDate(year: year, month: 2, day: 28)
            guard let start, let end else { continue }
            result += days(from: max(start, lower), through: min(end, upper))
        }
        return result
    }

    private func days(from start: LocalDate, through end: LocalDate) -> [LocalDate] {
        guard start <= end else { return [] }
        return (0...(end.daysSinceEpoch - start.daysSinceEpoch)).map { start.adding(days: $0) }
    }

    /// Whether the two share a date (both dated, or both yearly); a dated and a yearly override may share dates,
    /// the dated one wins there.
    public func overlaps(_ other: Override) -> Bool {
        repeatsYearly == other.repeatsYearly && first <= other.last && other.first <= last
    }

    /// The override in force on `date` among `overrides` (of one owner): a dated one before a yearly one.
    public static func effective(_ overrides: [Override], on date: LocalDate) -> Override? {
        overrides.first { !$0.repeatsYearly && $0.covers(date) }
            ?? overrides.first { $0.repeatsYearly && $0.covers(date) }
    }
}

/// One part of a service: the staff member works (`active`) or waits while the product works (`processing`).
public struct Segment: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case active, processing }
    public var kind: Kind
    public var minutes: Int

    public init(_ kind: Kind, minutes: Int) {
        self.kind = kind
        self.minutes = minutes
    }
}

/// A resource need of a service: `count` units of the resource for the whole service.
public struct ResourceNeed: Sendable, Hashable {
    public var resource: String
    public var count: Int

    public init(resource: String, count: Int = 1) {
        self.resource = resource
        self.count = count
    }
}

/// A shared resource of the shop (chairs, a wash basin) and how many there are.
public struct Resource: Sendable, Hashable {
    public var id: String
    public var name: String
    public var count: Int

    public init(id: String, name: String, count: Int) {
        self.id = id
        self.name = name
        self.count = count
    }
}

/// A service the shop sells.
public struct Service: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The service as a run of segments; a plain service is one active segment of its duration.
    public var segments: [Segment]
    public var price: Money
    public var deposit: Money?
    public var bufferBeforeMinutes: Int
    public var bufferAfterMinutes: Int
    public var resources: [ResourceNeed]
    /// Variants (short hair / long hair) with their own segments and price; empty when there are none.
    public var variants: [ServiceVariant]
    /// When it may start (`Sa 09:00-12:00`); nil means whenever the shop and the staff member are open.
    public var available: HoursExpression?
    /// Staff members who charge or take other than the service's own price and duration, by staff id.
    public var staffTerms: [String: StaffTerms]

    public init(
        id: String, name: String, segments: [Segment], price: Money, deposit: Money? = nil,
        bufferBeforeMinutes: Int = 0, bufferAfterMinutes: Int = 0, resources: [ResourceNeed] = [],
        variants: [ServiceVariant] = [], available: HoursExpression? = nil, staffTerms: [String: StaffTerms] = [:]
    ) {
        self.available = available
        self.staffTerms = staffTerms
        self.id = id
        self.name = name
        self.segments = segments
        self.price = price
        self.deposit = deposit
        self.bufferBeforeMinutes = bufferBeforeMinutes
        self.bufferAfterMinutes = bufferAfterMinutes
        self.resources = resources
        self.variants = variants
    }

    /// Total length of all segments.
    public var durationMinutes: Int { segments.reduce(0) { $0 + $1.minutes } }
}

/// One staff member's own price, deposit or duration for a service (a senior barber charges more, or needs less
/// time); what is nil is the service's. For a service with variants the terms are per variant, in `variants`.
public struct StaffTerms: Sendable, Hashable {
    public var price: Money?
    public var deposit: Money?
    public var durationMinutes: Int?
    /// Their own terms for variants of the service, by variant id (a variant without an entry is the variant's).
    public var variants: [String: StaffTerms]

    public init(
        price: Money? = nil, deposit: Money? = nil, durationMinutes: Int? = nil, variants: [String: StaffTerms] = [:]
    ) {
        self.price = price
        self.deposit = deposit
        self.durationMinutes = durationMinutes
        self.variants = variants
    }
}

/// Hours in which a part of a booking may start: its service's `available` hours, with the part's distance from
/// the booking's start (0 for the first service of a back-to-back booking).
public struct StartWindow: Sendable, Hashable {
    /// The service whose hours they are.
    public var service: String
    public var offsetMinutes: Int
    public var hours: HoursExpression

    public init(service: String, offsetMinutes: Int, hours: HoursExpression) {
        self.service = service
        self.offsetMinutes = offsetMinutes
        self.hours = hours
    }
}

/// A variant of a service with its own segments and price.
public struct ServiceVariant: Sendable, Hashable {
    public var id: String
    public var name: String
    public var segments: [Segment]
    public var price: Money
    public var deposit: Money?

    public init(id: String, name: String, segments: [Segment], price: Money, deposit: Money? = nil) {
        self.id = id
        self.name = name
        self.segments = segments
        self.price = price
        self.deposit = deposit
    }
}

/// What one booking takes, resolved from a service (and variant), or several services back to back.
public struct ServiceOffering: Sendable, Hashable {
    /// The service ids in order (one for a plain booking).
    public var serviceIDs: [String]
    public var variantIDs: [String?]
    public var name: String
    public var segments: [Segment]
    public var bufferBeforeMinutes: Int
    public var bufferAfterMinutes: Int
    public var resources: [ResourceNeed]
    public var price: Money
    public var deposit: Money?
    /// Hours the services' starts must lie in (empty: no limit beyond the hours).
    public var startWindows: [StartWindow]
    /// The offering as booked with the staff members whose terms differ, by staff id.
    var byStaff: [String: ServiceOffering]

    /// A service as booked, or one of its variants.
    public init(_ service: Service, variant: ServiceVariant? = nil) {
        serviceIDs = [service.id]
        variantIDs = [variant?.id]
        name = variant.map { "\(service.name) (\($0.name))" } ?? service.name
        segments = variant?.segments ?? service.segments
        bufferBeforeMinutes = service.bufferBeforeMinutes
        bufferAfterMinutes = service.bufferAfterMinutes
        resources = service.resources
        price = variant?.price ?? service.price
        deposit = variant != nil ? variant?.deposit : service.deposit
        startWindows = service.available.map { [StartWindow(service: service.id, offsetMinutes: 0, hours: $0)] }
            ?? []
        byStaff = [:]
        // A service with variants has staff terms per variant (the rule compiler refuses others).
        for (staff, serviceTerms) in service.staffTerms {
            let ownTerms = variant == nil ? serviceTerms : variant.flatMap { serviceTerms.variants[$0.id] }
            guard let terms = ownTerms else { continue }
            var own = self
            if let price = terms.price { own.price = price }
            if let deposit = terms.deposit { own.deposit = deposit }
            if let minutes = terms.durationMinutes { own.segments = [Segment(.active, minutes: minutes)] }
            byStaff[staff] = own
        }
    }

    /// The offering as booked with `staff`: their own price, deposit and duration where they have them.
    public func performed(by staff: String) -> ServiceOffering { byStaff[staff] ?? self }

    /// Every form the offering takes: its own, then each staff member's own terms (sorted by staff id).
    public var allTerms: [ServiceOffering] { [self] + byStaff.keys.sorted().compactMap { byStaff[$0] } }

    /// Several offerings back to back as one booking: segments in order, the first's buffer before, the last's
    /// buffer after, the largest count of each resource, prices and deposits added. Nil for an empty list.
    public static func backToBack(_ parts: [ServiceOffering]) -> ServiceOffering? {
        guard var combined = parts.first else { return nil }
        guard parts.count > 1 else { return combined }
        for part in parts.dropFirst() {
            let offset = combined.durationMinutes
            combined.startWindows += part.startWindows.map {
                StartWindow(service: $0.service, offsetMinutes: $0.offsetMinutes + offset, hours: $0.hours)
            }
            combined.serviceIDs += part.serviceIDs
            combined.variantIDs += part.variantIDs
            combined.name += " + " + part.name
            combined.segments += part.segments
            combined.bufferAfterMinutes = part.bufferAfterMinutes
            for need in part.resources {
                if let index = combined.resources.firstIndex(where: { $0.resource == need.resource }) {
                    combined.resources[index].count = max(combined.resources[index].count, need.count)
                } else {
                    combined.resources.append(need)
                }
            }
            combined.price.minorUnits += part.price.minorUnits
            if let deposit = part.deposit {
                combined.deposit = Money(
                    minorUnits: (combined.deposit?.minorUnits ?? 0) + deposit.minorUnits, currency: deposit.currency)
            }
        }
        // Each staff member with terms of their own gets the parts as they perform them, combined the same way.
        combined.byStaff = [:]
        for staff in Set(parts.flatMap(\.byStaff.keys)) {
            combined.byStaff[staff] = backToBack(parts.map { $0.performed(by: staff) })
        }
        return combined
    }

    /// Total length of all segments (the booking's length, without buffers).
    public var durationMinutes: Int { segments.reduce(0) { $0 + $1.minutes } }
}

/// Whole local days a staff member is away, inclusive.
public struct TimeOff: Sendable, Hashable {
    public var first: LocalDate
    public var last: LocalDate
    public var note: String

    public init(first: LocalDate, last: LocalDate, note: String = "") {
        self.first = first
        self.last = last
        self.note = note
    }

    public func covers(_ date: LocalDate) -> Bool { date >= first && date <= last }
}

/// A staff member (a barber, a chair's person).
public struct StaffMember: Sendable, Hashable {
    public var id: String
    public var name: String
    /// Their own hours, intersected with the shop's; nil (and no `rotation`) means the shop's hours.
    public var hours: HoursExpression?
    /// Their own hours as a cycle of weeks counted from a date, instead of `hours` (never both).
    public var rotation: Rotation?
    public var breaks: [HoursExpression]
    /// Ids of the services they perform.
    public var services: [String]
    public var timeOff: [TimeOff]
    /// At most this many bookings a local day (nil: no limit).
    public var maxBookingsPerDay: Int?
    /// At most this many booked minutes a local day (nil: no limit).
    public var maxMinutesPerDay: Int?

    public init(
        id: String, name: String, hours: HoursExpression? = nil, breaks: [HoursExpression] = [],
        services: [String], timeOff: [TimeOff] = [], maxBookingsPerDay: Int? = nil, maxMinutesPerDay: Int? = nil,
        rotation: Rotation? = nil
    ) {
        self.id = id
        self.name = name
        self.hours = hours
        self.rotation = rotation
        self.breaks = breaks
        self.services = services
        self.timeOff = timeOff
        self.maxBookingsPerDay = maxBookingsPerDay
        self.maxMinutesPerDay = maxMinutesPerDay
    }

    /// Whether they keep hours of their own (weekly or a rotation) rather than the shop's.
    public var hasOwnHours: Bool { hours != nil || rotation != nil }

    /// Their own open wall-time intervals inside `window` (the rotation's or the weekly expression's); nil when
    /// they follow the shop's hours.
    public func ownHours(in window: Interval, holidays: Set<LocalDate>) -> IntervalSet? {
        if let rotation { return rotation.openIntervals(in: window, holidays: holidays) }
        return hours?.openIntervals(in: window, holidays: holidays)
    }

    /// Whether they perform every service in the offering.
    public func performs(_ offering: ServiceOffering) -> Bool { offering.serviceIDs.allSatisfy(services.contains) }
}

/// The `policies` section.
public struct Policies: Sendable, Hashable {
    public enum Fee: Sendable, Hashable {
        case none
        case percent(Int)
        case amount(Money)
    }

    /// How long a `held` booking waits for its deposit before it expires.
    public var holdMinutes: Int
    /// Cancelling at least this long before the start is free.
    public var cancellationWindowMinutes: Int
    /// What a later cancellation costs.
    public var cancellationFee: Fee
    /// Reminders, as minutes before the start.
    public var remindersMinutesBefore: [Int]
    /// Which staff member a booking for "any" gets.
    public var assign: StaffAssignment
    /// Whether a booking without a deposit saves the customer's card, so a late cancellation's or a no-show's fee
    /// can be charged to it (only with a payment provider that collects online).
    public var cardOnFile: Bool
    /// How long a start offered from the waitlist is held for the customer (`waitlist.offer_hold`) before it
    /// passes to the next in line.
    public var waitlistOfferHoldMinutes: Int = 30

    public init(
        holdMinutes: Int = 15, cancellationWindowMinutes: Int = 24 * 60, cancellationFee: Fee = .none,
        remindersMinutesBefore: [Int] = [], assign: StaffAssignment = .balanced, cardOnFile: Bool = false
    ) {
        self.holdMinutes = holdMinutes
        self.cancellationWindowMinutes = cancellationWindowMinutes
        self.cancellationFee = cancellationFee
        self.remindersMinutesBefore = remindersMinutesBefore
        self.assign = assign
        self.cardOnFile = cardOnFile
    }
}

/// The `assign` policy: how a booking for "any" staff member picks one among those free at its start.
public enum StaffAssignment: String, Sendable, Hashable, CaseIterable {
    /// The one with the fewest booked minutes on the start's local day; ties in declared order.
    case balanced
    /// The first in declared order.
    case inOrder = "in_order"
}
