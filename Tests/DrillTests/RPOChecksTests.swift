import Drill
import Foundation
import Monitoring
import XCTest

/// RPO now: lag per topic (its worst partition named) against max_lag_seconds, the bridge's own topics apart, and
/// committed payments missing from the target.
final class RPOChecksTests: XCTestCase {
    func testPartitionsWithinTheLimitPassInOneLine() {
        XCTAssertEqual(summary(LagCheck.checks([lag(0, behind: 0, seconds: 0), lag(1, behind: 0, seconds: 0)], maxLagSeconds: 60, targetRegion: "eu-west")),
                       ["PASS lag of 2 partitions: 0 records behind on every partition (max 60 s)"])
        XCTAssertEqual(summary(LagCheck.checks([lag(0, behind: 3, seconds: 60), lag(1, behind: 5, seconds: 1.5)], maxLagSeconds: 60, targetRegion: "eu-west")),
                       ["PASS lag of 2 partitions: 8 records behind; worst payments/0: 60 s (max 60 s)"])
    }

    func testATopicOverTheLimitFailsOnceNamingItsWorstPartitionAndTheBasisOfItsSeconds() {
        let checks = LagCheck.checks(
            [lag(0, behind: 0, seconds: 0), lag(1, behind: 12, seconds: 300.25, basis: .createTime), lag(2, behind: 1, seconds: 60.001, basis: .createTime),
             lag(0, behind: 4, seconds: 61, topic: "ledger", basis: .logAppendTime)],
            maxLagSeconds: 60, targetRegion: "eu-west")
        XCTAssertEqual(summary(checks), [
            "FAIL lag ledger: 4 records not in eu-west yet; worst ledger/0 61 s behind by log-append time (max 60 s); 1 of 1 partition over the limit",
            "FAIL lag payments: 13 records not in eu-west yet; worst payments/1 300.25 s behind by record timestamp (max 60 s); "
                + "2 of 3 partitions over the limit",
        ])
        XCTAssertEqual(checks.map(\.figure), [
            "4 records; worst ledger/0 61 s behind by log-append time (max 60 s); 1 of 1 partition over the limit",
            "13 records; worst payments/1 300.25 s behind by record timestamp (max 60 s); 2 of 3 partitions over the limit",
        ])
        XCTAssertEqual(checks.map { $0.action?.text }, [
            "copy the backlog of ledger (4 records, worst ledger/0)", "copy the backlog of payments (13 records, worst payments/1)",
        ])
    }

    func testTheBridgesOwnTopicsAreLivenessNeverRPO() {
        let heartbeats = "regionbridge.us-east-to-eu-west.heartbeats"
        let partitions = [lag(0, behind: 0, seconds: 0), lag(0, behind: 1, seconds: 14.25, topic: heartbeats, basis: .createTime)]
        XCTAssertEqual(summary(LagCheck.checks(partitions, maxLagSeconds: 5, targetRegion: "eu-west")),
                       ["PASS lag of 1 partition: 0 records behind on every partition (max 5 s)"])
        let liveness = LagCheck.bridgeTopics(partitions, targetRegion: "eu-west")
        XCTAssertEqual(liveness.map(\.area), [.liveness])
        XCTAssertEqual(summary(liveness), [
            "WARN copy of \(heartbeats): the bridge's own \(heartbeats) is 1 record, 14 s behind by record timestamp in eu-west: "
                + "not data at risk, but the bridge is not copying it",
        ])
        XCTAssertEqual(summary(LagCheck.bridgeTopics([lag(0, behind: 0, seconds: 0, topic: heartbeats)], targetRegion: "eu-west")),
                       ["PASS copy of \(heartbeats): caught up in us-east.\(heartbeats)"])
    }

