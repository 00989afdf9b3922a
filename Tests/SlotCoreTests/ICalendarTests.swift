import Foundation
import SlotCore
import Testing

@Suite("iCalendar writer (RFC 5545)")
struct ICalendarTests {
    let event = ICalendarEvent(
        uid: "bk_1@shop.example", sequence: 2, stamp: 1_774_746_000, start: 1_774_746_000, end: 1_774_747_800,
        summary: "Haircut; with Anna, 30 min", description: "line one\nline two \\ done",
        location: "Salon Mehmet", url: "https://shop.example/b/abc")

    @Test("times are UTC, every line ends in CRLF, and text is escaped")
    func document() {
        let text = ICalendar.document(events: [event], productID: "-//slotd//EN")
        #expect(text.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
        #expect(text.hasSuffix("END:VCALENDAR\r\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(text.contains("DTSTART:20260329T010000Z\r\n"))
        #expect(text.contains("DTEND:20260329T013000Z\r\n"))
        #expect(text.contains("SUMMARY:Haircut\\; with Anna\\, 30 min\r\n"))
        #expect(text.contains("DESCRIPTION:line one\\nline two \\\\ done\r\n"))
        #expect(text.contains("SEQUENCE:2\r\n"))
    }

    @Test("long lines fold at 75 octets without splitting a UTF-8 sequence, and unfold to the original")
    func folding() {
        let value = String(repeating: "Grüße, ", count: 30)
        let folded = ICalendar.fold("SUMMARY:" + ICalendar.escape(value))
        let lines = folded.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count > 1)
        for line in lines { #expect(line.utf8.count <= 75) }
        for line in lines.dropFirst() { #expect(line.hasPrefix(" ")) }
        let unfolded = folded.replacingOccurrences(of: "\r\n ", with: "").replacingOccurrences(of: "\r\n", with: "")
        #expect(unfolded == "SUMMARY:" + ICalendar.escape(value))
    }

    @Test("escaping: CRLF is one line break, other control characters are dropped")
    func escaping() {
        #expect(ICalendar.escape("a\r\nb\rc\nd\u{0}e") == "a\\nb\\nc\\nde")
    }

    @Test("UTC stamps before the epoch and at day ends")
    func utc() {
        #expect(ICalendar.utc(0) == "19700101T000000Z")
        #expect(ICalendar.utc(-1) == "19691231T235959Z")
        #expect(ICalendar.utc(86_399) == "19700101T235959Z")
    }

    @Test(
        "every physical line is at most 75 octets and valid UTF-8 on its own, whatever the characters",
        arguments: ["Grüße", "日本語のテキスト", "👨‍👩‍👧‍👦", "a😀b", "x", "ß,;\\"])
    func foldingNeverSplitsASequence(unit: String) throws {
        for prefixLength in 0..<8 {
            // Every alignment of the multi-byte characters against the 75-octet boundary.
            let value = String(repeating: "a", count: prefixLength) + String(repeating: unit, count: 60)
            let line = "SUMMARY:" + ICalendar.escape(value)
            let folded = Array(ICalendar.fold(line).utf8)
            var physical: [[UInt8]] = [[]]
            var index = 0
            while index < folded.count {
                if folded[index] == 13, index + 1 < folded.count, folded[index + 1] == 10 {
                    physical.append([])
                    index += 2
                } else {
                    physical[physical.count - 1].append(folded[index])
                    index += 1
                }
            }
            #expect(physical.removeLast().isEmpty, "the text ends with CRLF")
            for (number, bytes) in physical.enumerated() {
                #expect(bytes.count <= 75)
                #expect(String(validating: bytes, as: UTF8.self) != nil, "line \(number) splits a UTF-8 sequence")
                if number > 0 { #expect(bytes.first == 0x20) }
            }
            let unfolded = physical.enumerated().flatMap { $0.offset == 0 ? $0.element : Array($0.element.dropFirst()) }
            #expect(String(decoding: unfolded, as: UTF8.self) == line)
        }
    }

    @Test(
        "durations as RFC 5545 writes them",
        arguments: [
            (900, "PT15M"), (3_600, "PT1H"), (5_400, "PT1H30M"), (86_400, "P1D"), (90_000, "P1DT1H"),
            (30, "PT1M"), (7 * 86_400 + 60, "P7DT1M"),
        ] as [(Int64, String)])
    func durations(seconds: Int64, text: String) {
        #expect(ICalendar.duration(seconds) == text)
    }

    @Test("a feed says how often to refresh and in which zone to show it")
    func feedHeader() {
        let text = ICalendar.document(
            events: [event], productID: "-//slotd//EN", name: "Salon; Mehmet", refreshSeconds: 900,
            timeZoneHint: "Europe/Berlin")
        #expect(text.contains("\r\nREFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n"))
        #expect(text.contains("\r\nX-PUBLISHED-TTL:PT15M\r\n"))
        #expect(text.contains("\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"))
        #expect(text.contains("\r\nX-WR-CALNAME:Salon\\; Mehmet\r\n"))
        #expect(!ICalendar.document(events: [], productID: "p").contains("REFRESH-INTERVAL"))
    }

    @Test("TEXT escapes backslash, semicolon, comma and line breaks, and keeps non-ASCII as is")
    func escapingEveryKind() {
        #expect(ICalendar.escape("Ünal, Ayşe; \\ \"x\"\nzwei") == "Ünal\\, Ayşe\\; \\\\ \"x\"\\nzwei")
    }
}

