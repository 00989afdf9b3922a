/// One logged-in browser of the admin page.
public struct AdminSession: Sendable, Hashable {
    /// The cookie's value: 32 random bytes as hex.
    public let id: String
    public let user: String
    /// Sent back by the page in `X-CSRF-Token` on every state-changing request.
    public let csrfToken: String
    /// Epoch seconds.
    public let createdAt: Int64
    public var lastSeenAt: Int64
}

/// How long a session lasts: `idleSeconds` after its last request, `lifetimeSeconds` after the login at most.
public struct SessionPolicy: Sendable, Hashable {
    public var idleSeconds: Int64
    public var lifetimeSeconds: Int64

    public init(idleSeconds: Int64 = 8 * 3600, lifetimeSeconds: Int64 = 7 * 86_400) {
        self.idleSeconds = idleSeconds
        self.lifetimeSeconds = lifetimeSeconds
    }

    /// Whether `session` is still good at `now`.
    public func isAlive(_ session: AdminSession, at now: Int64) -> Bool {
        now - session.lastSeenAt < idleSeconds && now - session.createdAt < lifetimeSeconds
    }
}

/// The open sessions, a value: time and ids come in as parameters, so expiry is tested without a clock.
///
/// Kept in memory only: a daemon restart logs everyone out (deliberately — nothing secret is written to disk, and
/// a restart is rare enough that logging in again is cheap).
public struct SessionTable: Sendable {
    public let policy: SessionPolicy
    private var sessions: [String: AdminSession] = [:]

    public init(policy: SessionPolicy) { self.policy = policy }

    /// Opens a session for `user` with the given random id and CSRF token.
    public mutating func open(user: String, id: String, csrfToken: String, now: Int64) -> AdminSession {
        prune(now: now)
        let session = AdminSession(id: id, user: user, csrfToken: csrfToken, createdAt: now, lastSeenAt: now)
        sessions[id] = session
        return session
    }

    /// The live session with `id`, its idle timer restarted; nil (and forgotten) when unknown or expired.
    public mutating func touch(_ id: String, now: Int64) -> AdminSession? {
        guard var session = sessions[id] else { return nil }
        guard policy.isAlive(session, at: now) else {
            sessions[id] = nil
            return nil
        }
        session.lastSeenAt = now
        sessions[id] = session
        return session
    }

    /// Logs a session out.
    public mutating func close(_ id: String) { sessions[id] = nil }

    /// Closes every session of `user` (a removed user or a new password after a reload).
    public mutating func closeAll(of user: String) { sessions = sessions.filter { $0.value.user != user } }

    /// Forgets expired sessions.
    public mutating func prune(now: Int64) { sessions = sessions.filter { policy.isAlive($0.value, at: now) } }

    public var count: Int { sessions.count }
}
