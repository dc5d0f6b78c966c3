import Foundation
import Kafka
import Logging

/// Writes and reads records on a test cluster through the project's own Kafka module.
package struct KafkaTestClient: Sendable {
    /// The cluster.
    package let bootstrap: String
    /// librdkafka properties of every client (`security.protocol`, `ssl.*`).
    package let properties: [String: String]
    private let logger = Logger(label: "test.kafka")

    /// Creates a client for the cluster at `bootstrap`.
    package init(bootstrap: String, properties: [String: String] = [:]) {
        self.bootstrap = bootstrap
        self.properties = properties
    }

    private var configuration: KafkaClientConfiguration {
        KafkaClientConfiguration(bootstrapServers: bootstrap, properties: properties, clientID: "regionbridge-tests")
    }

    /// Creates a topic and waits until its partitions show in the metadata.
    package func createTopic(_ name: String, partitions: Int, configs: [String: String] = [:]) throws {
        let admin = try KafkaAdmin(configuration: configuration, logger: logger)
        let errors = try admin.createTopics([NewTopic(name: name, partitions: partitions, configs: configs)], timeout: .seconds(10))
        if let error = errors[name] { throw error }
        try waitForPartitions(name, count: partitions)
    }

    /// Deletes a topic and waits until the metadata no longer shows it.
    package func deleteTopic(_ name: String, timeout: Duration = .seconds(10)) throws {
        let admin = try KafkaAdmin(configuration: configuration, logger: logger)
        try admin.deleteTopic(name, timeout: timeout)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try !admin.topics(timeout: .seconds(5)).contains(where: { $0.name == name && $0.errorName == nil }) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw FixtureError("topic \(name) still shows at \(bootstrap) after its deletion")
    }

    /// Raises a topic's partition count.
    package func growTopic(_ name: String, to count: Int) throws {
        let admin = try KafkaAdmin(configuration: configuration, logger: logger)
        try admin.createPartitions(topic: name, totalCount: count, timeout: .seconds(10))
        try waitForPartitions(name, count: count)
    }

    /// Waits until the metadata shows `count` partitions of the topic.
    package func waitForPartitions(_ name: String, count: Int, timeout: Duration = .seconds(10)) throws {
        let admin = try KafkaAdmin(configuration: configuration, logger: logger)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try admin.topics(timeout: .seconds(5)).first(where: { $0.name == name })?.partitions.count == count { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw FixtureError("topic \(name) did not reach \(count) partitions at \(bootstrap)")
    }

    /// Topic names in the cluster.
    package func topicNames() throws -> [String] {
        try KafkaAdmin(configuration: configuration, logger: logger).topics(timeout: .seconds(10)).map(\.name)
    }

    /// Writes the records in order (each to its own partition) and waits until all are acknowledged.
    /// - Returns: the offset each record got, in input order.
    @discardableResult
    package func produce(_ records: [KafkaRecord]) throws -> [Int64] {
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        var offsets = [Int64](repeating: -1, count: records.count)
        var pending = 0
        func collect(_ timeout: Duration) throws {
            for report in producer.poll(timeout: timeout).deliveries {
                pending -= 1
                if let error = report.error { throw error }
                offsets[Int(report.id)] = report.offset
            }
        }
        for (index, record) in records.enumerated() {
            while true {
                do {
                    try producer.send(
                        topic: record.topic, partition: record.partition, key: record.key, value: record.value,
                        headers: record.headers, timestamp: record.timestamp?.milliseconds, id: UInt64(index))
                    pending += 1
                    break
                } catch {
                    guard error.code == .queueFull else { throw error }
                    try collect(.milliseconds(10))
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while pending > 0 {
            guard ContinuousClock.now < deadline else { throw FixtureError("\(pending) test records not acknowledged by \(bootstrap)") }
            try collect(.milliseconds(100))
        }
        return offsets
    }

    /// The partition's end offset as ListOffsets answers it (tansu answers the last batch's base offset plus one).
    package func approximateEnd(_ topic: String, partition: Int32) throws -> Int64 {
        try KafkaAdmin(configuration: configuration, logger: logger)
            .queryWatermarks(TopicPartition(topic, partition), timeout: .seconds(5)).high
    }

    /// Writes the records in one committed transaction per group of `perTransaction` records, so that the
    /// transaction markers leave holes in the offsets.
    package func produceInTransactions(_ records: [KafkaRecord], perTransaction: Int, transactionalID: String) throws {
        let producer = try KafkaProducer(
            configuration: configuration, overrides: ["transactional.id": transactionalID, "enable.gapless.guarantee": "false"], logger: logger)
        try producer.initTransactions(timeout: .seconds(30))
        var index = 0
        while index < records.count {
            try producer.beginTransaction()
            for record in records[index..<min(index + perTransaction, records.count)] {
                try producer.send(
                    topic: record.topic, partition: record.partition, key: record.key, value: record.value,
                    headers: record.headers, timestamp: record.timestamp?.milliseconds, id: 0)
            }
            // Delivery reports are events the application polls: drain them before committing.
            let deadline = ContinuousClock.now + .seconds(30)
            while producer.queueLength > 0, ContinuousClock.now < deadline {
                if let error = producer.poll(timeout: .milliseconds(50)).deliveries.compactMap(\.error).first { throw error }
            }
            try producer.commitTransaction(timeout: .seconds(30))
            index += perTransaction
        }
    }

    /// Commits offsets for a group, as a consumer of it would.
    package func commit(group: String, _ offsets: [TopicPartition: Int64]) throws {
        let consumer = try KafkaConsumer(configuration: configuration, groupID: group, logger: logger)
        defer { consumer.close() }
        try consumer.commit(offsets)
    }

    /// A group's committed offsets.
    package func committed(group: String) throws -> [TopicPartition: Int64] {
        try KafkaAdmin(configuration: configuration, logger: logger).committedOffsets(group: group, timeout: .seconds(10))
    }

    /// Every record of the partition from its start to its end (found by partition EOF, not ListOffsets).
    /// - Parameter committedOnly: read with `read_committed` (records of open or aborted transactions left out).
    package func readAll(_ topic: String, partition: Int32, timeout: Duration = .seconds(60), committedOnly: Bool = false) throws -> [KafkaRecord] {
        let consumer = try KafkaConsumer(
            configuration: configuration, groupID: "regionbridge-tests",
            overrides: ["isolation.level": committedOnly ? "read_committed" : "read_uncommitted", "fetch.wait.max.ms": "10"], logger: logger)
        defer { consumer.close() }
        let tp = TopicPartition(topic, partition)
        try consumer.assign([(tp, .beginning)])
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let batch = consumer.poll(maxRecords: 10_000, timeout: .milliseconds(50))
            records.append(contentsOf: batch.records)
            if let error = batch.errors.first { throw error.error }
            if batch.ends.contains(where: { $0.0 == tp }) { return records }
        }
        throw FixtureError("reading \(tp) from \(bootstrap) did not reach its end within \(timeout)")
    }
}

extension KafkaRecord {
    /// The `regionbridge.source` header's value as text, if the record has one.
    package var provenanceText: String? {
        lastHeader(named: "regionbridge.source")?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}
