/// Formatting of minute counts the way rule files write durations (`1h30m`, `2d`).
public enum Minutes {
    /// `90` → `1h30m`, `2880` → `2d`, `0` → `0m`.
    public static func format(_ minutes: Int) -> String {
        if minutes == 0 { return "0m" }
        var rest = minutes
        var text = minutes < 0 ? "-" : ""
        rest = abs(rest)
        if rest >= 1440 { text += "\(rest / 1440)d"; rest %= 1440 }
        if rest >= 60 { text += "\(rest / 60)h"; rest %= 60 }
        if rest > 0 { text += "\(rest)m" }
        return text
    }

    /// A wait of `seconds` as people say it, in whole minutes rounded up: `37656` → `10 hours 28 minutes`,
    /// `60` → `1 minute`, `1` → `1 minute`, `90000` → `1 day 1 hour`.
    public static func spelled(seconds: Int64) -> String {
        let minutes = max(0, (seconds + 59) / 60)
        if minutes == 0 { return "no time" }
        func unit(_ count: Int64, _ name: String) -> String? {
            count == 0 ? nil : "\(count) \(name)\(count == 1 ? "" : "s")"
        }
        let parts = [
            unit(minutes / 1440, "day"), unit(minutes % 1440 / 60, "hour"), unit(minutes % 60, "minute"),
        ]
        return parts.compactMap { $0 }.joined(separator: " ")
    }
}
