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
}
