import Foundation

extension ShopTimeZone {
    /// Every IANA zone identifier the system knows, for "did you mean" suggestions on misspelt names.
    public static var knownIdentifiers: [String] { TimeZone.knownTimeZoneIdentifiers }
}
