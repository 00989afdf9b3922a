import Foundation
import HummingbirdCore
import Logging
import SlotAPI
import SlotRules
import SlotStore

/// The API's request bodies and query parameters through the server's own decoding, field checks and problem
/// mapping, without a socket: what the request fuzzer (Fuzz/Sources/FuzzRequests) drives. The routes call the same
/// functions.
public struct RequestBodyCheck: Sendable {
    /// A route whose request the server decodes before it reaches the store.
    public enum Route: String, CaseIterable, Sendable {
        /// `POST /v1/bookings`, `POST /v1/bookings/{id}/cancel`, `POST /v1/bookings/{id}/reschedule`: a JSON body.
        case createBooking, cancelBooking, rescheduleBooking
        /// `GET /v1/slots`: the query string.
        case slots
        /// `POST /v1/rules/check`: the query string (`name=`) and the rule file's text. The rule loader behind it
        /// has its own fuzz target (`rules`).
        case checkRules
        /// `POST /v1/rules/preview` with a JSON body (`files`), or with one file's text (`text/plain`): the query
        /// string (`name=`, `days=`) and the body.
        case previewRulesJSON, previewRulesText
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

    /// The outcome of `body` with the query string `query` (without its `?`) sent to `route`, as far as the server
    /// goes before the store (or the rule loader).
    public func outcome(_ route: Route, query queryString: String = "", body: Data) -> Outcome {
        let query = URI("?" + queryString).queryParameters
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
            case .slots:
                _ = try service.slotQuery(
                    service: query.get("service"), variant: query.get("variant"), staff: query.get("staff"),
                    from: query.get("from"), to: query.get("to"), in: loaded)
            case .checkRules:
                _ = try candidateFile(body, name: query.get("name"))
            case .previewRulesJSON, .previewRulesText:
                _ = try previewDays(query.get("days"))
                let contentType = route == .previewRulesJSON ? "application/json" : "text/plain"
                _ = try previewCandidate(body, contentType: contentType, name: query.get("name"))
            }
            return Outcome(status: 200, problem: nil)
        } catch {
            let problem = ProblemMapping.problem(for: error, logger: logger)
            return Outcome(status: problem.status, problem: problem)
        }
    }
}
