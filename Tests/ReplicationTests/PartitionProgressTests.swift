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
        progress.sent(offset: 0)
        XCTAssertTrue(progress.accept(offset: 1))
        progress.sent(offset: 1)
        progress.reachedEnd(2)
        XCTAssertFalse(progress.isCaughtUp, "two writes in flight")
        XCTAssertEqual(progress.delivered(targetOffset: 100), 0, "acknowledgements come back in send order")
        XCTAssertEqual(progress.delivered(targetOffset: 101), 1)
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
        progress.sent(offset: 10)
        XCTAssertTrue(progress.accept(offset: 12))
        progress.sent(offset: 12)
        XCTAssertEqual(progress.replicatedUpTo, 10, "nothing acknowledged yet")
        progress.delivered(targetOffset: 500)
        XCTAssertEqual(progress.replicatedUpTo, 12, "11 is a hole (a marker), 12 is in flight")
        XCTAssertEqual(progress.lastPair, OffsetPair(source: 10, target: 500))
        progress.delivered(targetOffset: 501)
        XCTAssertEqual(progress.replicatedUpTo, 13)
        progress.reachedEnd(15)
        XCTAssertEqual(progress.replicatedUpTo, 15, "a marker at 13..14 leaves nothing to copy before the end")
    }

    func testEndBeyondTheLastRecordCountsAsCaughtUp() {
        // read_committed: a transaction marker at offset 5 makes the end 6 while the last record is 4.
        var progress = PartitionProgress(target: target, start: .offset(4))
        XCTAssertTrue(progress.accept(offset: 4))
        progress.sent(offset: 4)
        progress.delivered(targetOffset: 9)
        progress.reachedEnd(6)
        XCTAssertTrue(progress.isCaughtUp)
    }

    func testAnEmptyLogReadFromTheBeginningIsCaughtUpAtItsEnd() {
        var progress = PartitionProgress(target: target, start: .beginning)
        progress.reachedEnd(0)
        XCTAssertTrue(progress.isCaughtUp)
    }

    func testARestartAtTheLogStartForgetsWhatWasInFlight() {
        var progress = PartitionProgress(target: target, start: .offset(5))
        XCTAssertTrue(progress.accept(offset: 5))
        progress.sent(offset: 5)
        progress.reachedEnd(20)
        progress.restart(at: .beginning)
        XCTAssertNil(progress.next)
        XCTAssertEqual(progress.inFlight, 0)
        XCTAssertNil(progress.delivered(targetOffset: 7), "a late acknowledgement of a forgotten record changes nothing")
        XCTAssertTrue(progress.accept(offset: 12))
    }

    func testAnUnknownTargetOffsetKeepsTheLastKnownPair() {
        // librdkafka reports -1 for a write that succeeded at an offset it does not know (DUPLICATE_SEQUENCE_NUMBER on a retry).
        var progress = PartitionProgress(target: target, start: .offset(0))
        for offset: Int64 in 0...1 {
            XCTAssertTrue(progress.accept(offset: offset))
            progress.sent(offset: offset)
        }
        progress.delivered(targetOffset: 40)
        progress.delivered(targetOffset: -1)
        XCTAssertEqual(progress.lastDelivered, 1)
        XCTAssertEqual(progress.lastPair, OffsetPair(source: 0, target: 40), "an unknown offset is not a pair")
        XCTAssertEqual(progress.replicatedUpTo, 2)
    }

    func testARecordPutBackIsExpectedAgain() {
        var progress = PartitionProgress(target: target, start: .offset(3))
        XCTAssertTrue(progress.accept(offset: 3))
        progress.putBack(offset: 3)
        XCTAssertEqual(progress.next, 3)
        XCTAssertTrue(progress.accept(offset: 3), "the record that could not be sent is taken again")
    }

    func testTransactionalAcknowledgementsCountOnlyOnceCommitted() {
        var progress = PartitionProgress(target: target, start: .offset(10), transactional: true)
        for offset: Int64 in 10...11 {
            XCTAssertTrue(progress.accept(offset: offset))
            progress.sent(offset: offset)
        }
        progress.delivered(targetOffset: 100)
        progress.delivered(targetOffset: 101)
        XCTAssertEqual(progress.replicatedUpTo, 12, "acknowledged")
        XCTAssertEqual(progress.durableUpTo, 10, "not committed: a consumer position there is not safe yet")
        XCTAssertNil(progress.durablePair)
        progress.committed()
        XCTAssertEqual(progress.durableUpTo, 12)
        XCTAssertEqual(progress.durablePair, OffsetPair(source: 11, target: 101))
        XCTAssertTrue(progress.accept(offset: 12))
        progress.sent(offset: 12)
        progress.delivered(targetOffset: 102)
        XCTAssertEqual(progress.copied, 3)
        progress.rollBack(to: .offset(12))
        XCTAssertEqual(progress.copied, 2, "the aborted transaction's record does not count")
        XCTAssertEqual(progress.lastDelivered, 11)
        XCTAssertEqual(progress.next, 12)
        XCTAssertEqual(progress.durableUpTo, 12)
    }

    func testGapDescriptionsNameTheLostRange() {
        let deleted = SourceGap(partition: TopicPartition("payments", 2), wanted: 100, logStart: 150, logEnd: 400)
        XCTAssertEqual(deleted.description, "source payments/2: offsets 100...149 were deleted before they were copied (log now starts at 150)")
        let recreated = SourceGap(partition: TopicPartition("payments", 2), wanted: 100, logStart: 0, logEnd: 7)
        XCTAssertEqual(recreated.description, "source payments/2: the bridge copied up to offset 99 but the log now ends at 7 (topic deleted and re-created, or truncated)")
    }
}
