import Drill
import Foundation
import Monitoring
import Topology
import XCTest

/// The verdict line of each drill scenario of DrillOnTansuTests (and of the issue's 3 a.m. drill), built from the
/// real checks: what is at risk, how far behind per topic with the worst partition, and the first thing to do.
final class DrillHeadlineTests: XCTestCase {
    private let pair = "us-east-to-eu-west"
    private static let notReady = "NOT READY: pair us-east-to-eu-west cannot fail over to eu-west now; "
    private let window = (Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 86_370))

    private func report(_ checks: [DrillCheck], partitions: [PartitionLag] = [], payments: PaymentFigures? = nil) -> DrillReport {
        DrillReport(pair: pair, sourceRegion: "us-east", targetRegion: "eu-west", settings: DrillSettings(), checks: checks, partitions: partitions,
                    payments: payments)
    }

    /// The checks every scenario shares: both clusters answer, the failback topology validates, no heartbeats.
    private var healthy: [DrillCheck] {
        LivenessCheck.checks(
            source: ("us-east", "127.0.0.1:19092", nil, 0.01), target: ("eu-west", "127.0.0.1:29092", nil, 0.01),
            heartbeats: .notConfigured, heartbeatTopic: "us-east.regionbridge.\(pair).heartbeats", maxAgeSeconds: 60)
            + [FailbackCheck.check(forward: pairTopology(), candidate: .found(file: "eu-west-to-us-east.yaml", topology: reverseTopology()),
                                   sourceTopics: ["payments"], targetTopics: ["us-east.payments"])]
    }

    /// The payments line of a topology without a reconcile: section.
    private let noReconcile = PaymentsCheck.check(nil, failure: nil, configured: false, targetRegion: "eu-west")

    private let caughtUp = [lag(0, behind: 0, seconds: 0), lag(1, behind: 0, seconds: 0), lag(2, behind: 0, seconds: 0)]

    private func lagChecks(_ partitions: [PartitionLag], max: Double = 60) -> [DrillCheck] {
        LagCheck.checks(partitions, maxLagSeconds: max, targetRegion: "eu-west") + LagCheck.bridgeTopics(partitions, targetRegion: "eu-west")
    }

    func testAHealthyPairIsReadyWithNothingAtRiskAndNothingToDo() {
        let payments = PaymentFigures(committed: 65, inTarget: 65, from: window.0, to: window.1)
        let checks = healthy + lagChecks(caughtUp) + [PaymentsCheck.check(payments, failure: nil, configured: true, targetRegion: "eu-west")]
        XCTAssertEqual(report(checks, partitions: caughtUp, payments: payments).headline,
                       
                       "READY: pair us-east-to-eu-west could fail over to eu-west now; at risk: no committed payment (65 of 65 in eu-west); "
                       + "behind: 0 records behind on 3 partitions; first: nothing to do (all 6 checks pass or do not apply)")
    }

    func testAShorterRetentionInTheTargetSaysWhatToFix() {
        let parity = ParityCheck.topic(
            TopicParityFacts(source: "payments", target: "us-east.payments", sourcePartitions: 3, targetPartitions: 3,
                             sourceConfig: ["retention.ms": "604800000"], targetConfig: ["retention.ms": "3600000"]),
            sourceRegion: "us-east", targetRegion: "eu-west")
        let checks = healthy + lagChecks(caughtUp) + [parity, PaymentsCheck.check(nil, failure: nil, configured: false, targetRegion: "eu-west")]
        XCTAssertEqual(report(checks, partitions: caughtUp).headline, 
                       Self.notReady + "at risk: payments not checked (no reconcile: section); behind: 0 records behind on 3 partitions; "
                       + "first: raise retention.ms of us-east.payments in eu-west to at least 604800000 (now 3600000) (1 of 7 checks failed)")
    }

    func testAGroupActiveInTheTargetSaysToStopIt() {
        let group = FailoverCheck.checks(
            [GroupFacts(group: "a-fraud", activeMembers: 1, positions: [position("a-fraud", 0, source: 5, target: 5)], live: true, checkpointAge: 1)],
            syncInterval: .seconds(10), sourceRegion: "us-east", targetRegion: "eu-west", selection: "")
        XCTAssertEqual(report(healthy + lagChecks(caughtUp) + group + [noReconcile], partitions: caughtUp).headline, 
                       Self.notReady + "at risk: payments not checked (no reconcile: section); behind: 0 records behind on 3 partitions; first: stop the 1 member of group a-fraud in eu-west (1 of 7 checks failed)")
    }

    func testABacklogThatDoesNotMoveSaysTheBridgeIsNotCopyingFirst() {
        let partitions = [lag(0, behind: 0, seconds: 0), lag(1, behind: 5, seconds: 300.2, basis: .createTime), lag(2, behind: 0, seconds: 0)]
        let rto = RTOEstimate(backlogRecords: 5, copiedInSample: 0, sampleSeconds: 1.004, failoverSeconds: 0.01, groups: 0, rtoSeconds: 900)
        XCTAssertEqual(report(healthy + lagChecks(partitions) + [rto.check, noReconcile], partitions: partitions).headline, 
                       Self.notReady + "at risk: payments not checked (no reconcile: section); behind: payments 5 records, 300 s behind by record timestamp, worst payments/1; "
                       + "first: the bridge is not copying (0 records moved in 1 s): start it or read its log (2 of 7 checks failed)")
    }

    func testAWithheldPaymentNamesItsAmountAndThePublisher() {
        let payments = PaymentFigures(committed: 20, inTarget: 19, neverPublished: 1, missingAmounts: ["EUR": "7.50"],
                                      examples: ["pay-7 never_published"], from: window.0, to: window.1)
        let checks = healthy + lagChecks(caughtUp) + [PaymentsCheck.check(payments, failure: nil, configured: true, targetRegion: "eu-west")]
        XCTAssertEqual(report(checks, partitions: caughtUp, payments: payments).headline, 
                       Self.notReady + "at risk: 1 committed payment, 7.50 EUR, not in eu-west; behind: 0 records behind on 3 partitions; "
                       + "first: have the publisher send the 1 committed payment it never published (pay-7) (1 of 6 checks failed)")
        let down = healthy + lagChecks(caughtUp)
            + [PaymentsCheck.check(nil, failure: "cannot connect to Postgres: connection refused", configured: true, targetRegion: "eu-west")]
        XCTAssertEqual(report(down, partitions: caughtUp).headline, 
                       Self.notReady + "at risk: payments unknown (the reconcile could not run); behind: 0 records behind on 3 partitions; "
                       + "first: make the reconcile run to prove RPO=0: cannot connect to Postgres: connection refused (1 of 6 checks failed)")
    }

    func testAStaleHeartbeatSaysTheBridgeIsNotCopying() {
        let checks = LivenessCheck.checks(
            source: ("us-east", "s", nil, 0.01), target: ("eu-west", "t", nil, 0.01), heartbeats: .age(120.4),
            heartbeatTopic: "us-east.regionbridge.\(pair).heartbeats", maxAgeSeconds: 60) + lagChecks(caughtUp) + [noReconcile]
        XCTAssertEqual(report(checks, partitions: caughtUp).headline, 
                       Self.notReady + "at risk: payments not checked (no reconcile: section); behind: 0 records behind on 3 partitions; "
                       + "first: the bridge is not copying (newest heartbeat in eu-west 120 s old): start it or read its log (1 of 5 checks failed)")
    }

    func testAMissingFailbackTopologySaysToWriteIt() {
        let failback = FailbackCheck.check(forward: pairTopology(), candidate: .missing(folder: "/topologies", searched: []), sourceTopics: nil, targetTopics: nil)
        XCTAssertEqual(report(Array(healthy.prefix(3)) + [failback] + lagChecks(caughtUp) + [noReconcile], partitions: caughtUp).headline, 
                       Self.notReady + "at risk: payments not checked (no reconcile: section); behind: 0 records behind on 3 partitions; "
                       + "first: write the reverse pair's topology (eu-west -> us-east) or name it with --failback FILE (1 of 6 checks failed)")
    }

    /// Issue 28's drill: two withheld payments, a 20,000-record backlog on six partitions of ledger-events, the bridge
    /// stopped, its heartbeat topic one record behind.
    func testTheIssuesDrillSaysPaymentsBacklogPerTopicAndThatTheBridgeIsNotCopying() {
        let heartbeats = "regionbridge.\(pair).heartbeats"
        let partitions = (0..<6).map { lag(Int32($0), behind: $0 == 3 ? 3_330 : 3_334, seconds: 100 + Double($0), topic: "ledger-events", basis: .createTime) }
            + [lag(0, behind: 1, seconds: 14.25, topic: heartbeats, basis: .createTime)]
        let payments = PaymentFigures(committed: 40, inTarget: 38, neverPublished: 2, missingAmounts: ["EUR": "26.00"],
                                      examples: ["pay-17 never_published", "pay-18 never_published"], from: window.0, to: window.1)
        let rto = RTOEstimate(backlogRecords: 20_000, copiedInSample: 0, sampleSeconds: 10, failoverSeconds: 0.01, groups: 0, rtoSeconds: 900)
        let liveness = LivenessCheck.checks(
            source: ("us-east", "s", nil, 0.01), target: ("eu-west", "t", nil, 0.01), heartbeats: .age(14.3),
            heartbeatTopic: "us-east.\(heartbeats)", maxAgeSeconds: 5)
        let checks = liveness + lagChecks(partitions, max: 5) + [rto.check, PaymentsCheck.check(payments, failure: nil, configured: true, targetRegion: "eu-west")]
        let drill = report(checks, partitions: partitions, payments: payments)
        XCTAssertEqual(drill.headline, 
                       Self.notReady + "at risk: 2 committed payments, 26.00 EUR, not in eu-west; "
                       + "behind: ledger-events 20000 records, 105 s behind by record timestamp, worst ledger-events/5; "
                       + "first: the bridge is not copying (0 records moved in 10 s): start it or read its log (4 of 7 checks failed)")
        XCTAssertFalse(drill.verdict.causes.contains { $0.subject.contains(heartbeats) && $0.area == .rpo }, "the heartbeats are never RPO")
    }
}
