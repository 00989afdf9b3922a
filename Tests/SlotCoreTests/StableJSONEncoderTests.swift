import Foundation
import Testing

@testable import SlotCore

/// `StableJSONEncoder` must write exactly what `JSONEncoder` with the same formatting writes: responses, event data
/// and job payloads are stored and compared (idempotency fingerprints, event logs written by older versions).
@Suite("StableJSON's encoder writes JSONEncoder's bytes")
struct StableJSONEncoderTests {
    static let reference: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Both encoders' output for `value`, and whether the fast path wrote it (not a fallback to `JSONEncoder`).
    func compare<T: Encodable>(_ value: T) throws -> (fast: String, reference: String, tookFastPath: Bool) {
        let fast = String(decoding: try StableJSON.encoder.encode(value), as: UTF8.self)
        let reference = String(decoding: try Self.reference.encode(value), as: UTF8.self)
        let tookFastPath = (try? StableJSONEncoder.fastBytes(value)) != nil
        return (fast, reference, tookFastPath)
    }

    // MARK: - Values like the wire's

    enum Status: String, Codable { case held, confirmed }

    struct Money: Codable { var amount: Int; var currency: String }

    struct Booking: Encodable {
        var id: String
        var status: Status
        var services: [String]
        var start: Int64
        var price: Money
        var deposit: Money?
        var notes: String?
        var flags: [Bool]
        var data: [String: String]
        var counts: [Int: String]
        var nested: [[Int?]]
        var unsigned: UInt64
        var small: Int8

        enum CodingKeys: String, CodingKey {
            case id, status, services, start, price, deposit, notes, flags, data, counts, nested, unsigned, small
            case holdExpiresAt = "hold_expires_at"
        }

        init(id: String, notes: String?, deposit: Money?) {
            self.id = id
            status = .confirmed
            services = ["haircut", "beard/trim"]
            start = 1_767_000_000
            price = Money(amount: 2800, currency: "EUR")
            self.deposit = deposit
            self.notes = notes
            flags = [true, false]
            data = ["zeta": "1", "Alpha": "2", "alpha": "3", "äpfel": "4", "_x": "5", "": "6", "10": "7", "9": "8"]
            counts = [3: "three", -1: "minus one", 20: "twenty"]
            nested = [[1, nil, 3], [], [Int.min, Int.max]]
            unsigned = .max
            small = .min
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(status, forKey: .status)
            try container.encode(services, forKey: .services)
            try container.encode(start, forKey: .start)
            try container.encode(price, forKey: .price)
            try container.encodeIfPresent(deposit, forKey: .deposit)
            try container.encodeIfPresent(notes, forKey: .notes)
            try container.encode(flags, forKey: .flags)
            try container.encode(data, forKey: .data)
            try container.encode(counts, forKey: .counts)
            try container.encode(nested, forKey: .nested)
            try container.encode(unsigned, forKey: .unsigned)
            try container.encode(small, forKey: .small)
            try container.encodeNil(forKey: .holdExpiresAt)
        }
    }

    /// An enum with payloads (synthesized: nested keyed containers with `_0` keys).
    enum Change: Codable {
        case moved(from: Int, to: Int)
        case note(String)
        case none
    }

