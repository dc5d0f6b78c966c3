import Foundation
import Kafka
import Logging
import TestSupport
import XCTest

/// Consumer-group offset sync and failover between two tansu brokers.
final class OffsetSyncOnTansuTests: TwoRegionTestCase {
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

    /// The failover drill: three groups over two topics stop mid-stream, the source region is lost (kill -9),
    /// `failover --apply` moves them, and their consumers in the target neither skip nor repeat a record.
    func testFailoverDrillResumesEveryGroupWithNothingSkippedOrRepeated() throws {
        try sourceClient.createTopic("payments", partitions: 3)
        try sourceClient.createTopic("ledger", partitions: 2)
        let payments = (0..<3_000).map { KafkaRecord(topic: "payments", partition: Int32($0 % 3), offset: 0, key: nil, value: Array("payment-\($0)".utf8)) }
        let ledger = (0..<2_000).map { KafkaRecord(topic: "ledger", partition: Int32($0 % 2), offset: 0, key: nil, value: Array("entry-\($0)".utf8)) }
        try sourceClient.produce(payments + ledger)
        let everything = [
            "payments": try (0..<3).map { try sourceClient.readAll("payments", partition: Int32($0)).map(\.value!) },
            "ledger": try (0..<2).map { try sourceClient.readAll("ledger", partition: Int32($0)).map(\.value!) },
        ]

        // Each group has processed part of each partition in the source and committed its position.
        let groups: [String: [String]] = ["billing": ["payments"], "bookkeeping": ["ledger"], "fraud": ["payments", "ledger"]]
        var processed: [String: [TopicPartition: Int64]] = [:]
        var generator = SystemRandomNumberGenerator()
        for (group, topics) in groups {
            var positions: [TopicPartition: Int64] = [:]
            for topic in topics {
                for partition in 0..<everything[topic]!.count {
                    positions[TopicPartition(topic, Int32(partition))] = Int64.random(in: 1..<Int64(everything[topic]![partition].count), using: &generator)
                }
            }
            try sourceClient.commit(group: group, positions)
            processed[group] = positions
        }

        // fraud also has a consumer in eu-west while the bridge runs: its checkpoints are written, its offsets
        // there are not committed, so failover is what moves it. (Target topics exist up front so that it can join.)
        try targetClient.createTopic("us-east.payments", partitions: 3)
        try targetClient.createTopic("us-east.ledger", partitions: 2)
        let fraudMember = try KafkaConsumer(
            configuration: KafkaClientConfiguration(bootstrapServers: target.bootstrap), groupID: "fraud",
            overrides: ["session.timeout.ms": "6000", "max.poll.interval.ms": "10000", "heartbeat.interval.ms": "500"],
            logger: Logger(label: "member"))
        try fraudMember.subscribe(["us-east.payments"])
        let targetAdmin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: target.bootstrap), logger: Logger(label: "test"))
        try waitUntil("fraud member joined in eu-west") {
            _ = fraudMember.poll(maxRecords: 10, timeout: .milliseconds(100))
            return try targetAdmin.describeConsumerGroups(["fraud"], timeout: .seconds(5)).first?.memberCount ?? 0 > 0
        }

        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments", "ledger"])
        let process = try bridge.start()
        defer { _ = process.stop() }
        // Wait until the checkpoints in the target hold every group's position.
        try waitUntil("checkpoints for every group") {
            _ = fraudMember.poll(maxRecords: 10, timeout: .milliseconds(10))
            let checkpoints = try targetClient.readAll("regionbridge.us-east-to-eu-west.checkpoints", partition: 0)
                .compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } }
            return groups.keys.allSatisfy { group in
                (processed[group] ?? [:]).allSatisfy { source, offset in
                    checkpoints.contains { $0.contains("\"group\":\"\(group)\"") && $0.contains("\"topic\":\"\(source.topic)\"") && $0.contains("\"partition\":\(source.partition),") && $0.contains("\"source_offset\":\(offset),") }
                }
            }
        }
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        XCTAssertNil(try targetClient.committed(group: "fraud")[TopicPartition("us-east.payments", 0)], "fraud was active in eu-west: not synced")
        fraudMember.close()
        try waitUntil("fraud member left") {
            try targetAdmin.describeConsumerGroups(["fraud"], timeout: .seconds(5)).first?.memberCount == 0
        }
        source.kill()  // the region is lost

        let failover = try runProcess(RepoPaths.regionbridge, ["failover", "--topology", bridge.topologyURL.path, "--apply", "--request-timeout", "3s"]
            + groups.keys.sorted().flatMap { ["--group", $0] })
        XCTAssertEqual(failover.exitCode, 0, failover.stderr)
        XCTAssertTrue(failover.stdout.contains("checkpoint"), failover.stdout)
        XCTAssertTrue(failover.stderr.contains("unreachable"), failover.stderr)
        // The running bridge's sync had committed billing's and bookkeeping's positions already; fraud's
        // (3 + 2 partitions) come from its checkpoints now.
        XCTAssertTrue(failover.stdout.contains("committed 5 offset(s) in eu-west; 5 left as they were"), failover.stdout)

        // Each group's consumers start in eu-west at their committed offsets.
        for (group, positions) in processed {
            let committed = try targetClient.committed(group: group)
            for (source, position) in positions {
                let targetPartition = TopicPartition("us-east.\(source.topic)", source.partition)
                let start = try XCTUnwrap(committed[targetPartition], "\(group) \(targetPartition)")
                let resumed = try targetClient.readAll(targetPartition.topic, partition: source.partition).filter { $0.offset >= start }.map(\.value!)
                let sourceLog = everything[source.topic]![Int(source.partition)]
                let before = sourceLog.prefix(Int(position))  // offsets are dense here: no transactions
                XCTAssertEqual(resumed.first, sourceLog[Int(position)], "\(group) \(source): first record after failover")
                XCTAssertEqual(Array(before) + resumed, sourceLog, "\(group) \(source): 0 skipped, 0 repeated")
            }
        }
    }

    /// A group active in the target is left alone (and refused by failover); target offsets never go back;
    /// groups outside the filter are not synced.
    func testActiveGroupsBackwardMovesAndUnselectedGroupsAreLeftAlone() throws {
        try sourceClient.createTopic("payments", partitions: 1)
        try sourceClient.produce((0..<200).map { KafkaRecord(topic: "payments", partition: 0, offset: 0, key: nil, value: [UInt8($0 % 256)]) })
        let payments = TopicPartition("payments", 0)
        let copy = TopicPartition("us-east.payments", 0)
        try sourceClient.commit(group: "billing-ahead", [payments: 50])
        try sourceClient.commit(group: "billing-active", [payments: 60])
        try sourceClient.commit(group: "other", [payments: 70])
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"],
            groups: "{include: [\"billing-.*\"], sync_interval: 1s}")
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        try targetClient.commit(group: "billing-ahead", [copy: 150])

        // billing-active has a live member in the target.
        let member = try KafkaConsumer(
            configuration: KafkaClientConfiguration(bootstrapServers: target.bootstrap), groupID: "billing-active",
            overrides: ["session.timeout.ms": "6000", "max.poll.interval.ms": "10000", "heartbeat.interval.ms": "500"],
            logger: Logger(label: "member"))
        defer { member.close() }
        try member.subscribe(["us-east.payments"])
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: target.bootstrap), logger: Logger(label: "test"))
        try waitUntil("member joined") {
            _ = member.poll(maxRecords: 10, timeout: .milliseconds(100))
            return try admin.describeConsumerGroups(["billing-active"], timeout: .seconds(5)).first?.memberCount ?? 0 > 0
        }
        try sourceClient.commit(group: "billing-active", [payments: 80])
        try sourceClient.commit(group: "billing-ahead", [payments: 90])
        let result = try bridge.runUntilCaughtUp()
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        _ = member.poll(maxRecords: 10, timeout: .milliseconds(100))

        XCTAssertEqual(try targetClient.committed(group: "billing-ahead")[copy], 150, "never moved backwards")
        XCTAssertEqual(try targetClient.committed(group: "billing-active")[copy], 60, "an active group is not overwritten (80 in the source now)")
        XCTAssertNil(try targetClient.committed(group: "other")[copy], "outside the filter")

        let refused = try runProcess(RepoPaths.regionbridge, ["failover", "--topology", bridge.topologyURL.path, "--group", "billing-active", "--apply"])
        XCTAssertEqual(refused.exitCode, 4, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("group billing-active has 1 active member(s) in eu-west"), refused.stderr)

        let translated = try runProcess(RepoPaths.regionbridge, ["translate-offsets", "--topology", bridge.topologyURL.path, "--group", "other"])
        XCTAssertEqual(translated.exitCode, 0, translated.stderr)
        XCTAssertTrue(translated.stdout.contains("other  payments/0  70             us-east.payments/0  70"), translated.stdout)
    }
}
