import Foundation
import SlotAPI
import Testing

@testable import SlotServer

@Suite("hand-written JSON on hot paths")
struct FastJSONTests {
    @Test("a slot answer encodes to exactly the bytes JSONEncoder writes", arguments: [0, 1, 3])
    func slotListMatchesEncoder(count: Int) throws {
        let slots = (0..<count).map { index in
            SlotOffer(
                start: "2026-03-0\(index + 1)T09:00:00+01:00", end: "2026-03-0\(index + 1)T09:30:00+01:00",
                staff: index == 1 ? "an\"na\\/é" : "anna")
        }
        let list = SlotList(
            service: "haircut,beard", staff: "any", from: "2026-03-01", to: "2026-03-07",
            rulesVersion: "sha256:ab/cd", slots: slots)
        #expect(try SlotListJSON.encode(list) == JSONCoding.encoder.encode(list))
    }

    @Test("control characters fall back to JSONEncoder's escaping")
    func controlCharacters() throws {
        let list = SlotList(
            service: "hair\ncut", staff: "any", from: "2026-03-01", to: "2026-03-01", rulesVersion: "v\u{1}",
            slots: [SlotOffer(start: "a\tb", end: "c", staff: "d")])
        #expect(try SlotListJSON.encode(list) == JSONCoding.encoder.encode(list))
    }
}
