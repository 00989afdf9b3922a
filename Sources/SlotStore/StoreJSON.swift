import Foundation
import GRDB
import SlotCore
import SlotEngine
import SlotRules
import Synchronization

/// The small JSON the store writes into its own columns (`services`, `segments`, `resources`): arrays of strings
/// and arrays of flat objects.
///
/// Written by hand because this runs inside the write transaction of every booking, where it holds the one write
/// lock: `JSONSerialization` with `.sortedKeys` bridges every value and sorts keys with a locale-aware `NSString`
/// comparison, which cost more than the SQL of the whole transaction (measured with `perf`; see
/// docs/benchmarks.md). Job payloads and event data are `Codable` values written by `encode`.
public enum StoreJSON {
    /// A member of a flat object in a column.
    enum Member {
        case text(String)
        case number(Int)
    }

    /// `["a","b"]`.
    package static func array(of strings: [String]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (index, text) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            writeString(text, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `[{"k":v,…},…]`, members in the order given (callers give them sorted, as `encode` would write them).
    static func array(of objects: [KeyValuePairs<String, Member>]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(64 * objects.count + 2)
        for (index, object) in objects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "{"))
            for (position, (key, member)) in object.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                switch member {
                case .text(let text): writeString(text, into: &bytes)
                case .number(let number): bytes.append(contentsOf: String(number).utf8)
                }
            }
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func writeString(_ text: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    // MARK: - Typed values

    /// Job payloads and event data are written with the one configuration of `StableJSON`.
    static var encoder: JSONEncoder { StableJSON.encoder }
    static var decoder: JSONDecoder { StableJSON.decoder }

    /// A job payload or event data as JSON; `{}` for a value that cannot be encoded (none of the engine's can).
    public static func encode(_ value: some Encodable) -> Data {
        (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// Decodes job payloads and event data written by `encode`.
    struct PayloadDecoder: JobPayloadDecoder {
        let data: Data

        func decode<Payload: Decodable>(_ type: Payload.Type) throws -> Payload {
            try StoreJSON.decoder.decode(type, from: data)
        }
    }

    // MARK: - Reading the store's own columns

    /// One segment as stored in `bookings.segments`.
    struct SegmentRow: Codable {
        var kind: String
        var minutes: Int
    }

    /// One resource need as stored in `bookings.resources`.
    struct ResourceRow: Codable {
        var resource: String
        var count: Int
    }

    /// Decodes a column written by this store; nil when it is not what was expected.
    package static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? decoder.decode(type, from: Data(text.utf8))
    }
}

extension StoreJSON {
    /// Decoded `segments`, `resources` and `services` columns by their text: a day's bookings repeat the same few
    /// values, and decoding them was most of decoding a booking inside the write transaction's conflict check.
    static let segments = DecodedCache<[Segment]>()
    static let resources = DecodedCache<[ResourceNeed]>()
    static let services = DecodedCache<[String]>()
    /// Spans (id, staff and start left blank) by their footprint columns: buffers, segments and resources.
    static let spanShapes = DecodedCache<BookedSpan>()
}

/// A small memo of decoded column texts; emptied when it grows past `limit` (the values are few in practice).
final class DecodedCache<Value: Sendable>: Sendable {
    private let table = Mutex<[String: Value]>([:])
    private let limit = 512

    func value(for text: String, decode: (String) -> Value) -> Value {
        if let known = table.withLock({ $0[text] }) { return known }
        let value = decode(text)
        table.withLock { table in
            if table.count >= limit { table.removeAll(keepingCapacity: true) }
            table[text] = value
        }
        return value
    }
}

/// Column positions of a query's result, looked up once per statement: GRDB's lookup by name folds case on every
/// access, which was a third of decoding a booking (measured with `perf`).
struct ColumnPositions: Sendable {
    private let positions: [String: Int]

    init(_ names: [String]) {
        var positions: [String: Int] = [:]
        // The leftmost column of a name wins, as in GRDB's own lookup.
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    func position(_ name: String) -> Int? { positions[name] }
}

/// Reads a row's columns by name, through precomputed positions when there are any.
struct ColumnReader {
    let row: Row
    let columns: ColumnPositions?

    subscript<Value: DatabaseValueConvertible>(_ name: String) -> Value? {
        if let index = columns?.position(name) { return row[index] }
        return row[name]
    }

    @_disfavoredOverload
    subscript<Value: DatabaseValueConvertible>(_ name: String) -> Value {
        if let index = columns?.position(name) { return row[index] }
        return row[name]
    }
}
