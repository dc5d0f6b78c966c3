import Foundation

/// A record of the offset-sync topic `regionbridge.<pair>.offset-syncs`: one replicated record's offsets on both sides.
/// Keyed `<topic>/<partition>` (the source topic), so compaction keeps the newest per partition.
package struct OffsetSyncRecord: Codable, Sendable, Equatable {
    /// Source topic.
    package var topic: String
    /// Partition (the same number on both sides).
    package var partition: Int32
    /// Source offset.
    package var sourceOffset: Int64
    /// Target offset of the record copied from `sourceOffset`.
    package var targetOffset: Int64

    enum CodingKeys: String, CodingKey {
        case topic, partition
        case sourceOffset = "source_offset"
        case targetOffset = "target_offset"
    }
}

/// A record of the checkpoint topic `regionbridge.<pair>.checkpoints`: a group's source position and its translation.
/// Keyed `<group>/<topic>/<partition>`, so compaction keeps the newest per group and partition.
package struct CheckpointRecord: Codable, Sendable, Equatable {
    /// Consumer group id.
    package var group: String
    /// Source topic.
    package var topic: String
    /// Partition (the same number on both sides).
    package var partition: Int32
    /// The group's committed offset in the source.
    package var sourceOffset: Int64
    /// The translated offset in the target.
    package var targetOffset: Int64
    /// The target topic.
    package var targetTopic: String
    /// When the translation was made (ISO-8601, UTC).
    package var at: String

    enum CodingKeys: String, CodingKey {
        case group, topic, partition, at
        case sourceOffset = "source_offset"
        case targetOffset = "target_offset"
        case targetTopic = "target_topic"
    }

    /// The record key.
    package var key: String { "\(group)/\(topic)/\(partition)" }
}

enum SyncJSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(value)) ?? Data())
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]?) -> T? {
        guard let bytes else { return nil }
        return try? JSONDecoder().decode(type, from: Data(bytes))
    }

    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(.iso8601)
    }
}
