import Foundation
import Hummingbird
import SlotAPI
import SlotCore
import SlotStore

/// `/v1/outbox`: see jobs (staff) and retry a failed one (admin).
struct OutboxRoutes: Sendable {
    let store: any OutboxStore
    let worker: OutboxWorker
    let clock: WallClock
    let rules: RuleHolder

    func register(on router: Router<SlotRequestContext>) {
        router.get("/v1/outbox") { request, context in
            try context.require(.transition)
            let query = request.uri.queryParameters
            var state: OutboxState?
            if let text = query.get("state"), !text.isEmpty {
                guard let parsed = OutboxState(rawValue: text) else {
                    throw APIError.invalid("state", "unknown state '\(text)' — use pending, done or failed")
                }
                state = parsed
            }
            var limit = 100
            if let text = query.get("limit") {
                guard let number = Int(text), (1...1000).contains(number) else {
                    throw APIError.invalid("limit", "must be a whole number from 1 to 1000")
                }
                limit = number
            }
            let jobs = try await store.recentOutboxJobs(state: state, limit: limit)
            let counts = try await store.outboxCounts()
            let wire = OutboxWire(zone: zone())
            return try json(
                OutboxJobList(
                    jobs: jobs.map(wire.info),
                    counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })))
        }
        router.get("/v1/outbox/:id") { _, context in
            try context.require(.transition)
            let id = try jobID(context)
            guard let job = try await store.outboxJob(id: id) else {
                throw APIError(.notFound, "no outbox job with id \(id) — GET /v1/outbox lists them")
            }
            return try json(OutboxWire(zone: zone()).info(job))
        }
        router.post("/v1/outbox/:id/retry") { _, context in
            try context.require(.admin)
            let id = try jobID(context)
            do {
                let job = try await store.retryFailedJob(id, at: clock.now())
                worker.wake()
                return try json(OutboxWire(zone: zone()).info(job))
            } catch let error as StoreError where error.code == .notFound {
                throw APIError(.notFound, error.message)
            } catch let error as StoreError where error.code == .illegalTransition {
                throw APIError(.invalidTransition, error.message)
            }
        }
    }

    /// The shop's zone for times (UTC when no rules are loaded).
    func zone() -> ShopTimeZone? { rules.current?.ruleSet.shop.timeZone }

    func jobID(_ context: SlotRequestContext) throws(APIError) -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.invalid("id", "an outbox job id is a positive whole number (`slotctl outbox` lists them)")
        }
        return id
    }
}

/// Outbox jobs on the wire.
struct OutboxWire {
    let zone: ShopTimeZone?

    func time(_ instant: Int64) -> String {
        guard let zone else {
            return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(instant)))
        }
        return zone.iso8601(instant: instant)
    }

    func info(_ job: OutboxJob) -> OutboxJobInfo {
        OutboxJobInfo(
            id: job.id, kind: job.kind, state: job.state.rawValue, attempts: job.attempts, due: time(job.dueAt),
            created: time(job.createdAt), finished: job.finishedAt.map(time), booking: job.bookingID,
            lastError: job.lastError, note: job.note,
            payload: try? JSONCoding.decoder.decode(JSONValue.self, from: job.payload))
    }
}
