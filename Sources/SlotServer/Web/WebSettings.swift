import Foundation
import SlotAuth
import SlotCore
import SlotProviders
import Yams

/// The `web:` section of slotd.yaml: the public listener (booking page, public API, Stripe webhook, calendar).
///
/// ```yaml
/// web:
///   listen: 127.0.0.1:8080            # TCP; no web listener without this section
///   public_url: https://shop.example  # the address the reverse proxy publishes (links in pages and messages)
///   secret_file: web.secret           # HMAC key of customer links; created 0600 (32 random bytes) when missing
///   trusted_proxies: [127.0.0.1]      # X-Forwarded-For is honoured only from these peers
///   title: "Salon Mehmet"
///   logo: https://shop.example/logo.svg
///   accent_colour: "#0a7d5a"
///   locale: de                        # de | en
///   country: DE                       # default country of phone numbers (ISO 3166 code)
///   legal: { imprint: https://shop.example/imprint, privacy: https://shop.example/privacy }
///   stripe_js_url: https://js.stripe.com/v3/
///   stripe_publishable_key: pk_live_…
///   link_lifetime: 90d                # how long a customer link works after the booking's end
///   limits: { max_body_bytes: 16384, max_header_bytes: 8192, bookings_per_minute_per_ip: 10,
///             token_lookups_per_minute_per_ip: 60 }
///   users:                            # the admin page's logins (/admin/); hashes from `slotctl passwd`
///     - { name: mehmet, role: admin, staff: mehmet, password_hash: "pbkdf2-sha256$600000$…" }
///   session_idle: 8h                  # an admin session ends this long after its last request…
///   session_lifetime: 7d              # …and this long after the login at the latest
///   rules_editing: true               # the admin page may save rule files (needs write access to the directory)
///   calendar: { names: first, keep_cancelled: 7d, past: 30d, future: 365d, refresh: 15m }   # the feeds
/// ```
public struct WebSettings: Sendable, Hashable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var publicURL = ""
    public var secretFile = ""
    public var trustedProxies: Set<String> = []
    public var title = ""
    public var logo: String?
    public var accentColour = "#0a7d5a"
    public var locale = "de"
    public var country = "DE"
    public var imprintURL: String?
    public var privacyURL: String?
    public var stripeJSURL = "https://js.stripe.com/v3/"
    public var stripePublishableKey: String?
    /// How long a customer link works after the booking ends, in seconds.
    public var linkLifetimeSeconds: Int64 = 90 * 86_400
    public var maxBodyBytes = 16_384
    public var maxHeaderBytes = 8_192
    public var bookingsPerMinutePerIP = 10
    public var tokenLookupsPerMinutePerIP = 60
    /// The admin page's users; no admin page without them.
    public var users: [WebUser] = []
    public var sessionPolicy = SessionPolicy()
    /// Whether the admin page may save rule files.
    public var rulesEditing = false
    /// The calendar feeds (`/calendar/{token}.ics`).
    public var calendar = CalendarFeedSettings()

    public init() {}

    /// `public_url` without a trailing slash, for joining paths.
    var baseURL: String { publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }

    /// Parses the `web:` mapping, reporting every mistake with its line.
    static func parse(_ node: Node, file: String, directory: String) throws(ConfigurationError) -> WebSettings {
        func fail(_ node: Node, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
        }
        guard let mapping = node.mapping else {
            throw fail(node, "`web` must be a mapping with at least `listen`, `public_url` and `secret_file`")
        }
        func text(_ value: Node, _ key: String) throws(ConfigurationError) -> String {
            guard let string = value.scalar?.string, !string.isEmpty else {
                throw fail(value, "`\(key)` must be a non-empty text")
            }
            return string
        }
        func url(_ value: Node, _ key: String) throws(ConfigurationError) -> String {
            let string = try text(value, key)
            guard string.hasPrefix("https://") || string.hasPrefix("http://") else {
                throw fail(value, "`\(key)` must be an http(s) address like https://shop.example")
            }
            return string
        }
        func count(_ value: Node, _ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let string = value.scalar?.string, let number = Int(string), range.contains(number) else {
                throw fail(value, "`\(key)` must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        var settings = WebSettings()
        var seen: Set<String> = []
        var problems: [ConfigurationProblem] = []
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            seen.insert(key)
            ConfigurationFile.collect(into: &problems) { () throws(ConfigurationError) in
                switch key {
                case "listen":
                    let string = try text(value, key)
                    guard let colon = string.lastIndex(of: ":"), let port = Int(string[string.index(after: colon)...]),
                        (1...65535).contains(port), colon != string.startIndex
                    else {
                        throw fail(value, "`listen` must be host:port like 127.0.0.1:8080")
                    }
                    settings.host = String(string[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                    settings.port = port
                case "public_url": settings.publicURL = try url(value, key)
                case "secret_file":
                    let path = try text(value, key)
                    settings.secretFile = path.hasPrefix("/") ? path : directory + "/" + path
                case "trusted_proxies":
                    guard let list = value.sequence else {
                        throw fail(value, "`trusted_proxies` must be a list of IP addresses like [127.0.0.1]")
                    }
                    var proxies: Set<String> = []
                    for item in list {
                        guard let address = item.scalar?.string, ClientAddress.isIPAddress(address) else {
                            throw fail(item, "`trusted_proxies` entries must be IP addresses like 127.0.0.1 or ::1")
                        }
                        proxies.insert(address)
                    }
                    settings.trustedProxies = proxies
                case "title": settings.title = try text(value, key)
                case "logo": settings.logo = try text(value, key)
                case "accent_colour", "accent_color":
                    let colour = try text(value, key)
                    guard colour.count == 7, colour.hasPrefix("#"), colour.dropFirst().allSatisfy(\.isHexDigit) else {
                        throw fail(value, "`\(key)` must be a colour like \"#0a7d5a\" — quote it")
                    }
                    settings.accentColour = colour
                case "locale":
                    let locale = try text(value, key)
                    guard ["de", "en"].contains(locale) else { throw fail(value, "`locale` must be de or en") }
                    settings.locale = locale
                case "country":
                    let country = try text(value, key).uppercased()
                    guard PhoneNumber.callingCodes[country] != nil else {
                        throw fail(
                            value,
                            "`country` must be an ISO 3166 code slotd knows, e.g. DE, AT, CH, GB, US (phone numbers "
                                + "without + get its calling code)")
                    }
                    settings.country = country
                case "legal":
                    guard let legal = value.mapping else {
                        throw fail(value, "`legal` must be a mapping with `imprint` and `privacy` addresses")
                    }
                    var nested: [ConfigurationProblem] = []
                    for (legalKey, legalValue) in legal {
                        ConfigurationFile.collect(into: &nested) { () throws(ConfigurationError) in
                            switch legalKey.string ?? "" {
                            case "imprint": settings.imprintURL = try url(legalValue, "imprint")
                            case "privacy": settings.privacyURL = try url(legalValue, "privacy")
                            default:
                                throw fail(
                                    legalKey, "unknown key '\(legalKey.string ?? "")' in `legal` — use imprint or privacy")
                            }
                        }
                    }
                    if !nested.isEmpty { throw ConfigurationError(problems: nested) }
                case "stripe_js_url": settings.stripeJSURL = try url(value, key)
                case "stripe_publishable_key": settings.stripePublishableKey = try text(value, key)
                case "link_lifetime":
                    guard let string = value.scalar?.string, let seconds = OutboxSettings.seconds(string), seconds > 0
                    else { throw fail(value, "`link_lifetime` must be a positive duration like 90d") }
                    settings.linkLifetimeSeconds = seconds
                case "limits":
                    guard let limits = value.mapping else {
                        throw fail(
                            value,
                            "`limits` must be a mapping (max_body_bytes, max_header_bytes, bookings_per_minute_per_ip, "
                                + "token_lookups_per_minute_per_ip)")
                    }
                    var nested: [ConfigurationProblem] = []
                    for (limitKey, limitValue) in limits {
                        ConfigurationFile.collect(into: &nested) { () throws(ConfigurationError) in
                            let name = limitKey.string ?? ""
                            switch name {
                            case "max_body_bytes": settings.maxBodyBytes = try count(limitValue, name, 1_024...1 << 20)
                            case "max_header_bytes": settings.maxHeaderBytes = try count(limitValue, name, 1_024...65_536)
                            case "bookings_per_minute_per_ip":
                                settings.bookingsPerMinutePerIP = try count(limitValue, name, 1...10_000)
                            case "token_lookups_per_minute_per_ip":
                                settings.tokenLookupsPerMinutePerIP = try count(limitValue, name, 1...100_000)
                            default:
                                throw fail(
                                    limitKey,
                                    "unknown key '\(name)' in `limits` — use max_body_bytes, max_header_bytes, "
                                        + "bookings_per_minute_per_ip or token_lookups_per_minute_per_ip")
                            }
                        }
                    }
                    if !nested.isEmpty { throw ConfigurationError(problems: nested) }
                case "users": settings.users = try WebUser.parseList(value, file: file)
                case "rules_editing":
                    guard let string = value.scalar?.string, let flag = ["true": true, "false": false][string] else {
                        throw fail(value, "`rules_editing` must be true or false")
                    }
                    settings.rulesEditing = flag
                case "session_idle", "session_lifetime":
                    guard let string = value.scalar?.string, let seconds = OutboxSettings.seconds(string),
                        (60...366 * 86_400).contains(seconds)
                    else { throw fail(value, "`\(key)` must be a duration from 1m to 366d, like 8h or 7d") }
                    if key == "session_idle" {
                        settings.sessionPolicy.idleSeconds = seconds
                    } else {
                        settings.sessionPolicy.lifetimeSeconds = seconds
                    }
                case "calendar":
                    guard let calendar = value.mapping else {
                        throw fail(value, "`calendar` must be a mapping (names, keep_cancelled, past, future, refresh)")
                    }
                    var nested: [ConfigurationProblem] = []
                    for (calendarKey, calendarValue) in calendar {
                        ConfigurationFile.collect(into: &nested) { () throws(ConfigurationError) in
                            let name = calendarKey.string ?? ""
                            func duration(_ range: ClosedRange<Int64>) throws(ConfigurationError) -> Int64 {
                                guard let string = calendarValue.scalar?.string,
                                    let seconds = OutboxSettings.seconds(string), range.contains(seconds)
                                else {
                                    throw fail(
                                        calendarValue,
                                        "`calendar.\(name)` must be a duration from \(range.lowerBound / 60)m to "
                                            + "\(range.upperBound / 86_400)d, like 7d or 15m")
                                }
                                return seconds
                            }
                            switch name {
                            case "names":
                                guard let text = calendarValue.scalar?.string,
                                    let names = CalendarFeedSettings.Names(rawValue: text)
                                else {
                                    throw fail(
                                        calendarValue,
                                        "`calendar.names` must be none, first or full (how much of a customer's name "
                                            + "a feed shows)")
                                }
                                settings.calendar.names = names
                            case "keep_cancelled":
                                settings.calendar.keepCancelledSeconds = try duration(0...366 * 86_400)
                            case "past": settings.calendar.pastSeconds = try duration(0...3 * 366 * 86_400)
                            case "future":
                                settings.calendar.futureSeconds = try duration(86_400...3 * 366 * 86_400)
                            case "refresh": settings.calendar.refreshSeconds = try duration(5 * 60...7 * 86_400)
                            default:
                                throw fail(
                                    calendarKey,
                                    "unknown key '\(name)' in `calendar` — use names, keep_cancelled, past, future "
                                        + "or refresh")
                            }
                        }
                    }
                    if !nested.isEmpty { throw ConfigurationError(problems: nested) }
                default:
                    throw fail(
                        keyNode,
                        "unknown key '\(key)' in `web` — use listen, public_url, secret_file, trusted_proxies, title, "
                            + "logo, accent_colour, locale, country, legal, stripe_js_url, stripe_publishable_key, "
                            + "link_lifetime, limits, calendar, users, session_idle, session_lifetime or "
                            + "rules_editing")
                }
            }
        }
        for required in ["listen", "public_url", "secret_file"] where !seen.contains(required) {
            problems.append(
                ConfigurationProblem(
                    file: file, line: node.mark?.line, column: node.mark?.column,
                    message: "`web` needs `\(required)`"
                        + (required == "secret_file" ? " — a path; slotd creates the key there" : "")))
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return settings
    }
}

/// One login of the admin page (`web.users`): a role as on the socket, optionally the staff member it is.
public struct WebUser: Sendable, Hashable {
    public var name: String
    public var role: Role
    /// The staff id whose column the page shows first.
    public var staff: String?
    public var passwordHash: PasswordHash

    /// Parses `web.users`, reporting every mistake with its line.
    static func parseList(_ node: Node, file: String) throws(ConfigurationError) -> [WebUser] {
        func fail(_ node: Node, _ message: String) -> ConfigurationProblem {
            ConfigurationProblem(file: file, line: node.mark?.line, column: node.mark?.column, message: message)
        }
        guard let list = node.sequence else {
            throw ConfigurationError(problems: [
                fail(node, "`users` must be a list of { name, role, password_hash } mappings (staff is optional)")
            ])
        }
        var users: [WebUser] = []
        var names: Set<String> = []
        var problems: [ConfigurationProblem] = []
        for item in list {
            guard let mapping = item.mapping else {
                problems.append(fail(item, "each user must be a mapping like { name: mehmet, role: admin, "
                    + "password_hash: \"…\" }"))
                continue
            }
            var name: String?, role: Role?, staff: String?, hash: PasswordHash?
            var seen: Set<String> = []
            for (keyNode, value) in mapping {
                let key = keyNode.string ?? ""
                seen.insert(key)
                let text = value.scalar?.string ?? ""
                switch key {
                case "name":
                    if text.isEmpty || text.count > 64 || text.contains(where: { $0.isWhitespace || $0.isNewline }) {
                        problems.append(fail(value, "a user's `name` is 1 to 64 characters without spaces"))
                    } else {
                        name = text
                    }
                case "role":
                    role = Role(rawValue: text)
                    if role == nil {
                        problems.append(fail(value, "unknown role '\(text)' — use admin, staff, booking or read"))
                    }
                case "staff":
                    if text.isEmpty { problems.append(fail(value, "`staff` must be a staff id from the rules")) }
                    staff = text
                case "password_hash":
                    do {
                        hash = try PasswordHash(parsing: text)
                    } catch {
                        problems.append(fail(value, "this `password_hash` \(error.message)"))
                    }
                default:
                    problems.append(
                        fail(keyNode, "unknown key '\(key)' in a user — use name, role, staff or password_hash"))
                }
            }
            for key in ["name", "role", "password_hash"] where !seen.contains(key) {
                problems.append(fail(item, "this user needs `\(key)`"
                    + (key == "password_hash" ? " — make it with `slotctl passwd`" : "")))
            }
            if let name, !names.insert(name.lowercased()).inserted {
                problems.append(
                    fail(item, "the user name '\(name)' appears twice (names ignore case) — make them unique"))
            }
            if let name, let role, let hash {
                users.append(WebUser(name: name, role: role, staff: staff, passwordHash: hash))
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return users
    }
}

/// `web.calendar`: what the calendar feeds show and for how long.
public struct CalendarFeedSettings: Sendable, Hashable {
    /// How much of a customer's name a feed's events show (the service is always there).
    public enum Names: String, Sendable, Hashable {
        /// No name: only the service (and, in the shop's feed, the staff member).
        case none
        /// The first word of the name (the default).
        case first
        /// The whole name as booked.
        case full
    }

    public var names = Names.first
    /// How long a cancelled (or expired) booking stays in the feeds as `STATUS:CANCELLED` after it was cancelled,
    /// so subscribed phones see the cancellation before it disappears.
    public var keepCancelledSeconds: Int64 = 7 * 86_400
    /// The window of bookings a feed holds, by start: from `now − past` to `now + future`.
    public var pastSeconds: Int64 = 30 * 86_400
    public var futureSeconds: Int64 = 365 * 86_400
    /// How often a subscribed calendar should fetch the feed again (`REFRESH-INTERVAL`, `X-PUBLISHED-TTL`).
    public var refreshSeconds: Int64 = 15 * 60

    public init() {}
}
