import CCurl
import Foundation
import SlotBlocking

/// An HTTP request for a provider: Stripe's API, a webhook receiver, an SMS gateway.
public struct HTTPCall: Sendable {
    public var method: String
    public var url: String
    /// In order; names as the receiver expects them.
    public var headers: [(name: String, value: String)]
    public var body: Data?
    /// The whole call, connection included; past it the call fails as `.temporary`.
    public var timeout: Duration
    /// A CA bundle to trust instead of the system's (tests with their own certificate).
    public var caFile: String?
    /// Connect to this Unix socket instead of the URL's host (the URL still gives the path and `Host`).
    public var unixSocketPath: String?

    public init(
        method: String, url: String, headers: [(name: String, value: String)] = [], body: Data? = nil,
        timeout: Duration = .seconds(10), caFile: String? = nil, unixSocketPath: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.caFile = caFile
        self.unixSocketPath = unixSocketPath
    }
}

/// The receiver's answer.
public struct HTTPReply: Sendable {
    public var status: Int
    public var body: Data

    public init(status: Int, body: Data) {
        self.status = status
        self.body = body
    }

    /// 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// What a failed status means for a retry: 408, 425, 429 and 5xx are worth another try, other 4xx are not.
    public var failure: ProviderError {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        let message = "HTTP \(status): \(text)"
        switch status {
        case 408, 425, 429, 500...599: return .temporary(message)
        default: return .permanent(message)
        }
    }
}

/// One email for `Curl.sendMail`.
public struct MailCall: Sendable {
    /// `smtp://host:587` (STARTTLS when `requireTLS`) or `smtps://host:465`.
    public var url: String
    public var from: String
    public var to: [String]
    /// The whole RFC 5322 message, headers and body, CRLF line ends.
    public var message: Data
    public var username: String?
    public var password: String?
    /// Refuse to send without TLS (STARTTLS on `smtp://`).
    public var requireTLS: Bool
    public var timeout: Duration
    public var caFile: String?

    public init(
        url: String, from: String, to: [String], message: Data, username: String? = nil, password: String? = nil,
        requireTLS: Bool = false, timeout: Duration = .seconds(30), caFile: String? = nil
    ) {
        self.url = url
        self.from = from
        self.to = to
        self.message = message
        self.username = username
        self.password = password
        self.requireTLS = requireTLS
        self.timeout = timeout
        self.caFile = caFile
    }
}

/// libcurl for HTTP(S) and SMTP(S): no extra package to build, and the system's TLS.
///
/// Each call runs through `BlockingWork.run`, off Swift's cooperative pool (curl's easy interface blocks), and is
/// bounded by its timeout, so a hung receiver costs a thread for at most that long and never a request handler.
public enum Curl {
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Performs an HTTP call; network failures and timeouts are `.temporary`. Any status is returned as a reply.
    public static func perform(_ call: HTTPCall) async throws(ProviderError) -> HTTPReply {
        try await BlockingWork.run { () throws(ProviderError) in try performOnThisThread(call).get() }
    }

    /// Sends one email.
    public static func sendMail(_ mail: MailCall) async throws(ProviderError) {
        try await BlockingWork.run { () throws(ProviderError) in try sendMailBlocking(mail).get() }
    }


    /// Collects a response body, or feeds a request body.
    private final class Buffer {
        var data = Data()
        var offset = 0
    }

    private static let collect: ccurl_data_callback = { pointer, size, count, context in
        guard let pointer, let context else { return 0 }
        let buffer = Unmanaged<Buffer>.fromOpaque(context).takeUnretainedValue()
        buffer.data.append(UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: size * count)
        return size * count
    }

