/// How to reach one Kafka cluster, shared by consumers, producers and admin clients.
///
/// Its description, `dump` and `Mirror` show the values of secret properties (``SecretProperties``) as `******`.
package struct KafkaClientConfiguration: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// Comma-separated `host:port` list. No default: every cluster must be named.
    package var bootstrapServers: String
    /// librdkafka properties passed through as they are (`security.protocol`, `sasl.*`, `ssl.*`, ...).
    /// Default: none.
    package var properties: [String: String]
    /// `client.id` sent to the brokers. Default: `regionbridge`.
    package var clientID: String

    /// Creates a configuration.
    /// - Parameters:
    ///   - bootstrapServers: comma-separated `host:port` list.
    ///   - properties: librdkafka properties passed as they are; default none.
    ///   - clientID: `client.id`; default `regionbridge`.
    package init(bootstrapServers: String, properties: [String: String] = [:], clientID: String = "regionbridge") {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
        self.clientID = clientID
    }

    /// The properties as they may be shown, sorted by name, secrets as `******`.
    private var printableProperties: [(name: String, value: String)] {
        properties.keys.sorted().map { ($0, SecretProperties.printable(key: $0, value: properties[$0]!)) }
    }

    /// Bootstrap servers, client id and properties, secrets as `******`.
    package var description: String {
        let shown = printableProperties.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
        return "KafkaClientConfiguration(bootstrapServers: \(bootstrapServers), clientID: \(clientID), properties: [\(shown)])"
    }

    package var debugDescription: String { description }

    /// Children as in the description: secrets as `******`.
    package var customMirror: Mirror {
        Mirror(self, children: [
            (label: "bootstrapServers", value: bootstrapServers as Any),
            (label: "clientID", value: clientID as Any),
            (label: "properties", value: printableProperties.map { "\($0.name): \($0.value)" } as Any),
        ], displayStyle: .struct)
    }
}

/// Recognises configuration properties whose values are secrets, so that logs and errors never show them.
///
/// The one place that decides what is secret: the topology's `ClusterProperties` wrap exactly these values
/// in a `Secret`, and client configurations, errors and logs show them as `******`.
package enum SecretProperties {
    /// Secret properties whose names do not say so.
    private static let exact: Set<String> = [
        "sasl.jaas.config", "ssl.key.pem", "ssl_key", "ssl.keystore.location", "sasl.oauthbearer.config",
        "sasl.oauthbearer.assertion.private.key.pem",
    ]

    /// `true` when the value of `key` must never be printed: the names above, and every name that contains
    /// `password`, `secret`, `token` or `credential`, or ends in `.key` (case-insensitive).
    package static func isSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        return exact.contains(lower) || lower.contains("password") || lower.contains("secret")
            || lower.hasSuffix(".key") || lower.contains("token") || lower.contains("credential")
    }

    /// The value as it may be shown: `******` for secrets.
    package static func printable(key: String, value: String) -> String {
        isSecret(key) ? "******" : value
    }
}
