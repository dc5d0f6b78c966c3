import Replication
import XCTest

final class EndOffsetHistoryTests: XCTestCase {
    func testNothingBehindIsZeroSeconds() {
        var history = EndOffsetHistory()
        history.record(end: 100, at: 10)
        XCTAssertEqual(history.secondsBehind(position: 100, now: 50), 0)
        XCTAssertEqual(history.secondsBehind(position: 120, now: 50), 0, "a position past the last end seen is not behind")
    }

    func testTimeBehindIsWhenTheLogEndPassedThePosition() {
        var history = EndOffsetHistory()
        history.record(end: 100, at: 10)
        history.record(end: 200, at: 20)
        history.record(end: 300, at: 30)
        // Offset 150 arrived when the end went from 100 to 200, interpolated: end 151 at 15.1 s.
        XCTAssertEqual(history.secondsBehind(position: 150, now: 40), 40 - 15.1, accuracy: 1e-9)
        XCTAssertEqual(history.secondsBehind(position: 299, now: 40), 10, accuracy: 1e-9, "the last record arrived by the last sample")
        XCTAssertEqual(history.secondsBehind(position: 100, now: 40), 40 - 10.1, accuracy: 1e-9)
    }

    func testRecordTimestampsPlayNoPart() {
        // Records stamped years ago (a backfill) or in the future: the history knows only when the bridge saw the end move.
        var history = EndOffsetHistory()
        history.record(end: 0, at: 1_000)
        history.record(end: 10, at: 1_002)
        XCTAssertEqual(history.secondsBehind(position: 0, now: 1_003), 2.8, accuracy: 1e-9, "offset 0 arrived a tenth of the way from 1,000 s to 1,002 s")
    }

    func testBehindSinceBeforeTheFirstSampleIsAtLeastItsAge() {
        var history = EndOffsetHistory()
        history.record(end: 500, at: 100)
        XCTAssertEqual(history.secondsBehind(position: 20, now: 130), 30, "a lower bound: the bridge saw the end past 20 first at 100 s")
    }

    func testSamplesAreKeptOnlyWhenTheEndMovesAndMemoryIsBounded() {
        var history = EndOffsetHistory(capacity: 16)
        for second in 0..<10 { history.record(end: 7, at: Double(second)) }
        XCTAssertEqual(history.samples.count, 1, "an end that does not move is one sample")
        for second in 0..<1_000 { history.record(end: Int64(second + 8), at: Double(second + 10)) }
        XCTAssertLessThanOrEqual(history.samples.count, 16)
        XCTAssertEqual(history.samples.last, EndOffsetHistory.Sample(time: 1_009, end: 1_007))
        XCTAssertEqual(history.samples.map(\.end), history.samples.map(\.end).sorted(), "ends stay in order after thinning")
        // Recent history keeps full resolution: offset 1_000 arrived exactly when the end became 1_001.
        XCTAssertEqual(history.secondsBehind(position: 1_000, now: 1_010), 1_010 - 1_003, accuracy: 1e-9)
    }

    func testALogThatStartsOverStartsTheHistoryOver() {
        var history = EndOffsetHistory()
        history.record(end: 100, at: 1)
        history.record(end: 5, at: 2)
        XCTAssertEqual(history.samples, [EndOffsetHistory.Sample(time: 2, end: 5)])
    }
}
