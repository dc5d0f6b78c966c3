import Drill
@testable import Drill
import Foundation
import Kafka
import Monitoring
import Replication
import XCTest

/// The throughput sample: what the target gained between two lag measurements, partition by partition.
final class ThroughputSampleTests: XCTestCase {
    private func report(_ partitions: [PartitionLag]) -> LagReport {
        LagReport(pair: "p", sourceRegion: "us-east", targetRegion: "eu-west", at: Date(), partitions: partitions)
    }

    func testCopiedRecordsAreTheAdvanceOfEachPartitionsNextOffset() {
        let first = report([lag(0, behind: 50, seconds: 1, lastCopied: 99), lag(1, behind: 10, seconds: 1, lastCopied: nil)])
        // Partition 0 copied 40 more (last copied 99 -> 139); partition 1 copied its first 10 (log start 0, next 0 -> 10);
        // partition 2 appeared between the measurements and does not count.
        let second = report([lag(0, behind: 10, seconds: 1, lastCopied: 139), lag(1, behind: 0, seconds: 0, lastCopied: 9), lag(2, behind: 0, seconds: 0, lastCopied: 5)])
        XCTAssertEqual(DrillRunner.copied(from: first, to: second), 50)
        XCTAssertEqual(DrillRunner.copied(from: second, to: second), 0)
    }

    func testACheckpointBasisCarriesItsTime() {
        XCTAssertEqual(DrillRunner.checkpointTime("checkpoint 2026-11-30T10:00:00Z"), Date(timeIntervalSince1970: 1_796_032_800))
        XCTAssertNil(DrillRunner.checkpointTime("source"))
    }
}
