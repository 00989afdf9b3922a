import Foundation

/// `JSONEncoder` with `StableJSON`'s formatting (sorted keys, slashes as they are), writing the same bytes faster.
///
/// Every response, event and outbox payload goes through it, several times per booking, and Foundation's encoder
/// was ~6 % of a booking's CPU (`perf`, see docs/benchmarks.md): a class instance per nested value, dynamic casts
/// for its special types on every value, a dictionary per object. This one builds a small tree of plain values and
/// writes it with the same key order (UTF-8 byte order) and the same escapes as `JSONWriter` in swift-foundation.
/// A value it does not handle itself (`Date`, `Data`, `URL`, `Decimal`, floating-point numbers, `superEncoder`, a
/// value that encodes nothing, a container asked for twice in two shapes, an error) is encoded by `JSONEncoder`
/// instead, so the output is always exactly `JSONEncoder`'s (`StableJSONEncoderTests` compares them). Its key and
/// data strategies stay the defaults: the fast path assumes them.
public final class StableJSONEncoder: JSONEncoder, @unchecked Sendable {
    /// The formatting this encoder writes; it is fixed (`outputFormatting` is not consulted by the fast path).
    public static let formatting: JSONEncoder.OutputFormatting = [.sortedKeys, .withoutEscapingSlashes]

    public override init() {
        super.init()
        outputFormatting = Self.formatting
    }

    /// The JSON of `value`, byte for byte what `JSONEncoder` with this formatting and no `userInfo` writes.
    public override func encode<T: Encodable>(_ value: T) throws -> Data {
        if outputFormatting == Self.formatting, userInfo.isEmpty, let bytes = try? Self.fastBytes(value) {
            return Data(bytes)
        }
        return try super.encode(value)
    }

    /// The JSON of `value` by the fast path; throws `FastPath.unsupported` for what it leaves to `JSONEncoder`.
    static func fastBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        let root = FastEncoder(parent: nil, key: nil)
        let node = try FastEncoder.node(for: value, parent: root, key: nil)
        guard !root.shared.unsupported else { throw FastPath.unsupported }
        var output = Writer()
        output.emit(node)
        return output.bytes
    }

    enum FastPath: Error {
        case unsupported
    }
}

// MARK: - The value tree

/// A JSON value as the fast path builds it.
private enum Node {
    case string(String)
    /// A number as `JSONEncoder` writes it (integers only; floating point is left to `JSONEncoder`).
    case number(String)
    case bool(Bool)
    case null
    case object(ObjectBox)
    case array(ArrayBox)
}

/// An object's members in the order they were encoded; sorted (and a repeated key's last value kept) when written.
private final class ObjectBox {
    var members: [(key: String, value: Node)] = []
}

private final class ArrayBox {
    var elements: [Node] = []
}

// MARK: - Encoding

/// What every encoder of one top-level value shares.
private final class SharedState {
    /// Set when the value asked for something the fast path leaves to `JSONEncoder`.
    var unsupported = false
}

/// The `Encoder` of one value. Its coding path is made from its parents only when asked for; the top-level
/// encoder (no key) only holds the shared state.
private final class FastEncoder: Encoder {
    let parent: FastEncoder?
    let key: (any CodingKey)?
    let shared: SharedState
    var node: Node?

    init(parent: FastEncoder?, key: (any CodingKey)?) {
        self.parent = parent
        self.key = key
        shared = parent?.shared ?? SharedState()
    }

    var unsupported: Bool {
        get { shared.unsupported }
        set { shared.unsupported = newValue }
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var current: FastEncoder? = self
        while let encoder = current {
            if let key = encoder.key { path.append(key) }
            current = encoder.parent
        }
        return path.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The node of `value`: scalars directly, anything else by its own `encode(to:)` into a child encoder.
    static func node<T: Encodable>(for value: T, parent: FastEncoder, key: (any CodingKey)?) throws -> Node {
        // The types `JSONEncoder` writes its own way (dates as numbers, data as base64, …): not here.
        if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self
            || T.self == Double.self || T.self == Float.self
        {
            throw StableJSONEncoder.FastPath.unsupported
        }
        if T.self == String.self, let string = value as? String { return .string(string) }
        let encoder = FastEncoder(parent: parent, key: key)
        try value.encode(to: encoder)
        guard !encoder.unsupported, let node = encoder.node else { throw StableJSONEncoder.FastPath.unsupported }
        return node
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: ObjectBox
        switch node {
        case .object(let existing): box = existing
        case nil:
            box = ObjectBox()
            node = .object(box)
        default:
            unsupported = true
            box = ObjectBox()
        }
        return KeyedEncodingContainer(FastKeyedContainer<Key>(encoder: self, box: box))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: ArrayBox
        switch node {
        case .array(let existing): box = existing
        case nil:
            box = ArrayBox()
            node = .array(box)
        default:
            unsupported = true
            box = ArrayBox()
        }
        return FastUnkeyedContainer(encoder: self, box: box)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { FastSingleValueContainer(encoder: self) }

    /// Sets the node of a single value; a second value for the same encoder is left to `JSONEncoder`.
    func set(_ value: Node) {
        if node != nil { unsupported = true }
        node = value
    }
}

/// A coding key for array positions (only for coding paths).
private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }

    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct FastKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: FastEncoder
    let box: ObjectBox

    var codingPath: [any CodingKey] { encoder.codingPath }

    private func add(_ value: Node, _ key: Key) { box.members.append((key.stringValue, value)) }

