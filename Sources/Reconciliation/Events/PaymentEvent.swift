import Kafka
import Topology

/// What reconciliation needs from one Kafka record: the event id and the compared fields.
package struct PaymentEvent: Sendable, Equatable {
    /// The event id, as text.
    package var eventID: String
    /// The compared fields' values in ``ReconcileSettings/compare`` order; nil when absent or JSON null.
    package var fields: [String?]

    package init(eventID: String, fields: [String?]) {
        self.eventID = eventID
        self.fields = fields
    }
}

/// Reads ``PaymentEvent``s out of records, as a topology's `reconcile:` section describes.
package struct PaymentEventReader: Sendable {
    private let location: EventIDLocation
    private let compared: [String]
    private let wanted: Set<String>

    /// - Parameters:
    ///   - eventID: where a record holds its event id.
    ///   - compared: the JSON fields to read, in the order they are reported.
    package init(eventID: EventIDLocation, compared: [String]) {
        location = eventID
        self.compared = compared
        var wanted = Set(compared)
        if case .json(let field) = eventID { wanted.insert(field) }
        self.wanted = wanted
    }

    /// The record's event, or nil when it carries no event id (no key, no such header or field, or a
    /// value that is not a JSON object when a JSON field is needed). Ids holding a NUL byte are not
    /// ids (Postgres text cannot hold one).
    package func event(in record: KafkaRecord) -> PaymentEvent? {
        let json: [String: String?]? = wanted.isEmpty ? [:] : record.value.flatMap { JSONFields.extract(wanted, from: $0) }
        let id: String?
        switch location {
        case .key:
            id = record.key.map { String(decoding: $0, as: UTF8.self) }
        case .header(let name):
            id = record.lastHeader(named: name)?.value.map { String(decoding: $0, as: UTF8.self) }
        case .json(let field):
            id = json?[field] ?? nil
        }
        guard let id, !id.isEmpty, !id.utf8.contains(0) else { return nil }
        return PaymentEvent(eventID: id, fields: compared.map { json?[$0] ?? nil })
    }
}
