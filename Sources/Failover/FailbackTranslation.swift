import Formats
import Replication

/// A record found in a copy (a target partition): its offset there and its `regionbridge.source` provenance, if any.
package struct CopiedRecord: Sendable, Equatable {
    /// Offset in the copy.
    package var offset: Int64
    /// The provenance header, parsed; `nil` for a record without one (written locally in the target region).
    package var provenance: Provenance?

    /// Creates a record.
    package init(offset: Int64, provenance: Provenance?) {
        self.offset = offset
        self.provenance = provenance
    }
}

/// Where a consumer position on a copy lands in the source partition it was copied from.
package enum TranslatedBack: Sendable, Equatable {
    /// The group processed the copy of `last`, the last record of the source partition before its position: it
    /// resumes the source right after that record's source offset.
    case after(last: OffsetPair)
    /// The group processed no copied record of the source partition: `next` is the first one at or after its
    /// position, and it resumes the source at that record's source offset.
    case at(next: OffsetPair)
    /// The copy holds no record of the source partition (from its log start to its end): nothing was read there.
    case nothingCopied
    /// The answer would depend on records the copy no longer holds: the position is before the copy's log start, or
    /// the copy holds none of the source partition's records while its log start is past 0 (deleted by retention).
    case deleted(logStart: Int64)

    /// The source offset to commit, or `nil` when there is nothing (``nothingCopied``) or no exact answer (``deleted(logStart:)``).
    package var sourceOffset: Int64? {
        switch self {
        case .after(let last): last.source + 1
        case .at(let next): next.source
        case .nothingCopied, .deleted: nil
        }
    }
}

/// Exact translation of a consumer position on a copy back to the source partition it was copied from (failback).
///
/// A group whose committed offset on the copy is P has processed every record of the copy before P. Its source position
/// is the one right after the last source record among them, read from that record's `regionbridge.source` header:
/// provenance offset + 1. Offsets are never assumed dense on either side: transaction markers leave holes in the copy,
/// markers and compaction leave holes in the source, and records without provenance, or with another region's,
/// topic's or partition's (local writes in an active-active pair), are not the source partition's and are skipped.
/// When the group processed none of the source partition's records, its source position is the first copied record
/// at or after P. This is the inverse of ``OffsetTranslation``: a position translated there and back lands on the same
/// record.
package enum FailbackTranslation {
    /// Translates a position from the records of the copy around it (pure; the search below feeds it).
    /// - Parameters:
    ///   - position: the group's committed offset on the copy.
    ///   - records: records of the copy in offset order, at least all those before `position` from the copy's start
    ///     (or from a record of the source partition on) and the first record of the source partition at or after it.
    ///   - region: the source region, as provenance names it.
    ///   - topic: the source topic.
    ///   - partition: the source partition.
    /// - Returns: `.after` the last record of the source partition before `position`, else `.at` the first one at or
    ///   after it, else `.nothingCopied`.
    package static func translateBack(
        position: Int64, records: [CopiedRecord], region: String, topic: String, partition: Int32
    ) -> TranslatedBack {
        var next: OffsetPair?
        for record in records.reversed() {
            guard let pair = pair(record, region: region, topic: topic, partition: partition) else { continue }
            if record.offset < position { return .after(last: pair) }
            next = pair
        }
        return next.map { .at(next: $0) } ?? .nothingCopied
    }

    /// Translates a position against a copy read a window at a time: backwards from the position in growing
    /// windows until a record of the source partition is found, then, if none is before it, forwards to the first one.
    /// - Parameters:
    ///   - position: the group's committed offset on the copy; a position past `end` counts as `end`.
    ///   - low: the copy's log start offset.
    ///   - end: the copy's end offset.
    ///   - window: how many offsets the first backward read covers; each further one covers 4 times more.
    ///   - readBefore: the copy's records from offset `from` up to (not including) `before`, in offset order.
    ///   - readFrom: the copy's records from offset `from` on, in offset order, up to at least the first record of the
    ///     source partition (all of them up to the end when there is none).
    /// - Returns: see ``TranslatedBack``.
    package static func translateBack(
        position: Int64, low: Int64, end: Int64, region: String, topic: String, partition: Int32, window: Int64 = 256,
        readBefore: (_ from: Int64, _ before: Int64) throws -> [CopiedRecord],
        readFrom: (_ from: Int64) throws -> [CopiedRecord]
    ) rethrows -> TranslatedBack {
        if position < low { return .deleted(logStart: low) }
        let position = min(position, end)
        var windowEnd = position
        var width = max(window, 1)
        while windowEnd > low {
            let start = max(low, windowEnd - width)
            let answer = translateBack(
                position: position, records: try readBefore(start, windowEnd), region: region, topic: topic, partition: partition)
            if case .after = answer { return answer }
            windowEnd = start
            width = width > Int64.max / 4 ? Int64.max : width * 4
        }
        let answer = position < end
            ? translateBack(position: position, records: try readFrom(position), region: region, topic: topic, partition: partition)
            : .nothingCopied
        if answer == .nothingCopied && low > 0 { return .deleted(logStart: low) }
        return answer
    }

    private static func pair(_ record: CopiedRecord, region: String, topic: String, partition: Int32) -> OffsetPair? {
        guard let provenance = record.provenance, provenance.isFrom(region: region, topic: topic, partition: partition) else { return nil }
        return OffsetPair(source: provenance.offset, target: record.offset)
    }
}
