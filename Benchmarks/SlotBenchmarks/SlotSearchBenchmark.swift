import SlotCore
import SlotEngine
import SlotRules

#if canImport(Glibc)
    import Glibc
#endif

/// Times 90-day slot searches over a ten-barber shop: one staff member and "any", without and with ~200 existing
/// bookings, from a compiled schedule (warm) and including the free-time compilation (cold).
///
/// Prints one line per case: `SLOTS<TAB>median µs<TAB>min µs<TAB>slots found<TAB>case` (thread CPU time per
/// search). `SLOT_BENCH_PROFILE=<case index>` runs one case in a loop instead, for `perf record`.
enum SlotSearchBenchmark {
    static func run() {
        guard let rules = makeRules() else {
            print("slots: cannot build the benchmark rules (hour expressions did not parse)")
            return
        }
        let engine = AvailabilityEngine(rules: rules)
        let zone = rules.shop.timeZone
        guard let first = LocalDate(iso: "2026-03-02"), let haircut = rules.offering(service: "haircut"),
            let colour = rules.offering(service: "colour")
        else { return }
        let last = first.adding(days: 89)
        let now = zone.instant(atWallMinute: first.startWallMinute) - 3600
        let bookings = makeBookings(rules: rules, first: first, haircut: haircut, colour: colour)
        let schedule = engine.schedule(from: first.adding(days: -2), through: last.adding(days: 2))

        print(
            "slots: 90 days (\(first) .. \(last)), \(rules.staff.count) staff, 15-minute grid, "
                + "\(bookings.count) bookings in the 'with bookings' cases; columns: median µs, min µs (CPU time per "
                + "search), slots found, case")
        let cases: [(name: String, staff: StaffChoice, bookings: [BookedSpan], cold: Bool)] = [
            ("one staff, no bookings", .member("s0"), [], false),
            ("one staff, with bookings", .member("s0"), bookings, false),
            ("any of 10 staff, no bookings", .any, [], false),
            ("any of 10 staff, with bookings", .any, bookings, false),
            ("cold: one staff, with bookings (compiles free time)", .member("s0"), bookings, true),
            ("cold: any of 10 staff, with bookings (compiles free time)", .any, bookings, true),
        ]
        if let variable = getenv("SLOT_BENCH_PROFILE"), let index = Int(String(cString: variable)) {
            // Runs one case in a loop for a profiler: SLOT_BENCH_PROFILE=3 perf record …
            let item = cases[index]
            var total = 0
            for _ in 0..<(item.cold ? 500 : 5000) {
                total +=
                    engine.slots(
                        for: haircut, staff: item.staff, from: first, through: last, now: now, bookings: item.bookings,
                        schedule: item.cold ? nil : schedule
                    ).count
            }
            print("profiled \(item.name): \(total)")
            return
        }
        for item in cases {
            var found = 0
            let batch = item.cold ? 2 : 20
            let rounds = item.cold ? 15 : 40
            var samples: [Double] = []
            for _ in 0..<rounds {
                let start = clock()
                for _ in 0..<batch {
                    found =
                        engine.slots(
                            for: haircut, staff: item.staff, from: first, through: last, now: now,
                            bookings: item.bookings, schedule: item.cold ? nil : schedule
                        ).count
                }
                samples.append((clock() - start) / Double(batch))
            }
            samples.sort()
            print(
                "SLOTS\t\(format(samples[samples.count / 2] * 1e6))\t\(format(samples[0] * 1e6))\t\(found)\t"
                    + item.name
            )
        }
        let compile = measure(rounds: 15) {
            _ = engine.schedule(from: first.adding(days: -2), through: last.adding(days: 2))
        }
        print(
            "SLOTS\t\(format(compile.median))\t\(format(compile.minimum))\t-\t"
                + "compiling the schedule alone (94 days, 10 staff)"
        )
    }

