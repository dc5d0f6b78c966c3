import Foundation
import Kafka
import Logging
import TestSupport
import XCTest

/// The Kafka module's consumer-group calls on a real tansu broker.
final class GroupAdminOnTansuTests: XCTestCase {
    func testCommitListDescribeAndAlterGroupOffsets() throws {
        let broker = try TansuBroker(name: "groups")
        defer { broker.stop() }
        let client = KafkaTestClient(bootstrap: broker.bootstrap)
        try client.createTopic("payments", partitions: 2)
        try client.produce((0..<10).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0)]) })
        let configuration = KafkaClientConfiguration(bootstrapServers: broker.bootstrap)
        let logger = Logger(label: "test")

        let consumer = try KafkaConsumer(configuration: configuration, groupID: "billing", logger: logger)
        try consumer.assign([(TopicPartition("payments", 0), .beginning)])
        try consumer.commit([TopicPartition("payments", 0): 3, TopicPartition("payments", 1): 5])
        consumer.close()

        let admin = try KafkaAdmin(configuration: configuration, logger: logger)
        XCTAssertTrue(try admin.consumerGroups(timeout: .seconds(10)).contains("billing"))
        XCTAssertEqual(try admin.committedOffsets(group: "billing", timeout: .seconds(10)),
                       [TopicPartition("payments", 0): 3, TopicPartition("payments", 1): 5])
        let described = try admin.describeConsumerGroups(["billing"], timeout: .seconds(10))
        XCTAssertEqual(described.map(\.groupID), ["billing"])
        XCTAssertEqual(described.first?.memberCount, 0)

        try admin.commitOffsets(group: "ledger", [TopicPartition("payments", 1): 4], timeout: .seconds(10))
        XCTAssertEqual(try admin.committedOffsets(group: "ledger", timeout: .seconds(10)), [TopicPartition("payments", 1): 4])
        XCTAssertEqual(try admin.committedOffsets(group: "nobody", timeout: .seconds(10)), [:])
    }
}
