import Foundation
import SlotStore

// Loose JSON views of stored rows, for assertions that look at one field; the product reads typed values only.

extension StoredEvent {
    /// `data` decoded as a JSON object (empty when it is not one).
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
}

extension OutboxJob {
    /// The payload decoded as a JSON object (empty when it is not one).
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any] ?? [:] }
}

extension OutboxEnqueue {
    /// A row with a plain JSON-able payload, of any kind (the store does not read kinds).
    init(kind: String, object: [String: Any], dueAt: Int64, finishedNote: String? = nil) {
        let payload = (try? JSONSerialization.data(withJSONObject: object, options: .sortedKeys)) ?? Data("{}".utf8)
        self.init(kind: kind, payload: payload, dueAt: dueAt, finishedNote: finishedNote)
    }
}
