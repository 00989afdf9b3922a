import ArgumentParser
import Foundation
import SlotClient
import SlotAPI

/// Why an online command failed: the daemon could not be reached, or it answered with a problem.
enum OnlineFailure: Error {
    /// No HTTP answer: not running, socket permission, timeout, broken connection.
    case transport(TransportError)
    /// An RFC 9457 problem from the daemon.
    case problem(Problem, raw: Data)
    /// A non-2xx answer that is not a problem document, or a 2xx body slotctl cannot read.
    case unexpected(status: Int, body: String)
    /// A local mistake in the command's arguments found before asking the daemon.
    case usage(String)
    /// The answer was printed, and it says that this many bookings would be refused (`rules diff`).
    case bookingsRefused(Int)
}

/// The exit codes of the online commands, in ONE place (scripts rely on them; the help text lists them).
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | unexpected answer or internal error in slotd |
/// | 64 | usage error (arguments; the same code ArgumentParser uses for bad options) |
/// | 3 | not found (no such booking or route) |
/// | 4 | conflict: slot taken / not bookable, a transition the booking's state does not allow, or bookings a
///       candidate rule set would no longer allow (`rules diff`) |
/// | 5 | invalid input: malformed or invalid request, bad rules, body too large, idempotency key reused |
/// | 6 | access denied: the socket's mode or the caller's role |
/// | 7 | slotd is not running, not reachable, shutting down or too slow |
enum OnlineExit {
    static let unexpected: Int32 = 1
    static let usage: Int32 = 64
    static let notFound: Int32 = 3
    static let conflict: Int32 = 4
    static let invalid: Int32 = 5
    static let denied: Int32 = 6
    static let unavailable: Int32 = 7

    /// A command's help: its examples, then the exit codes.
    static func help(examples: String...) -> String {
        "Example\(examples.count == 1 ? "" : "s"):\n" + examples.map { "  \($0)\n" }.joined() + help
    }

    /// Help text listing the codes.
    static let help = """
        Exit codes: 0 ok, 1 unexpected/internal error, 3 not found, 4 conflict (slot taken, \
        transition not allowed), 5 invalid input, 6 access denied, 7 slotd not running or unavailable, 64 usage.
        """

    /// The exit code for a failure: the single mapping from API error codes (and transport errors) to exit codes.
    static func code(for failure: OnlineFailure) -> Int32 {
        switch failure {
        case .usage: return usage
        case .bookingsRefused: return conflict
        case .unexpected: return unexpected
        case .transport(let error):
            switch error.kind {
            case .permissionDenied: return denied
            case .notRunning, .timeout: return unavailable
            case .badPath: return usage
            case .io: return unavailable
            }
        case .problem(let problem, _):
            guard let code = ProblemCode(rawValue: problem.code) else {
                switch problem.status {
                case 403: return denied
                case 404: return notFound
                case 409: return conflict
                case 400, 413, 422: return invalid
                case 503: return unavailable
                default: return unexpected
                }
            }
            switch code {
            case .bookingNotFound, .notFound: return notFound
            case .slotUnavailable, .invalidTransition, .alreadyWaiting: return conflict
            case .malformedJSON, .badRequest, .validationFailed, .idempotencyKeyReused, .rulesInvalid,
                .payloadTooLarge, .methodNotAllowed:
                return invalid
            case .forbidden, .unauthenticated: return denied
            case .unavailable, .rateLimited: return unavailable
            case .headersTooLarge: return invalid
            case .internalError: return unexpected
            }
        }
    }
}

/// Prints a failure for a person (stderr) and, with `--json`, the problem document for a script (stdout).
func report(_ failure: OnlineFailure, json: Bool) {
    if json, case .problem(_, let raw) = failure {
        FileHandle.standardOutput.write(raw)
        if raw.last != 10 { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
    var message: String
    switch failure {
    case .usage(let text):
        message = "slotctl: \(text)"
    case .bookingsRefused(let count):
        message = "slotctl: the candidate rules would no longer allow \(count) booking\(count == 1 ? "" : "s")"
    case .transport(let error):
        switch error.kind {
        case .notRunning:
            message = """
                slotctl: slotd is not running at \(error.path) (\(error.detail)) — start it with \
                `slotd --socket \(error.path)` (or `swift run slotd`), or point slotctl at it with --socket PATH \
                or SLOTD_SOCKET
                """
        case .permissionDenied:
            message = """
                slotctl: access denied to \(error.path) (\(error.detail)) — the socket's mode and group decide who \
                may connect: run as a user in the socket's group, or ask the admin to add you
                """
        case .badPath:
            message = "slotctl: bad socket path \(error.path): \(error.detail)"
        case .timeout:
            message = "slotctl: slotd at \(error.path) did not answer in time"
        case .io:
            message = "slotctl: talking to slotd at \(error.path) failed: \(error.detail)"
        }
    case .unexpected(let status, let body):
        message = "slotctl: unexpected answer from slotd (HTTP \(status)): \(body.prefix(500))"
    case .problem(let problem, _):
        // Once: the detail (the title only when there is none), then what it does not already say.
        let detail = problem.detail.isEmpty ? problem.title : problem.detail
        message = "slotctl: \(TimeText.humanized(detail)) (\(problem.status) \(problem.code))"
        if problem.status == 403 {
            message += "\n  \(roleHint)"
        }
        for field in problem.fields ?? [] where !detail.contains(field.reason) {
            message += "\n  \(field.field): \(TimeText.humanized(field.reason))"
        }
        for diagnostic in problem.diagnostics ?? [] {
            message += "\n  \(diagnostic.text)"
        }
        if let alternatives = problem.alternatives, !alternatives.isEmpty {
            message += "\n  nearest free starts:"
            for offer in alternatives {
                message += "\n    \(TimeText.span(offer.start, offer.end))  \(offer.staff)"
            }
        }
    }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// What the roles allow, said plainly under a 403 (the daemon's detail already names the caller's role and the
/// roles that may; picking a quoted role out of it used to name the caller's own role as the one needed).
private let roleHint =
    "roles: read (GETs), booking (slots, book, cancel), staff (also walk-ins, forced bookings and every "
    + "transition), admin (everything) — ask the admin to map your uid to one in slotd.yaml"
