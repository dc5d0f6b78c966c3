import Kafka
import Logging
import Replication

/// Translates source consumer positions into target offsets against a live target cluster.
///
/// Each translation is a binary search over the target partition's provenance offsets (a handful of
/// fetches), narrowed by pairs learned from the offset-sync topic and from earlier answers.
final class OffsetTranslator {
    private let reader: TargetReader
    private var known: [TopicPartition: [OffsetPair]] = [:]

    init(reader: TargetReader) {
        self.reader = reader
    }

    /// Remembers a pair that is known to be right (from the offset-sync topic or a delivery report).
    func learn(_ pair: OffsetPair, in target: TopicPartition) {
        var pairs = known[target, default: []]
        pairs.append(pair)
        if pairs.count > 64 { pairs.removeFirst(pairs.count - 64) }
        known[target] = pairs
    }

    /// The target offset a consumer of `target` must start at to read exactly what it had not processed
    /// when its committed offset in `source` was `sourceOffset`.
    func translate(_ sourceOffset: Int64, from source: SourcePartition, to target: TopicPartition, bounds: (low: Int64, end: Int64)) throws(ReplicationError) -> Int64 {
        do {
            let answer = try OffsetTranslation.translate(
                sourceOffset: sourceOffset, low: bounds.low, end: bounds.end, syncs: known[target] ?? []
            ) { from in
                try reader.replicatedPairs(in: target, from: from, of: source)
            }
            return answer
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw .unavailable(.target, "cannot translate \(source.partition) offset \(sourceOffset)", error)
        }
    }
}
