import Foundation
import Kafka

/// How far one target partition is behind its source partition: what the target region would lose
/// if the source region were lost now.
package struct PartitionLag: Sendable, Equatable {
    /// The source partition.
    package var source: TopicPartition
    /// The target partition its records are copied to.
    package var target: TopicPartition
    /// The source log's first offset.
    package var sourceLogStart: Int64
    /// The source log's end: the offset the next record written there will get.
    package var sourceEnd: Int64
    /// Source offset of the last record copied to the target; nil when the target holds none.
    package var lastCopied: Int64?
    /// Source records not yet in the target (see ``LagMath/recordsBehind(sourceLogStart:sourceEnd:lastCopied:)``).
    package var recordsBehind: Int64
    /// Source timestamp (milliseconds since 1970) of the oldest record not yet copied; nil when caught up
    /// or when that record has no timestamp.
    package var oldestPendingTimestamp: Int64?
    /// Seconds between the oldest pending record's timestamp and now; 0 when caught up, nil when unknown.
    package var secondsBehind: Double?
    /// The target partition's log end, when it was read (nil when the target partition does not exist).
    package var targetEnd: Int64?
    /// What ``secondsBehind`` is measured from: the oldest pending record's timestamp type; nil when caught up
    /// or unknown.
    package var secondsBasis: SecondsBasis?

    /// Creates a lag figure from its parts.
    package init(
        source: TopicPartition, target: TopicPartition, sourceLogStart: Int64, sourceEnd: Int64, lastCopied: Int64?,
        recordsBehind: Int64, oldestPendingTimestamp: Int64?, secondsBehind: Double?, targetEnd: Int64? = nil,
        secondsBasis: SecondsBasis? = nil
    ) {
        self.source = source
        self.target = target
        self.sourceLogStart = sourceLogStart
        self.sourceEnd = sourceEnd
        self.lastCopied = lastCopied
        self.recordsBehind = recordsBehind
        self.oldestPendingTimestamp = oldestPendingTimestamp
        self.secondsBehind = secondsBehind
        self.targetEnd = targetEnd
        self.secondsBasis = secondsBasis
    }
}

/// The arithmetic of lag, from offsets and timestamps alone.
package enum LagMath {
    /// The first source offset not yet copied: right after `lastCopied`, or the log start when nothing was copied.
    package static func nextToCopy(sourceLogStart: Int64, lastCopied: Int64?) -> Int64 {
        lastCopied.map { $0 + 1 } ?? sourceLogStart
    }

    /// Source records not yet copied: `max(0, sourceEnd − nextToCopy)`.
    ///
    /// Counted from offsets, not from records, so it is right however many records were copied
    /// in which runs. When the pending range holds transaction control markers (commit/abort),
    /// which take offsets but are never copied, the figure overstates by the number of markers;
    /// it never understates.
    package static func recordsBehind(sourceLogStart: Int64, sourceEnd: Int64, lastCopied: Int64?) -> Int64 {
        max(0, sourceEnd - nextToCopy(sourceLogStart: sourceLogStart, lastCopied: lastCopied))
    }

    /// Seconds from the oldest pending record's source timestamp (milliseconds) to `now`.
    ///
    /// 0 when nothing is pending; never negative (a source clock ahead of this one counts as 0);
    /// nil when records are pending but their timestamp is unknown.
    package static func secondsBehind(recordsBehind: Int64, oldestPendingTimestamp: Int64?, now: Date) -> Double? {
        guard recordsBehind > 0 else { return 0 }
        guard let timestamp = oldestPendingTimestamp else { return nil }
        let nowMilliseconds = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        return Double(max(0, nowMilliseconds - timestamp)) / 1000
    }

    /// Replication latency: target append time minus source timestamp, in milliseconds, never negative.
    package static func latencyMilliseconds(sourceTimestamp: Int64, targetAppendTime: Int64) -> Double {
        Double(max(0, targetAppendTime - sourceTimestamp))
    }

    /// A lag figure for one partition from what the two clusters said; `pendingTimestampKind` is the timestamp
    /// type of the oldest pending record (log-append or create time), which becomes ``PartitionLag/secondsBasis``.
    package static func lag(
        source: TopicPartition, target: TopicPartition, sourceLogStart: Int64, sourceEnd: Int64, lastCopied: Int64?,
        oldestPendingTimestamp: Int64?, now: Date, targetEnd: Int64? = nil, pendingTimestampKind: KafkaTimestamp.Kind? = nil
    ) -> PartitionLag {
        let behind = recordsBehind(sourceLogStart: sourceLogStart, sourceEnd: sourceEnd, lastCopied: lastCopied)
        let pending = behind > 0 ? oldestPendingTimestamp : nil
        return PartitionLag(
            source: source, target: target, sourceLogStart: sourceLogStart, sourceEnd: sourceEnd, lastCopied: lastCopied,
            recordsBehind: behind, oldestPendingTimestamp: pending,
            secondsBehind: secondsBehind(recordsBehind: behind, oldestPendingTimestamp: pending, now: now), targetEnd: targetEnd,
            secondsBasis: pending == nil ? nil : pendingTimestampKind.map(SecondsBasis.init))
    }
}
