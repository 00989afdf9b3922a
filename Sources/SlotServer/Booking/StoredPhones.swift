import Logging
import SlotStore

/// The startup step that rewrites phone numbers stored before slotd kept them in E.164 (so matching a customer by
/// phone and searching by number find them), with the shop's `country` for numbers without `+`.
enum StoredPhones {
    /// Normalises the store's old numbers and logs what changed and what could not be read. A failure is logged and
    /// does not stop the daemon: the step runs again at the next start.
    @discardableResult
    static func normalise(
        in store: any SlotStorage, country: String, now: Int64, logger: Logger
    ) async -> PhoneNormalisation? {
        guard let records = store as? any CustomerStore else { return nil }
        let result: PhoneNormalisation
        do {
            result = try await records.normaliseStoredPhones(PhoneRewrite(country: country), at: now)
        } catch {
            logger.error(
                "cannot normalise stored phone numbers; slotd tries again at the next start",
                metadata: ["error": "\(error)"])
            return nil
        }
        if result.customersRewritten + result.bookingsRewritten > 0 {
            logger.notice(
                "normalised stored phone numbers to E.164",
                metadata: [
                    "customers": "\(result.customersRewritten)", "bookings": "\(result.bookingsRewritten)",
                    "country": "\(country)",
                ])
        }
        if result.customersUnreadable + result.bookingsUnreadable > 0 {
            logger.warning(
                "stored phone numbers that are not phone numbers were left as they are; correct them at the desk",
                metadata: [
                    "customers": "\(result.customersUnreadable)", "bookings": "\(result.bookingsUnreadable)",
                    "customer_ids": "\(result.unreadableCustomerIDs.joined(separator: ", "))",
                ])
        }
        return result
    }
}
