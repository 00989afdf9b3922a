import Foundation
import Synchronization

/// An IANA time zone with the wall-time ↔ instant conversion that DESIGN.md makes normative.
///
/// Instants are seconds since 1970-01-01T00:00Z. Wall times are minutes since 1970-01-01T00:00 local.
/// A wall time in a spring-forward gap maps to the instant the gap ends; a repeated wall time maps to its first
/// occurrence. The offsets come from a transition table built once per zone, so conversions are a binary search.
public struct ShopTimeZone: Hashable, Sendable, CustomStringConvertible {
    /// The IANA identifier, e.g. `Europe/Berlin`.
    public let identifier: String
    private let table: TransitionTable

    /// The zone named by an IANA identifier, or nil when the system does not know it.
    public init?(identifier: String) {
        guard !identifier.isEmpty, let zone = TimeZone(identifier: identifier) else { return nil }
        // Foundation accepts abbreviations and offsets like "GMT+1"; rules must name a real IANA zone.
        guard identifier == "UTC" || identifier.contains("/") || TimeZone.knownTimeZoneIdentifiers.contains(identifier)
        else { return nil }
        self.identifier = identifier
        self.table = TransitionTable.cached(zone)
    }

    /// UTC.
    public static let utc = ShopTimeZone(identifier: "UTC", table: TransitionTable(.gmt))

    private init(identifier: String, table: TransitionTable) {
        self.identifier = identifier
        self.table = table
    }

    /// The offset from UTC in seconds at an instant.
    public func offset(atInstant instant: Int64) -> Int64 { table.offset(at: instant) }

    /// The wall minute at an instant (seconds truncated towards the past).
    public func wallMinute(atInstant instant: Int64) -> Int64 {
        (instant + offset(atInstant: instant)).floorDiv(60)
    }

    /// The local wall time at an instant.
    public func localDateTime(atInstant instant: Int64) -> LocalDateTime {
        LocalDateTime(wallMinute: wallMinute(atInstant: instant))
    }

    /// What a wall time means: it exists once, twice (a fall-back repeat) or not at all (a spring-forward gap).
    public enum WallTimeResolution: Hashable, Sendable {
        case unique(Int64)
        case repeated(first: Int64, second: Int64)
        /// The wall time does not exist; the gap ends at this instant.
        case skipped(gapEnd: Int64)
    }

    /// Resolves a wall time into instants.
    public func resolve(wallMinute: Int64) -> WallTimeResolution {
        let wallSeconds = wallMinute * 60
        // Every offset in force within a day of the wall time is a candidate.
        let before = table.offset(at: wallSeconds - 86_400)
        let after = table.offset(at: wallSeconds + 86_400)
        var matches: [Int64] = []
        for candidate in before == after ? [before] : [before, after] {
            let instant = wallSeconds - candidate
            if table.offset(at: instant) == candidate { matches.append(instant) }
        }
        matches.sort()
        switch matches.count {
        case 0:
            // In a gap: the transition lies between the two readings; the gap ends at that transition.
            return .skipped(gapEnd: table.nextTransition(after: wallSeconds - after) ?? wallSeconds - before)
        case 1:
            return .unique(matches[0])
        default:
            return matches[0] == matches[1] ? .unique(matches[0]) : .repeated(first: matches[0], second: matches[1])
        }
    }

    /// The instant a wall time means: its first occurrence, or the end of the gap it falls in.
    public func instant(atWallMinute wallMinute: Int64) -> Int64 {
        switch resolve(wallMinute: wallMinute) {
        case .unique(let instant), .repeated(first: let instant, second: _), .skipped(gapEnd: let instant):
            return instant
        }
    }

    /// Whether a wall time exists (is not in a spring-forward gap).
    public func exists(wallMinute: Int64) -> Bool {
        if case .skipped = resolve(wallMinute: wallMinute) { return false }
        return true
    }

    /// Maps a set of wall-time intervals to instants, each `[a, b)` to `[f(a), f(b))`, dropping empty ones.
    public func instants(ofWall wall: IntervalSet) -> IntervalSet {
        var builder = IntervalSetBuilder()
        for interval in wall.intervals {
            builder.add(Interval(instant(atWallMinute: interval.lower), instant(atWallMinute: interval.upper)))
        }
        return builder.build()
    }

