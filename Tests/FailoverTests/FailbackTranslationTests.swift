import Failover
import Formats
import Replication
import XCTest

/// Translating a position on a copy back to the source partition (failback), without a broker.
final class FailbackTranslationTests: XCTestCase {
    /// One offset of a synthetic copy partition.
    private enum Entry {
        /// A record copied from source offset n of us-east/payments/0.
        case copied(Int64)
        /// A record written in the target region itself (no provenance).
        case local
        /// A record copied from somewhere else: `region/topic/partition/offset`.
        case other(String)
        /// A transaction marker: it takes an offset, but no reader sees it.
        case marker
    }

    /// A synthetic copy partition whose entry i sits at offset `low + i`.
    private struct CopyLog {
        var low: Int64 = 0
        var entries: [Entry]
        var reads = 0

        var end: Int64 { low + Int64(entries.count) }

        func records(_ range: Range<Int64>) -> [CopiedRecord] {
            range.clamped(to: low..<end).compactMap { offset in
                switch entries[Int(offset - low)] {
                case .copied(let source): CopiedRecord(offset: offset, provenance: Provenance(region: "us-east", topic: "payments", partition: 0, offset: source))
                case .local: CopiedRecord(offset: offset, provenance: nil)
                case .other(let text): CopiedRecord(offset: offset, provenance: Provenance(headerValue: Array(text.utf8)))
                case .marker: nil
                }
            }
        }

        /// Like the real reader: from `from` up to the first copied record of the partition, or to the end.
        mutating func readFrom(_ from: Int64) -> [CopiedRecord] {
            reads += 1
            var found: [CopiedRecord] = []
            for record in records(from..<end) {
                found.append(record)
                if record.provenance?.isFrom(region: "us-east", topic: "payments", partition: 0) == true { break }
            }
            return found
        }

        mutating func readBefore(_ from: Int64, _ before: Int64) -> [CopiedRecord] {
            reads += 1
            return records(from..<before)
        }

        mutating func translate(_ position: Int64) -> TranslatedBack {
            let (low, end) = (low, end)
            return FailbackTranslation.translateBack(
                position: position, low: low, end: end, region: "us-east", topic: "payments", partition: 0,
                readBefore: { readBefore($0, $1) }, readFrom: { readFrom($0) })
        }

        /// The source offsets of the copied records at offsets before `position`, and from `position` on.
        func copiedSources(before position: Int64) -> (before: [Int64], after: [Int64]) {
            var before: [Int64] = []
            var after: [Int64] = []
            for (index, entry) in entries.enumerated() {
                guard case .copied(let source) = entry else { continue }
                if low + Int64(index) < position { before.append(source) } else { after.append(source) }
            }
            return (before, after)
        }
    }

    /// For every position from before the log start to past the end: the records a group processed on the copy
    /// (before its position) and those it reads in the source after failback (at or after the translated offset)
    /// are, between them, every copied record exactly once.
    private func checkExactlyOnce(_ log: CopyLog, file: StaticString = #filePath, line: UInt = #line) {
        for position in log.low...(log.end + 2) {
            var copy = log
            let answer = copy.translate(position)
            let (processed, unread) = log.copiedSources(before: min(position, log.end))
            guard let offset = answer.sourceOffset else {
                XCTAssertTrue(processed.isEmpty && unread.isEmpty, "position \(position): \(answer), but the copy holds records", file: file, line: line)
                continue
            }
            let all = processed + unread
            let readAfterFailback = all.filter { $0 >= offset }
            XCTAssertEqual(processed + readAfterFailback, all, "position \(position) -> source \(offset): 0 skipped, 0 repeated", file: file, line: line)
        }
    }

    func testDenseCopy() {
        let log = CopyLog(entries: (0..<50).map { .copied($0) })
        checkExactlyOnce(log)
        var copy = log
        XCTAssertEqual(copy.translate(20), .after(last: OffsetPair(source: 19, target: 19)))
        XCTAssertEqual(copy.translate(20).sourceOffset, 20)
        XCTAssertEqual(copy.translate(0), .at(next: OffsetPair(source: 0, target: 0)), "nothing processed: the first record")
    }

    func testHolesInTheSourceOffsets() {
        // Source transaction markers at 3, 7, 8 and compaction leave holes; the copy is dense.
        let sources: [Int64] = [0, 1, 2, 4, 5, 6, 9, 10, 20, 21, 22, 40]
        let log = CopyLog(entries: sources.map { .copied($0) })
        checkExactlyOnce(log)
        var copy = log
        // Processed up to the copy of 2 (copy offsets 0...2): the source resumes right after 2, at 3 (a marker there),
        // which a consumer reads as the record at 4.
        XCTAssertEqual(copy.translate(3).sourceOffset, 3)
        XCTAssertEqual(copy.translate(8).sourceOffset, 11, "right after 10, not at the next record (20): the hole is not assumed")
        XCTAssertEqual(copy.translate(12).sourceOffset, 41, "at the copy's end: right after the last copied record")
    }

    func testTransactionMarkersInTheCopy() {
        // A group-mode bridge writes in transactions: each commit leaves a marker in the copy.
        let log = CopyLog(entries: [.copied(0), .copied(1), .marker, .copied(2), .copied(3), .copied(4), .marker, .marker, .copied(5), .marker])
        checkExactlyOnce(log)
        var copy = log
        XCTAssertEqual(copy.translate(2).sourceOffset, 2, "a position on a marker")
        XCTAssertEqual(copy.translate(7).sourceOffset, 5)
        XCTAssertEqual(copy.translate(10).sourceOffset, 6, "past the last marker: the end of the copy")
    }

