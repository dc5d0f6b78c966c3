import Foundation
import Kafka
import TestSupport
import XCTest

/// Consumer-group offset sync and failover between two tansu brokers.
final class OffsetSyncOnTansuTests: XCTestCase {
    private var source: TansuBroker!
    private var target: TansuBroker!

    override func setUpWithError() throws {
        source = try TansuBroker(name: "us-east")
        target = try TansuBroker(name: "eu-west")
    }

    override func tearDown() {
        source?.stop()
        target?.stop()
        source = nil
        target = nil
    }

    private var sourceClient: KafkaTestClient { KafkaTestClient(bootstrap: source.bootstrap) }
    private var targetClient: KafkaTestClient { KafkaTestClient(bootstrap: target.bootstrap) }

    func testTranslatedPositionsLandOnTheCommittedRecordAcrossTransactionGaps() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        let plain = (0..<40).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: Array("plain-\($0)".utf8)) }
        try sourceClient.produce(plain)
        // Transactions of 5 records per partition: each commit marker leaves a hole in the offsets.
        let transactional = (0..<60).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: Array("tx-\($0)".utf8)) }
        try sourceClient.produceInTransactions(transactional, perTransaction: 10, transactionalID: "payments-writer")
        try sourceClient.produce(plain)

        var committed: [TopicPartition: Int64] = [:]
        for partition: Int32 in 0..<2 {
            let offsets = try sourceClient.readAll("payments", partition: partition).map(\.offset)
            let holes = zip(offsets, offsets.dropFirst()).filter { $1 > $0 + 1 }
            XCTAssertFalse(holes.isEmpty, "transaction markers leave holes in payments/\(partition): \(offsets)")
            // Commit just after a hole: the first record after a marker.
            committed[TopicPartition("payments", partition)] = holes[partition == 0 ? 0 : holes.count - 1].1
        }
        try sourceClient.commit(group: "billing", committed)
        try sourceClient.commit(group: "audit", [TopicPartition("payments", 0): 3, TopicPartition("payments", 1): 47])

        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"])
        let result = try bridge.runUntilCaughtUp()
        XCTAssertEqual(result.exitCode, 0, result.stderr)

        for (group, positions) in [("billing", committed), ("audit", [TopicPartition("payments", 0): 3, TopicPartition("payments", 1): 47])] {
            let inTarget = try targetClient.committed(group: group)
            for (source, offset) in positions {
                let targetPartition = TopicPartition("us-east.payments", source.partition)
                let start = try XCTUnwrap(inTarget[targetPartition], "\(group) has no offset for \(targetPartition)")
                let records = try targetClient.readAll(targetPartition.topic, partition: targetPartition.partition)
                let first = try XCTUnwrap(records.first { $0.offset >= start })
                XCTAssertEqual(first.provenanceText, "us-east/payments/\(source.partition)/\(offset)", "\(group) \(source)")
            }
        }
    }
}
