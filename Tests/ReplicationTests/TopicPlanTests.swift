import Kafka
@testable import Replication
import Replication
import Topology
import XCTest

final class TopicPlanTests: XCTestCase {
    private let topology = Topology(
        pair: "us-east-to-eu-west",
        source: ClusterEndpoint(region: "us-east", bootstrapServers: "a:1", properties: [:]),
        target: ClusterEndpoint(region: "eu-west", bootstrapServers: "b:1", properties: [:]),
        topics: TopicSelection(include: ["payment-events", "ledger-.*"], exclude: ["ledger-old"]))

    func testCreatesMissingTargetTopicsWithTheSourcePartitionCount() {
        let plan = TopicPlan.make(
            source: [TopicMetadata(name: "payment-events", partitions: [0, 1, 2]), TopicMetadata(name: "other", partitions: [0]),
                     TopicMetadata(name: "ledger-old", partitions: [0]), TopicMetadata(name: "__consumer_offsets", partitions: [0])],
            target: [], topology: topology, owned: [])
        XCTAssertEqual(plan.creations, [.init(source: "payment-events", target: "us-east.payment-events", partitions: 3)])
        XCTAssertEqual(plan.newPartitions, [0, 1, 2].map { TopicPartition("payment-events", $0) })
        XCTAssertTrue(plan.growths.isEmpty)
        XCTAssertTrue(plan.vanished.isEmpty)
    }

    func testGrowsTargetTopicsAndStartsOnlyNewPartitions() {
        let plan = TopicPlan.make(
            source: [TopicMetadata(name: "ledger-events", partitions: [0, 1, 2, 3])],
            target: [TopicMetadata(name: "us-east.ledger-events", partitions: [0, 1])],
            topology: topology, owned: [TopicPartition("ledger-events", 0), TopicPartition("ledger-events", 1)])
        XCTAssertTrue(plan.creations.isEmpty)
        XCTAssertEqual(plan.growths, [.init(target: "us-east.ledger-events", from: 2, to: 4)])
        XCTAssertEqual(plan.newPartitions, [TopicPartition("ledger-events", 2), TopicPartition("ledger-events", 3)])
    }

    func testWarnsWhenTheTargetHasMorePartitions() {
        let plan = TopicPlan.make(
            source: [TopicMetadata(name: "ledger-events", partitions: [0])],
            target: [TopicMetadata(name: "us-east.ledger-events", partitions: [0, 1])],
            topology: topology, owned: [])
        XCTAssertEqual(plan.warnings.count, 1)
        XCTAssertTrue(plan.growths.isEmpty && plan.creations.isEmpty)
    }

    func testReportsOwnedPartitionsThatVanished() {
        let plan = TopicPlan.make(
            source: [TopicMetadata(name: "ledger-events", partitions: [0])], target: [TopicMetadata(name: "us-east.ledger-events", partitions: [0])],
            topology: topology, owned: [TopicPartition("ledger-events", 0), TopicPartition("payment-events", 0)])
        XCTAssertEqual(plan.vanished, [TopicPartition("payment-events", 0)])
        XCTAssertTrue(plan.newPartitions.isEmpty)
    }

    func testTopicsWithMetadataErrorsAreSkippedWithAWarning() {
        let plan = TopicPlan.make(
            source: [TopicMetadata(name: "payment-events", partitions: [], errorName: "LEADER_NOT_AVAILABLE")],
            target: [], topology: topology, owned: [])
        XCTAssertTrue(plan.creations.isEmpty)
        XCTAssertEqual(plan.warnings.count, 1)
    }

    func testIdentityRenameKeepsNames() {
        var identity = topology
        identity.topics.rename = .identity
        let plan = TopicPlan.make(source: [TopicMetadata(name: "payment-events", partitions: [0])], target: [], topology: identity, owned: [])
        XCTAssertEqual(plan.creations.first?.target, "payment-events")
    }

    func testOnlyTopicLevelConfigsAreCopied() {
        let entries = [
            TopicConfigEntry(name: "retention.ms", value: "604800000", source: .topic),
            TopicConfigEntry(name: "cleanup.policy", value: "compact", source: .topic),
            TopicConfigEntry(name: "segment.bytes", value: "1073741824", source: .brokerOrDefault),
            TopicConfigEntry(name: "min.insync.replicas", value: "2", source: .topic),
            TopicConfigEntry(name: "secret.thing", value: nil, source: .topic, isSensitive: true),
        ]
        XCTAssertEqual(TopicConfigCopy.entriesToCopy(entries), ["retention.ms": "604800000", "cleanup.policy": "compact"])
    }
}