    private static let feed: ccurl_data_callback = { pointer, size, count, context in
        guard let pointer, let context else { return 0 }
        let buffer = Unmanaged<Buffer>.fromOpaque(context).takeUnretainedValue()
        let length = min(size * count, buffer.data.count - buffer.offset)
        guard length > 0 else { return 0 }
        buffer.data.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            UnsafeMutableRawPointer(pointer).copyMemory(from: base + buffer.offset, byteCount: length)
        }
        buffer.offset += length
        return length
    }

    /// libcurl's timeouts in milliseconds; zero would mean "no timeout", so at least one.
    private static func milliseconds(_ duration: Duration) -> Int { Int(max(1, duration.wholeMilliseconds)) }

    /// Performs an HTTP call on the calling thread, which it blocks: for `perform` and for a thread of the caller's
    /// own (the systemd watchdog's), never for async code.
    public static func performOnThisThread(_ call: HTTPCall) -> Result<HTTPReply, ProviderError> {
        BlockingWork.assertOffCooperativePool("an HTTP call with libcurl")
        _ = globalInit
        guard let handle = curl_easy_init() else { return .failure(.temporary("libcurl could not start a call")) }
        defer { curl_easy_cleanup(handle) }
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for header in call.headers { headers = curl_slist_append(headers, "\(header.name): \(header.value)") }
        // curl adds `Expect: 100-continue` to larger bodies, which some receivers answer slowly: turn it off.
        headers = curl_slist_append(headers, "Expect:")
        defer { curl_slist_free_all(headers) }

        let response = Buffer()
        let responseContext = Unmanaged.passRetained(response)
        defer { responseContext.release() }
        let request = Buffer()
        request.data = call.body ?? Data()
        let requestContext = Unmanaged.passRetained(request)
        defer { requestContext.release() }

        ccurl_setopt_string(handle, CURLOPT_URL, call.url)
        ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, call.method)
        ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(call.timeout))
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(milliseconds(call.timeout), 10_000))
        ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        if let caFile = call.caFile { ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if let path = call.unixSocketPath { ccurl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, path) }
        ccurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, collect)
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, responseContext.toOpaque())
        if call.body != nil {
            // Sent the POST way whatever the method: CURLOPT_CUSTOMREQUEST above puts the method on the wire.
            ccurl_setopt_long(handle, CURLOPT_POST, 1)
            ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, request.data.count)
            ccurl_setopt_callback(handle, CURLOPT_READFUNCTION, feed)
            ccurl_setopt_pointer(handle, CURLOPT_READDATA, requestContext.toOpaque())
        }
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            return .failure(.temporary("\(call.method) \(redacted(call.url)) failed: \(reason)"))
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPReply(status: status, body: response.data))
    }

    private static func sendMailBlocking(_ mail: MailCall) -> Result<Void, ProviderError> {
        BlockingWork.assertOffCooperativePool("sending mail with libcurl")
        _ = globalInit
        guard let handle = curl_easy_init() else { return .failure(.temporary("libcurl could not start a call")) }
        defer { curl_easy_cleanup(handle) }
        var recipients: UnsafeMutablePointer<curl_slist>? = nil
        for address in mail.to { recipients = curl_slist_append(recipients, "<\(address)>") }
        defer { curl_slist_free_all(recipients) }
        let request = Buffer()
        request.data = mail.message
        let requestContext = Unmanaged.passRetained(request)
        defer { requestContext.release() }

        ccurl_setopt_string(handle, CURLOPT_URL, mail.url)
        ccurl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(mail.from)>")
        ccurl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(mail.timeout))
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(milliseconds(mail.timeout), 10_000))
        if mail.requireTLS { ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        if let username = mail.username { ccurl_setopt_string(handle, CURLOPT_USERNAME, username) }
        if let password = mail.password { ccurl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        if let caFile = mail.caFile { ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        ccurl_setopt_long(handle, CURLOPT_INFILESIZE, mail.message.count)
        ccurl_setopt_callback(handle, CURLOPT_READFUNCTION, feed)
        ccurl_setopt_pointer(handle, CURLOPT_READDATA, requestContext.toOpaque())
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(code))
            var smtpStatus = 0
            ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &smtpStatus)
            // 5xx from the mail server (a refused address, failed authentication) will not pass on a retry.
            let message = "mail to \(mail.to.joined(separator: ", ")) via \(redacted(mail.url)) failed: \(reason)"
                + (smtpStatus > 0 ? " (SMTP \(smtpStatus))" : "")
            return .failure((500...599).contains(smtpStatus) ? .permanent(message) : .temporary(message))
        }
        return .success(())
    }

    /// The URL without credentials, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        if components.password != nil { components.password = "***" }
        return components.string ?? url
    }
}
