import Foundation
import SlotAuth
import SlotBlocking
import Synchronization

/// The admin page's logins: the configured users, the sessions (in memory: a restart logs everyone out), the login
/// limits and the origins a state-changing request may come from.
final class AdminAccess: Sendable {
    static let cookieName = "slotd_admin"

    enum LoginOutcome: Sendable {
        case success(AdminSession, WebUser)
        /// A wrong password and an unknown user are this same answer.
        case failed
        case locked(retryAfterSeconds: Int)
    }

    private let users: [String: WebUser]
    /// Checked for an unknown name, so it costs the time a known name's wrong password does.
    private let decoy: PasswordHash
    private let sessions: Mutex<SessionTable>
    private let throttle = Mutex(LoginThrottle())
    private let publicOrigin: String?
    /// `Secure` on the cookie: when the page is published over https.
    let secureCookie: Bool

    init(settings: WebSettings) {
        var users: [String: WebUser] = [:]
        for user in settings.users { users[user.name.lowercased()] = user }
        self.users = users
        let iterations = settings.users.map(\.passwordHash.iterations).max() ?? PasswordHash.defaultIterations
        decoy = .decoy(iterations: iterations)
        sessions = Mutex(SessionTable(policy: settings.sessionPolicy))
        publicOrigin = CSRFCheck.origin(of: settings.publicURL)
        secureCookie = settings.publicURL.lowercased().hasPrefix("https://")
    }

    /// Checks a login; the password hash is computed off the cooperative pool.
    func login(name: String, password: String, address: String, now: Int64) async -> LoginOutcome {
        let key = String(name.prefix(64))
        if case .locked(let seconds) = throttle.withLock({ $0.check(user: key, address: address, now: Double(now)) }) {
            return .locked(retryAfterSeconds: seconds)
        }
        let user = users[key.lowercased()]
        let hash = user?.passwordHash ?? decoy
        let matches = await BlockingWork.run { hash.verifies(password) }
        guard matches, let user else {
            throttle.withLock { $0.recordFailure(user: key, address: address, now: Double(now)) }
            return .failed
        }
        throttle.withLock { $0.recordSuccess(user: key) }
        let session = sessions.withLock {
            $0.open(user: user.name, id: SecureRandom.token(), csrfToken: SecureRandom.token(), now: now)
        }
        return .success(session, user)
    }

    /// The live session named by the request's cookie, and its user.
    func session(cookieHeader: String?, now: Int64) -> (AdminSession, WebUser)? {
        guard let id = Self.sessionID(cookieHeader: cookieHeader),
            let session = sessions.withLock({ $0.touch(id, now: now) }),
            let user = users[session.user.lowercased()]
        else { return nil }
        return (session, user)
    }

    func logout(_ session: AdminSession) { sessions.withLock { $0.close(session.id) } }

    /// Origins a state-changing request may carry: `public_url`'s, and the one the browser used to reach this
    /// listener (`Host`; a foreign page's requests carry its own origin, which matches neither).
    func allowedOrigins(host: String?) -> Set<String> {
        var origins: Set<String> = []
        if let publicOrigin { origins.insert(publicOrigin) }
        if let host, !host.isEmpty {
            origins.insert("http://" + host.lowercased())
            origins.insert("https://" + host.lowercased())
        }
        return origins
    }

    /// The `Set-Cookie` value that carries a session.
    func cookie(for session: AdminSession, maxAge: Int64) -> String {
        "\(Self.cookieName)=\(session.id); Path=/admin; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
            + (secureCookie ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that removes it.
    var clearingCookie: String {
        "\(Self.cookieName)=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict" + (secureCookie ? "; Secure" : "")
    }

    static func sessionID(cookieHeader: String?) -> String? {
        guard let cookieHeader else { return nil }
        for part in cookieHeader.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookieName + "=") {
                let value = String(pair.dropFirst(cookieName.count + 1))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }
}
