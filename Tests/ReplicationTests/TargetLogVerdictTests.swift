import Kafka
import Replication
import XCTest

/// A loss is decided from what the target's log holds, never from one acknowledgement.
final class TargetLogVerdictTests: XCTestCase {
    private let write = AcknowledgedWrite(
        target: TopicPartition("us-east.payment-events", 0), source: TopicPartition("payment-events", 0),
        sourceOffset: 1_406, targetOffset: 769)

    func testALogThatStillHoldsTheAcknowledgedRecordIsKept() {
        // What tansu showed after a 75 s freeze: a report at offset 0, and a log that holds everything.
        XCTAssertEqual(TargetLogVerdict.judge(write, end: 6_485, atAcknowledged: 1_406, newestCopied: 6_484), .kept)
        XCTAssertEqual(TargetLogVerdict.judge(write, end: 770, atAcknowledged: 1_406, newestCopied: 1_406), .kept, "exactly up to the acknowledged record")
        XCTAssertEqual(TargetLogVerdict.judge(write, end: 6_485, atAcknowledged: nil, newestCopied: 6_484), .kept, "the record itself not read (the log starts after it): its tail decides")
    }

    func testALogThatEndsAtOrBeforeTheAcknowledgedOffsetLostRecords() {
        XCTAssertEqual(
            TargetLogVerdict.judge(write, end: 0, atAcknowledged: nil, newestCopied: nil),
            .lost("target us-east.payment-events/0 now ends at offset 0, but it had acknowledged offset 769 (source payment-events/0 offset 1406)"))
        guard case .lost = TargetLogVerdict.judge(write, end: 769, atAcknowledged: nil, newestCopied: 1_405) else {
            return XCTFail("an end equal to the acknowledged offset does not hold the record at it")
        }
    }

    func testARecreatedTopicWrittenPastTheAcknowledgedOffsetLostRecords() {
        // The topic came back empty and the bridge wrote 900 records into it before the look: the end is past 769
        // and the tail is new, but the record now at 769 is another one.
        XCTAssertEqual(
            TargetLogVerdict.judge(write, end: 900, atAcknowledged: 1_406 + 770, newestCopied: 1_406 + 900),
            .lost("target us-east.payment-events/0 holds source offset 2176 at offset 769, where it had acknowledged source payment-events/0 offset 1406"))
    }

    func testATailOlderThanTheAcknowledgedRecordLostRecords() {
        guard case .lost(let why) = TargetLogVerdict.judge(write, end: 800, atAcknowledged: nil, newestCopied: 1_200) else {
            return XCTFail("a newest copy older than the acknowledged record is a loss")
        }
        XCTAssertTrue(why.contains("newest record copied from source payment-events/0 is offset 1200, older than offset 1406"), why)
        guard case .lost = TargetLogVerdict.judge(write, end: 800, atAcknowledged: nil, newestCopied: nil) else {
            return XCTFail("no copied record at all is a loss")
        }
    }

    func testTheLossMessageSaysWhatARestartDoes() {
        XCTAssertEqual(
            TargetLogVerdict.lossMessage("target t/0 now ends at offset 0, but it had acknowledged offset 9 (source s/0 offset 9)", source: TopicPartition("s", 0)),
            "target t/0 now ends at offset 0, but it had acknowledged offset 9 (source s/0 offset 9): the target cluster lost records the bridge had written (a broker restarted empty, or the topic was re-created). Stopped; start the bridge again to copy s/0 anew from what the target still holds")
    }
}
