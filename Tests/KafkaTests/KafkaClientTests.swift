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

    func testAnAbortWithRecordsInFlightFinishesWithoutAnotherThreadPollingTheProducer() throws {
        // The copy loop aborts on the thread that polls the producer. librdkafka finishes an abort only once the
        // purged records' delivery reports are served; a single blocking call timed out with every one unserved.
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 1)
        try cluster.setRoundTrip(broker: 1, milliseconds: 200)
        let producer = try KafkaProducer(
            configuration: KafkaClientConfiguration(bootstrapServers: cluster.bootstrapServers), transactionalID: "abort-test",
            logger: logger)
        try producer.initTransactions(timeout: .seconds(10))
        try producer.beginTransaction()
        for index in 0..<2_000 {
            try producer.send(topic: "t", partition: 0, key: nil, value: [UInt8(index % 256)], headers: [], timestamp: nil, id: UInt64(index))
        }
        XCTAssertGreaterThan(producer.queueLength, 0)
        try producer.abortTransaction(timeout: .seconds(5))
        XCTAssertEqual(producer.queueLength, 0)
        // The producer is usable again: a new transaction's record is acknowledged and the transaction commits.
        try producer.beginTransaction()
        try producer.send(topic: "t", partition: 0, key: nil, value: [42], headers: [], timestamp: nil, id: 7)
        var reports: [DeliveryReport] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while reports.isEmpty, ContinuousClock.now < deadline { reports += producer.poll(timeout: .milliseconds(100)).deliveries }
        XCTAssertEqual(reports.map(\.id), [7])
        XCTAssertNil(reports.first?.error)
        try producer.commitTransaction(timeout: .seconds(10))
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

    func testAClusterWithNoBrokerListeningIsUnreachableByCodeWithinTheTimeout() throws {
        // A loopback port nothing listens on: every connection is refused, as with a lost region's brokers.
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: "127.0.0.1:\(try freeLoopbackPort())"), logger: logger)
        let started = ContinuousClock.now
        XCTAssertThrowsError(try admin.topics(timeout: .seconds(2))) { error in
            let kafkaError = error as? KafkaError
            XCTAssertEqual(kafkaError?.isUnreachable, true, "\(error)")
            XCTAssertEqual(kafkaError?.rawName, "_TRANSPORT")
        }
        let elapsed = ContinuousClock.now - started
        XCTAssertLessThan(elapsed, .seconds(4), "the metadata request is bounded by its timeout")
        // A refusal by a broker that answers is not unreachability.
        XCTAssertFalse(KafkaError(code: .recordRefused, rawCode: 10, rawName: "MSG_SIZE_TOO_LARGE", message: "too large").isUnreachable)
        XCTAssertFalse(KafkaError(code: .librdkafka, rawCode: 29, rawName: "TOPIC_AUTHORIZATION_FAILED", message: "denied").isUnreachable)
        XCTAssertTrue(KafkaError(code: .timedOut, rawCode: -185, rawName: "_TIMED_OUT", message: "timed out").isUnreachable)
    }

    func testAFullQueueIsItsOwnCodeNotANameToCompare() throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 1)
        let producer = try KafkaProducer(
            configuration: KafkaClientConfiguration(bootstrapServers: cluster.bootstrapServers),
            overrides: ["queue.buffering.max.messages": "1", "linger.ms": "1000"], logger: logger)
        try producer.send(topic: "t", partition: 0, key: nil, value: [1], headers: [], timestamp: nil, id: 1)
        XCTAssertThrowsError(try producer.send(topic: "t", partition: 0, key: nil, value: [2], headers: [], timestamp: nil, id: 2)) { error in
            let kafkaError = error as? KafkaError
            XCTAssertEqual(kafkaError?.code, .queueFull)
            XCTAssertEqual(kafkaError?.rawName, "_QUEUE_FULL", "librdkafka keeps the underscore of local errors")
            XCTAssertEqual(kafkaError?.isFatal, false)
        }
    }

    func testForwardingACopiedMessageKeepsEveryByteAndAddsOneHeaderAlsoAfterAFullQueue() throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("in", partitions: 1)
        try cluster.createTopic("out", partitions: 1)
        let client = KafkaTestClient(bootstrap: cluster.bootstrapServers)
        let records = [
            KafkaRecord(topic: "in", partition: 0, offset: 0, key: nil, value: nil),
            KafkaRecord(topic: "in", partition: 0, offset: 0, key: [], value: [], headers: [KafkaHeader(name: "e", value: [])]),
            KafkaRecord(topic: "in", partition: 0, offset: 0, key: [0, 255], value: Array(repeating: 9, count: 70_000),
                        headers: [KafkaHeader(name: "a", value: nil), KafkaHeader(name: "a", value: [1]), KafkaHeader(name: "b", value: [0, 1])],
                        timestamp: KafkaTimestamp(milliseconds: 1_600_000_000_001, kind: .createTime)),
        ]
        try client.produce(records)
        let configuration = KafkaClientConfiguration(bootstrapServers: cluster.bootstrapServers)
        let consumer = try KafkaConsumer(configuration: configuration, groupID: "g", logger: logger)
        defer { consumer.close() }
        try consumer.assign([(TopicPartition("in", 0), .offset(0))])
        // A queue of one record: every forward after the first finds it full and must be forwarded again.
        let producer = try KafkaProducer(configuration: configuration, overrides: ["queue.buffering.max.messages": "1"], logger: logger)
        let out = try producer.topic(named: "out")
        let batch = MessageBatch(capacity: 10)
        var forwarded = 0
        var fullQueues = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while forwarded < records.count, ContinuousClock.now < deadline {
            consumer.poll(into: batch, timeout: .milliseconds(100))
            for index in 0..<batch.count where batch[index].isRecord {
                let message = batch[index]
                let value = Array("us-east/in/0/\(message.offset)".utf8)
                while true {
                    let failure: KafkaError? = value.withUnsafeBytes { bytes in
                        do throws(KafkaError) {
                            try producer.forward(message, to: out, partition: 0, header: "regionbridge.source", value: bytes, id: UInt64(message.offset))
                            return nil
                        } catch {
                            return error
                        }
                    }
                    guard let failure else { break }
                    XCTAssertEqual(failure.code, .queueFull, "\(failure)")
                    guard failure.code == .queueFull else { return }
                    fullQueues += 1
                    while producer.queueLength > 0 { _ = producer.poll(timeout: .milliseconds(50)) }
                }
                forwarded += 1
            }
        }
        while producer.queueLength > 0, ContinuousClock.now < deadline { _ = producer.poll(timeout: .milliseconds(50)) }
        XCTAssertGreaterThan(fullQueues, 0, "the queue of one record was full at least once")
        let copied = try client.readAll("out", partition: 0)
        XCTAssertEqual(copied.count, records.count)
        for (original, copy) in zip(records, copied) {
            XCTAssertEqual(copy.key, original.key)
            XCTAssertEqual(copy.value, original.value)
            XCTAssertEqual(copy.headers, original.headers + [KafkaHeader(name: "regionbridge.source", value: Array("us-east/in/0/\(copy.offset)".utf8))])
            if let timestamp = original.timestamp { XCTAssertEqual(copy.timestamp, timestamp) }
        }
        XCTAssertNil(copied[0].key, "a null key stays null")
        XCTAssertEqual(copied[1].key, [], "an empty key stays empty")
        XCTAssertEqual(copied[1].value, [])
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

    func testLibrdkafkasOwnErrorsNeverQuoteASecretValue() {
        // rd_kafka_new quotes the keystore it cannot open; the path is a secret property's value.
        let keystore = "/nonexistent/keystore-s3cret-\(UInt32.random(in: 0...UInt32.max)).p12"
        let configuration = KafkaClientConfiguration(
            bootstrapServers: "127.0.0.1:1",
            properties: ["security.protocol": "ssl", "ssl.keystore.location": keystore, "ssl.keystore.password": "pw"])
        XCTAssertThrowsError(try KafkaProducer(configuration: configuration, logger: logger)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("ssl.keystore.location") || text.contains("keystore"), text)
            XCTAssertFalse(text.contains(keystore), text)
            XCTAssertTrue(text.contains("******"), "librdkafka quoted the path and it was masked: \(text)")
        }
    }

    func testLibrdkafkaIsAtLeast2_3() {
        // 2.1 parses tansu's ApiVersions; 2.3 has the admin ListOffsets the engine samples source ends with.
        let parts = librdkafkaVersion.split(separator: ".").compactMap { Int($0) }
        XCTAssertTrue(parts.count >= 2 && (parts[0], parts[1]) >= (2, 3), librdkafkaVersion)
    }
}
