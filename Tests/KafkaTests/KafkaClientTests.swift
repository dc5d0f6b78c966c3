import Kafka
import Logging
import TestSupport
import XCTest

/// The Kafka module against librdkafka's mock cluster: bytes, headers, offsets and errors exactly.
final class KafkaClientTests: XCTestCase {
    private let logger = Logger(label: "test")

    func testRecordsRoundTripByteForByteIncludingNullAndEmpty() throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 1)
        let client = KafkaTestClient(bootstrap: cluster.bootstrapServers)
        let records = [
            KafkaRecord(topic: "t", partition: 0, offset: 0, key: nil, value: nil),
            KafkaRecord(topic: "t", partition: 0, offset: 0, key: [], value: []),
            KafkaRecord(topic: "t", partition: 0, offset: 0, key: [0, 255, 10], value: Array(repeating: 7, count: 100_000),
                        headers: [KafkaHeader(name: "a", value: nil), KafkaHeader(name: "a", value: []), KafkaHeader(name: "b", value: [0, 1])],
                        timestamp: KafkaTimestamp(milliseconds: 1_700_000_000_123, kind: .createTime)),
        ]
        XCTAssertEqual(try client.produce(records), [0, 1, 2])
        let read = try client.readAll("t", partition: 0)
        XCTAssertEqual(read.count, 3)
        XCTAssertNil(read[0].key)
        XCTAssertNil(read[0].value)
        XCTAssertEqual(read[1].key, [])
        XCTAssertEqual(read[1].value, [])
        XCTAssertEqual(read[2].key, [0, 255, 10])
        XCTAssertEqual(read[2].value, Array(repeating: 7, count: 100_000))
        XCTAssertEqual(read[2].headers, records[2].headers)
        XCTAssertEqual(read[2].timestamp, KafkaTimestamp(milliseconds: 1_700_000_000_123, kind: .createTime))
        XCTAssertEqual(read.map(\.offset), [0, 1, 2])
    }

    func testWatermarksAndOutOfRangePositions() throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 1)
        let client = KafkaTestClient(bootstrap: cluster.bootstrapServers)
        try client.produce((0..<5).map { KafkaRecord(topic: "t", partition: 0, offset: 0, key: nil, value: [UInt8($0)]) })
        XCTAssertEqual(try client.approximateEnd("t", partition: 0), 5)

        let consumer = try KafkaConsumer(
            configuration: KafkaClientConfiguration(bootstrapServers: cluster.bootstrapServers), groupID: "g", logger: logger)
        defer { consumer.close() }
        let tp = TopicPartition("t", 0)
        try consumer.assign([(tp, .offset(9))])
        var error: ConsumerError?
        let deadline = ContinuousClock.now + .seconds(10)
        while error == nil, ContinuousClock.now < deadline {
            error = consumer.poll(maxRecords: 10, timeout: .milliseconds(100)).errors.first
        }
        let outOfRange = try XCTUnwrap(error, "reading past the end must be reported, never silently reset")
        XCTAssertTrue(outOfRange.isOffsetOutOfRange, "\(outOfRange.error)")
        XCTAssertEqual(outOfRange.partition, tp)
    }

    func testAdminRequestsAreTypedAndMetadataIsExact() throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        // The mock cluster has no CreateTopics: the request times out with librdkafka's reason, typed.
        XCTAssertThrowsError(try admin.createTopics([NewTopic(name: "x", partitions: 1)], timeout: .seconds(2))) { error in
            let kafkaError = error as? KafkaError
            XCTAssertEqual(kafkaError?.code, .timedOut)
            XCTAssertEqual(kafkaError?.rawName, "_TIMED_OUT")
        }
        try cluster.createTopic("y", partitions: 4)
        XCTAssertEqual(try admin.topics(timeout: .seconds(5)).first { $0.name == "y" }?.partitions, [0, 1, 2, 3])
    }

    func testSecretPropertiesNeverAppearInErrors() {
        for name in ["sasl.password", "ssl.key.password", "ssl.keystore.password", "ssl.truststore.password",
                     "sasl.oauthbearer.client.secret", "ssl.key.pem", "sasl.jaas.config", "sasl.oauthbearer.config",
                     "My.Access.Token", "vendor.credentials"] {
            XCTAssertTrue(SecretProperties.isSecret(name), name)
        }
        for name in ["security.protocol", "sasl.username", "sasl.mechanisms", "ssl.ca.location", "linger.ms"] {
            XCTAssertFalse(SecretProperties.isSecret(name), name)
        }
        XCTAssertEqual(SecretProperties.printable(key: "sasl.password", value: "hunter2"), "******")

        // librdkafka accepts any string for a secret property, so a bad configuration fails on another property;
        // the error, and the configuration when it is shown with it, name that property and never the secret.
        let configuration = KafkaClientConfiguration(
            bootstrapServers: "127.0.0.1:1",
            properties: ["ssl.key.password": "hunter2", "sasl.password": "hunter3", "linger.ms": "not-a-number"])
        XCTAssertThrowsError(try KafkaProducer(configuration: configuration, logger: logger)) { error in
            let shown = "cannot create the producer for \(configuration): \(error)"
            XCTAssertTrue(shown.contains("linger.ms"), shown)
            XCTAssertTrue(shown.contains("sasl.password: ******"), shown)
            for secret in ["hunter2", "hunter3"] { XCTAssertFalse(shown.contains(secret), shown) }
        }
        let bad = KafkaClientConfiguration(bootstrapServers: "127.0.0.1:1", properties: ["sasl.password": "hunter2", "no.such.property": "x"])
        XCTAssertThrowsError(try KafkaConsumer(configuration: bad, groupID: "g", logger: logger)) { error in
            let shown = "\(error) \(bad) \(String(reflecting: bad))"
            XCTAssertTrue(shown.contains("no.such.property"), shown)
            XCTAssertFalse(shown.contains("hunter2"), shown)
        }
    }

    func testLibrdkafkaIsAtLeast2_1() {
        let parts = librdkafkaVersion.split(separator: ".").compactMap { Int($0) }
        XCTAssertTrue(parts.count >= 2 && (parts[0], parts[1]) >= (2, 1), librdkafkaVersion)
    }
}
