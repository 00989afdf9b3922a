import SlotCore
import SlotEngine
import SlotRules
import Testing

/// Rule sets built in code for the engine tests, in shop-local wall time.
enum Fixture {
    static let berlin = ShopTimeZone(identifier: "Europe/Berlin")!
    static let newYork = ShopTimeZone(identifier: "America/New_York")!

    static func hours(_ text: String) -> HoursExpression {
        switch HoursExpression.parse(text) {
        case .success(let expression): return expression
        case .failure(let error): fatalError("fixture hours '\(text)': \(error)")
        }
    }

    static func date(_ text: String) -> LocalDate { LocalDate(iso: text)! }

    /// The instant of a wall time (`YYYY-MM-DDTHH:MM`) in a zone (first occurrence).
    static func at(_ text: String, in zone: ShopTimeZone = berlin) -> Int64 {
        zone.instant(atWallMinute: LocalDateTime(iso: text)!.wallMinute)
    }

    static func money(_ cents: Int) -> Money { Money(minorUnits: cents, currency: "EUR") }

    static func service(
        _ id: String, _ segments: [Segment], before: Int = 0, after: Int = 0, resources: [ResourceNeed] = [],
        variants: [ServiceVariant] = []
    ) -> Service {
        Service(
            id: id, name: id.capitalized, segments: segments, price: money(2000), bufferBeforeMinutes: before,
            bufferAfterMinutes: after, resources: resources, variants: variants)
    }

    static func active(_ minutes: Int) -> Segment { Segment(.active, minutes: minutes) }
    static func processing(_ minutes: Int) -> Segment { Segment(.processing, minutes: minutes) }

    static let cut = service("cut", [active(30)])

    static func member(
        _ id: String, hours: String? = nil, breaks: [String] = [], services: [String] = ["cut"],
        timeOff: [TimeOff] = [], maxBookings: Int? = nil, maxMinutes: Int? = nil
    ) -> StaffMember {
        StaffMember(
            id: id, name: id.capitalized, hours: hours.map(Self.hours), breaks: breaks.map(Self.hours),
            services: services, timeOff: timeOff, maxBookingsPerDay: maxBookings, maxMinutesPerDay: maxMinutes)
    }

    static func rules(
        zone: ShopTimeZone = berlin, hours: String = "Mo-Fr 09:00-17:00", step: Int = 15, notice: Int = 0,
        horizonDays: Int = 400, breaks: [String] = [], holidays: [Holiday] = [], overrides: [Override] = [],
        services: [Service] = [cut], resources: [Resource] = [], staff: [StaffMember] = [member("ana")]
    ) -> RuleSet {
        RuleSet(
            shop: Shop(
                name: "Test", timeZone: zone, slotStepMinutes: step, minNoticeMinutes: notice,
                horizonMinutes: horizonDays * 1440),
            hours: self.hours(hours), breaks: breaks.map(self.hours), holidays: holidays, overrides: overrides,
            services: services, resources: resources, staff: staff)
    }

    /// A moment long before every date the tests use, so notice and horizon do not interfere.
    static let longAgo = at("2026-01-01T00:00")

    /// Slot starts as local wall times (`2026-03-09T09:00`).
    static func walls(_ slots: [Slot], in zone: ShopTimeZone = berlin) -> [String] {
        slots.map { zone.localDateTime(atInstant: $0.start).description }
    }

    /// Local wall intervals (`09:00-12:00` style pairs) of a set of instants on one date.
    static func wallSpans(_ set: IntervalSet?, in zone: ShopTimeZone = berlin) -> [String] {
        (set?.intervals ?? []).map { interval in
            let from = zone.localDateTime(atInstant: interval.lower).description
            let to = zone.localDateTime(atInstant: interval.upper).description
            return "\(from.suffix(5))-\(to.suffix(5))"
        }
    }

    static func booking(
        _ id: String, _ staff: String, _ wall: String, _ offering: ServiceOffering, zone: ShopTimeZone = berlin
    ) -> BookedSpan {
        BookedSpan(id: id, staff: staff, start: at(wall, in: zone), offering: offering)
    }

    static func offering(_ rules: RuleSet, _ id: String, variant: String? = nil) -> ServiceOffering {
        rules.offering(service: id, variant: variant)!
    }
}

extension AvailabilityEngine {
    /// Slots of one local date for a service id, seen from long ago.
    func starts(
        _ service: String, staff: StaffChoice = .any, on date: String, through: String? = nil,
        now: Int64 = Fixture.longAgo, bookings: [BookedSpan] = []
    ) -> [Slot] {
        slots(
            for: Fixture.offering(rules, service), staff: staff, from: Fixture.date(date),
            through: Fixture.date(through ?? date), now: now, bookings: bookings)
    }

    /// The reason codes for a wall-time start.
    func codes(
        _ service: String, staff: StaffChoice, at wall: String, now: Int64 = Fixture.longAgo,
        bookings: [BookedSpan] = []
    ) -> [String] {
        decide(
            offering: Fixture.offering(rules, service), staff: staff, wallTime: LocalDateTime(iso: wall)!, now: now,
            bookings: bookings
        ).reasons.map(\.code)
    }
}
