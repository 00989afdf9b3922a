import Foundation
import SlotAPI

/// The JSON of a slot answer, written directly: byte for byte what `JSONCoding.encoder` (sorted keys, unescaped
/// slashes) writes, at a fraction of the cost.
///
/// `GET /v1/slots` is the hot read of the API, and `JSONEncoder` building its value tree and sorting keys for
/// every slot was the largest part of answering it (measured with `perf`; see docs/benchmarks.md). Strings with
/// control characters, which never occur in ids, dates and times, go through `JSONEncoder` so its escaping rules
/// stay the only ones.
enum SlotListJSON {
    static func encode(_ list: SlotList) throws -> Data {
        let strings =
            [list.from, list.rulesVersion, list.service, list.staff, list.to]
            + list.slots.flatMap { [$0.end, $0.staff, $0.start] }
        if strings.contains(where: { $0.utf8.contains { $0 < 0x20 } }) {
            return try JSONCoding.encoder.encode(list)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + list.slots.count * 96)
        // Keys in code-point order, as `.sortedKeys` writes them.
        append("{\"from\":", to: &bytes)
        string(list.from, into: &bytes)
        append(",\"rules_version\":", to: &bytes)
        string(list.rulesVersion, into: &bytes)
        append(",\"service\":", to: &bytes)
        string(list.service, into: &bytes)
        append(",\"slots\":[", to: &bytes)
        for (index, slot) in list.slots.enumerated() {
            append(index == 0 ? "{\"end\":" : ",{\"end\":", to: &bytes)
            string(slot.end, into: &bytes)
            append(",\"staff\":", to: &bytes)
            string(slot.staff, into: &bytes)
            append(",\"start\":", to: &bytes)
            string(slot.start, into: &bytes)
            bytes.append(UInt8(ascii: "}"))
        }
        append("],\"staff\":", to: &bytes)
        string(list.staff, into: &bytes)
        append(",\"to\":", to: &bytes)
        string(list.to, into: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return Data(bytes)
    }

    private static func append(_ literal: StaticString, to bytes: inout [UInt8]) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A quoted string without control characters: only `"` and `\` need escaping.
    private static func string(_ text: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
