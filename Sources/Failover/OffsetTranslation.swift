import Replication

/// Exact translation of a source consumer position into the target partition.
///
/// For a source committed offset X the answer is the target offset of the first replicated record whose
/// source offset is X or more; when none is replicated yet, the target end offset. A consumer that starts
/// there reads exactly the records it had not processed. Source offsets are never assumed dense
/// (transaction markers and compaction leave holes): only the order of the provenance offsets is used,
/// which the bridge keeps monotone in every target partition.
package enum OffsetTranslation {
    /// Translates `sourceOffset`.
    /// - Parameters:
    ///   - sourceOffset: the source committed offset X.
    ///   - low: the target partition's log start offset.
    ///   - end: the target partition's end offset.
    ///   - syncs: known pairs (from the offset-sync topic or earlier answers) that narrow the search; any order.
    ///   - read: the replicated records of this source partition found by reading the target from offset `from`:
    ///     in target order, without holes in what they cover, and at least one unless none is left up to `end`.
    /// - Returns: the target offset to commit.
    package static func translate(
        sourceOffset x: Int64, low: Int64, end: Int64, syncs: [OffsetPair] = [],
        read: (_ from: Int64) throws -> [OffsetPair]
    ) rethrows -> Int64 {
        // Binary search for the smallest target offset m whose first replicated record at or after m
        // is missing or has source >= x. `atHi` is that first record at `hi` (nil when hi is the end).
        var lo = low
        var hi = end
        var atHi: OffsetPair?
        for sync in syncs where sync.target >= low && sync.target < end {
            if sync.source < x {
                lo = max(lo, sync.target + 1)
            } else if sync.target < hi {
                hi = sync.target
                atHi = sync
            }
        }
        if lo > hi { (lo, hi, atHi) = (low, end, nil) }  // syncs that contradict each other are ignored
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            let pairs = try read(mid)
            guard let first = pairs.first else {
                (hi, atHi) = (mid, nil)
                continue
            }
            if first.source >= x {
                (hi, atHi) = (mid, first)
                continue
            }
            // One fetch covers a whole batch: the boundary may be inside it.
            if let hit = pairs.first(where: { $0.source >= x }) { return hit.target }
            lo = min(pairs[pairs.count - 1].target + 1, hi)
        }
        return atHi?.target ?? end
    }
}
