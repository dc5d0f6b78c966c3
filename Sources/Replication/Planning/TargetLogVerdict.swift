import Kafka

/// A record the target acknowledged, as the engine remembers it: where it was written and what it copied.
package struct AcknowledgedWrite: Sendable, Equatable {
    /// The target partition written.
    package var target: TopicPartition
    /// The source partition copied.
    package var source: TopicPartition
    /// The source offset of the acknowledged record.
    package var sourceOffset: Int64
    /// The target offset the target acknowledged it at.
    package var targetOffset: Int64

    package init(target: TopicPartition, source: TopicPartition, sourceOffset: Int64, targetOffset: Int64) {
        self.target = target
        self.source = source
        self.sourceOffset = sourceOffset
        self.targetOffset = targetOffset
    }
}

/// Whether a target partition still holds what it acknowledged, decided from the target's log, never from one
/// acknowledgement: a delivery report at or below an earlier offset (or -1, or 0 after a retry) is only a reason
/// to look.
///
/// A log that holds less than it acknowledged is a loss: its end is at or below the acknowledged offset, or the
/// record at that offset is no longer the one copied there (the topic was re-created and written again), or its
/// newest copied record is older than the acknowledged one. Anything else is kept.
package enum TargetLogVerdict: Sendable, Equatable {
    /// The log holds the acknowledged record.
    case kept
    /// The log holds less than it acknowledged; the text says how, with both figures.
    case lost(String)

    /// Judges one partition.
    /// - Parameters:
    ///   - write: the last record the target acknowledged for good.
    ///   - end: the partition's log end now.
    ///   - atAcknowledged: the source offset in the provenance of the record now at `write.targetOffset`;
    ///     `.none` when it was not read (the log starts after it, or the read found no record there).
    ///   - newestCopied: the newest source offset copied into the partition (its tail), `nil` when none is.
    package static func judge(
        _ write: AcknowledgedWrite, end: Int64, atAcknowledged: Int64?, newestCopied: Int64?
    ) -> TargetLogVerdict {
        if end <= write.targetOffset {
            return .lost("target \(write.target) now ends at offset \(end), but it had acknowledged offset \(write.targetOffset) (source \(write.source) offset \(write.sourceOffset))")
        }
        if let atAcknowledged, atAcknowledged != write.sourceOffset {
            return .lost("target \(write.target) holds source offset \(atAcknowledged) at offset \(write.targetOffset), where it had acknowledged source \(write.source) offset \(write.sourceOffset)")
        }
        guard let newestCopied else {
            return .lost("target \(write.target) ends at offset \(end) but holds no record copied from source \(write.source), though it had acknowledged offset \(write.targetOffset) (source offset \(write.sourceOffset))")
        }
        if newestCopied < write.sourceOffset {
            return .lost("target \(write.target)'s newest record copied from source \(write.source) is offset \(newestCopied), older than offset \(write.sourceOffset) it had acknowledged at offset \(write.targetOffset)")
        }
        return .kept
    }

    /// The sentence of a loss that ends the run (exit 7): the cause, and what a restart does.
    package static func lossMessage(_ cause: String, source: TopicPartition) -> String {
        "\(cause): the target cluster lost records the bridge had written (a broker restarted empty, or the topic was re-created). Stopped; start the bridge again to copy \(source) anew from what the target still holds"
    }
}
