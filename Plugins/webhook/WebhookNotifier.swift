import Foundation
import SlotCore
import SlotProviders

/// Delivers each message as a signed JSON POST, per Standard Webhooks (standardwebhooks.com).
///
/// Body: `{"type": event, "id": message id, "timestamp": ISO 8601, "data": {…}}`. Headers: `webhook-id` (the
/// message id, stable across retries, so the receiver deduplicates), `webhook-timestamp` (Unix seconds) and
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the base64 part of the
/// `whsec_…` secret. A 2xx is delivered; 408, 429 and 5xx retry; other statuses park the job.
///
/// ```yaml
/// providers:
///   frontdesk:
///     type: webhook
///     url: https://frontdesk.example/hooks/slotd
///     secret_file: /etc/slotd/frontdesk.whsec   # one line: whsec_<base64>
///     timeout: 10s
///     ca_file: /etc/slotd/frontdesk-ca.pem      # optional: trust this CA instead of the system's
/// ```
public struct WebhookNotifier: NotificationProvider {
    public let name: String
    let url: String
    let key: Data
    let timeout: Duration
    let caFile: String?
    let now: @Sendable () -> Int64

    public init(
        name: String, url: String, secret: String, timeout: Duration = .seconds(10), caFile: String? = nil,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws(ProviderError) {
        guard let key = Self.key(fromSecret: secret) else {
            throw .permanent("the webhook secret must be `whsec_` followed by base64")
        }
        self.name = name
        self.url = url
        self.key = key
        self.timeout = timeout
        self.caFile = caFile
        self.now = now
    }

    /// Builds it from `providers: { NAME: { type: webhook, url, secret_file, timeout, ca_file } }`.
    public init(settings: ProviderSettings) throws(ConfigurationError) {
        try settings.rejectUnknownKeys(["url", "secret_file", "timeout", "ca_file"])
        let url = try settings.requiredString("url", hint: "the receiver's URL, like https://example.com/hooks/slotd")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw settings.error("url", "`url` must start with http:// or https://")
        }
        guard let secret = try settings.secret(fromFileAt: "secret_file") else {
            throw settings.error(
                nil, "a webhook needs `secret_file`: a file holding whsec_<base64> (e.g. from "
                    + "`printf 'whsec_%s' $(head -c 24 /dev/urandom | base64)`)")
        }
        guard Self.key(fromSecret: secret) != nil else {
            throw settings.error("secret_file", "the secret must be `whsec_` followed by base64")
        }
        let caFile = try settings.path("ca_file")
        let timeout = try settings.duration("timeout") ?? .seconds(10)
        do throws(ProviderError) {
            try self.init(
                name: settings.name, url: url, secret: secret, timeout: timeout,
                caFile: caFile)
        } catch {
            throw settings.error(nil, error.message)
        }
    }

    /// The HMAC key of a `whsec_<base64>` secret (a bare base64 secret is accepted too).
    static func key(fromSecret secret: String) -> Data? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let key = Data(base64Encoded: encoded), !key.isEmpty else { return nil }
        return key
    }

    /// `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`.
    public static func signature(id: String, timestamp: Int64, body: Data, key: Data) -> String {
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(body)
        return "v1," + Signatures.hmacSHA256(key: key, message: signed).base64EncodedString()
    }

    /// The JSON body for a message.
    static func body(for message: OutgoingMessage, at timestamp: Int64) -> Data {
        var fields = (try? StableJSON.decoder.decode(JSONValue.self, from: message.data)) ?? .object([:])
        if !fields.isObject { fields = .object([:]) }
        let iso = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(timestamp)))
        let body = WebhookBody(
            type: message.event, id: message.id, timestamp: iso,
            data: .init(
                fields: fields, subject: message.subject, body: message.body,
                recipient: message.recipient))
        return (try? StableJSON.encoder.encode(body)) ?? Data("{}".utf8)
    }

    public func send(_ message: OutgoingMessage) async throws(ProviderError) {
        let timestamp = now()
        let body = Self.body(for: message, at: timestamp)
        let call = HTTPCall(
            method: "POST", url: url,
            headers: [
                ("Content-Type", "application/json"), ("webhook-id", message.id),
                ("webhook-timestamp", String(timestamp)),
                ("webhook-signature", Self.signature(id: message.id, timestamp: timestamp, body: body, key: key)),
                ("User-Agent", "slotd"),
            ],
            body: body, timeout: timeout, caFile: caFile)
        let reply = try await Curl.perform(call)
        guard reply.isSuccess else { throw reply.failure }
    }
}

/// The JSON a webhook receives for one message (Plugins/webhook/README.md documents it).
struct WebhookBody: Encodable {
    struct Message: Encodable {
        /// The event's fields as the notification handler wrote them.
        var fields: JSONValue
        var subject: String
        var body: String
        var recipient: Recipient
    }

    var type: String
    var id: String
    var timestamp: String
    var data: Message
}
