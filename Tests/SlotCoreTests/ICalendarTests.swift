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
}
