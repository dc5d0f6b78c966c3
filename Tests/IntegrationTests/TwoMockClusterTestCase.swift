import Foundation
import Kafka
import Logging
import TestSupport
import XCTest

/// A test case with two librdkafka mock clusters of 3 brokers each, us-east (source) and eu-west (target),
/// living in the test process and reached by the bridge binary over loopback TCP. Both are made for each test
/// and destroyed after it, even when it fails.
///
/// The mock cluster has no CreateTopics: `payments` (3 partitions) and its copy `us-east.payments` exist up front.
class TwoMockClusterTestCase: XCTestCase {
    /// The source region.
    var source: KafkaMockCluster!
    /// The target region.
    var target: KafkaMockCluster!

    override func setUpWithError() throws {
        source = try KafkaMockCluster(brokers: 3)
        target = try KafkaMockCluster(brokers: 3)
        try source.createTopic("payments", partitions: 3, replicationFactor: 3)
        try target.createTopic("us-east.payments", partitions: 3, replicationFactor: 3)
    }

    override func tearDown() {
        targetAdmin = nil
        source = nil
        target = nil
    }

    var sourceClient: KafkaTestClient { KafkaTestClient(bootstrap: source.bootstrapServers) }
    var targetClient: KafkaTestClient { KafkaTestClient(bootstrap: target.bootstrapServers) }

    /// The pair `payments` -> `us-east.payments`, without group sync: the mock cluster cannot create the
    /// bridge's checkpoint topics (no CreateTopics).
    func fixture() throws -> BridgeFixture {
        try BridgeFixture(source: source.bootstrapServers, target: target.bootstrapServers, include: ["payments"], groups: "{include: []}")
    }

    /// One client for `targetCount`, so that polling the target costs a ListOffsets, not a new connection.
    private var targetAdmin: KafkaAdmin?

    /// Records the target holds in `us-east.payments`, from ListOffsets (exact on the mock cluster); a partition
    /// that does not answer counts 0.
    func targetCount() -> Int64 {
        if targetAdmin == nil {
            targetAdmin = try? KafkaAdmin(
                configuration: KafkaClientConfiguration(bootstrapServers: target.bootstrapServers, clientID: "regionbridge-tests"),
                logger: Logger(label: "test.kafka"))
        }
        guard let targetAdmin else { return 0 }
        return (0..<3).map { (try? targetAdmin.queryWatermarks(TopicPartition("us-east.payments", $0), timeout: .seconds(5)).high) ?? 0 }
            .reduce(0, +)
    }

    /// Every target partition holds each source record once, in source order, with its key, value and headers
    /// (plus the provenance header); and the source holds `expectedTotal` records.
    func assertExactlyOnce(partitions: Int32 = 3, expectedTotal: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var total = 0
        for partition in 0..<partitions {
            let sent = try sourceClient.readAll("payments", partition: partition)
            let copied = try targetClient.readAll("us-east.payments", partition: partition)
            let expected = sent.map { "us-east/payments/\(partition)/\($0.offset)" }
            let provenance = copied.map { $0.provenanceText ?? "missing" }
            XCTAssertEqual(Set(expected).subtracting(provenance).count, 0, "payments/\(partition): records lost", file: file, line: line)
            XCTAssertEqual(provenance.count - Set(provenance).count, 0, "payments/\(partition): records duplicated", file: file, line: line)
            XCTAssertEqual(provenance, expected, "payments/\(partition): lost, duplicated or reordered", file: file, line: line)
            if provenance == expected {
                for (original, copy) in zip(sent, copied) where copy.key != original.key || copy.value != original.value
                    || copy.headers.dropLast() != original.headers[...] {
                    XCTFail("payments/\(partition) offset \(original.offset): copied record differs", file: file, line: line)
                    break
                }
            }
            total += sent.count
        }
        XCTAssertEqual(total, expectedTotal, file: file, line: line)
    }
}
