import Foundation
import Kafka
import Monitoring
import Replication
import XCTest

final class LagMathTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    func testRecordsBehindCountsOffsets() {
        XCTAssertEqual(LagMath.recordsBehind(sourceLogStart: 0, sourceEnd: 100, lastCopied: 99), 0)
        XCTAssertEqual(LagMath.recordsBehind(sourceLogStart: 0, sourceEnd: 100, lastCopied: 59), 40)
        XCTAssertEqual(LagMath.recordsBehind(sourceLogStart: 0, sourceEnd: 100, lastCopied: nil), 100)
        XCTAssertEqual(LagMath.recordsBehind(sourceLogStart: 30, sourceEnd: 100, lastCopied: nil), 70)
        XCTAssertEqual(LagMath.recordsBehind(sourceLogStart: 0, sourceEnd: 0, lastCopied: nil), 0)
        // A target ahead of the source (source re-created) is never negative.
        XCTAssertEqual(LagMath.recordsBehind(sourceLogStart: 0, sourceEnd: 10, lastCopied: 49), 0)
        XCTAssertEqual(LagMath.nextToCopy(sourceLogStart: 7, lastCopied: nil), 7)
        XCTAssertEqual(LagMath.nextToCopy(sourceLogStart: 7, lastCopied: 9), 10)
    }

    func testSecondsBehind() {
        let nowMs: Int64 = 1_800_000_000_000
        XCTAssertEqual(LagMath.secondsBehind(recordsBehind: 0, oldestPendingTimestamp: nowMs - 9000, now: now), 0)
        XCTAssertEqual(LagMath.secondsBehind(recordsBehind: 3, oldestPendingTimestamp: nowMs - 61_500, now: now), 61.5)
        XCTAssertEqual(LagMath.secondsBehind(recordsBehind: 3, oldestPendingTimestamp: nowMs + 5000, now: now), 0)
        XCTAssertNil(LagMath.secondsBehind(recordsBehind: 3, oldestPendingTimestamp: nil, now: now))
        XCTAssertEqual(LagMath.latencyMilliseconds(sourceTimestamp: 1000, targetAppendTime: 1250), 250)
        XCTAssertEqual(LagMath.latencyMilliseconds(sourceTimestamp: 1000, targetAppendTime: 900), 0)
    }

    func testLagOfACaughtUpPartitionDropsThePendingTimestamp() {
        let lag = LagMath.lag(
            source: TopicPartition("payments", 0), target: TopicPartition("us-east.payments", 0), sourceLogStart: 0,
            sourceEnd: 10, lastCopied: 9, oldestPendingTimestamp: 1, now: now)
        XCTAssertEqual(lag.recordsBehind, 0)
        XCTAssertNil(lag.oldestPendingTimestamp)
        XCTAssertEqual(lag.secondsBehind, 0)
    }

    func testReportJSONIsStable() {
        let report = LagReport(
            pair: "us-east-to-eu-west", sourceRegion: "us-east", targetRegion: "eu-west", at: now,
            partitions: [
                LagMath.lag(
                    source: TopicPartition("payments", 1), target: TopicPartition("us-east.payments", 1), sourceLogStart: 0,
                    sourceEnd: 50, lastCopied: nil, oldestPendingTimestamp: nil, now: now),
                LagMath.lag(
                    source: TopicPartition("payments", 0), target: TopicPartition("us-east.payments", 0), sourceLogStart: 0,
                    sourceEnd: 100, lastCopied: 59, oldestPendingTimestamp: 1_800_000_000_000 - 12_345, now: now, targetEnd: 60,
                    pendingTimestampKind: .createTime),
            ])
        XCTAssertEqual(report.totalRecordsBehind, 90)
        XCTAssertEqual(report.maxSecondsBehind, 12.345)
        XCTAssertEqual(report.json(), """
            {
              "at": "2027-01-15T08:00:00Z",
              "headline": "pair us-east-to-eu-west (us-east -> eu-west): at risk if us-east were lost now: 90 records of 1 topic; behind: payments 90 records, 12 s behind by record timestamp, worst payments/0 (1 partition of unknown age); first: copy the backlog (of unknown age): is the bridge running? regionbridge lag --watch shows whether it shrinks",
              "heartbeat": null,
              "max_seconds_behind": 12.345,
              "pair": "us-east-to-eu-west",
              "partitions": [
                {
                  "bridge_topic": false,
                  "last_copied": 59,
                  "oldest_pending_timestamp": "2027-01-15T07:59:47.655Z",
                  "partition": 0,
                  "records_behind": 40,
                  "seconds_basis": "create_time",
                  "seconds_behind": 12.345,
                  "source_end": 100,
                  "source_log_start": 0,
                  "target_end": 60,
                  "target_partition": 0,
                  "target_topic": "us-east.payments",
                  "topic": "payments"
                },
                {
                  "bridge_topic": false,
                  "last_copied": null,
                  "oldest_pending_timestamp": null,
                  "partition": 1,
                  "records_behind": 50,
                  "seconds_basis": null,
                  "seconds_behind": null,
                  "source_end": 50,
                  "source_log_start": 0,
                  "target_end": null,
                  "target_partition": 1,
                  "target_topic": "us-east.payments",
                  "topic": "payments"
                }
              ],
              "source_region": "us-east",
              "target_region": "eu-west",
              "total_records_behind": 90,
              "version": 1
            }
            """)
        XCTAssertTrue(report.json(pretty: false).hasPrefix(#"{"at":"2027-01-15T08:00:00Z","headline":"pair us-east-to-eu-west (us-east -> eu-west): at risk"#))
        XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(report.json(pretty: false).utf8)))
    }
}