    /// ISO 8601 with the zone's offset at that instant, e.g. `2026-03-29T03:00:00+02:00`.
    public func iso8601(instant: Int64) -> String {
        let offset = offset(atInstant: instant)
        let local = instant + offset
        let date = LocalDate(daysSinceEpoch: Int(local.floorDiv(86_400)))
        let secondOfDay = Int(local.floorMod(86_400))
        let (year, month, day) = date.parts
        // The API writes two of these per slot: fixed-width bytes instead of a dozen string interpolations, which
        // were the largest cost of a slot answer's JSON.
        if (0...9999).contains(year), abs(offset) < 100 * 3600 {
            let offsetMinutes = Int(abs(offset) / 60)
            let fields: [(value: Int, width: Int, after: UInt8)] = [
                (year, 4, UInt8(ascii: "-")), (month, 2, UInt8(ascii: "-")), (day, 2, UInt8(ascii: "T")),
                (secondOfDay / 3600, 2, UInt8(ascii: ":")), (secondOfDay / 60 % 60, 2, UInt8(ascii: ":")),
                (secondOfDay % 60, 2, offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")),
                (offsetMinutes / 60, 2, UInt8(ascii: ":")), (offsetMinutes % 60, 2, 0),
            ]
            return String(unsafeUninitializedCapacity: 25) { buffer in
                var index = 0
                for field in fields {
                    var value = field.value
                    for position in stride(from: field.width - 1, through: 0, by: -1) {
                        buffer[index + position] = UInt8(ascii: "0") + UInt8(value % 10)
                        value /= 10
                    }
                    index += field.width
                    if field.after != 0 {
                        buffer[index] = field.after
                        index += 1
                    }
                }
                return index
            }
        }
        let sign = offset < 0 ? "-" : "+"
        let offsetMinutes = Int(abs(offset) / 60)
        return "\(date)T\(LocalDate.pad(secondOfDay / 3600, 2)):\(LocalDate.pad(secondOfDay / 60 % 60, 2)):"
            + "\(LocalDate.pad(secondOfDay % 60, 2))\(sign)\(LocalDate.pad(offsetMinutes / 60, 2)):"
            + "\(LocalDate.pad(offsetMinutes % 60, 2))"
    }

    /// Parses ISO 8601 with an offset or `Z` (`2026-12-24T09:00:00+01:00`, seconds optional) into an instant;
    /// without an offset the text is a wall time in this zone.
    public func parseInstant(_ text: String) -> Int64? {
        var body = Substring(text)
        var offsetSeconds: Int64?
        if body.hasSuffix("Z") || body.hasSuffix("z") {
            offsetSeconds = 0
            body = body.dropLast()
        } else if body.count > 16, let signIndex = body.lastIndex(where: { $0 == "+" || $0 == "-" }),
            body.distance(from: body.startIndex, to: signIndex) > 10
        {
            let suffix = body[body.index(after: signIndex)...].replacingOccurrences(of: ":", with: "")
            guard suffix.count == 4 || suffix.count == 2, let number = Int64(suffix) else { return nil }
            let minutes = suffix.count == 4 ? number / 100 * 60 + number % 100 : number * 60
            offsetSeconds = (body[signIndex] == "-" ? -1 : 1) * minutes * 60
            body = body[..<signIndex]
        }
        var seconds: Int64 = 0
        if body.count == 19 {
            guard body[body.index(body.startIndex, offsetBy: 16)] == ":",
                let value = Int64(body.suffix(2)), value < 60
            else { return nil }
            seconds = value
            body = body.prefix(16)
        }
        guard let wall = LocalDateTime(iso: body) else { return nil }
        if let offsetSeconds { return wall.wallMinute * 60 + seconds - offsetSeconds }
        return instant(atWallMinute: wall.wallMinute) + seconds
    }

    public var description: String { identifier }

    public static func == (lhs: ShopTimeZone, rhs: ShopTimeZone) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }
}

/// Offsets of one zone between 1900 and 2200, precomputed from Foundation's zone data.
private final class TransitionTable: Sendable {
    /// Instants at which the offset changes, ascending, and the offset from each on.
    let instants: [Int64]
    let offsets: [Int64]
    let initialOffset: Int64

    init(_ zone: TimeZone) {
        let start = Date(timeIntervalSince1970: -2_208_988_800)  // 1900-01-01
        let end = Date(timeIntervalSince1970: 7_258_118_400)  // 2200-01-01
        var instants: [Int64] = []
        var offsets: [Int64] = []
        var cursor = start
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next < end {
            let instant = Int64(next.timeIntervalSince1970.rounded())
            let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
            if offsets.last != offset {
                instants.append(instant)
                offsets.append(offset)
            }
            cursor = next.addingTimeInterval(1)
        }
        self.instants = instants
        self.offsets = offsets
        self.initialOffset = Int64(zone.secondsFromGMT(for: start))
    }

    func offset(at instant: Int64) -> Int64 {
        var low = 0
        var high = instants.count
        while low < high {
            let mid = (low + high) / 2
            if instants[mid] <= instant { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? initialOffset : offsets[low - 1]
    }

    func nextTransition(after instant: Int64) -> Int64? {
        var low = 0
        var high = instants.count
        while low < high {
            let mid = (low + high) / 2
            if instants[mid] <= instant { low = mid + 1 } else { high = mid }
        }
        return low < instants.count ? instants[low] : nil
    }

    private static let cache = Mutex<[String: TransitionTable]>([:])

    static func cached(_ zone: TimeZone) -> TransitionTable {
        if let table = cache.withLock({ $0[zone.identifier] }) { return table }
        let table = TransitionTable(zone)
        cache.withLock { $0[zone.identifier] = table }
        return table
    }
}
