/// How to reach one Kafka cluster, shared by consumers, producers and admin clients.
public struct KafkaClientConfiguration: Sendable, Equatable {
    /// Comma-separated `host:port` list. No default: every cluster must be named.
    public var bootstrapServers: String
    /// librdkafka properties passed through as they are (`security.protocol`, `sasl.*`, `ssl.*`, ...).
    /// Default: none.
    public var properties: [String: String]
    /// `client.id` sent to the brokers. Default: `regionbridge`.
    public var clientID: String

    /// Creates a configuration.
    /// - Parameters:
    ///   - bootstrapServers: comma-separated `host:port` list.
    ///   - properties: librdkafka properties passed as they are; default none.
    ///   - clientID: `client.id`; default `regionbridge`.
    public init(bootstrapServers: String, properties: [String: String] = [:], clientID: String = "regionbridge") {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
        self.clientID = clientID
    }
}

/// Recognises configuration properties whose values are secrets, so that logs and errors never show them.
public enum SecretProperties {
    private static let exact: Set<String> = ["sasl.jaas.config", "ssl.key.pem", "ssl.keystore.location", "sasl.oauthbearer.config"]

    /// `true` when the value of `key` must never be printed.
    public static func isSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        return exact.contains(lower) || lower.contains("password") || lower.contains("secret")
            || lower.hasSuffix(".key") || lower.contains("token")
    }

    /// The value as it may be shown: `******` for secrets.
    public static func printable(key: String, value: String) -> String {
        isSecret(key) ? "******" : value
    }
}