    mutating func encodeNil(forKey key: Key) throws { add(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { add(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { add(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { throw StableJSONEncoder.FastPath.unsupported }
    mutating func encode(_ value: Float, forKey key: Key) throws { throw StableJSONEncoder.FastPath.unsupported }
    mutating func encode(_ value: Int, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { add(.number(String(value)), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        add(try FastEncoder.node(for: value, parent: encoder, key: key), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        add(.object(nested), key)
        return KeyedEncodingContainer(
            FastKeyedContainer<NestedKey>(encoder: FastEncoder(parent: encoder, key: key), box: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        add(.array(nested), key)
        return FastUnkeyedContainer(encoder: FastEncoder(parent: encoder, key: key), box: nested)
    }

    mutating func superEncoder() -> any Encoder {
        encoder.unsupported = true
        return FastEncoder(parent: encoder, key: nil)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.unsupported = true
        return FastEncoder(parent: encoder, key: key)
    }
}

private struct FastUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: FastEncoder
    let box: ArrayBox

    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { box.elements.count }

    private func add(_ value: Node) { box.elements.append(value) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { throw StableJSONEncoder.FastPath.unsupported }
    mutating func encode(_ value: Float) throws { throw StableJSONEncoder.FastPath.unsupported }
    mutating func encode(_ value: Int) throws { add(.number(String(value))) }
    mutating func encode(_ value: Int8) throws { add(.number(String(value))) }
    mutating func encode(_ value: Int16) throws { add(.number(String(value))) }
    mutating func encode(_ value: Int32) throws { add(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { add(.number(String(value))) }
    mutating func encode(_ value: UInt) throws { add(.number(String(value))) }
    mutating func encode(_ value: UInt8) throws { add(.number(String(value))) }
    mutating func encode(_ value: UInt16) throws { add(.number(String(value))) }
    mutating func encode(_ value: UInt32) throws { add(.number(String(value))) }
    mutating func encode(_ value: UInt64) throws { add(.number(String(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        add(try FastEncoder.node(for: value, parent: encoder, key: IndexKey(count)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = ObjectBox()
        let child = FastEncoder(parent: encoder, key: IndexKey(count))
        add(.object(nested))
        return KeyedEncodingContainer(FastKeyedContainer<NestedKey>(encoder: child, box: nested))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        let child = FastEncoder(parent: encoder, key: IndexKey(count))
        add(.array(nested))
        return FastUnkeyedContainer(encoder: child, box: nested)
    }

    mutating func superEncoder() -> any Encoder {
        encoder.unsupported = true
        return FastEncoder(parent: encoder, key: IndexKey(count))
    }
}

private struct FastSingleValueContainer: SingleValueEncodingContainer {
    let encoder: FastEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.set(.null) }
    mutating func encode(_ value: Bool) throws { encoder.set(.bool(value)) }
    mutating func encode(_ value: String) throws { encoder.set(.string(value)) }
    mutating func encode(_ value: Double) throws { throw StableJSONEncoder.FastPath.unsupported }
    mutating func encode(_ value: Float) throws { throw StableJSONEncoder.FastPath.unsupported }
    mutating func encode(_ value: Int) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: Int8) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: Int16) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: Int32) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: UInt) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: UInt8) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: UInt16) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: UInt32) throws { encoder.set(.number(String(value))) }
    mutating func encode(_ value: UInt64) throws { encoder.set(.number(String(value))) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.set(try FastEncoder.node(for: value, parent: encoder.parent ?? encoder, key: encoder.key))
    }
}

// MARK: - Writing

/// Writes a node as `JSONWriter` does with `.sortedKeys` and `.withoutEscapingSlashes`.
private struct Writer {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    mutating func emit(_ node: Node) {
        switch node {
        case .string(let text): writeString(text)
        case .number(let digits): bytes.append(contentsOf: digits.utf8)
        case .bool(let flag): bytes.append(contentsOf: flag ? "true".utf8 : "false".utf8)
        case .null: bytes.append(contentsOf: "null".utf8)
        case .array(let box):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in box.elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                emit(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let box):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in Self.sortedMembers(box.members).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                emit(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// An object's members as `JSONEncoder` writes them: one per key (a later value replaces an earlier one, the
    /// key keeps its first spelling, as in its dictionary), in UTF-8 byte order of the keys.
    private static func sortedMembers(_ members: [(key: String, value: Node)]) -> [(key: String, value: Node)] {
        if members.count < 2 { return members }
        // ASCII keys (all of slotd's but a template value's) sort and compare as bytes, so no dictionary is needed:
        // equal keys end up side by side, in the order they were written.
        if members.allSatisfy({ $0.key.utf8.allSatisfy { $0 < 0x80 } }) {
            let order = members.indices.sorted { left, right in
                let (a, b) = (members[left].key, members[right].key)
                return a == b ? left < right : a < b
            }
            var result: [(key: String, value: Node)] = []
            result.reserveCapacity(members.count)
            for (position, index) in order.enumerated() {
                if position + 1 < order.count, members[order[position + 1]].key == members[index].key { continue }
                result.append(members[index])
            }
            return result
        }
        var merged: [String: Node] = [:]
        for member in members { merged[member.key] = member.value }
        return merged.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A string with `JSONWriter`'s escapes: quote, backslash, the short forms of b, f, n, r, t, and `\u00XX` for the
    /// other control characters; everything else (slashes, DEL, non-ASCII) as it is. The runs between escapes are
    /// copied whole: most strings have no escape at all.
    mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var run = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: utf8[run..<index])
                writeEscape(byte)
                run = index + 1
            }
            bytes.append(contentsOf: utf8[run...])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
        case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        default:
            bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(Self.hex[Int(byte >> 4)])
            bytes.append(Self.hex[Int(byte & 0x0F)])
        }
    }
}
