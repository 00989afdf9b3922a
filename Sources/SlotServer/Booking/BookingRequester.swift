import Foundation
import SlotAPI
import SlotBlocking
import SlotEngine

#if canImport(Glibc)
    import Glibc
#endif

/// Who asks for a booking, as far as setting the rules aside goes: a socket peer with its role, or a customer on
/// the public page (who never may).
struct BookingRequester: Sendable {
    /// The peer's role; nil for a customer.
    var role: Role?
    /// The peer's uid on the socket.
    var uid: UInt32?
    /// The peer's user name, when the system knows one for the uid.
    var user: String?

    /// A customer booking through the public page.
    static let customer = BookingRequester(role: nil, uid: nil, user: nil)

    /// Whether walk-ins and forced bookings are allowed to this requester.
    var mayOverride: Bool { role?.allows(.override) ?? false }

    /// The 403 for a walk-in or forced booking by someone who may not.
    func overrideRefusal(_ what: String) -> APIError {
        let who = role.map { "role '\($0.rawValue)'" } ?? "a customer"
        let allowed = Role.allowing(.override).map(\.rawValue).joined(separator: " or ")
        return APIError(
            .forbidden,
            "\(who) may not book \(what) — only \(allowed) may set the booking rules aside; book an offered slot "
                + "(GET /v1/slots) or ask the shop's staff")
    }

    /// The socket peer of `context`, with the user name of its uid looked up off the cooperative pool (the
    /// lookup reads the user database) only when `needsName`.
    static func peer(_ context: SlotRequestContext, needsName: Bool) async -> BookingRequester {
        let uid = context.peer?.uid
        var user: String?
        if needsName, let uid { user = await BlockingWork.run { userName(of: uid) } }
        return BookingRequester(role: context.role, uid: uid, user: user)
    }

    /// The user name of `uid` from the system's user database, nil when it has none.
    static func userName(of uid: UInt32) -> String? {
        BlockingWork.assertOffCooperativePool("getpwuid_r")
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let name = entry.pw_name else { return nil }
        return String(cString: name)
    }
}
