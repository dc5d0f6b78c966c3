import Kafka
import Topology

/// What the bridge must do to mirror the source's topics: decided from two clusters' metadata, with no I/O.
package struct TopicPlan: Sendable, Equatable {
    /// A target topic to create for a source topic.
    package struct Creation: Sendable, Equatable {
        /// Source topic.
        package var source: String
        /// Target topic.
        package var target: String
        /// Partition count (the source's).
        package var partitions: Int
    }

    /// A target topic whose partition count must grow to the source's.
    package struct Growth: Sendable, Equatable {
        /// Target topic.
        package var target: String
        /// Partition count now.
        package var from: Int
        /// Partition count wanted.
        package var to: Int
    }

    /// Target topics to create.
    package var creations: [Creation] = []
    /// Target topics to grow.
    package var growths: [Growth] = []
    /// Source partitions to start copying (not yet owned), in order.
    package var newPartitions: [TopicPartition] = []
    /// Owned source partitions that the source no longer has (topic deleted or no longer selected).
    package var vanished: [TopicPartition] = []
    /// Things an operator should know that need no action.
    package var warnings: [String] = []

    /// Plans topic creation, partition growth and new assignments.
    /// - Parameters:
    ///   - source: the source cluster's topics.
    ///   - target: the target cluster's topics.
    ///   - topology: which topics to copy and how to name them.
    ///   - owned: source partitions being copied already.
    package static func make(source: [TopicMetadata], target: [TopicMetadata], topology: Topology, owned: Set<TopicPartition>) -> TopicPlan {
        var plan = TopicPlan()
        let targetByName = Dictionary(target.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var present = Set<TopicPartition>()
        for topic in source where topology.topics.selects(topic.name) {
            if let error = topic.errorName {
                plan.warnings.append("source topic \(topic.name) has incomplete metadata (\(error)); skipped for now")
                continue
            }
            guard !topic.partitions.isEmpty else { continue }
            let targetName = topology.topics.rename.targetTopic(for: topic.name, sourceRegion: topology.source.region)
            let count = topic.partitions.count
            if let existing = targetByName[targetName] {
                if existing.partitions.count < count {
                    plan.growths.append(Growth(target: targetName, from: existing.partitions.count, to: count))
                } else if existing.partitions.count > count {
                    plan.warnings.append(
                        "target topic \(targetName) has \(existing.partitions.count) partitions, source \(topic.name) has \(count); the extra target partitions receive nothing")
                }
            } else {
                plan.creations.append(Creation(source: topic.name, target: targetName, partitions: count))
            }
            for partition in topic.partitions {
                let tp = TopicPartition(topic.name, partition)
                present.insert(tp)
                if !owned.contains(tp) { plan.newPartitions.append(tp) }
            }
        }
        plan.vanished = owned.subtracting(present).sorted()
        return plan
    }
}

/// Which source topic configuration entries a target topic copies.
package enum TopicConfigCopy {
    /// Entries that describe the broker or replica placement rather than the data, never copied.
    package static let skipped: Set<String> = [
        "min.insync.replicas", "leader.replication.throttled.replicas", "follower.replication.throttled.replicas",
        "message.format.version", "confluent.placement.constraints",
    ]

    /// The entries set on the source topic itself, minus broker-specific ones and unreadable (sensitive) values.
    package static func entriesToCopy(_ entries: [TopicConfigEntry]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries where entry.source == .topic && !entry.isSensitive && !entry.isReadOnly && !skipped.contains(entry.name) {
            if let value = entry.value { result[entry.name] = value }
        }
        return result
    }
}
