// A slot query's cost next to the size of the store (issue 10): the same query on an empty store and on one with
// 20,000 bookings, each the daemon's path without HTTP: `SpanQuery` → `SQLiteBookingStore.bookedSpans` →
// `AvailabilityEngine.slots` on a compiled schedule. Prints figures with their goals; asserts nothing.
// `Benchmarks/slot_query_bench.py` measures the same queries through the daemon's socket, on stores this program
// seeds (`--seed DIR` writes DIR/rules/shop.yaml and DIR/slotd.sqlite, then exits).
//
//     swift run -c release SlotQueryBenchmarks [--bookings N] [--rounds N] [--seed DIR]
import Foundation
import SlotCore
import SlotEngine
import SlotRules
import SlotStore

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return Int(arguments[index + 1]) ?? fallback
}
let bookingCount = option("--bookings", 20_000)
let rounds = option("--rounds", 400)

let barbers = (0..<10).map { "barber\($0)" }
let rulesText = """
    shop:
      name: Bench
      timezone: Europe/Berlin
      currency: EUR
      slot_step: 15m
      min_notice: 0m
      horizon: 120d
    hours: Mo-Sa 09:00-19:00
    services:
      - id: haircut
        name: Haircut
        duration: 30m
        buffer_after: 5m
        price: 30
    staff:
    \(barbers.map { "  - id: \($0)\n    name: \($0)\n    services: [haircut]" }.joined(separator: "\n"))
    """
let loaded = RuleLoader.load([RuleSource(name: "shop.yaml", text: rulesText)])
guard let rules = loaded.ruleSet else {
    print("the benchmark's rules do not load: \(loaded.diagnostics)")
    exit(1)
}
let engine = AvailabilityEngine(rules: rules)
let zone = rules.shop.timeZone
guard case .success(let haircut) = engine.offering(service: "haircut", variant: nil) else { exit(1) }
// Today's local midnight is "now" for every query, so a daemon started on a seeded store sees the same days.
let today = zone.localDateTime(atInstant: Int64(Date().timeIntervalSince1970)).date
let now = zone.instant(atWallMinute: today.startWallMinute)

/// A store in a fresh directory, filled with `count` bookings: 8 a day per barber (09:00 to 16:00 on the hour),
/// Monday to Saturday, the newest 50 days ahead of now and the rest in the past, all still active (a shop that
/// never marks bookings completed).
func makeStore(count: Int, in directory: String? = nil) async throws -> SQLiteBookingStore {
    let directory = directory ?? NSTemporaryDirectory() + "slot-query-bench-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let store = try await SQLiteBookingStore.open(path: directory + "/slotd.sqlite", synchronous: .normal)
    let footprint = BookingFootprint(haircut)
    var made = 0
    var day = today.adding(days: 49)
    while made < count {
        if day.weekday != .sunday {
            for barber in barbers {
                for hour in 9...16 where made < count {
                    let start = zone.instant(atWallMinute: day.startWallMinute + Int64(hour * 60))
                    let new = NewBooking(
                        staffID: barber, services: ["haircut"], variant: nil,
                        times: BookingTimes(start: start, end: start + footprint.durationSeconds, footprint: footprint),
                        price: haircut.price, deposit: nil,
                        customer: CustomerInfo(name: "Customer \(made)", email: nil, phone: nil), notes: "",
                        holdExpiresAt: nil)
                    _ = try await store.createBooking(new, at: now - 400 * 86_400, idempotency: nil) { _ in
                        nil as String?
                    }
                    made += 1
                }
            }
        }
        day = day.adding(days: -1)
    }
    return store
}

struct Case {
    var name: String
    var choice: StaffChoice
    var from: LocalDate
    var through: LocalDate
}

/// Median and 90th percentile µs of the daemon's slot query path, with the spans read and slots found.
func measure(_ store: SQLiteBookingStore, _ query: Case) async throws
    -> (median: Double, p90: Double, spans: Int, slots: Int)
{
    let schedule = engine.schedule(from: query.from.adding(days: -3), through: query.through.adding(days: 3))
    var samples: [Double] = []
    var spans = 0
    var slots = 0
    for round in 0..<(rounds + 20) {
        let clock = ContinuousClock.now
        let bookings = try await store.bookedSpans(
            SpanQuery(for: haircut, by: query.choice, from: query.from, through: query.through, engine: engine))
        let found = engine.slots(
            for: haircut, staff: query.choice, from: query.from, through: query.through, now: now, bookings: bookings,
            schedule: schedule)
        let elapsed = ContinuousClock.now - clock
        let (seconds, attoseconds) = elapsed.components
        if round >= 20 { samples.append(Double(attoseconds) / 1e12 + Double(seconds) * 1e6) }
        spans = bookings.count
        slots = found.count
    }
    samples.sort()
    return (samples[samples.count / 2], samples[samples.count * 9 / 10], spans, slots)
}

if let index = arguments.firstIndex(of: "--seed"), index + 1 < arguments.count {
    let directory = arguments[index + 1]
    try FileManager.default.createDirectory(atPath: directory + "/rules", withIntermediateDirectories: true)
    try rulesText.write(toFile: directory + "/rules/shop.yaml", atomically: true, encoding: .utf8)
    try await makeStore(count: bookingCount, in: directory).close()
    print("seeded \(directory): \(bookingCount) bookings, today \(today)")
    exit(0)
}

// The busy day: the next working day after tomorrow, with 8 bookings per barber.
let busyDay = [2, 3, 4].map { today.adding(days: $0) }.first { $0.weekday != .sunday } ?? today.adding(days: 2)
let cases = [
    (Case(name: "one day, one barber (busy day)", choice: .member("barber0"), from: busyDay, through: busyDay), 1.2),
    (
        Case(name: "90 days, any barber", choice: .any, from: today.adding(days: 1), through: today.adding(days: 90)),
        2.0
    ),
]

print("Seeding \(bookingCount) bookings (10 barbers, 8 a day each, Mo-Sa, up to 50 days ahead, the rest past)…")
let seedStart = ContinuousClock.now
let empty = try await makeStore(count: 0)
let full = try await makeStore(count: bookingCount)
print("  seeded in \(ContinuousClock.now - seedStart)")
print("Slot query (spans read + slot search on a compiled schedule), \(rounds) rounds each, µs:")
print("  median  p90      spans  slots  store")
for (query, goal) in cases {
    let a = try await measure(empty, query)
    let b = try await measure(full, query)
    print("\(query.name):")
    print(String(format: "  %7.1f %7.1f %6d %6d  empty", a.median, a.p90, a.spans, a.slots))
    print(String(format: "  %7.1f %7.1f %6d %6d  %d bookings", b.median, b.p90, b.spans, b.slots, bookingCount))
    let ratio = b.median / a.median
    print(String(format: "  ratio %.2fx (goal: at most %.1fx) — %@", ratio, goal, ratio <= goal ? "met" : "NOT met"))
}