    static func makeRules() -> RuleSet? {
        func hours(_ text: String) -> HoursExpression? { try? HoursExpression.parse(text).get() }
        func day(_ text: String) -> LocalDate { LocalDate(iso: text) ?? LocalDate(daysSinceEpoch: 0) }
        guard let zone = ShopTimeZone(identifier: "Europe/Berlin"),
            let shopHours = hours("Mo-Fr 09:00-19:00; Sa 09:00-16:00; PH off"),
            let lunch = hours("Mo-Fr 13:00-13:30")
        else { return nil }
        let staffHours = [
            "Mo-Fr 09:00-17:00", "Tu-Sa 10:00-19:00", "Mo,We,Fr 09:00-19:00; Sa 09:00-14:00", "Mo-Th 12:00-19:00",
            "Mo-Sa 09:00-19:00",
        ].compactMap(hours)
        let breaks = ["Mo-Fr 11:00-11:15", "Mo-Sa 15:00-15:30", "We 12:00-13:00"].compactMap(hours)
        let price = Money(minorUnits: 2800, currency: "EUR")
        let services = [
            Service(
                id: "haircut", name: "Haircut", segments: [Segment(.active, minutes: 30)], price: price,
                bufferAfterMinutes: 5, resources: [ResourceNeed(resource: "chair")]),
            Service(
                id: "colour", name: "Colour",
                segments: [
                    Segment(.active, minutes: 20), Segment(.processing, minutes: 30), Segment(.active, minutes: 15),
                ],
                price: price, bufferBeforeMinutes: 5,
                resources: [ResourceNeed(resource: "chair"), ResourceNeed(resource: "basin")]),
        ]
        let staff = (0..<10).map { index in
            StaffMember(
                id: "s\(index)", name: "Barber \(index)",
                hours: index % 3 == 0 ? nil : staffHours[index % staffHours.count],
                breaks: index % 2 == 0 ? [breaks[index % breaks.count]] : [], services: ["haircut", "colour"],
                timeOff: index == 4
                    ? [TimeOff(first: day("2026-04-13"), last: day("2026-04-24"))] : [],
                maxBookingsPerDay: index == 7 ? 8 : nil)
        }
        return RuleSet(
            shop: Shop(
                name: "Benchmark", timeZone: zone, slotStepMinutes: 15, minNoticeMinutes: 120,
                horizonMinutes: 120 * 1440),
            hours: shopHours, breaks: [lunch],
            holidays: [
                Holiday(name: "Good Friday", rule: .easter(offsetDays: -2)),
                Holiday(name: "Easter Monday", rule: .easter(offsetDays: 1)),
                Holiday(name: "Labour Day", rule: .yearly(month: 5, day: 1)),
            ],
            overrides: [
                Override(
                    first: day("2026-04-30"), last: day("2026-04-30"),
                    hours: hours("09:00-14:00"))
            ],
            services: services,
            resources: [
                Resource(id: "chair", name: "Chair", count: 8), Resource(id: "basin", name: "Basin", count: 2),
            ],
            staff: staff)
    }

    /// ~200 bookings spread over the 90 days and the staff, deterministic.
    static func makeBookings(
        rules: RuleSet, first: LocalDate, haircut: ServiceOffering, colour: ServiceOffering
    ) -> [BookedSpan] {
        let zone = rules.shop.timeZone
        var bookings: [BookedSpan] = []
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for index in 0..<200 {
            let date = first.adding(days: next(90))
            let minute = 9 * 60 + 15 * next(36)
            let start = zone.instant(atWallMinute: date.startWallMinute + Int64(minute))
            let member = rules.staff[next(rules.staff.count)].id
            bookings.append(
                BookedSpan(id: "b\(index)", staff: member, start: start, offering: index % 5 == 0 ? colour : haircut))
        }
        return bookings
    }

    static func measure(rounds: Int, _ body: () -> Void) -> (median: Double, minimum: Double) {
        var samples: [Double] = []
        for _ in 0..<rounds {
            let start = clock()
            body()
            samples.append(clock() - start)
        }
        samples.sort()
        return (samples[samples.count / 2] * 1e6, samples[0] * 1e6)
    }

    static func clock() -> Double {
        var spec = timespec()
        // CPU time of this thread: on a shared machine, time spent descheduled is not the search's.
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