    func testRecordsFromOtherRegionsTopicsAndPartitionsAreSkipped() {
        // An active-active copy: local writes and records copied from elsewhere sit between this partition's copies.
        let log = CopyLog(entries: [
            .local, .copied(10), .other("eu-west/payments/0/11"), .local, .copied(11), .other("us-east/payments/1/12"),
            .other("us-east/ledger/0/13"), .copied(12), .local, .local, .other("ap-south/payments/0/900"), .local,
        ])
        checkExactlyOnce(log)
        var copy = log
        XCTAssertEqual(copy.translate(7), .after(last: OffsetPair(source: 11, target: 4)), "records 5 and 6 are another partition's and topic's")
        XCTAssertEqual(copy.translate(11), .after(last: OffsetPair(source: 12, target: 7)), "a provenance of another region is not this source")
        XCTAssertEqual(copy.translate(1), .at(next: OffsetPair(source: 10, target: 1)), "only a local record processed")
    }

    func testEmptyCopyAndACopyWithoutThisPartition() {
        var empty = CopyLog(entries: [])
        XCTAssertEqual(empty.translate(0), .nothingCopied)
        XCTAssertNil(empty.translate(0).sourceOffset)
        var local = CopyLog(entries: [.local, .local, .other("us-east/payments/1/0"), .marker])
        for position: Int64 in 0...5 { XCTAssertEqual(local.translate(position), .nothingCopied, "position \(position)") }
        checkExactlyOnce(local)
    }

    func testPositionAtAndBeyondTheCopysEnd() {
        var log = CopyLog(entries: [.copied(0), .copied(1), .local, .copied(7), .local, .local])
        XCTAssertEqual(log.translate(6), .after(last: OffsetPair(source: 7, target: 3)), "at the end, after local records")
        XCTAssertEqual(log.translate(1_000), .after(last: OffsetPair(source: 7, target: 3)), "a position past the end counts as the end")
        XCTAssertEqual(log.translate(6).sourceOffset, 8, "the never-replicated source records from 8 on are read after the return")
    }

    func testRecordsDeletedFromTheCopy() {
        // Retention deleted the copy's first 100 offsets.
        var retained = CopyLog(low: 100, entries: [.local, .copied(300), .copied(301), .local])
        XCTAssertEqual(retained.translate(40), .deleted(logStart: 100), "before the log start: what the group had not read is gone")
        XCTAssertNil(retained.translate(40).sourceOffset)
        XCTAssertEqual(retained.translate(100), .at(next: OffsetPair(source: 300, target: 101)), "the records before 300 were all before the log start")
        XCTAssertEqual(retained.translate(103).sourceOffset, 302)
        var gone = CopyLog(low: 100, entries: [.local, .local])
        XCTAssertEqual(gone.translate(102), .deleted(logStart: 100), "every copied record deleted: the last one is unknown")
        var neverHad = CopyLog(low: 0, entries: [.local, .local])
        XCTAssertEqual(neverHad.translate(2), .nothingCopied)
    }

    func testLongRunsOfLocalRecordsAreSearchedInGrowingWindows() {
        // 200,000 local records between the last copied one and the position.
        let entries: [Entry] = [.copied(0), .copied(1)] + Array(repeating: .local, count: 200_000)
        var log = CopyLog(entries: entries)
        XCTAssertEqual(log.translate(log.end), .after(last: OffsetPair(source: 1, target: 1)))
        XCTAssertLessThanOrEqual(log.reads, 8, "windows of 256, 1,024, 4,096, ... offsets")
        var ahead = CopyLog(entries: Array(repeating: .local, count: 200_000) + [.copied(5)])
        XCTAssertEqual(ahead.translate(150_000), .at(next: OffsetPair(source: 5, target: 200_000)))
        XCTAssertLessThanOrEqual(ahead.reads, 9, "backwards to the log start, then one read forwards")
    }

    func testTheInverseOfTheForwardTranslation() throws {
        // A position translated to the copy (failover) and back (failback) resumes on the same source record.
        let entries: [Entry] = [.copied(0), .marker, .copied(2), .local, .copied(3), .copied(9), .marker, .local, .copied(10), .copied(14)]
        let sources: [Int64?] = entries.map { if case .copied(let source) = $0 { source } else { nil } }
        let copied = sources.compactMap { $0 }
        for x: Int64 in 0...16 {
            let target = OffsetTranslation.translate(sourceOffset: x, low: 0, end: Int64(entries.count)) { from in
                sources.indices.dropFirst(Int(from)).compactMap { index in sources[index].map { OffsetPair(source: $0, target: Int64(index)) } }
            }
            var log = CopyLog(entries: entries)
            let back = try XCTUnwrap(log.translate(target).sourceOffset)
            XCTAssertEqual(copied.first { $0 >= back }, copied.first { $0 >= x }, "source \(x) -> copy \(target) -> source \(back)")
        }
    }
}

/// The failback command's refusal of one partition that would carry two positions.
final class FailbackPlanTests: XCTestCase {
    func testOnePartitionCannotCarryBothPositions() {
        // rename: prefix on both pairs: the reverse pair's copies are other topics.
        XCTAssertEqual(ConsumerFailback.sharedPartitions(own: [("billing", "payments", 0)], reverse: [("billing", "eu-west.payments", 0)]), [])
        // rename: identity: the same topic and partition, for the same group.
        XCTAssertEqual(
            ConsumerFailback.sharedPartitions(
                own: [("billing", "payments", 0), ("audit", "payments", 0)],
                reverse: [("billing", "payments", 0), ("billing", "payments", 1), ("fraud", "payments", 0)]),
            ["group billing payments/0: both its own position and the reverse pair's copy position would be committed on this one partition (rename: identity); fail back with rename: prefix pairs"])
    }
}
