import Foundation
import Topology
import XCTest

final class TopologyLoaderTests: XCTestCase {
    func testExampleParsesToExpectedTopology() throws {
        let yaml = """
            pair: us-east-to-eu-west
            source:
              region: us-east
              bootstrap_servers: "127.0.0.1:19092"
              properties: {}        # passed to librdkafka as is: security.protocol, sasl.*, ssl.*, ...
            target:
              region: eu-west
              bootstrap_servers: "127.0.0.1:29092"
              properties:
                sasl.password: "${EU_PASSWORD}"
            topics:
              include: ["payment-events", "ledger-events"]   # regular expressions, whole-name match
              exclude: []
              rename: prefix        # prefix (default): target topic is "<source.region>.<topic>"; identity: the same name
              replication_factor: -1      # optional; target topics' replication factor, -1 = broker default
              discovery_interval: 5s      # optional; how often to look for new topics/partitions (default 5s)
            """
        let topology = try TopologyLoader.parse(yaml: yaml, environment: ["EU_PASSWORD": "pw-eu"])
        XCTAssertEqual(topology, Topology(
            pair: "us-east-to-eu-west",
            source: ClusterEndpoint(region: "us-east", bootstrapServers: "127.0.0.1:19092", properties: [:]),
            target: ClusterEndpoint(
                region: "eu-west",
                bootstrapServers: "127.0.0.1:29092",
                properties: ["sasl.password": "pw-eu"]
            ),
            topics: TopicSelection(
                include: ["payment-events", "ledger-events"],
                exclude: [],
                rename: .prefix,
                replicationFactor: -1,
                discoveryInterval: .seconds(5)
            )
        ))
        XCTAssertEqual(topology.internalTopicPrefix, "regionbridge.us-east-to-eu-west.")
    }

