import Kafka

/// The librdkafka properties of one cluster (`properties:` in a topology), with every secret one held as a
/// ``Secret``.
///
/// Which properties are secret is decided in one place, `SecretProperties.isSecret` (Kafka module):
/// `sasl.password`, `ssl.key.password`, `ssl.keystore.password`, `sasl.oauthbearer.client.secret`, `ssl.key.pem`,
/// `sasl.jaas.config`, and any property whose name contains `password`, `secret` or `token`. Descriptions,
/// `dump` and `Mirror` show their values as `******`; ``revealedForClient()`` hands the real values to the
/// Kafka client configuration, at the point of use.
package struct ClusterProperties: Sendable, Equatable, ExpressibleByDictionaryLiteral, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable
{
    /// One property's value: shown as it is, or a secret.
    package enum PropertyValue: Sendable, Equatable, ExpressibleByStringLiteral, CustomStringConvertible, CustomDebugStringConvertible {
        /// A value that may be shown.
        case plain(String)
        /// A value that is never shown.
        case secret(Secret)

        /// Classifies `text` as the value of property `name`.
        package init(name: String, text: String) {
            self = SecretProperties.isSecret(name) ? .secret(Secret(text)) : .plain(text)
        }

        /// A plain value (test literals).
        package init(stringLiteral value: String) { self = .plain(value) }

        /// The value, or `******` for a secret.
        package var description: String {
            switch self {
            case .plain(let text): text
            case .secret(let secret): secret.description
            }
        }

        package var debugDescription: String {
            switch self {
            case .plain(let text): text.debugDescription
            case .secret(let secret): secret.debugDescription
            }
        }

        /// The value itself (secrets revealed): only for handing to the client library.
        fileprivate var revealed: String {
            switch self {
            case .plain(let text): text
            case .secret(let secret): secret.reveal()
            }
        }
    }

    private var values: [String: PropertyValue]

    /// Properties from names and values as written; secret ones are wrapped by name.
    package init(_ properties: [String: String] = [:]) {
        values = Dictionary(uniqueKeysWithValues: properties.map { ($0.key, PropertyValue(name: $0.key, text: $0.value)) })
    }

    package init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// The property names, sorted.
    package var names: [String] { values.keys.sorted() }

    /// Whether there is no property.
    package var isEmpty: Bool { values.isEmpty }

    /// The value of property `name`, if set; a secret one comes as ``PropertyValue/secret(_:)``.
    package subscript(name: String) -> PropertyValue? { values[name] }

    /// Every secret value (for scrubbing output), in name order.
    package var secrets: [Secret] {
        names.compactMap { if case .secret(let secret) = values[$0] { secret } else { nil } }
    }

    /// Every property with its real value, secrets included. Only for the Kafka client configuration,
    /// which hands them to librdkafka; never print the result.
    package func revealedForClient() -> [String: String] { values.mapValues(\.revealed) }

    /// `[name: value, ...]` sorted by name, secrets as `******`.
    package var description: String {
        values.isEmpty ? "[:]" : "[" + names.map { "\($0): \(values[$0]!.description)" }.joined(separator: ", ") + "]"
    }

    package var debugDescription: String {
        values.isEmpty ? "[:]" : "[" + names.map { "\($0.debugDescription): \(values[$0]!.debugDescription)" }.joined(separator: ", ") + "]"
    }

    /// One child per property, sorted by name, whose value is its shown form (`******` for secrets).
    package var customMirror: Mirror {
        Mirror(self, children: names.map { (label: $0, value: values[$0]!.description) }, displayStyle: .dictionary)
    }
}
