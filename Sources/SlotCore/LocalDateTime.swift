/// A wall-clock date and time in the shop's zone, to the minute; it may not exist or exist twice around DST changes.
public struct LocalDateTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Minutes since 1970-01-01T00:00 wall time.
    public let wallMinute: Int64

    /// The wall time `wallMinute` minutes after 1970-01-01T00:00.
    public init(wallMinute: Int64) { self.wallMinute = wallMinute }

    /// A date at a minute of its day (0–1439; larger values roll into later days).
    public init(date: LocalDate, minuteOfDay: Int) {
        self.wallMinute = date.startWallMinute + Int64(minuteOfDay)
    }

    /// Parses `YYYY-MM-DDTHH:MM` or `YYYY-MM-DD` (midnight); a space may stand for the `T`.
    public init?(iso text: some StringProtocol) {
        let string = String(text)
        if string.utf8.count == 10, let date = LocalDate(iso: string) {
            self.init(date: date, minuteOfDay: 0)
            return
        }
        let utf8 = Array(string.utf8)
        guard utf8.count == 16, utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: " "),
            utf8[13] == UInt8(ascii: ":"),
            let date = LocalDate(iso: string.prefix(10)),
            let hour = LocalDate.number(utf8[11..<13]), let minute = LocalDate.number(utf8[14..<16]),
            hour < 24, minute < 60
        else { return nil }
        self.init(date: date, minuteOfDay: hour * 60 + minute)
    }

    /// The calendar date.
    public var date: LocalDate { LocalDate(daysSinceEpoch: Int(wallMinute.floorDiv(1440))) }

    /// Minutes since this date's midnight (0–1439).
    public var minuteOfDay: Int { Int(wallMinute.floorMod(1440)) }

    /// `YYYY-MM-DDTHH:MM`.
    public var description: String {
        let minutes = minuteOfDay
        return "\(date)T\(LocalDate.pad(minutes / 60, 2)):\(LocalDate.pad(minutes % 60, 2))"
    }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool { lhs.wallMinute < rhs.wallMinute }
}

extension Int64 {
    /// Division rounding towards negative infinity.
    @inlinable public func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// The remainder of `floorDiv`, always in `0..<divisor` for a positive divisor.
    @inlinable public func floorMod(_ divisor: Int64) -> Int64 { self - floorDiv(divisor) * divisor }
}
