import SlotCore
import Testing

@Suite("ISO 8601 output of ShopTimeZone")
struct ISO8601FormatTests {
    @Test("times keep their format across DST, the epoch, negative offsets and tiny years")
    func format() throws {
        let berlin = try #require(ShopTimeZone(identifier: "Europe/Berlin"))
        #expect(berlin.iso8601(instant: 1_774_746_000) == "2026-03-29T03:00:00+02:00")
        #expect(berlin.iso8601(instant: 0) == "1970-01-01T01:00:00+01:00")
        let newYork = try #require(ShopTimeZone(identifier: "America/New_York"))
        #expect(newYork.iso8601(instant: 1_767_225_599) == "2025-12-31T18:59:59-05:00")
        let utc = try #require(ShopTimeZone(identifier: "UTC"))
        #expect(utc.iso8601(instant: -62_135_596_800 + 86_400 * 3) == "0001-01-04T00:00:00+00:00")
    }
}
