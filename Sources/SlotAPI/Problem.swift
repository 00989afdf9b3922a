/// An RFC 9457 problem document (`application/problem+json`), the body of every error response.
public struct Problem: Codable, Hashable, Sendable, Error {
    /// A URI naming the problem type: `urn:slotd:problem:<code>`.
    public var type: String
    /// A short human summary of the problem type.
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// What went wrong in this request and how to fix it.
    public var detail: String
    /// The stable machine-readable code (see `ProblemCode`).
    public var code: String
    /// For validation problems: each failing field with the reason.
    public var fields: [FieldProblem]?
    /// For `slot_unavailable`: the nearest free starts.
    public var alternatives: [SlotOffer]?
    /// For rule problems: every located diagnostic.
    public var diagnostics: [RuleDiagnostic]?
    /// For a start that cannot be booked: every reason, as `GET /v1/slots/explain` gives them.
    public var reasons: [ExplainReason]?

    public init(
        code: ProblemCode, detail: String, fields: [FieldProblem]? = nil, alternatives: [SlotOffer]? = nil,
        diagnostics: [RuleDiagnostic]? = nil, reasons: [ExplainReason]? = nil
    ) {
        self.type = "urn:slotd:problem:\(code.rawValue)"
        self.title = code.title
        self.status = code.status
        self.detail = detail
        self.code = code.rawValue
        self.fields = fields
        self.alternatives = alternatives
        self.diagnostics = diagnostics
        self.reasons = reasons
    }
}

/// One failing field of a request: a dotted path (`customer.name`) and why it was rejected.
public struct FieldProblem: Codable, Hashable, Sendable {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// The stable error codes of the API, with their HTTP status and title.
public enum ProblemCode: String, Codable, CaseIterable, Sendable {
    /// The body is not JSON, or not the JSON shape the route expects (wrong types).
    case malformedJSON = "malformed_json"
    /// A query parameter or header is missing or unreadable.
    case badRequest = "bad_request"
    /// The request is well-formed JSON but a field's value is invalid; `fields` names them.
    case validationFailed = "validation_failed"
    /// The slot is taken or not bookable; `alternatives` lists the nearest free starts.
    case slotUnavailable = "slot_unavailable"
    /// The booking's state does not allow this transition.
    case invalidTransition = "invalid_transition"
    /// The customer is already in the waitlist's line for the same thing.
    case alreadyWaiting = "already_waiting"
    /// The `Idempotency-Key` was used before with a different request.
    case idempotencyKeyReused = "idempotency_key_reused"
    /// The rule files have errors; `diagnostics` lists them.
    case rulesInvalid = "rules_invalid"
    /// No route has this path.
    case notFound = "not_found"
    /// The route exists, but not with this method.
    case methodNotAllowed = "method_not_allowed"
    /// No booking has this id.
    case bookingNotFound = "booking_not_found"
    /// The caller's role does not allow this.
    case forbidden = "forbidden"
    /// The admin page needs a login: no session, or it expired.
    case unauthenticated = "unauthenticated"
    /// The request body is larger than the daemon accepts.
    case payloadTooLarge = "payload_too_large"
    /// Too many requests from one client (public listener); `Retry-After` says when to try again.
    case rateLimited = "rate_limited"
    /// The request's header section is larger than the server accepts (public listener).
    case headersTooLarge = "headers_too_large"
    /// The daemon is shutting down or has no rules loaded.
    case unavailable = "unavailable"
    /// Something failed inside the daemon; it is logged, the details are not sent.
    case internalError = "internal_error"

    /// The HTTP status code of this problem.
    public var status: Int {
        switch self {
        case .malformedJSON, .badRequest: 400
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound, .bookingNotFound: 404
        case .methodNotAllowed: 405
        case .slotUnavailable, .invalidTransition, .alreadyWaiting: 409
        case .payloadTooLarge: 413
        case .rateLimited: 429
        case .headersTooLarge: 431
        case .validationFailed, .idempotencyKeyReused, .rulesInvalid: 422
        case .internalError: 500
        case .unavailable: 503
        }
    }

    /// A short human summary.
    public var title: String {
        switch self {
        case .malformedJSON: "Malformed JSON"
        case .badRequest: "Bad request"
        case .validationFailed: "Invalid input"
        case .slotUnavailable: "Slot not available"
        case .invalidTransition: "Transition not allowed"
        case .alreadyWaiting: "Already waiting"
        case .idempotencyKeyReused: "Idempotency key reused"
        case .rulesInvalid: "Rules invalid"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .bookingNotFound: "Booking not found"
        case .unauthenticated: "Login required"
        case .forbidden: "Forbidden"
        case .payloadTooLarge: "Payload too large"
        case .rateLimited: "Too many requests"
        case .headersTooLarge: "Request headers too large"
        case .unavailable: "Service unavailable"
        case .internalError: "Internal error"
        }
    }
}
