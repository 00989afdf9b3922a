import SlotCore
import SlotEngine
import SlotRules

/// Times the rule editor's preview (issue 13): 28 days, 2 barbers, 3 services, 500 active bookings, against a
/// candidate that adds a lunch break for one barber and an evening hour for the other.
///
/// Prints `PREVIEW<TAB>median ms<TAB>min ms<TAB>gained/lost/refused<TAB>case` (thread CPU time). The cold case is
/// what `POST /v1/rules/preview` does: build both engines, compile both schedules, compare.
enum RulePreviewBenchmark {
    static func run() {
        guard let running = makeRules(lunch: false), let candidate = makeRules(lunch: true),
            let first = LocalDate(iso: "2026-03-02")
        else {
            print("preview: cannot build the benchmark rules (hour expressions did not parse)")
            return
        }
        let zone = running.shop.timeZone
        let now = zone.instant(atWallMinute: first.startWallMinute) - 3600
        let bookings = makeBookings(rules: running, first: first, count: 500)
        let before = AvailabilityEngine(rules: running)
        let after = AvailabilityEngine(rules: candidate)
        let days = RulePreview.defaultDays
        print(
            "preview: \(days) days from \(first), \(running.staff.count) barbers, \(running.services.count) services, "
                + "\(bookings.count) bookings; columns: median ms, min ms (CPU time), gained/lost/refused, case")
        var preview = RulePreview.compare(running: before, candidate: after, bookings: bookings, now: now, days: days)
        let figures = "\(preview.gained.count)/\(preview.lost.count)/\(preview.noLongerAllowed.count)"
        let cold = SlotSearchBenchmark.measure(rounds: 15) {
            preview = RulePreview.compare(
                running: AvailabilityEngine(rules: running), candidate: AvailabilityEngine(rules: candidate),
                bookings: bookings, now: now, days: days)
        }
        print("PREVIEW\t\(format(cold))\t\(figures)\tcold: engines, schedules and comparison (goal < 50 ms)")
        let unchanged = SlotSearchBenchmark.measure(rounds: 15) {
            preview = RulePreview.compare(running: before, candidate: before, bookings: bookings, now: now, days: days)
        }
        print("PREVIEW\t\(format(unchanged))\t0/0/0\tan unchanged candidate (the same engine twice)")
    }

    static func format(_ figure: (median: Double, minimum: Double)) -> String {
        "\(SlotSearchBenchmark.format(figure.median / 1000))\t\(SlotSearchBenchmark.format(figure.minimum / 1000))"
    }

    static func makeRules(lunch: Bool) -> RuleSet? {
        func hours(_ text: String) -> HoursExpression? { try? HoursExpression.parse(text).get() }
        guard let zone = ShopTimeZone(identifier: "Europe/Berlin"),
            let shopHours = hours("Mo-Fr 09:00-20:00; Sa 09:00-16:00"),
            let anna = hours("Mo-Sa 09:00-18:00"),
            let ben = hours(lunch ? "Mo-Fr 10:00-20:00; Sa 09:00-14:00" : "Mo-Fr 10:00-19:00; Sa 09:00-14:00"),
            let lunchBreak = hours("Mo-Fr 12:00-13:00")
        else { return nil }
        let price = Money(minorUnits: 2800, currency: "EUR")
        let services = [
            Service(id: "haircut", name: "Haircut", segments: [Segment(.active, minutes: 30)], price: price),
            Service(
                id: "beard", name: "Beard trim", segments: [Segment(.active, minutes: 20)], price: price,
                bufferAfterMinutes: 5),
            Service(id: "shave", name: "Shave", segments: [Segment(.active, minutes: 40)], price: price),
        ]
        let ids = services.map(\.id)
        return RuleSet(
            shop: Shop(
                name: "Benchmark", timeZone: zone, slotStepMinutes: 15, minNoticeMinutes: 60,
                horizonMinutes: 90 * 1440),
            hours: shopHours, breaks: [], holidays: [], overrides: [], services: services, resources: [],
            staff: [
                StaffMember(
                    id: "anna", name: "Anna", hours: anna, breaks: lunch ? [lunchBreak] : [], services: ids,
                    timeOff: []),
                StaffMember(id: "ben", name: "Ben", hours: ben, breaks: [], services: ids, timeOff: []),
            ])
    }

    /// `count` bookings spread over the first four weeks, alternating barbers, each on a free grid start.
    static func makeBookings(rules: RuleSet, first: LocalDate, count: Int) -> [ActiveBooking] {
        let engine = AvailabilityEngine(rules: rules)
        guard let haircut = rules.offering(service: "haircut") else { return [] }
        let now = rules.shop.timeZone.instant(atWallMinute: first.startWallMinute) - 3600
        var bookings: [ActiveBooking] = []
        var spans: [BookedSpan] = []
        var day = 0
        while bookings.count < count && day < 28 {
            let date = first.adding(days: day)
            for staff in ["anna", "ben"] {
                let free = engine.slots(
                    for: haircut, staff: .member(staff), from: date, through: date, now: now, bookings: spans)
                // Every other free start, so the day keeps gaps as a real one does.
                for slot in free.enumerated().filter({ $0.offset % 2 == 0 }).map(\.element).prefix(12) {
                    guard bookings.count < count else { break }
                    let id = "bk_\(bookings.count)"
                    let span = BookedSpan(id: id, staff: staff, start: slot.start, offering: haircut)
                    spans.append(span)
                    bookings.append(ActiveBooking(span: span, services: ["haircut"], variant: nil, customer: id))
                }
            }
            day += 1
        }
        return bookings
    }
}
