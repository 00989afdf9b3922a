import SlotAPI

/// Who asks: a process on the Unix socket (its uid maps to a role in `roles:`) or a user logged in to the admin
/// page (`web.users`).
enum Principal: Sendable, Hashable {
    case peer(PeerCredentials?)
    case webUser(String)
}

/// The one decision of what a caller may do, for the socket and the admin page alike: the role's permissions
/// (`Role.allows`), and a `403` that says who lacks what and how to fix it.
enum Authorisation {
    static func require(_ permission: Permission, role: Role?, principal: Principal) throws(APIError) {
        guard let role else {
            switch principal {
            case .peer(let peer):
                let uid = peer.map { "uid \($0.uid)" } ?? "this peer"
                throw APIError(
                    .forbidden,
                    "\(uid) has no role in slotd's configuration — add it under `roles:` (admin, staff, booking, read)")
            case .webUser(let name):
                throw APIError(.forbidden, "user '\(name)' has no role — give it one under `web.users`")
            }
        }
        guard role.allows(permission) else {
            let needed = Role.allowing(permission).map(\.rawValue).joined(separator: " or ")
            throw APIError(.forbidden, "role '\(role.rawValue)' may not do this — it needs \(needed)")
        }
    }
}