    /// Nested containers made by hand, and a key written twice (the last value wins).
    struct HandMade: Encodable {
        enum Key: String, CodingKey { case outer, list, twice, b, a }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            var outer = container.nestedContainer(keyedBy: Key.self, forKey: .outer)
            try outer.encode("B", forKey: .b)
            try outer.encode("A", forKey: .a)
            var list = container.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1)
            var inner = list.nestedContainer(keyedBy: Key.self)
            try inner.encode(true, forKey: .a)
            var deeper = list.nestedUnkeyedContainer()
            try deeper.encodeNil()
            try container.encode("first", forKey: .twice)
            try container.encode("second", forKey: .twice)
        }
    }

    @Test("structs, optionals, enums, arrays, dictionaries and hand-made containers: same bytes, fast path")
    func wireShapes() throws {
        let values: [any Encodable] = [
            Booking(id: "bk_1", notes: nil, deposit: nil),
            Booking(
                id: "bk_2", notes: "line\nbreak \"quoted\" back\\slash / tab\t",
                deposit: Money(amount: 0, currency: "")),
            [Change.moved(from: 1, to: 2), .note("x"), .none],
            HandMade(),
            [String: [String: Int]](),
            [Money](),
        ]
        for value in values {
            let result = try compare(value)
            #expect(result.fast == result.reference)
            #expect(result.tookFastPath, "\(type(of: value)) fell back to JSONEncoder")
        }
    }

    /// Keys given at run time, in the order given.
    struct Members: Encodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        var members: [(String, Int)]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in members { try container.encode(value, forKey: Key(stringValue: key)) }
        }
    }

    @Test("a key written twice, also in two spellings of one text, keeps its last value and its first spelling")
    func repeatedKeys() throws {
        let cases: [[(String, Int)]] = [
            [("b", 1), ("a", 2), ("b", 3)],
            [("\u{E9}", 1), ("f", 2), ("e\u{301}", 3), ("B", 4), ("a", 5)],
            [("e\u{301}", 1), ("\u{E9}", 2)],
        ]
        for members in cases {
            let result = try compare(Members(members: members))
            #expect(result.fast == result.reference)
            #expect(result.tookFastPath)
        }
    }

    @Test("top-level fragments: a string, a number, a bool, nil")
    func fragments() throws {
        let values: [any Encodable] = ["a/b", 42, false, Int?.none, -7 as Int64]
        for value in values {
            let result = try compare(value)
            #expect(result.fast == result.reference)
        }
    }

    @Test("every control character, quotes, backslashes, DEL and non-ASCII text are escaped as JSONEncoder does")
    func escapes() throws {
        let controls = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        for text in [controls, "\u{7F}", "é e\u{301} 🧔🏽‍♂️ 日本", "\\\"/</script>", ""] {
            let result = try compare(["key \(text)": text])
            #expect(result.fast == result.reference, "\(Array(text.utf8))")
            #expect(result.tookFastPath)
        }
    }

    @Test("random nested values of strings, numbers and booleans")
    func randomValues() throws {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            let value = Self.randomValue(&random, depth: 0)
            let result = try compare(value)
            #expect(result.fast == result.reference)
        }
    }

    @Test("what the fast path leaves to JSONEncoder still comes out as JSONEncoder writes it")
    func fallbacks() throws {
        struct Mixed: Encodable {
            var when = Date(timeIntervalSince1970: 1_767_000_000.25)
            var bytes = Data([0, 1, 2])
            var link = URL(string: "https://example.com/a b")
            var ratio = 0.1
            var amount = Decimal(string: "12.50")
        }
        let mixed = try compare(Mixed())
        #expect(mixed.fast == mixed.reference)
        #expect(!mixed.tookFastPath)
        let inherited = try compare(Child())
        #expect(inherited.fast == inherited.reference)
        #expect(!inherited.tookFastPath)
    }

    class Base: Encodable {
        enum Key: CodingKey { case name }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode("base", forKey: .name)
        }
    }

    /// Encodes its superclass through `superEncoder`, which the fast path leaves to `JSONEncoder`.
    final class Child: Base {
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Base.Key.self)
            try super.encode(to: container.superEncoder())
        }
    }

    // MARK: - Random values

    /// A JSON-shaped value of nested arrays and string-keyed objects.
    indirect enum Value: Encodable {
        case text(String)
        case number(Int)
        case flag(Bool)
        case empty
        case list([Value])
        case object([String: Value])

        func encode(to encoder: any Encoder) throws {
            var single = encoder.singleValueContainer()
            switch self {
            case .text(let text): try single.encode(text)
            case .number(let number): try single.encode(number)
            case .flag(let flag): try single.encode(flag)
            case .empty: try single.encodeNil()
            case .list(let values): try single.encode(values)
            case .object(let members): try single.encode(members)
            }
        }
    }

    static func randomValue(_ random: inout SeededGenerator, depth: Int) -> Value {
        switch random.next() % (depth > 3 ? 4 : 6) {
        case 0: return .text(randomText(&random))
        case 1: return .number(Int(bitPattern: UInt(random.next())) >> Int(random.next() % 64))
        case 2: return .flag(random.next() % 2 == 0)
        case 3: return .empty
        case 4: return .list((0..<random.next() % 5).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var members: [String: Value] = [:]
            for _ in 0..<random.next() % 6 { members[randomText(&random)] = randomValue(&random, depth: depth + 1) }
            return .object(members)
        }
    }

    static func randomText(_ random: inout SeededGenerator) -> String {
        let alphabet: [Unicode.Scalar] = ["a", "B", "z", "_", "/", "\\", "\"", "\n", "\u{0}", "\u{1F}", "\u{7F}", "é",
                                          "ß", "€", "😀", " ", "0", "9"]
        var text = ""
        for _ in 0..<random.next() % 8 { text.unicodeScalars.append(alphabet[Int(random.next() % 18)]) }
        return text
    }
}
