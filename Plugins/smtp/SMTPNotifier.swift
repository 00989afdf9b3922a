import Foundation
import SlotProviders

/// Sends each message as an email through an SMTP server (libcurl: `smtp://` with optional STARTTLS, `smtps://`).
///
/// ```yaml
/// providers:
///   mail:
///     type: smtp
///     url: "smtp://mail.example.com:587"
///     starttls: true
///     from: "Barbershop <shop@example.com>"
///     username: shop@example.com
///     password_file: /etc/slotd/mail.password
/// ```
public struct SMTPNotifier: NotificationProvider {
    public let name: String
    public var url: String
    public var from: String
    public var replyTo: String?
    public var username: String?
    public var password: String?
    public var requireTLS: Bool
    public var caFile: String?
    public var timeout: Duration
    /// The `Date:` of a message (a parameter so tests can fix it).
    public var now: @Sendable () -> Date
    /// Delivers a built message (`Curl.sendMail`, or a recorder in tests).
    public var deliver: @Sendable (MailCall) async throws(ProviderError) -> Void

    public static let settingKeys: Set<String> = [
        "url", "from", "username", "password_file", "ca_file", "timeout", "reply_to", "starttls",
    ]

    public init(
        name: String, url: String, from: String, replyTo: String? = nil, username: String? = nil,
        password: String? = nil, requireTLS: Bool = false, caFile: String? = nil, timeout: Duration = .seconds(30),
        now: @escaping @Sendable () -> Date = { Date() },
        deliver: @escaping @Sendable (MailCall) async throws(ProviderError) -> Void = { mail throws(ProviderError) in
            try await Curl.sendMail(mail)
        }
    ) {
        self.name = name
        self.url = url
        self.from = from
        self.replyTo = replyTo
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.caFile = caFile
        self.timeout = timeout
        self.now = now
        self.deliver = deliver
    }

    /// Builds it from its `providers:` entry; every mistake is located.
    public init(settings: ProviderSettings) throws(ConfigurationError) {
        try settings.rejectUnknownKeys(Self.settingKeys)
        let url = try settings.requiredString("url", hint: "e.g. url: \"smtps://mail.example.com:465\"")
        let lower = url.lowercased()
        guard lower.hasPrefix("smtp://") || lower.hasPrefix("smtps://"),
            let host = URLComponents(string: url)?.host, !host.isEmpty
        else {
            throw settings.error(
                "url", "`url` must be smtp://host:port or smtps://host:port (got '\(url)')")
        }
        let from = try settings.requiredString("from", hint: "e.g. from: \"Barbershop <shop@example.com>\"")
        guard MailMessage.isPlausibleAddress(MailMessage.address(of: from)) else {
            throw settings.error(
                "from", "`from` must be an address like shop@example.com or \"Shop <shop@example.com>\"")
        }
        let replyTo = try settings.string("reply_to")
        if let replyTo, !MailMessage.isPlausibleAddress(MailMessage.address(of: replyTo)) {
            throw settings.error("reply_to", "`reply_to` must be an address like desk@example.com")
        }
        let starttls = try settings.bool("starttls") ?? false
        if starttls && lower.hasPrefix("smtps://") {
            throw settings.error(
                "starttls", "`starttls` is for smtp:// (port 587); smtps:// is TLS from the start — drop `starttls`")
        }
        let username = try settings.string("username")
        let password = try settings.secret(fromFileAt: "password_file")
        if password != nil && username == nil {
            throw settings.error("password_file", "`password_file` needs a `username` too")
        }
        let local = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased())
        if password != nil && lower.hasPrefix("smtp://") && !starttls && !local {
            throw settings.error(
                "url", "a password would cross the network unencrypted — set `starttls: true` or use smtps://")
        }
        let caFile = try settings.path("ca_file")
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw settings.error("ca_file", "cannot read the CA file \(caFile)")
        }
        let timeout = try settings.duration("timeout") ?? .seconds(30)
        guard timeout > .zero else { throw settings.error("timeout", "`timeout` must be more than 0s") }
        self.init(
            name: settings.name, url: url, from: from, replyTo: replyTo, username: username, password: password,
            requireTLS: starttls, caFile: caFile, timeout: timeout)
    }

    public func send(_ message: OutgoingMessage) async throws(ProviderError) {
        try await deliver(try mailCall(for: message))
    }

    /// The email for `message`, and how to send it.
    public func mailCall(for message: OutgoingMessage) throws(ProviderError) -> MailCall {
        guard let email = message.recipient.email?.trimmingCharacters(in: .whitespaces), !email.isEmpty else {
            throw .permanent(
                "'\(message.recipient.name)' has no email address, so provider '\(name)' cannot send "
                    + "\(message.event) — add the customer's email, or route this event to another provider")
        }
        guard MailMessage.isPlausibleAddress(email) else {
            throw .permanent("'\(email)' is not an email address (for \(message.recipient.name), \(message.event))")
        }
        let mail = mailMessage(for: message, to: email)
        return MailCall(
            url: url, from: MailMessage.address(of: from), to: [email], message: mail.rendered(), username: username,
            password: password, requireTLS: requireTLS, timeout: timeout, caFile: caFile)
    }

    /// The RFC 5322 message for `message`.
    public func mailMessage(for message: OutgoingMessage, to email: String) -> MailMessage {
        MailMessage(
            from: from, toName: message.recipient.name, toAddress: email, replyTo: replyTo, subject: message.subject,
            body: message.body, messageID: Self.messageID(for: message.id, from: from), date: now(),
            extraHeaders: [("X-Slotd-Event", message.event)])
    }

    /// `<slotd.{id}@{sender's domain}>`: the same id for every retry of a message, so receivers can deduplicate.
    public static func messageID(for id: String, from: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+")
        let local = String(id.map { allowed.contains($0) ? $0 : "-" })
        let address = MailMessage.address(of: from)
        let domain = address.split(separator: "@").last.map(String.init) ?? "slotd.invalid"
        return "<slotd.\(local)@\(domain)>"
    }
}
