import Foundation
import Kafka
import Topology
import XCTest

/// No way of turning a topology into text shows a secret: description, debugDescription, `dump`,
/// `String(reflecting:)`, string interpolation (what swift-service-lifecycle and swift-log use) and `Mirror`.
final class SecretRedactionTests: XCTestCase {
    /// One distinct value per secret property, so that a leak names the property that leaked.
    private static let secretProperties: [String: String] = [
        "sasl.password": "pw-sasl-1f3a",
        "ssl.key.password": "pw-sslkey-2b4c",
        "ssl.keystore.password": "pw-keystore-3c5d",
        "ssl.truststore.password": "pw-truststore-4d6e",
        "sasl.oauthbearer.client.secret": "pw-oauth-5e7f",
        "ssl.key.pem": "-----BEGIN PRIVATE KEY-----pw-pem-6f80",
        "sasl.jaas.config": "PlainLoginModule required password=pw-jaas-7091;",
        "sasl.oauthbearer.config": "principal=pw-oauthcfg-81a2",
        "my.custom.token": "pw-token-92b3",
        "vendor.Credentials": "pw-credentials-a3c4",
    ]
    private static let dsnPassword = "pw-postgres-b4d5"

    private func topology() throws -> Topology {
        var environment: [String: String] = ["PGPASSWORD": Self.dsnPassword]
        var lines: [String] = []
        for (index, name) in Self.secretProperties.keys.sorted().enumerated() {
            environment["SECRET_\(index)"] = Self.secretProperties[name]
            lines.append("    \(name): \"${SECRET_\(index)}\"")
        }
        return try TopologyLoader.parse(yaml: """
            pair: us-east-to-eu-west
            source:
              region: us-east
              bootstrap_servers: "127.0.0.1:19092"
              properties:
                security.protocol: SASL_PLAINTEXT
            \(lines.joined(separator: "\n"))
            target:
              region: eu-west
              bootstrap_servers: "127.0.0.1:29092"
              properties:
            \(lines.joined(separator: "\n"))
            topics:
              include: [payments]
            reconcile:
              postgres_dsn: "host=db dbname=payments user=rb password=${PGPASSWORD}"
              committed_query: "SELECT event_id, committed_at FROM payments WHERE committed_at >= $1 AND committed_at < $2"
              topics: [payments]
            """, environment: environment)
    }

    private func assertNoSecret(_ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for secret in Array(Self.secretProperties.values) + [Self.dsnPassword] {
            let marker = secret.split(separator: "-").suffix(2).joined(separator: "-")  // e.g. sasl-1f3a
            XCTAssertFalse(text.contains(marker), "\(what) shows a secret (\(marker)):\n\(text)", file: file, line: line)
        }
    }

    /// Every label and value reachable through `Mirror`, depth first.
    private func mirrorText(_ value: Any, depth: Int = 0) -> String {
        guard depth < 12 else { return "" }
        var text = String(describing: value) + "\n" + String(reflecting: value) + "\n"
        for child in Mirror(reflecting: value).children {
            text += (child.label ?? "-") + ": " + mirrorText(child.value, depth: depth + 1)
        }
        return text
    }

    func testEverySecretPropertyIsHeldAsASecret() throws {
        let topology = try topology()
        for (name, value) in Self.secretProperties {
            XCTAssertEqual(topology.source.properties[name], .secret(Secret(value)), name)
            XCTAssertTrue(SecretProperties.isSecret(name), name)
        }
        XCTAssertEqual(topology.source.properties["security.protocol"], "SASL_PLAINTEXT")
        XCTAssertEqual(topology.secrets.count, 2 * Self.secretProperties.count + 1)
        XCTAssertEqual(topology.reconcile?.postgresDSN.reveal(), "host=db dbname=payments user=rb password=\(Self.dsnPassword)")
    }

    func testNoTextFormOfATopologyShowsASecret() throws {
        let topology = try topology()
        var dumped = ""
        dump(topology, to: &dumped)
        assertNoSecret(dumped, "dump")
        assertNoSecret(topology.description, "description")
        assertNoSecret(topology.debugDescription, "debugDescription")
        assertNoSecret(String(reflecting: topology), "String(reflecting:)")
        assertNoSecret("\(topology) \([topology]) \(Optional(topology) as Any)", "interpolation")
        assertNoSecret(mirrorText(topology), "Mirror")
        for part in [topology.source, topology.target] as [Any] + [topology.reconcile as Any, topology.source.properties] {
            var text = ""
            dump(part, to: &text)
            assertNoSecret(text + mirrorText(part), "\(type(of: part))")
        }
        // The description still says what is configured.
        XCTAssertTrue(topology.description.contains("sasl.password: ******"), topology.description)
        XCTAssertTrue(topology.description.contains("security.protocol: SASL_PLAINTEXT"), topology.description)
        XCTAssertTrue(topology.description.contains("us-east [127.0.0.1:19092]"), topology.description)
    }

    func testSecretItselfShowsNothing() {
        let secret = Secret("pw-alone-c5e6")
        var dumped = ""
        dump(secret, to: &dumped)
        for text in [secret.description, secret.debugDescription, String(reflecting: secret), "\(secret)", dumped, mirrorText(secret)] {
            XCTAssertFalse(text.contains("c5e6"), text)
        }
        XCTAssertEqual(Mirror(reflecting: secret).children.count, 0)
        XCTAssertEqual(secret.reveal(), "pw-alone-c5e6")
    }

    func testKafkaClientConfigurationShowsNoSecretButKeepsTheValues() throws {
        let properties = try topology().source.properties
        let configuration = KafkaClientConfiguration(bootstrapServers: "127.0.0.1:19092", properties: properties.revealedForClient())
        // The values reach the client untouched...
        XCTAssertEqual(configuration.properties["sasl.password"], Self.secretProperties["sasl.password"])
        XCTAssertEqual(configuration.properties.count, Self.secretProperties.count + 1)
        // ...and no text form of the configuration shows them.
        var dumped = ""
        dump(configuration, to: &dumped)
        assertNoSecret(dumped + configuration.description + String(reflecting: configuration) + "\(configuration)" + mirrorText(configuration), "KafkaClientConfiguration")
        XCTAssertTrue(configuration.description.contains("security.protocol: SASL_PLAINTEXT"), configuration.description)
    }
}
