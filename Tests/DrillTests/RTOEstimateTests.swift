import Drill
import XCTest

/// The RTO estimate: the backlog at the sampled throughput plus the failover steps, against drill.rto.
final class RTOEstimateTests: XCTestCase {
    func testWithoutBacklogOnlyTheFailoverStepsCount() {
        let estimate = RTOEstimate(backlogRecords: 0, copiedInSample: 0, sampleSeconds: 10, failoverSeconds: 0.4, groups: 2, rtoSeconds: 900)
        XCTAssertEqual(estimate.replicationSeconds, 0)
        XCTAssertEqual(estimate.totalSeconds, 0.4)
        XCTAssertEqual(estimate.check.status, .pass)
        XCTAssertEqual(estimate.check.figure, "0.4 s = no backlog + failover dry run of 2 groups 0.4 s (rto 15m)")
    }

    func testTheBacklogDrainsAtTheSampledThroughput() {
        // 50,000 records copied in 10 s: 5,000 records/s; 600,000 behind take 120 s.
        let estimate = RTOEstimate(backlogRecords: 600_000, copiedInSample: 50_000, sampleSeconds: 10, failoverSeconds: 1, groups: 1, rtoSeconds: 900)
        XCTAssertEqual(estimate.throughput, 5000)
        XCTAssertEqual(estimate.replicationSeconds, 120)
        XCTAssertEqual(estimate.totalSeconds, 121)
        XCTAssertEqual(estimate.check.status, .pass)
        XCTAssertEqual(estimate.check.figure, "2m1s = backlog 600000 records at 5000 records/s (2m) + failover dry run of 1 group 1 s (rto 15m)")
    }

    func testAnEstimateOverTheRTOFails() {
        let estimate = RTOEstimate(backlogRecords: 5_000_000, copiedInSample: 50_000, sampleSeconds: 10, failoverSeconds: 1, groups: 1, rtoSeconds: 900)
        XCTAssertEqual(estimate.check.status, .fail)
        XCTAssertEqual(estimate.check.cause, "estimated 16m41s to fail over, over the rto of 15m")
        // Exactly at the RTO still passes.
        XCTAssertEqual(RTOEstimate(backlogRecords: 0, copiedInSample: 0, sampleSeconds: 1, failoverSeconds: 900, groups: 1, rtoSeconds: 900).check.status, .pass)
    }

    func testABacklogThatDoesNotMoveIsUnbounded() {
        let estimate = RTOEstimate(backlogRecords: 12, copiedInSample: 0, sampleSeconds: 10, failoverSeconds: 0.1, groups: 0, rtoSeconds: 900)
        XCTAssertEqual(estimate.totalSeconds, .infinity)
        XCTAssertEqual(estimate.check.status, .fail)
        XCTAssertEqual(estimate.check.cause, "the backlog of 12 records did not move during the 10 s sample: is the bridge running?")
        let unmeasured = RTOEstimate(backlogRecords: nil, copiedInSample: 0, sampleSeconds: 10, failoverSeconds: 0, groups: 0, rtoSeconds: 900)
        XCTAssertNil(unmeasured.totalSeconds)
        XCTAssertEqual(unmeasured.check.cause, "cannot estimate the RTO: the backlog could not be measured")
        let unsampled = RTOEstimate(backlogRecords: 12, copiedInSample: 0, sampleSeconds: 0, failoverSeconds: 0, groups: 0, rtoSeconds: 900)
        XCTAssertNil(unsampled.totalSeconds)
        XCTAssertEqual(unsampled.check.cause, "cannot estimate the RTO: the copy rate could not be sampled (the first lag reading failed)")
        XCTAssertEqual(RTOEstimate(backlogRecords: 0, copiedInSample: 0, sampleSeconds: 0, failoverSeconds: 0.5, groups: 0, rtoSeconds: 900).check.status, .pass,
                       "without a backlog the rate does not matter")
    }
}
