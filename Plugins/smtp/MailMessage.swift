import Foundation

/// An RFC 5322 email with one UTF-8 text body, built byte for byte so tests can check every header.
public struct MailMessage: Hashable, Sendable {
    /// `Shop <shop@example.com>` or `shop@example.com`.
    public var from: String
    public var toName: String
    public var toAddress: String
    public var replyTo: String?
    public var subject: String
    public var body: String
    /// Derived from the outgoing message's id, so a retried job carries the same `Message-ID`.
    public var messageID: String
    public var date: Date
    /// Extra headers in order (`X-Slotd-Event`).
    public var extraHeaders: [(name: String, value: String)]

    public init(
        from: String, toName: String, toAddress: String, replyTo: String? = nil, subject: String, body: String,
        messageID: String, date: Date, extraHeaders: [(name: String, value: String)] = []
    ) {
        self.from = from
        self.toName = toName
        self.toAddress = toAddress
        self.replyTo = replyTo
        self.subject = subject
        self.body = body
        self.messageID = messageID
        self.date = date
        self.extraHeaders = extraHeaders
    }

    public static func == (lhs: MailMessage, rhs: MailMessage) -> Bool { lhs.rendered() == rhs.rendered() }
    public func hash(into hasher: inout Hasher) { hasher.combine(rendered()) }

    /// The whole message with CRLF line ends, ready for SMTP `DATA`.
    public func rendered() -> Data {
        var lines: [String] = []
        lines.append("Date: " + Self.rfc5322Date(date))
        lines.append(Self.fold("From: " + Self.mailbox(from)))
        lines.append(Self.fold("To: " + Self.mailbox(name: toName, address: toAddress)))
        if let replyTo { lines.append(Self.fold("Reply-To: " + Self.mailbox(replyTo))) }
        lines.append("Subject: " + Self.encodedHeaderValue(subject, prefixLength: "Subject: ".count))
        lines.append("Message-ID: " + messageID)
        lines.append("MIME-Version: 1.0")
        lines.append("Content-Type: text/plain; charset=UTF-8")
        lines.append("Content-Transfer-Encoding: quoted-printable")
        for header in extraHeaders { lines.append(Self.fold("\(header.name): \(Self.headerSafe(header.value))")) }
        let head = lines.joined(separator: "\r\n")
        return Data((head + "\r\n\r\n" + Self.quotedPrintable(body)).utf8)
    }

    // MARK: - Addresses

    /// The bare address of `Name <address>` or `address`.
    public static func address(of mailbox: String) -> String {
        let trimmed = mailbox.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close {
            return String(trimmed[trimmed.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
        }
        return trimmed
    }

    /// Whether `address` looks like `local@domain` without spaces or angle brackets (not a full RFC 5321 check:
    /// the mail server has the last word).
    public static func isPlausibleAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix(".")
        else { return false }
        return !address.contains(where: { $0.isWhitespace || "<>,;\"()[]\\".contains($0) || !$0.isASCII })
    }

    /// `Name <address>` from a configured mailbox, the name encoded when needed.
    static func mailbox(_ configured: String) -> String {
        let trimmed = configured.trimmingCharacters(in: .whitespaces)
        let address = address(of: trimmed)
        guard let open = trimmed.lastIndex(of: "<") else { return address }
        var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
        return mailbox(name: name, address: address)
    }

    static func mailbox(name: String, address: String) -> String {
        let name = headerSafe(name)
        guard !name.isEmpty else { return "<\(address)>" }
        if name.allSatisfy({ $0.isASCII }) {
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\" <\(address)>"
        }
        return encodedWords(name).joined(separator: " ") + " <\(address)>"
    }

    // MARK: - Header encoding (RFC 2047)

    /// Line breaks in a header value would start a new header (header injection): they become spaces.
    static func headerSafe(_ value: String) -> String {
        value.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\r", with: " ")
    }

    /// The value as is when it is printable ASCII (folded), else as UTF-8 encoded words, one per folded line.
    static func encodedHeaderValue(_ raw: String, prefixLength: Int) -> String {
        let value = headerSafe(raw)
        if value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) && !value.contains("=?") {
            return String(fold(String(repeating: "x", count: prefixLength) + value).dropFirst(prefixLength))
        }
        return encodedWords(value).joined(separator: "\r\n ")
    }

    /// `=?UTF-8?B?…?=` words of at most 75 characters, never splitting a character across two words.
    static func encodedWords(_ value: String) -> [String] {
        var words: [String] = []
        var chunk = Data()
        // 39 bytes of UTF-8 are 52 characters of base64: with `=?UTF-8?B?`, `?=` and `Subject: ` a line stays
        // within 76 (RFC 2047).
        for character in value {
            let bytes = Data(String(character).utf8)
            if chunk.count + bytes.count > 39, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words
    }

    /// Folds a header line at spaces so no line passes 78 characters where it can be helped.
    static func fold(_ line: String) -> String {
        guard line.count > 78 else { return line }
        var output: [String] = []
        var current: String?
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if let line = current, line.count + 1 + word.count > 78, !line.trimmingCharacters(in: .whitespaces).isEmpty
            {
                output.append(line)
                current = String(word)
            } else {
                current = current.map { $0 + " " + word } ?? String(word)
            }
        }
        if let current { output.append(current) }
        return output.joined(separator: "\r\n ")
    }

    // MARK: - Date

    /// `Wed, 25 Nov 2026 13:24:33 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    // MARK: - Body (RFC 2045 quoted-printable)

    /// The body as quoted-printable with CRLF line ends and lines of at most 76 characters.
    static func quotedPrintable(_ text: String) -> String {
        let hexDigits = Array("0123456789ABCDEF")
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var output: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var encoded: [String] = []
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let plain =
                    (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 32 || byte == 9) && !isLast)
                // A line starting with "." or "From " is left to the transport (curl dot-stuffs); encode "." at
                // the start anyway so a relay that does not is harmless.
                if plain && !(index == 0 && byte == UInt8(ascii: ".")) {
                    encoded.append(String(UnicodeScalar(byte)))
                } else {
                    encoded.append("=" + String(hexDigits[Int(byte >> 4)]) + String(hexDigits[Int(byte & 0x0f)]))
                }
            }
            // Soft line breaks: at most 75 characters and `=` per physical line, never inside an `=XX`.
            var physical = ""
            for token in encoded {
                if physical.count + token.count > 75 {
                    output.append(physical + "=")
                    physical = ""
                }
                physical += token
            }
            output.append(physical)
        }
        return output.joined(separator: "\r\n")
    }
}
