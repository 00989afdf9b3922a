import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SlotAPI
import SlotEngine
import SlotStore

/// An error the API answers with a problem document.
struct APIError: Error, Sendable {
    var problem: Problem

    init(_ code: ProblemCode, _ detail: String, fields: [FieldProblem]? = nil) {
        problem = Problem(code: code, detail: detail, fields: fields)
    }

    init(problem: Problem) { self.problem = problem }

    /// `422 validation_failed` naming one field.
    static func invalid(_ field: String, _ reason: String) -> APIError {
        APIError(.validationFailed, "\(field): \(reason)", fields: [FieldProblem(field: field, reason: reason)])
    }

    /// `422 validation_failed` naming several fields.
    static func invalid(_ fields: [FieldProblem]) -> APIError {
        let detail = fields.map { "\($0.field): \($0.reason)" }.joined(separator: "; ")
        return APIError(.validationFailed, detail, fields: fields)
    }

    /// A start the engine refused: `409 slot_unavailable` when only other bookings are in the way (`taken`), else
    /// `422 validation_failed` on `start` (closed, off the grid, too soon…); both list the reasons and alternatives.
    static func notBookable(
        _ reasons: [Reason], taken: Bool, alternatives: [SlotOffer], field: String = "start"
    ) -> APIError {
        let text = reasons.map(\.description).joined(separator: "; ")
        var problem: Problem
        if taken {
            problem = Problem(
                code: .slotUnavailable, detail: "that start is taken: \(text)", alternatives: alternatives)
        } else {
            problem = Problem(
                code: .validationFailed, detail: "that start cannot be booked: \(text)",
                fields: [FieldProblem(field: field, reason: text)], alternatives: alternatives)
        }
        problem.reasons = reasons.map(ExplainReason.init)
        return APIError(problem: problem)
    }
}

/// The one place errors become problem documents and status codes.
enum ProblemMapping {
    /// The problem document for any error; unknown errors are logged and become a bare 500.
    static func problem(for error: any Error, logger: Logger) -> Problem {
        switch error {
        case let error as APIError:
            return error.problem
        case let error as StoreError:
            return problem(for: error, logger: logger)
        case let error as DecodingError:
            return problem(for: error)
        case let error as HTTPParserError:
            // A malformed chunked body, too many trailer lines, a connection that ended mid-body: the client's
            // fault, not the daemon's.
            return Problem(code: .badRequest, detail: "the request could not be read: \(error)")
        case is NIOTooManyBytesError:
            return Problem(
                code: .payloadTooLarge, detail: "the request body is larger than the daemon accepts")
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                return Problem(code: .notFound, detail: "no such route — see GET /v1/openapi.yaml for the API")
            case .contentTooLarge:
                return Problem(code: .payloadTooLarge, detail: "the request body is larger than the daemon accepts")
            case .badRequest:
                return Problem(code: .badRequest, detail: error.body ?? "the request could not be read")
            case .methodNotAllowed:
                return Problem(code: .methodNotAllowed, detail: error.body ?? "that method is not allowed here")
            default:
                logger.error("unexpected HTTP error", metadata: ["error": "\(error)"])
                return Problem(code: .internalError, detail: "the daemon failed to answer; see its log")
            }
        case is CancellationError:
            return Problem(code: .unavailable, detail: "the daemon is shutting down")
        default:
            logger.error("internal error", metadata: ["error": "\(String(reflecting: error))"])
            return Problem(code: .internalError, detail: "the daemon failed to answer; see its log")
        }
    }

    static func problem(for error: StoreError, logger: Logger) -> Problem {
        switch error.code {
        case .notFound:
            return Problem(code: .bookingNotFound, detail: error.message)
        case .illegalTransition:
            return Problem(code: .invalidTransition, detail: error.message)
        case .idempotencyKeyReused:
            return Problem(
                code: .idempotencyKeyReused, detail: error.message,
                fields: [FieldProblem(field: "Idempotency-Key", reason: "used before with a different request")])
        case .constraintViolation:
            return Problem(code: .validationFailed, detail: error.message)
        case .unavailable:
            return Problem(code: .unavailable, detail: error.message)
        case .alreadyWaiting:
            return Problem(code: .alreadyWaiting, detail: error.message)
        case .schemaTooNew, .database:
            logger.error("store error", metadata: ["error": "\(error)"])
            return Problem(code: .internalError, detail: "the booking store failed; see the daemon's log")
        }
    }

    /// A JSON body that did not decode: broken syntax is `400 malformed_json`, a wrong or missing field is
    /// `422 validation_failed` naming it.
    static func problem(for error: DecodingError) -> Problem {
        func path(_ context: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            var keys = context.codingPath
            if let extra { keys.append(extra) }
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return Problem(code: .malformedJSON, detail: "the body is not valid JSON — send a JSON object")
        case .dataCorrupted(let context):
            let field = path(context)
            return Problem(
                code: .validationFailed, detail: "\(field): \(context.debugDescription)",
                fields: [FieldProblem(field: field, reason: "invalid value")])
        case .keyNotFound(let key, let context):
            let field = path(context, key)
            return Problem(
                code: .validationFailed, detail: "\(field) is required",
                fields: [FieldProblem(field: field, reason: "is required")])
        case .typeMismatch(let type, let context):
            let field = path(context)
            let reason = "expected \(jsonTypeName(type))"
            if field.isEmpty {
                return Problem(code: .malformedJSON, detail: "the body must be a JSON object")
            }
            return Problem(
                code: .validationFailed, detail: "\(field): \(reason)",
                fields: [FieldProblem(field: field, reason: reason)])
        case .valueNotFound(let type, let context):
            let field = path(context)
            let reason = "must not be null (expected \(jsonTypeName(type)))"
            return Problem(
                code: .validationFailed, detail: "\(field): \(reason)",
                fields: [FieldProblem(field: field, reason: reason)])
        @unknown default:
            return Problem(code: .malformedJSON, detail: "the body could not be decoded")
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }

    /// Seconds a client should wait before trying a `503 unavailable` again (a database that went away, a daemon
    /// shutting down for a restart): long enough not to hammer it, short enough for a person at the counter.
    static let unavailableRetryAfterSeconds = 5

    /// The response for a problem; a `503` says when to try again (`Retry-After`).
    static func response(_ problem: Problem) -> Response {
        let data = (try? JSONCoding.encoder.encode(problem)) ?? Data(#"{"status":500}"#.utf8)
        var response = Response(
            status: HTTPResponse.Status(code: problem.status),
            headers: [.contentType: APIVersion.problemMediaType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        if problem.status == 503 { response.headers[.retryAfter] = "\(unavailableRetryAfterSeconds)" }
        return response
    }
}

/// Turns every error thrown below it (including the router's "no route") into a problem response.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let problem = ProblemMapping.problem(for: error, logger: context.logger)
            if problem.status >= 500 {
                context.logger.error(
                    "request failed", metadata: ["path": "\(request.uri.path)", "code": "\(problem.code)"])
            }
            response = ProblemMapping.response(problem)
        }
        // Every answer names the API version, so clients can negotiate (as Docker's socket does).
        if let name = ProblemMiddlewareNames.apiVersion { response.headers[name] = APIVersion.current }
        return response
    }
}

/// Header names built once (the initialiser validates the name, so it is optional).
enum ProblemMiddlewareNames {
    static let apiVersion = HTTPFields.Element.Name(APIVersion.header)
}