    func testOptionalKeysTakeDefaults() throws {
        let topology = try TopologyLoader.parse(yaml: document(topics: #"include: ["a.*"]"#))
        XCTAssertEqual(topology.topics, TopicSelection(include: ["a.*"]))
        XCTAssertEqual(topology.topics.exclude, [])
        XCTAssertEqual(topology.topics.rename, .prefix)
        XCTAssertEqual(topology.topics.replicationFactor, -1)
        XCTAssertEqual(topology.topics.discoveryInterval, .seconds(5))
        XCTAssertEqual(topology.source.properties, [:])
    }

    func testShippedTopologiesValidate() throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let forward = try TopologyLoader.load(
            file: root.appendingPathComponent("topologies/us-east-to-eu-west.yaml").path, environment: [:])
        let failback = try TopologyLoader.load(
            file: root.appendingPathComponent("topologies/eu-west-to-us-east.yaml").path, environment: [:])

        XCTAssertEqual(forward.pair, "us-east-to-eu-west")
        XCTAssertEqual(forward.source, ClusterEndpoint(region: "us-east", bootstrapServers: "127.0.0.1:19092"))
        XCTAssertEqual(forward.target, ClusterEndpoint(region: "eu-west", bootstrapServers: "127.0.0.1:29092"))
        XCTAssertEqual(forward.topics, TopicSelection(include: ["payment-events", "ledger-events"], rename: .prefix))

        XCTAssertEqual(failback.pair, "eu-west-to-us-east")
        XCTAssertEqual(failback.source, forward.target)
        XCTAssertEqual(failback.target, forward.source)
        XCTAssertEqual(failback.topics.rename, .prefix)

        // Running both pairs never sends a replicated topic back where it came from.
        let copiedToEU = forward.topics.rename.targetTopic(for: "payment-events", sourceRegion: "us-east")
        XCTAssertEqual(copiedToEU, "us-east.payment-events")
        XCTAssertFalse(failback.topics.selects(copiedToEU))
        XCTAssertTrue(failback.topics.selects("payment-events"))
        XCTAssertEqual(
            failback.topics.rename.targetTopic(for: "payment-events", sourceRegion: "eu-west"),
            "eu-west.payment-events"
        )
        XCTAssertFalse(forward.topics.selects("eu-west.payment-events"))
    }

    func testPropertiesAcceptAnyKeyAndScalarValues() throws {
        let topology = try TopologyLoader.parse(yaml: """
            pair: p
            source:
              region: us-east
              bootstrap_servers: "127.0.0.1:19092"
              properties:
                security.protocol: SASL_SSL
                message.timeout.ms: 5000
                enable.idempotence: true
                socket.keepalive.enable: yes
                sasl.username: ${USER_NAME}
            target:
              region: eu-west
              bootstrap_servers: "127.0.0.1:29092"
            topics:
              include: [a]
            """, environment: ["USER_NAME": "bridge"])
        XCTAssertEqual(topology.source.properties, [
            "security.protocol": "SASL_SSL",
            "message.timeout.ms": "5000",
            "enable.idempotence": "true",
            "socket.keepalive.enable": "true",
            "sasl.username": "bridge",
        ])
    }

    func testVariableExpansion() throws {
        let topology = try TopologyLoader.parse(
            yaml: """
                pair: ${PAIR}
                source:
                  region: ${REGION}-1
                  bootstrap_servers: "${HOST}:19092,${HOST}:19093"
                  properties:
                    literal.dollars: "$$ ${1X} ${ } $NAME ${UNCLOSED"
                target:
                  region: eu-west
                  bootstrap_servers: "127.0.0.1:29092"
                topics:
                  include: [a]
                  discovery_interval: ${INTERVAL}
                """,
            environment: ["PAIR": "x-to-y", "REGION": "us-east", "HOST": "kafka", "INTERVAL": "250ms"]
        )
        XCTAssertEqual(topology.pair, "x-to-y")
        XCTAssertEqual(topology.source.region, "us-east-1")
        XCTAssertEqual(topology.source.bootstrapServers, "kafka:19092,kafka:19093")
        XCTAssertEqual(topology.source.properties["literal.dollars"], "$$ ${1X} ${ } $NAME ${UNCLOSED")
        XCTAssertEqual(topology.topics.discoveryInterval, .milliseconds(250))
    }

    // MARK: Validation rules

    func testUnknownKeysAreReportedWithSuggestions() {
        XCTAssertEqual(reported("""
            pair: p
            source:
              region: us-east
              bootstrap_server: "127.0.0.1:19092"
            target:
              region: eu-west
              bootstrap_servers: "127.0.0.1:29092"
            topics:
              include: [a]
              discovery-interval: 5s
              colour: blue
            """), [
            Reported(2, "source.bootstrap_servers", "missing required key"),
            Reported(4, "source.bootstrap_server", "unknown key (did you mean bootstrap_servers?)"),
            Reported(10, "topics.discovery-interval", "unknown key (did you mean discovery_interval?)"),
            Reported(11, "topics.colour", "unknown key"),
        ])
        XCTAssertEqual(reported(document(topics: "include: [a]") + "topic: {}\n"), [
            Reported(10, "topic", "unknown key (did you mean topics?)"),
        ])
    }

    func testUnknownSectionsAreNotAccepted() {
        let yaml = document(topics: "include: [a]") + """
            mirror_acls: {}

            """
        XCTAssertEqual(reported(yaml), [
            Reported(10, "mirror_acls", "unknown key"),
        ])
    }

    func testGroupsSectionDefaultsAndValues() throws {
        let defaults = try TopologyLoader.parse(yaml: document(topics: "include: [a]"))
        XCTAssertEqual(defaults.groups, GroupSelection(include: [".*"], exclude: ["regionbridge\\..*"], syncInterval: .seconds(10)))
        XCTAssertTrue(defaults.groups.selects("billing"))
        XCTAssertFalse(defaults.groups.selects("regionbridge.us-east-to-eu-west"))

        let custom = try TopologyLoader.parse(yaml: document(topics: "include: [a]") + """
            groups:
              include: ["billing-.*", "ledger"]
              exclude: ["billing-test"]
              sync_interval: 2s

            """)
        XCTAssertEqual(custom.groups.syncInterval, .seconds(2))
        XCTAssertTrue(custom.groups.selects("billing-eu"))
        XCTAssertFalse(custom.groups.selects("billing-test"))
        XCTAssertFalse(custom.groups.selects("ledger-2"))

        let bad = document(topics: "include: [a]") + """
            groups:
              include: ["(x"]
              sync_interval: soon
              every: 5s

            """
        XCTAssertEqual(reported(bad).map(\.line), [11, 12, 13])
        XCTAssertEqual(reported(bad).map(\.key), ["groups.include[0]", "groups.sync_interval", "groups.every"])
    }

    func testBadRegexReportsCompilerMessage() {
        let found = issues(document(topics: #"include: ["ok", "(unclosed", "a)|(b"]"#))
        XCTAssertEqual(found.map(\.key), ["topics.include[1]", "topics.include[2]"])
        XCTAssertEqual(found.map(\.line), [9, 9])
        XCTAssertEqual(found.map(\.column), [19, 32])
        XCTAssertEqual(found[0].message, "not a valid regular expression: expected ')'")
        XCTAssertTrue(found[1].message.hasPrefix("not a valid regular expression"), found[1].message)
    }

    func testBadRegionAndPair() {
        XCTAssertEqual(reported("""
            pair: us east
            source:
              region: US-East
              bootstrap_servers: "127.0.0.1:19092"
            target:
              region: eu_west
              bootstrap_servers: "127.0.0.1:29092"
            topics:
              include: [a]
            """), [
            Reported(1, "pair", "pair must match [a-zA-Z0-9._-]+ (it is used in topic names)"),
            Reported(3, "source.region", "region must match [a-z0-9-]+"),
            Reported(6, "target.region", "region must match [a-z0-9-]+"),
        ])
    }

    func testSameRegionOnBothSides() {
        XCTAssertEqual(reported("""
            pair: p
            source:
              region: us-east
              bootstrap_servers: "127.0.0.1:19092"
            target:
              region: us-east
              bootstrap_servers: "127.0.0.1:29092"
            topics:
              include: [a]
            """), [
            Reported(6, "target.region", "region must differ from source.region"),
        ])
    }

    func testMissingSectionsAndKeys() {
        XCTAssertEqual(reported("""
            pair: p
            source:
              bootstrap_servers: "127.0.0.1:19092"
            target:
              region: eu-west
              bootstrap_servers: "127.0.0.1:29092"
            """), [
            Reported(1, "topics", "missing required key"),
            Reported(2, "source.region", "missing required key"),
        ])
        XCTAssertEqual(reported(document(topics: "exclude: [a]")), [
            Reported(8, "topics.include", "missing required key"),
        ])
        XCTAssertEqual(reported(document(topics: "include: []")), [
            Reported(9, "topics.include", "include must list at least one regular expression"),
        ])
    }

    func testIdentityRenameBetweenTheSameClusterIsALoop() throws {
        let sameCluster = """
            pair: p
            source:
              region: us-east
              bootstrap_servers: "kafka-1:9092, KAFKA-2:9092"
            target:
              region: eu-west
              bootstrap_servers: "kafka-2:9092,kafka-1:9092,kafka-1:9092"
            topics:
              include: [a]
              rename: identity
            """
        XCTAssertEqual(reported(sameCluster), [
            Reported(10, "topics.rename", "rename identity between source and target on the same cluster is a replication loop"),
        ])
        // Prefixing on the same cluster is no loop.
        XCTAssertNoThrow(try TopologyLoader.parse(yaml: sameCluster.replacingOccurrences(of: "identity", with: "prefix")))
        // Distinct clusters may use identity; localhost and 127.0.0.1 count as distinct.
        let distinct = document(topics: "include: [a]\nrename: identity")
        XCTAssertEqual(try TopologyLoader.parse(yaml: distinct).topics.rename, .identity)
        let aliases = distinct.replacingOccurrences(of: "127.0.0.1:29092", with: "localhost:19092")
        XCTAssertNoThrow(try TopologyLoader.parse(yaml: aliases))
    }

    func testUndefinedVariablesAreNamedButNotValued() {
        let found = issues("""
            pair: p
            source:
              region: us-east
              bootstrap_servers: "${SOURCE_HOST}:19092"
            target:
              region: eu-west
              bootstrap_servers: "127.0.0.1:29092"
              properties:
                sasl.username: ${EU_USER}
                sasl.password: ${EU_PASSWORD}
            topics:
              include: [a]
            """, environment: ["EU_USER": "bridge-user"])
        XCTAssertEqual(found.map(Reported.init), [
            Reported(4, "source.bootstrap_servers", "undefined environment variable SOURCE_HOST"),
            Reported(10, "target.properties.sasl.password", "undefined environment variable EU_PASSWORD"),
        ])
        XCTAssertFalse(TopologyError(issues: found).description.contains("bridge-user"))
    }

    func testWrongTypes() {
        XCTAssertEqual(reported("""
            pair: [p]
            source: us-east
            target:
              region: {name: eu-west}
              bootstrap_servers: "127.0.0.1:29092"
              properties:
                - security.protocol
            topics:
              include: payment-events
              exclude: [[a]]
              rename: suffix
              replication_factor: three
              discovery_interval: 5
            """), [
            Reported(1, "pair", "expected a string, found a list"),
            Reported(2, "source", "expected a mapping, found a scalar"),
            Reported(4, "target.region", "expected a string, found a mapping"),
            Reported(7, "target.properties", "expected a mapping, found a list"),
            Reported(9, "topics.include", "expected a list of regular expressions, found a scalar"),
            Reported(10, "topics.exclude[0]", "expected a regular expression, found a list"),
            Reported(11, "topics.rename", "rename must be prefix or identity"),
            Reported(12, "topics.replication_factor", "replication_factor must be an integer, -1 (broker default) or at least 1"),
            Reported(13, "topics.discovery_interval", "discovery_interval must be a duration greater than zero, such as 250ms, 5s, 2m or 1h"),
        ])
        XCTAssertEqual(reported(document(topics: "include: [a]\nreplication_factor: [3]\ndiscovery_interval: {s: 5}")), [
            Reported(10, "topics.replication_factor", "expected an integer, found a list"),
            Reported(11, "topics.discovery_interval", "expected a duration, found a mapping"),
        ])
    }

    func testOutOfRangeNumbers() {
        XCTAssertEqual(reported(document(topics: "include: [a]\nreplication_factor: 0\ndiscovery_interval: 0s")), [
            Reported(10, "topics.replication_factor", "replication_factor must be an integer, -1 (broker default) or at least 1"),
            Reported(11, "topics.discovery_interval", "discovery_interval must be a duration greater than zero, such as 250ms, 5s, 2m or 1h"),
        ])
        XCTAssertEqual(try TopologyLoader.parse(yaml: document(topics: "include: [a]\nreplication_factor: 3"))
            .topics.replicationFactor, 3)
    }

    func testEmptyValuesAndNonScalarProperties() {
        XCTAssertEqual(reported("""
            pair: p
            source:
              region:
              bootstrap_servers: " , "
              properties:
                ssl.key.pem: {inline: secret-pem}
                client.id: ~
            target:
              region: eu-west
              bootstrap_servers: "127.0.0.1:29092"
            topics:
              include: [a]
            """), [
            Reported(3, "source.region", "expected a string, found no value"),
            Reported(4, "source.bootstrap_servers", "bootstrap_servers must list at least one host:port"),
            Reported(6, "source.properties.ssl.key.pem", "expected a string, number or boolean, found a mapping"),
            Reported(7, "source.properties.client.id", "expected a string, number or boolean, found no value"),
        ])
    }

    func testSeveralIssuesAreReportedTogetherInFileOrder() {
        let found = issues("""
            pair: p
            topics:
              include: ["(", "${NOPE}"]
              rename: identity
              replication_factor: -2
            source:
              region: Us
              bootstrap_servers: "127.0.0.1:19092"
              extra: 1
            target:
              region: eu-west
              bootstrap_servers: "127.0.0.1:19092"
            """)
        XCTAssertEqual(found.map(Reported.init), [
            Reported(3, "topics.include[0]", "not a valid regular expression: expected ')'"),
            Reported(3, "topics.include[1]", "undefined environment variable NOPE"),
            Reported(5, "topics.replication_factor", "replication_factor must be an integer, -1 (broker default) or at least 1"),
            Reported(7, "source.region", "region must match [a-z0-9-]+"),
            Reported(9, "source.extra", "unknown key"),
        ])
        XCTAssertEqual(
            found.map(\.description).prefix(2),
            ["<string>:3:13: topics.include[0]: not a valid regular expression: expected ')'",
             "<string>:3:18: topics.include[1]: undefined environment variable NOPE"]
        )
    }

    func testYamlSyntaxErrorsCarryTheirLine() {
        let found = issues("""
            pair: p
            source:
              region: us-east
               bootstrap_servers: "127.0.0.1:19092"
            """)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.line, 4)
        XCTAssertEqual(found.first?.key, "")
        XCTAssertEqual(found.first?.message, "invalid YAML: mapping values are not allowed in this context")

        XCTAssertEqual(reported("pair: p\ntopics:\n  include: [a, b\n"), [
            Reported(4, "", "invalid YAML: did not find expected ',' or ']' while parsing a flow sequence started at line 3"),
        ])
        XCTAssertEqual(reported("pair: p\npair: q\n"), [Reported(1, "", "invalid YAML: duplicate key pair")])
    }

    func testDocumentMustBeAMapping() {
        XCTAssertEqual(reported("- pair\n"), [Reported(1, "", "expected a mapping, found a list")])
        XCTAssertEqual(reported("# nothing here\n"), [
            Reported(nil, "", "the file is empty; expected a mapping with pair, source, target and topics"),
        ])
    }

    func testUnreadableFileIsOneIssueWithTheReason() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-topology.yaml").path
        XCTAssertThrowsError(try TopologyLoader.load(file: path)) { error in
            XCTAssertEqual(error as? TopologyError, TopologyError(issues: [
                TopologyIssue(file: path, key: "", message: "cannot read file: No such file or directory"),
            ]))
        }
    }

    func testLoadReportsThePathAndReadsTheEnvironment() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("topology-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try document(topics: "include: [a]\nrename: ${RENAME}").write(to: url, atomically: true, encoding: .utf8)

        XCTAssertEqual(try TopologyLoader.load(file: url.path, environment: ["RENAME": "identity"]).topics.rename, .identity)
        XCTAssertThrowsError(try TopologyLoader.load(file: url.path, environment: [:])) { error in
            XCTAssertEqual((error as? TopologyError)?.description,
                           "\(url.path):10:11: topics.rename: undefined environment variable RENAME")
        }
    }

    func testSecretValuesNeverAppearInIssues() {
        let found = issues("""
            pair: p
            source:
              region: us-east
              bootstrap_servers: "127.0.0.1:19092"
              properties:
                sasl.password: hunter2
                sasl.jaas.config: "org.apache.kafka.common.security.plain.PlainLoginModule password=jaas-pw;"
                ssl.key.password: [key-pw]
                sasl.oauthbearer.client.secret: ${SECRET}${MISSING}
            target:
              region: ${SECRET}
              bootstrap_servers: "127.0.0.1:29092"
            topics:
              include: ["${SECRET}"]
              rename: ${SECRET}
            """, environment: ["SECRET": "s3cr3t!"])
        XCTAssertEqual(found.map(\.key), [
            "source.properties.ssl.key.password",
            "source.properties.sasl.oauthbearer.client.secret",
            "target.region",
            "topics.rename",
        ])
        let text = TopologyError(issues: found).description
        for secret in ["hunter2", "jaas-pw", "key-pw", "s3cr3t"] {
            XCTAssertFalse(text.contains(secret), "\(secret) leaked in:\n\(text)")
        }
    }
}