    func testAPendingRecordWithoutTimestampFailsAndZeroDemandsNoLag() {
        XCTAssertEqual(summary(LagCheck.checks([lag(0, behind: 2, seconds: nil)], maxLagSeconds: 60, targetRegion: "eu-west")),
                       ["FAIL lag payments: 2 records not in eu-west yet; worst payments/0 of unknown age (the oldest pending record has no timestamp) "
                        + "(max 60 s); 1 of 1 partition over the limit"])
        XCTAssertEqual(LagCheck.checks([lag(0, behind: 1, seconds: 0.001)], maxLagSeconds: 0, targetRegion: "eu-west").map(\.status), [.fail])
        XCTAssertEqual(LagCheck.checks([], maxLagSeconds: 60, targetRegion: "eu-west").map(\.status), [.skip])
        XCTAssertEqual(summary([LagCheck.unmeasured("the source cluster us-east does not answer")]),
                       ["FAIL lag: cannot measure lag: the source cluster us-east does not answer"])
    }

    private let window = (Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 86_370))

    func testAllCommittedPaymentsInTheTargetPass() {
        let figures = PaymentFigures(committed: 300, inTarget: 300, from: window.0, to: window.1)
        XCTAssertEqual(summary([PaymentsCheck.check(figures, failure: nil, configured: true, targetRegion: "eu-west")]),
                       ["PASS committed payments: 300 of 300 committed in the window are in eu-west; 0 missing"])
    }

    func testAWithheldPaymentFailsWithItsAmountAndId() {
        let figures = PaymentFigures(
            committed: 121, inTarget: 120, neverPublished: 1, missingAmounts: ["EUR": "120.50"],
            examples: ["pay-120 never_published"], from: window.0, to: window.1)
        let check = PaymentsCheck.check(figures, failure: nil, configured: true, targetRegion: "eu-west")
        XCTAssertEqual(check.status, .fail)
        XCTAssertEqual(check.figure, "1 missing (amount 120.50 EUR), 0 differ, of 121 committed")
        XCTAssertEqual(check.cause, "RPO=0 violated: 1 committed payment not in eu-west (amount 120.50 EUR): 0 not replicated, 1 never published (pay-120 never_published)")
    }

    func testAMismatchAloneFailsAndAmountsAreSummedPerCurrency() {
        let mismatch = PaymentFigures(committed: 10, inTarget: 10, mismatched: 2, from: window.0, to: window.1)
        XCTAssertEqual(PaymentsCheck.check(mismatch, failure: nil, configured: true, targetRegion: "eu-west").cause,
                       "RPO=0 violated: 2 payments in eu-west with a field that differs from the committed row")
        let missing = PaymentFigures(
            committed: 10, inTarget: 7, notReplicated: 3, missingAmounts: ["USD": "3", "EUR": "12.25"], from: window.0, to: window.1)
        XCTAssertEqual(PaymentsCheck.check(missing, failure: nil, configured: true, targetRegion: "eu-west").figure,
                       "3 missing (amount 12.25 EUR, 3 USD), 0 differ, of 10 committed")
    }

    func testPaymentsUnknownAtAnUnreachableSourceCountAsMissing() {
        let figures = PaymentFigures(
            committed: 103, inTarget: 100, notReplicated: 1, unknownAtSource: 2, missingAmounts: ["EUR": "304.50"],
            examples: ["pay-101 not_replicated", "pay-100 unknown_at_source"], from: window.0, to: window.1)
        XCTAssertEqual(figures.missing, 3)
        let check = PaymentsCheck.check(figures, failure: nil, configured: true, targetRegion: "eu-west")
        XCTAssertEqual(check.status, .fail)
        XCTAssertEqual(check.figure, "3 missing (amount 304.50 EUR), 0 differ, of 103 committed")
        XCTAssertEqual(check.cause, "RPO=0 violated: 3 committed payments not in eu-west (amount 304.50 EUR): 1 not replicated, 0 never published, "
            + "2 unknown at the unreachable source (pay-101 not_replicated, pay-100 unknown_at_source)")
    }

    func testWithoutTheSectionItIsSkippedAndAFailedReconcileFails() {
        XCTAssertEqual(PaymentsCheck.check(nil, failure: nil, configured: false, targetRegion: "eu-west").status, .skip)
        XCTAssertEqual(summary([PaymentsCheck.check(nil, failure: "cannot connect to Postgres: connection refused", configured: true, targetRegion: "eu-west")]),
                       ["FAIL committed payments: cannot prove RPO=0: cannot connect to Postgres: connection refused"])
    }
}
