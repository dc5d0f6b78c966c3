import Failover
import Replication
import XCTest

final class OffsetTranslationTests: XCTestCase {
    /// A synthetic target partition: entry i sits at target offset `low + i`; `nil` is a record without
    /// this partition's provenance (a local write in an active-active pair).
    private struct TargetLog {
        var low: Int64 = 0
        var sources: [Int64?]
        var batch = 4
        var reads = 0

        var end: Int64 { low + Int64(sources.count) }

        mutating func read(_ from: Int64) -> [OffsetPair] {
            reads += 1
            var pairs: [OffsetPair] = []
            var offset = max(from, low)
            // Like the real reader, a fetch that finds only other records reads on until it finds one or the end.
            while offset < end, offset < max(from, low) + Int64(batch) || pairs.isEmpty {
                if let source = sources[Int(offset - low)] { pairs.append(OffsetPair(source: source, target: offset)) }
                offset += 1
            }
            return pairs
        }

        /// The definition, by a scan.
        func expected(_ x: Int64) -> Int64 {
            for (index, source) in sources.enumerated() where (source ?? -1) >= x { return low + Int64(index) }
            return end
        }
    }

    private func check(_ log: TargetLog, _ xs: ClosedRange<Int64>, syncs: [OffsetPair] = [], file: StaticString = #filePath, line: UInt = #line) {
        for x in xs {
            var copy = log
            let got = OffsetTranslation.translate(sourceOffset: x, low: log.low, end: log.end, syncs: syncs) { copy.read($0) }
            XCTAssertEqual(got, log.expected(x), "x=\(x)", file: file, line: line)
        }
    }

    func testDenseOffsets() {
        check(TargetLog(sources: (0..<100).map { $0 }), 0...105)
    }

    func testSourceOffsetsWithGaps() {
        // Transaction markers at 3, 7, 8 and compaction holes leave gaps in the source offsets.
        let sources: [Int64?] = [0, 1, 2, 4, 5, 6, 9, 10, 20, 21, 22, 40]
        check(TargetLog(sources: sources), 0...45)
        // A consumer that committed 3 (just after the gap at 3) starts on the record copied from 4.
        var log = TargetLog(sources: sources)
        XCTAssertEqual(OffsetTranslation.translate(sourceOffset: 3, low: 0, end: log.end) { log.read($0) }, 3)
    }

    func testLocalRecordsInterleaved() {
        check(TargetLog(sources: [nil, 0, nil, nil, 1, 2, nil, 5, nil, nil, nil, nil, nil, 9, nil]), 0...12)
    }

    func testEmptyPartitionAndOffsetsBeyondTheReplicatedEnd() {
        check(TargetLog(low: 0, sources: []), 0...3)
        check(TargetLog(low: 17, sources: []), 0...3)
        var log = TargetLog(sources: [0, 1, 2])
        XCTAssertEqual(OffsetTranslation.translate(sourceOffset: 500, low: 0, end: log.end) { log.read($0) }, 3, "not replicated yet: the target end")
    }

    func testLogStartAfterRetention() {
        check(TargetLog(low: 1_000, sources: (50..<150).map { $0 * 2 }), 0...310)
    }

    func testSyncsNarrowTheSearchToAHandfulOfFetches() {
        let sources = (0..<1_000_000).map { Int64($0) * 3 }
        var log = TargetLog(sources: sources, batch: 500)
        let syncs = stride(from: 0, to: 1_000_000, by: 10_000).map { OffsetPair(source: Int64($0) * 3, target: Int64($0)) }
        let got = OffsetTranslation.translate(sourceOffset: 1_234_568, low: 0, end: log.end, syncs: syncs) { log.read($0) }
        XCTAssertEqual(got, 411_523)
        XCTAssertLessThanOrEqual(log.reads, 6, "syncs every 10,000 records and 500-record fetches")

        var unbounded = TargetLog(sources: sources, batch: 500)
        XCTAssertEqual(OffsetTranslation.translate(sourceOffset: 1_234_568, low: 0, end: unbounded.end) { unbounded.read($0) }, 411_523)
        XCTAssertLessThanOrEqual(unbounded.reads, 20, "a binary search, not a scan")
    }

    func testEverySyncPositionAndContradictorySyncs() {
        let log = TargetLog(sources: [0, 2, 4, 6, 8, 10, 12])
        check(log, 0...14, syncs: [OffsetPair(source: 4, target: 2), OffsetPair(source: 10, target: 5)])
        check(log, 0...14, syncs: [OffsetPair(source: 100, target: 0), OffsetPair(source: 0, target: 6)])
    }
}
