import Foundation
import Logging
import SlotCore
import SlotEngine
import SlotProviders
import SlotStore

/// The end-of-day sweep: a durable `sweep.end_of_day` job at the shop's local end of day (`outbox.end_of_day`).
///
/// It appends a `day.closed` event (the day's completed, no-show and cancelled counts, and the confirmed bookings
/// that ended but were never marked: the barber's loose ends), enqueues a `notify.day_summary` message, and
/// enqueues the next day's sweep, all in the transaction that finishes it, so exactly one sweep is pending.
struct EndOfDaySweep: OutboxJobHandler {
    let store: any BookingStore
    let outbox: any OutboxStore
    let rules: RuleHolder
    let clock: WallClock
    let endOfDayMinute: Int
    let logger: Logger

    var family: JobFamily { .sweep }

    /// The next sweep after `now`: today's end of day if still ahead, else tomorrow's.
    static func next(after now: Int64, zone: ShopTimeZone, endOfDayMinute: Int) -> (date: LocalDate, at: Int64) {
        let today = zone.localDateTime(atInstant: now).date
        for date in [today, today.adding(days: 1), today.adding(days: 2)] {
            let at = zone.instant(atWallMinute: LocalDateTime(date: date, minuteOfDay: endOfDayMinute).wallMinute)
            if at > now { return (date, at) }
        }
        let date = today.adding(days: 1)
        return (date, zone.instant(atWallMinute: LocalDateTime(date: date, minuteOfDay: endOfDayMinute).wallMinute))
    }

    /// The job for the sweep of `date`.
    static func job(for date: LocalDate, zone: ShopTimeZone, endOfDayMinute: Int) -> OutboxEnqueue {
        let at = zone.instant(atWallMinute: LocalDateTime(date: date, minuteOfDay: endOfDayMinute).wallMinute)
        return OutboxEnqueue(.sweep(.endOfDay(EndOfDayPayload(date: date.description))), dueAt: at)
    }

    /// Enqueues the first sweep unless one is pending (called at start).
    func ensureScheduled() async throws(StoreError) {
        guard let zone = rules.current?.ruleSet.shop.timeZone else { return }
        let next = Self.next(after: clock.now(), zone: zone, endOfDayMinute: endOfDayMinute)
        try await outbox.ensurePendingJob(
            Self.job(for: next.date, zone: zone, endOfDayMinute: endOfDayMinute), at: clock.now())
    }

    func run(_ job: OutboxJob) async throws(ProviderError) -> OutboxCompletion {
        guard case .sweep(let sweep) = try job.typed() else {
            throw .permanent("job \(job.id) (\(job.kind)) is not a sweep job")
        }
        switch sweep {
        case .endOfDay(let day): return try await closeDay(day)
        }
    }

    /// Closes `day`: its event, its summary message and the next day's sweep.
    func closeDay(_ day: EndOfDayPayload) async throws(ProviderError) -> OutboxCompletion {
        guard let zone = rules.current?.ruleSet.shop.timeZone else { throw .temporary("no rules are loaded") }
        guard let date = LocalDate(iso: day.date) else {
            throw .permanent("the sweep job's `date` is not YYYY-MM-DD: '\(day.date)'")
        }
        let now = clock.now()
        let from = zone.instant(atWallMinute: date.startWallMinute)
        let to = zone.instant(atWallMinute: date.adding(days: 1).startWallMinute)
        let bookings: [StoredBooking]
        do {
            bookings = try await store.bookings(matching: BookingQuery(from: from, to: to, limit: 100_000))
        } catch {
            throw .temporary("reading the day's bookings: \(error)")
        }
        func count(_ state: BookingState) -> Int { bookings.filter { $0.status == state }.count }
        let open = bookings.filter { $0.status == .confirmed && $0.end <= now }.map(\.id)
        let closed = DayClosedEventData(
            date: date.description, completed: count(.completed), noShow: count(.noShow),
            cancelled: count(.cancelled), open: open)
        // The next sweep is the next end of day after this one's date (not after now: a sweep that ran late, after
        // a long downtime, still schedules the following day rather than skipping it).
        let nextDate = date.adding(days: 1)
        let jobs = [
            OutboxEnqueue(.notification(.daySummary(closed.summary)), dueAt: now),
            Self.job(for: nextDate, zone: zone, endOfDayMinute: endOfDayMinute),
        ]
        logger.info(
            "day closed",
            metadata: ["date": "\(date)", "open": "\(open.count)", "completed": "\(closed.completed)"])
        return OutboxCompletion(
            note: "closed \(date)", enqueue: jobs, events: [OutboxEvent(type: "day.closed", value: closed)])
    }
}
