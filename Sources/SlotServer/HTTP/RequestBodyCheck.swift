import Foundation
import Logging
import SlotAPI
import SlotRules
import SlotStore

/// The API's JSON request bodies through the server's own decoding, field checks and problem mapping, without a
/// socket: what the request fuzzer (Fuzz/Sources/FuzzRequests) drives. The routes call the same functions.
public struct RequestBodyCheck: Sendable {
    /// A route that takes a JSON body.
    public enum Route: String, CaseIterable, Sendable {
        case createBooking, cancelBooking, rescheduleBooking
    }

    /// What the server makes of a body before it reaches the store: `200` when the body passes, else the problem.
    public struct Outcome: Sendable {
        public var status: Int
        public var problem: Problem?
    }

    let service: BookingService
    let loaded: LoadedRules
    let now: Int64
    let logger: Logger

    /// Checks against `ruleSet` at `now`. The service needs a store (`databasePath`, created if missing), but the
    /// checks never touch it.
    public init(ruleSet: RuleSet, now: Int64, databasePath: String) throws {
        let clock = WallClock { now }
        logger = Logger(label: "slotd.request-check") { _ in SwiftLogNoOpLogHandler() }
        service = BookingService(
            store: try SQLiteBookingStore(path: databasePath),
            rules: RuleHolder(directory: "", clock: clock, logger: logger), bus: EventBus(), clock: clock,
            logger: logger)
        loaded = LoadedRules(ruleSet: ruleSet, warnings: [], loadedAt: now)
        self.now = now
    }

    /// The outcome of `body` sent to `route`, as far as the server goes before the store.
    public func outcome(_ route: Route, body: Data) -> Outcome {
        do {
            switch route {
            case .createBooking:
                let create = try decode(CreateBookingRequest.self, from: body)
                // The idempotency fingerprint's input, made from every decoded request that carries a key.
                _ = try JSONCoding.encoder.encode(create)
                // As an admin on the socket: walk-ins and forced bookings reach their field checks.
                _ = try service.check(
                    create, idempotencyKey: nil, in: loaded, now: now, requester: BookingRequester(role: .admin))
            case .cancelBooking:
                _ = try cancelReason(from: body)
            case .rescheduleBooking:
                let move = try decode(RescheduleRequest.self, from: body)
                _ = try service.instant(move.start, in: loaded, field: "start")
            }
            return Outcome(status: 200, problem: nil)
        } catch {
            let problem = ProblemMapping.problem(for: error, logger: logger)
            return Outcome(status: problem.status, problem: problem)
        }
    }
}
