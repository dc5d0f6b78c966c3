import Kafka
import Replication
import XCTest

final class PartitionProgressTests: XCTestCase {
    private let target = TopicPartition("us-east.payments", 0)

    func testResumePointIsRightAfterTheLastCopiedOffset() {
        XCTAssertEqual(ResumePoint.start(afterLastCopied: nil), .beginning)
        XCTAssertEqual(ResumePoint.start(afterLastCopied: 0), .offset(1))
        XCTAssertEqual(ResumePoint.start(afterLastCopied: 41), .offset(42))
    }

    func testRecordsBeforeTheResumePointAreSkipped() {
        var progress = PartitionProgress(target: target, start: .offset(10))
        XCTAssertFalse(progress.accept(offset: 9))
        XCTAssertTrue(progress.accept(offset: 10))
        XCTAssertFalse(progress.accept(offset: 10), "a re-delivered record is not copied twice")
        XCTAssertTrue(progress.accept(offset: 13), "offsets may have gaps (transaction markers, compaction)")
        XCTAssertEqual(progress.next, 14)
    }

    func testCaughtUpNeedsTheEndReachedAndEveryWriteAcknowledged() {
        var progress = PartitionProgress(target: target, start: .offset(0))
        XCTAssertFalse(progress.isCaughtUp, "no end seen yet")
        XCTAssertTrue(progress.accept(offset: 0))
        progress.sent()
        XCTAssertTrue(progress.accept(offset: 1))
        progress.sent()
        progress.reachedEnd(2)
        XCTAssertFalse(progress.isCaughtUp, "two writes in flight")
        progress.delivered(sourceOffset: 0, targetOffset: 100)
        progress.delivered(sourceOffset: 1, targetOffset: 101)
        XCTAssertTrue(progress.isCaughtUp)
        XCTAssertEqual(progress.copied, 2)
        XCTAssertEqual(progress.lastDelivered, 1)
        XCTAssertTrue(progress.accept(offset: 2))
        XCTAssertFalse(progress.isCaughtUp, "a record past the last end was read")
    }

    func testReplicatedUpToIsWhereATranslatedPositionIsSafe() {
        var progress = PartitionProgress(target: target, start: .offset(10))
        XCTAssertEqual(progress.replicatedUpTo, 10, "everything before the resume point is in the target")
        XCTAssertTrue(progress.accept(offset: 10))
        progress.sent()
        XCTAssertTrue(progress.accept(offset: 12))
        progress.sent()
        XCTAssertEqual(progress.replicatedUpTo, 10, "nothing acknowledged yet")
        progress.delivered(sourceOffset: 10, targetOffset: 500)
        XCTAssertEqual(progress.replicatedUpTo, 11)
        XCTAssertEqual(progress.lastPair, OffsetPair(source: 10, target: 500))
        progress.delivered(sourceOffset: 12, targetOffset: 501)
        XCTAssertEqual(progress.replicatedUpTo, 13)
        progress.reachedEnd(15)
        XCTAssertEqual(progress.replicatedUpTo, 15, "a marker at 13..14 leaves nothing to copy before the end")
    }

    func testEndBeyondTheLastRecordCountsAsCaughtUp() {
        // read_committed: a transaction marker at offset 5 makes the end 6 while the last record is 4.
        var progress = PartitionProgress(target: target, start: .offset(4))
        XCTAssertTrue(progress.accept(offset: 4))
        progress.sent()
        progress.delivered(sourceOffset: 4, targetOffset: 9)
        progress.reachedEnd(6)
        XCTAssertTrue(progress.isCaughtUp)
    }

    func testAnEmptyLogReadFromTheBeginningIsCaughtUpAtItsEnd() {
        var progress = PartitionProgress(target: target, start: .beginning)
        progress.reachedEnd(0)
        XCTAssertTrue(progress.isCaughtUp)
    }

    func testAGapStopsThePartitionUntilRestarted() {
        var progress = PartitionProgress(target: target, start: .offset(5))
        progress.reachedEnd(20)
        progress.gap = SourceGap(partition: TopicPartition("payments", 0), wanted: 5, logStart: 12, logEnd: 20)
        XCTAssertFalse(progress.isCaughtUp)
        progress.restart(at: .beginning)
        XCTAssertNil(progress.gap)
        XCTAssertNil(progress.next)
        XCTAssertTrue(progress.accept(offset: 12))
    }

    func testGapDescriptionsNameTheLostRange() {
        let deleted = SourceGap(partition: TopicPartition("payments", 2), wanted: 100, logStart: 150, logEnd: 400)
        XCTAssertEqual(deleted.description, "source payments/2: offsets 100...149 were deleted before they were copied (log now starts at 150)")
        let recreated = SourceGap(partition: TopicPartition("payments", 2), wanted: 100, logStart: 0, logEnd: 7)
        XCTAssertEqual(recreated.description, "source payments/2: the bridge copied up to offset 99 but the log now ends at 7 (topic deleted and re-created, or truncated)")
    }
}
