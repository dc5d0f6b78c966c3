import Drill
import XCTest

/// Target parity: the target topic exists with at least the source's partitions and the same DR-relevant
/// configuration; the bridge's own topics exist.
final class ParityCheckTests: XCTestCase {
    private let same = ["retention.ms": "604800000", "cleanup.policy": "delete", "max.message.bytes": "1048588", "min.insync.replicas": "2"]

    private func check(_ source: [String: String], _ target: [String: String], partitions: Int? = 3) -> DrillCheck {
        ParityCheck.topic(
            TopicParityFacts(source: "payments", target: "us-east.payments", sourcePartitions: 3, targetPartitions: partitions,
                             sourceConfig: source, targetConfig: target),
            sourceRegion: "us-east", targetRegion: "eu-west")
    }

    private func with(_ key: String, _ value: String) -> [String: String] {
        var config = same
        config[key] = value
        return config
    }

    func testTheSameConfigurationPasses() {
        let passed = check(same, same)
        XCTAssertEqual(passed.status, .pass)
        XCTAssertEqual(passed.subject, "payments -> us-east.payments")
        XCTAssertEqual(passed.figure, "3/3 partitions; retention.ms 604800000; cleanup.policy delete; max.message.bytes 1048588; min.insync.replicas 2")
    }

    func testAShorterRetentionInTheDRRegionFailsNamingTopicKeyAndValues() {
        let failed = check(same, with("retention.ms", "3600000"))
        XCTAssertEqual(failed.status, .fail)
        XCTAssertEqual(failed.cause, "retention.ms of us-east.payments is 3600000 in eu-west, 604800000 for payments in us-east: "
            + "shorter in the DR region: records would be deleted there before they are in the source")
        XCTAssertEqual(check(same, with("retention.ms", "-1")).status, .pass, "forever is not shorter")
        XCTAssertEqual(check(with("retention.ms", "-1"), same).status, .fail, "a week is shorter than forever")
        XCTAssertEqual(check(same, with("retention.ms", "700000000")).status, .pass, "longer keeps more")
    }

    func testSmallerRecordsDifferentPolicyOrInSyncReplicasFail() {
        XCTAssertEqual(check(same, with("max.message.bytes", "1000")).cause,
                       "max.message.bytes of us-east.payments is 1000 in eu-west, 1048588 for payments in us-east: smaller in the DR region: a record the source accepts could be refused there")
        XCTAssertEqual(check(same, with("max.message.bytes", "2000000")).status, .pass)
        XCTAssertEqual(check(same, with("cleanup.policy", "compact")).status, .fail)
        XCTAssertEqual(check(with("cleanup.policy", "compact,delete"), with("cleanup.policy", "delete, compact")).status, .pass, "a list compares as a set")
        XCTAssertEqual(check(same, with("min.insync.replicas", "1")).cause,
                       "min.insync.replicas of us-east.payments is 1 in eu-west, 2 for payments in us-east: differs")
    }

    func testAMissingTargetTopicOrFewerPartitionsFail() {
        XCTAssertEqual(check(same, same, partitions: nil).cause, "target topic us-east.payments does not exist in eu-west (source payments has 3 partitions)")
        XCTAssertEqual(check(same, same, partitions: 2).cause,
                       "us-east.payments has 2 partitions in eu-west, payments has 3 in us-east: partitions 2...2 cannot be replicated")
    }

    func testAValueOnlyOneSideReportsFailsAndOneNeitherReportsWarns() {
        var unreported = same
        unreported["retention.ms"] = nil
        XCTAssertEqual(check(same, unreported).cause,
                       "retention.ms of us-east.payments is not reported by eu-west (payments: 604800000): cannot show it is the same")
        let neither = check(unreported, unreported)
        XCTAssertEqual(neither.status, .warn)
        XCTAssertEqual(neither.cause, "neither cluster reports retention.ms for payments and us-east.payments: not compared")
        let failure = ParityCheck.topic(
            TopicParityFacts(source: "payments", target: "us-east.payments", sourcePartitions: 3, targetPartitions: 3, configFailure: "TOPIC_AUTHORIZATION_FAILED"),
            sourceRegion: "us-east", targetRegion: "eu-west")
        XCTAssertEqual(failure.status, .fail)
    }

    func testTheBridgesOwnTopics() {
        let topology = pairTopology()
        let all: Set = ["regionbridge.us-east-to-eu-west.offset-syncs", "regionbridge.us-east-to-eu-west.checkpoints",
                        "regionbridge.us-east-to-eu-west.alerts", "us-east.regionbridge.us-east-to-eu-west.heartbeats"]
        XCTAssertEqual(ParityCheck.bridgeTopics(existing: all, topology: topology).map(\.status), [.pass, .pass, .pass, .pass])
        XCTAssertEqual(summary(ParityCheck.bridgeTopics(existing: ["regionbridge.us-east-to-eu-west.offset-syncs"], topology: topology)), [
            "PASS regionbridge.us-east-to-eu-west.offset-syncs: exists in eu-west",
            "FAIL regionbridge.us-east-to-eu-west.checkpoints: regionbridge.us-east-to-eu-west.checkpoints does not exist in eu-west: the bridge creates it at its first group sync; without it failover has no checkpoint when the source is lost",
            "SKIP regionbridge.us-east-to-eu-west.alerts: not created yet (the bridge creates it with its first alert)",
            "SKIP us-east.regionbridge.us-east-to-eu-west.heartbeats: not configured",
        ])
        XCTAssertEqual(Set(ParityCheck.bridgeTopics(existing: all, topology: topology).map(\.area)), [.liveness], "machinery, not target parity")
        XCTAssertEqual(ParityCheck.bridgeTopics(existing: [], topology: pairTopology(groups: [])).map(\.status), [.skip, .skip, .skip, .skip],
                       "without group sync neither sync topic is needed; an alerts topic not created yet is no warning")
    }

    func testConfigurationNeitherClusterReportsIsOneWarningForAllTopics() {
        let topics = ["payments", "ledger", "refunds", "fees"].map {
            TopicParityFacts(source: $0, target: "us-east.\($0)", sourcePartitions: 3, targetPartitions: 3)
        }
        let checks = ParityCheck.topics(topics, sourceRegion: "us-east", targetRegion: "eu-west")
        XCTAssertEqual(summary(checks), [
            "PASS payments -> us-east.payments: 3/3 partitions; not reported: retention.ms, cleanup.policy, max.message.bytes, min.insync.replicas",
            "PASS ledger -> us-east.ledger: 3/3 partitions; not reported: retention.ms, cleanup.policy, max.message.bytes, min.insync.replicas",
            "PASS refunds -> us-east.refunds: 3/3 partitions; not reported: retention.ms, cleanup.policy, max.message.bytes, min.insync.replicas",
            "PASS fees -> us-east.fees: 3/3 partitions; not reported: retention.ms, cleanup.policy, max.message.bytes, min.insync.replicas",
            "WARN topic configuration: neither cluster reports retention.ms, cleanup.policy, max.message.bytes, min.insync.replicas for any of the "
                + "4 replicated topics: not compared",
        ])
        let one = ParityCheck.topics(Array(topics.prefix(1)), sourceRegion: "us-east", targetRegion: "eu-west")
        XCTAssertEqual(one.last?.cause, "neither cluster reports retention.ms, cleanup.policy, max.message.bytes, min.insync.replicas for payments -> us-east.payments: not compared")
    }
}
