import SlotCore
import SlotEngine
import SlotRules
import Testing

/// The slot list never disagrees with `decide`: for random rules, bookings and moments, the slots equal every
/// candidate start (each five minutes, plus odd seconds) that `decide` accepts.
@Suite struct SlotListPropertyTests {
    /// A small deterministic generator, so a failing seed can be replayed.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    struct Case {
        var rules: RuleSet
        var from: LocalDate
        var through: LocalDate
        var now: Int64
        var bookings: [BookedSpan]
    }

    static let shopHours = [
        "Mo-Fr 09:00-18:00; Sa 10:00-14:00", "24/7", "Mo-Su 00:00-06:00,08:00-20:00", "Mo-Su 01:00-04:00",
        "Fr-Su 22:00-03:00; Mo-Th 09:00-17:00", "Mo-Sa 08:30-12:15,13:00-19:45",
    ]
    static let staffHours = ["Mo-Su 10:00-16:00", "Mo-Fr 08:00-12:00,14:00-22:00", "Sa,Su 00:00-24:00"]
    static let dates: [(zone: String, date: String)] = [
        ("Europe/Berlin", "2026-03-27"), ("Europe/Berlin", "2026-10-23"), ("America/New_York", "2026-03-06"),
        ("America/New_York", "2026-10-30"), ("UTC", "2026-06-10"), ("Europe/Berlin", "2026-12-23"),
    ]

    static func makeCase(seed: UInt64) -> Case {
        var random = SplitMix64(state: seed)
        func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
        func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }

        let place = pick(dates)
        let zone = ShopTimeZone(identifier: place.zone)!
        let from = LocalDate(iso: place.date)!.adding(days: Int.random(in: 0...1, using: &random))
        let through = from.adding(days: Int.random(in: 0...2, using: &random))
        let day = { (offset: Int) in from.adding(days: offset) }

        var holidays: [Holiday] = []
        if chance(40) {
            holidays.append(Holiday(name: "Feast", rule: .date(day(Int.random(in: 0...2, using: &random)))))
        }
        var overrides: [Override] = []
        if chance(40) {
            let date = day(Int.random(in: 0...2, using: &random))
            overrides.append(Override(first: date, last: date, hours: chance(50) ? nil : Fixture.hours("10:00-13:00")))
        }
        let resources = [Resource(id: "chair", name: "Chair", count: Int.random(in: 1...2, using: &random))]
        var services: [Service] = []
        for index in 0..<Int.random(in: 1...3, using: &random) {
            var segments: [Segment] = []
            for part in 0..<Int.random(in: 1...3, using: &random) {
                let kind: Segment.Kind = part % 2 == 1 && chance(70) ? .processing : .active
                segments.append(Segment(kind, minutes: 5 * Int.random(in: 1...12, using: &random)))
            }
            services.append(
                Fixture.service(
                    "s\(index)", segments, before: pick([0, 0, 5, 10, 15]), after: pick([0, 0, 5, 10, 20]),
                    resources: chance(40) ? [ResourceNeed(resource: "chair", count: pick([1, 1, 2]))] : []))
        }
        var staff: [StaffMember] = []
        for index in 0..<Int.random(in: 1...3, using: &random) {
            let id = "m\(index)"
            let performs = services.map(\.id).filter { _ in chance(75) }
            staff.append(
                Fixture.member(
                    id, hours: chance(50) ? pick(staffHours) : nil, breaks: chance(30) ? ["Mo-Su 15:00-15:45"] : [],
                    services: performs.isEmpty ? [services[0].id] : performs,
                    timeOff: chance(20) ? [TimeOff(first: day(1), last: day(1))] : [],
                    maxBookings: chance(25) ? Int.random(in: 0...2, using: &random) : nil,
                    maxMinutes: chance(25) ? 15 * Int.random(in: 1...8, using: &random) : nil))
            if chance(25) {
                let date = day(Int.random(in: 0...2, using: &random))
                overrides.append(
                    Override(first: date, last: date, hours: chance(50) ? nil : Fixture.hours("12:00-23:00"), staff: id)
                )
            }
        }
        let rules = Fixture.rules(
            zone: zone, hours: pick(shopHours), step: pick([5, 10, 15, 20, 25, 30, 45, 60]),
            notice: pick([0, 30, 90, 600]), horizonDays: pick([1, 2, 3, 30]),
            breaks: chance(40) ? ["Mo-Sa 12:00-12:30"] : [], holidays: holidays, overrides: overrides,
            services: services, resources: resources, staff: staff)

        let dayStart = zone.instant(atWallMinute: from.startWallMinute)
        let now = dayStart - Int64.random(in: -43_200...172_800, using: &random)
        var bookings: [BookedSpan] = []
        for index in 0..<Int.random(in: 0...10, using: &random) {
            let member = pick(staff)
            let service = pick(services)
            let start = dayStart + 300 * Int64.random(in: -100...(288 * 3), using: &random)
            bookings.append(
                BookedSpan(id: "b\(index)", staff: member.id, start: start, offering: ServiceOffering(service)))
        }
        return Case(
            rules: withScheduleTerms(rules, seed: seed), from: from, through: through, now: now, bookings: bookings)
    }

    /// Issue 14's terms, drawn from their own generator so the cases above stay as they were: staff members' own
    /// price and duration, services offered only at some hours, and a rotation of weeks instead of weekly hours.
    static func withScheduleTerms(_ rules: RuleSet, seed: UInt64) -> RuleSet {
        var random = SplitMix64(state: seed ^ 0x5EED_0014)
        func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
        func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }
        var rules = rules
        for index in rules.services.indices {
            if chance(25) {
                rules.services[index].available = Fixture.hours(
                    pick(["Mo-Fr 10:00-13:30; Sa,Su 00:00-24:00", "Mo-Su 00:00-02:30,09:00-22:00"]))
            }
            for member in rules.staff where chance(40) {
                rules.services[index].staffTerms[member.id] = StaffTerms(
                    price: Fixture.money(pick([1500, 3500])),
                    durationMinutes: 5 * Int.random(in: 1...18, using: &random))
            }
        }
        for index in rules.staff.indices where chance(20) {
            let start = LocalDate(iso: "2026-01-05")!.adding(days: Int.random(in: 0...6, using: &random))
            let weeks = ["24/7", "Mo-Fr 12:00-20:00", "off"].prefix(Int.random(in: 2...3, using: &random))
            rules.staff[index].hours = nil
            rules.staff[index].rotation = Rotation(start: start, weeks: weeks.map(Fixture.hours))
        }
        return rules
    }

    @Test(arguments: 0..<30, StaffAssignment.allCases)
    func slotListEqualsFilteringEveryCandidateWithDecide(seed: Int, assign: StaffAssignment) {
        let testCase = Self.makeCase(seed: UInt64(seed) &* 7919 &+ 17)
        var rules = testCase.rules
        rules.policies.assign = assign
        let engine = AvailabilityEngine(rules: rules)
        let zone = rules.shop.timeZone
        let lower = zone.instant(atWallMinute: testCase.from.startWallMinute)
        let upper = zone.instant(atWallMinute: testCase.through.adding(days: 1).startWallMinute)
        var candidates = Array(stride(from: lower, to: upper, by: 300))
        candidates += candidates.prefix(50).map { $0 + 1 }
        var offerings = rules.services.map { ServiceOffering($0) }
        if rules.services.count > 1,
            let combined = ServiceOffering.backToBack([offerings[0], offerings[1]])
        {
            offerings.append(combined)
        }
        let choices = [StaffChoice.any] + rules.staff.map { StaffChoice.member($0.id) }
        // `decide` compiles the days around each start on its own; handing it one wide schedule is only faster.
        // That both give the same answer is checked on every 23rd candidate.
        let schedule = engine.schedule(from: testCase.from.adding(days: -3), through: testCase.through.adding(days: 3))
        for offering in offerings {
            for choice in choices {
                let slots = engine.slots(
                    for: offering, staff: choice, from: testCase.from, through: testCase.through, now: testCase.now,
                    bookings: testCase.bookings)
                var decided: [Slot] = []
                for (index, start) in candidates.enumerated() {
                    let decision = engine.decide(
                        offering: offering, staff: choice, start: start, now: testCase.now,
                        bookings: testCase.bookings, schedule: schedule)
                    if let slot = decision.slot { decided.append(slot) }
                    if index % 23 == 0 {
                        let alone = engine.decide(
                            offering: offering, staff: choice, start: start, now: testCase.now,
                            bookings: testCase.bookings)
                        #expect(alone == decision, "seed \(seed), \(assign), \(offering.name), \(choice), \(start)")
                    }
                }
                #expect(slots == decided, "seed \(seed), \(assign), \(offering.name), \(choice)")
            }
        }
    }

    @Test func thePoliciesAssignDifferentlyInSomeRandomCases() {
        // Guards the property above against cases where `balanced` and `in_order` never differ.
        let differing = (0..<30).filter { seed in
            let testCase = Self.makeCase(seed: UInt64(seed) &* 7919 &+ 17)
            let answers = StaffAssignment.allCases.map { assign in
                var rules = testCase.rules
                rules.policies.assign = assign
                return AvailabilityEngine(rules: rules).slots(
                    for: ServiceOffering(rules.services[0]), staff: .any, from: testCase.from,
                    through: testCase.through, now: testCase.now, bookings: testCase.bookings)
            }
            return answers[0] != answers[1]
        }
        #expect(differing.count >= 3)
    }

    @Test func scheduleTermsShapeSomeRandomCases() {
        // Guards the property above against terms that never apply: some slot lists change without them.
        let changed = (0..<30).filter { seed in
            let testCase = Self.makeCase(seed: UInt64(seed) &* 7919 &+ 17)
            var plain = testCase.rules
            for index in plain.services.indices {
                plain.services[index].available = nil
                plain.services[index].staffTerms = [:]
            }
            let answers = [testCase.rules, plain].map { rules in
                AvailabilityEngine(rules: rules).slots(
                    for: ServiceOffering(rules.services[0]), staff: .any, from: testCase.from,
                    through: testCase.through, now: testCase.now, bookings: testCase.bookings)
            }
            return answers[0] != answers[1]
        }
        #expect(changed.count >= 5)
    }

    @Test func randomCasesAreNotAllEmpty() {
        // Guards the property above against a generator that only makes empty shops.
        let nonEmpty = (0..<30).filter { seed in
            let testCase = Self.makeCase(seed: UInt64(seed) &* 7919 &+ 17)
            return !AvailabilityEngine(rules: testCase.rules).slots(
                for: ServiceOffering(testCase.rules.services[0]), staff: .any, from: testCase.from,
                through: testCase.through, now: testCase.now, bookings: testCase.bookings
            ).isEmpty
        }
        #expect(nonEmpty.count >= 12)
    }
}
