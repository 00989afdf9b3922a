import Foundation
import Testing

@testable import SlotStore

@Suite("the store's own JSON")
struct StoreJSONTests {
    @Test("objects come out with sorted keys and read back as what went in")
    func roundTrip() throws {
        let object: [String: Any] = [
            "status": "confirmed", "booking": "bk_1", "services": ["haircut", "beard"], "start": Int64(1_800_000_000),
            "late": true, "fee": ["currency": "EUR", "amount": 500], "reason": "said \"no\"\\ at 9/10\n\u{1}é",
        ]
        let data = StoreJSON.data(object)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("{\"booking\":\"bk_1\",\"fee\":{\"amount\":500,\"currency\":\"EUR\"},\"late\":true,"))
        let back = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(back["reason"] as? String == "said \"no\"\\ at 9/10\n\u{1}é")
        #expect(back["services"] as? [String] == ["haircut", "beard"])
        #expect(back["start"] as? Int == 1_800_000_000)
        #expect(back["late"] as? Bool == true)
        #expect(StoreJSON.data([[String: Any]]()) == Data("[]".utf8))
        // Integers stay integers (no bridging of 0 and 1 to booleans).
        let numbers = StoreJSON.data(["a": 0, "b": 1, "c": Int64(1), "d": false])
        #expect(String(decoding: numbers, as: UTF8.self) == #"{"a":0,"b":1,"c":1,"d":false}"#)
    }
}
