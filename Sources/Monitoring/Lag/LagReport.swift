import Formats
import Foundation
import Kafka

/// The lag of every selected partition of a pair at one moment: what `regionbridge lag` prints.
///
/// Its JSON form (`--format json`) is stable and documented in docs/lag-json.md.
package struct LagReport: Sendable, Equatable {
    /// Name of the region pair.
    package var pair: String
    /// The source cluster's region.
    package var sourceRegion: String
    /// The target cluster's region.
    package var targetRegion: String
    /// When the figures were taken.
    package var at: Date
    /// One entry per selected source partition, ordered by topic then partition.
    package var partitions: [PartitionLag]
    /// The newest heartbeat in the target's copy of the heartbeat topic, when it was read (`regionbridge lag`
    /// with heartbeats on); nil otherwise.
    package var heartbeat: HeartbeatReading?

    /// Creates a report; `partitions` are sorted by source topic and partition.
    package init(pair: String, sourceRegion: String, targetRegion: String, at: Date, partitions: [PartitionLag], heartbeat: HeartbeatReading? = nil) {
        self.heartbeat = heartbeat
        self.pair = pair
        self.sourceRegion = sourceRegion
        self.targetRegion = targetRegion
        self.at = at
        self.partitions = partitions.sorted { $0.source < $1.source }
    }

    /// Records behind, summed over all partitions.
    package var totalRecordsBehind: Int64 { partitions.reduce(0) { $0 + $1.recordsBehind } }

    /// The largest known seconds behind over all partitions; 0 when there are none.
    package var maxSecondsBehind: Double { partitions.compactMap(\.secondsBehind).max() ?? 0 }

    /// The report as one JSON object, keys sorted, numbers as integers where they are counts or offsets,
    /// seconds with millisecond precision, times in ISO-8601 UTC; absent values are `null`, never left out.
    /// - Parameter maxLagSeconds: the pair's limit for the `headline` (``headline(maxLagSeconds:)``). Default 60 s.
    package func json(pretty: Bool = true, maxLagSeconds: Double = 60) -> String {
        let root = JSONObject([
            ("at", .string(ISOTime.string(at))),
            ("headline", .string(headline(maxLagSeconds: maxLagSeconds))),
            ("heartbeat", heartbeat.map { .object($0.jsonObject(at: at)) } ?? .null),
            ("max_seconds_behind", .seconds(maxSecondsBehind)),
            ("pair", .string(pair)),
            ("partitions", .array(partitions.map { .object($0.jsonObject) })),
            ("source_region", .string(sourceRegion)),
            ("target_region", .string(targetRegion)),
            ("total_records_behind", .integer(totalRecordsBehind)),
            ("version", .integer(1)),
        ])
        return JSONValue.object(root).render(pretty: pretty, indent: "")
    }
}

extension HeartbeatReading {
    /// The `heartbeat` object of docs/lag-json.md, ages taken at `at`.
    package func jsonObject(at: Date) -> JSONObject {
        JSONObject([
            ("age_seconds", age(at: at).map { .seconds($0) } ?? .null),
            ("newest_written_at", newestWrittenAt.map { .string(ISOTime.string(milliseconds: $0)) } ?? .null),
            ("topic", .string(topic)),
            ("topic_exists", .bool(exists)),
        ])
    }
}

extension PartitionLag {
    /// The partition's figures as the `partitions` entries of docs/lag-json.md, shared by `lag` and `reconcile`.
    package var jsonObject: JSONObject {
        let members: [(String, JSONValue)] = [
            ("bridge_topic", .bool(BridgeTopic.matches(source.topic))),
            ("last_copied", lastCopied.map { .integer($0) } ?? .null),
            ("oldest_pending_timestamp", oldestPendingTimestamp.map { .string(ISOTime.string(milliseconds: $0)) } ?? .null),
            ("partition", .integer(Int64(source.partition))),
            ("records_behind", .integer(recordsBehind)),
            ("seconds_basis", secondsBasis.map { .string($0.rawValue) } ?? .null),
            ("seconds_behind", secondsBehind.map { .seconds($0) } ?? .null),
            ("source_end", .integer(sourceEnd)),
            ("source_log_start", .integer(sourceLogStart)),
            ("target_end", targetEnd.map { .integer($0) } ?? .null),
            ("target_partition", .integer(Int64(target.partition))),
            ("target_topic", .string(target.topic)),
            ("topic", .string(source.topic)),
        ]
        return JSONObject(members)
    }
}
