// Booking writes per second through SQLiteBookingStore next to raw SQLite (GRDB `Database.execute`) doing the same
// transaction shape: overlap SELECT + booking, event and outbox INSERTs, one transaction per booking.
//
//     swift run -c release --scratch-path .build-<you> StoreBenchmarks [--count N] [--dir DIR]
//
// Each figure is the best of three runs of N sequential bookings in fresh files (sequential, because one writer is
// what SQLite allows; concurrency only queues behind the write lock).

import Foundation
import GRDB
import SlotCore
import SlotRules
import SlotStore

struct Options {
    var count = 2_000
    var directory = FileManager.default.temporaryDirectory.path

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--count": count = iterator.next().flatMap(Int.init) ?? count
            case "--dir": directory = iterator.next() ?? directory
            default: print("ignoring unknown argument \(argument)")
            }
        }
    }
}

let options = Options(CommandLine.arguments)
let base: Int64 = 1_800_000_000
let footprint = BookingFootprint(
    segments: [Segment(.active, minutes: 30)], bufferAfterMinutes: 10, resources: [ResourceNeed(resource: "chair")])

/// A booking that conflicts with nothing before it: each one 40 minutes after the previous.
func newBooking(_ index: Int) -> NewBooking {
    let start = base + Int64(index) * 2_400
    return NewBooking(
        staffID: "ana", services: ["haircut"],
        times: BookingTimes(start: start, end: start + 1_800, footprint: footprint),
        price: Money(minorUnits: 2_500, currency: "EUR"), customer: CustomerInfo(name: "Kim", email: "kim@example.com"))
}

func freshPath(_ name: String) -> String {
    let path = options.directory + "/slotd-bench-\(name)-\(UUID().uuidString).db"
    return path
}

func remove(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Bookings per second through the store.
func storeRun(_ synchronous: SQLiteBookingStore.Synchronous) async throws -> Double {
    let path = freshPath("store")
    defer { remove(path) }
    let store = try SQLiteBookingStore(path: path, synchronous: synchronous)
    let clock = ContinuousClock()
    let elapsed = try await clock.measure {
        for index in 0..<options.count {
            let new = newBooking(index)
            let busy = new.times.busy
            let result = try await store.createBooking(new, at: base - 86_400, idempotency: nil) { conflicting in
                conflicting.contains { $0.staffBusy.overlaps(busy) } ? "taken" : nil
            }
            guard result.booking != nil else { fatalError("benchmark booking \(index) was refused") }
        }
    }
    try store.close()
    return Double(options.count) / seconds(elapsed)
}

/// Bookings per second with GRDB's `Database.execute` on the same schema and settings.
func rawRun(_ synchronous: SQLiteBookingStore.Synchronous) throws -> Double {
    let path = freshPath("raw")
    defer { remove(path) }
    // The store creates the schema; then a plain pool writes to it.
    try SQLiteBookingStore(path: path).close()
    var configuration = Configuration()
    configuration.busyMode = .timeout(5)
    let pool = try DatabasePool(path: path, configuration: configuration)
    // After opening: DatabasePool sets NORMAL itself when it switches to WAL (see SQLiteBookingStore.init).
    try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)") }
    try pool.write { db in
        try db.execute(
            sql: "INSERT INTO customers (id, name, email, created_at, updated_at) VALUES ('cu_1', 'Kim', NULL, 0, 0)")
    }
    let clock = ContinuousClock()
    let elapsed = try clock.measure {
        for index in 0..<options.count {
            let start = base + Int64(index) * 2_400
            try pool.write { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM bookings WHERE status IN ('held', 'confirmed') AND busy_start < ?
                        AND busy_start > ? AND busy_end > ? AND staff_id = ?
                        """,
                    arguments: [start + 2_400, start - 172_800, start, "ana"])
                if !rows.isEmpty { fatalError("raw booking \(index) overlaps") }
                let id = "bk_\(index)"
                try db.execute(
                    sql: """
                        INSERT INTO bookings (id, status, staff_id, services, start_at, end_at, busy_start, busy_end,
                            segments, buffer_after_min, resources, price_minor, currency, customer_id, created_at,
                            updated_at)
                        VALUES (?, 'confirmed', 'ana', '["haircut"]', ?, ?, ?, ?,
                            '[{"kind":"active","minutes":30}]', 10, '[{"count":1,"resource":"chair"}]', 2500, 'EUR',
                            'cu_1', ?, ?)
                        """,
                    arguments: [id, start, start + 1_800, start, start + 2_400, base, base])
                try db.execute(
                    sql: "INSERT INTO events (type, at, data) VALUES ('booking.created', ?, ?)",
                    arguments: [base, #"{"booking":"\#(id)","status":"confirmed"}"#])
                try db.execute(
                    sql: """
                        INSERT INTO outbox (kind, payload, due_at, created_at)
                        VALUES ('notify.booking_created', ?, ?, ?)
                        """,
                    arguments: [#"{"booking":"\#(id)"}"#, base, base])
            }
        }
    }
    try pool.close()
    return Double(options.count) / seconds(elapsed)
}

func best(_ runs: Int = 3, _ body: () async throws -> Double) async throws -> Double {
    var result = 0.0
    for _ in 0..<runs { result = max(result, try await body()) }
    return result
}

print("StoreBenchmarks: \(options.count) sequential bookings per run, best of 3, files in \(options.directory)")
for synchronous in SQLiteBookingStore.Synchronous.allCases {
    let store = try await best { try await storeRun(synchronous) }
    let raw = try await best { try rawRun(synchronous) }
    let ratio = store / raw * 100
    let verdict = ratio >= 50 ? "goal >= 50 % met" : "below the 50 % goal"
    print(
        "synchronous=\(synchronous.rawValue): store \(Int(store.rounded())) bookings/s, raw SQLite "
            + "\(Int(raw.rounded())) tx/s, store/raw \((ratio * 10).rounded() / 10) % (\(verdict))")
}
