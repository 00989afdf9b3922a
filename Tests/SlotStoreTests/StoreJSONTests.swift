import Foundation
import Testing

import SlotRules

@testable import SlotStore

@Suite("the store's own JSON columns")
struct StoreJSONTests {
    @Test("arrays of strings are escaped and read back as what went in")
    func strings() throws {
        let texts = ["haircut", "said \"no\"\\ at 9/10\n\u{1}é", ""]
        let text = StoreJSON.array(of: texts)
        #expect(text.hasPrefix(#"["haircut","said \"no\"\\ at 9/10\n\u0001é","#))
        #expect(try JSONDecoder().decode([String].self, from: Data(text.utf8)) == texts)
        #expect(StoreJSON.array(of: [String]()) == "[]")
    }

    @Test("flat objects keep the given member order and write numbers as integers")
    func objects() throws {
        let text = StoreJSON.array(of: [["count": .number(0), "resource": .text("chair")], ["minutes": .number(-5)]])
        #expect(text == #"[{"count":0,"resource":"chair"},{"minutes":-5}]"#)
        #expect(StoreJSON.array(of: [KeyValuePairs<String, StoreJSON.Member>]()) == "[]")
    }

    @Test("segment and resource columns are written exactly as the typed encoder would and read back")
    func columnsMatchEncoder() throws {
        let segments = [Segment(.active, minutes: 20), Segment(.processing, minutes: 15)]
        let text = SQLiteBookingStore.encodeSegments(segments)
        let rows = segments.map { StoreJSON.SegmentRow(kind: $0.kind.rawValue, minutes: $0.minutes) }
        #expect(text == String(decoding: try StoreJSON.encoder.encode(rows), as: UTF8.self))
        #expect(SQLiteBookingStore.decodeSegments(text) == segments)
        let needs = [ResourceNeed(resource: "wash basin", count: 2)]
        let resources = SQLiteBookingStore.encodeResources(needs)
        let resourceRows = needs.map { StoreJSON.ResourceRow(resource: $0.resource, count: $0.count) }
        #expect(resources == String(decoding: try StoreJSON.encoder.encode(resourceRows), as: UTF8.self))
        #expect(SQLiteBookingStore.decodeResources(resources) == needs)
    }
}
