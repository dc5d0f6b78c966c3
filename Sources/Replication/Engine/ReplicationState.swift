import Kafka
import Synchronization

/// What the engine knows about one source partition, published for the group-offset sync.
package struct PartitionSnapshot: Sendable, Equatable {
    /// Where its records go.
    package var target: TopicPartition
    /// Every source offset below this is in the target.
    package var replicatedUpTo: Int64
    /// The last acknowledged record's source and target offsets.
    package var lastPair: OffsetPair?

    package init(target: TopicPartition, replicatedUpTo: Int64, lastPair: OffsetPair?) {
        self.target = target
        self.replicatedUpTo = replicatedUpTo
        self.lastPair = lastPair
    }
}

/// The engine's per-partition state, shared with the group-offset sync thread. Thread-safe.
package final class ReplicationState: Sendable {
    private struct Published {
        var partitions: [TopicPartition: PartitionSnapshot] = [:]
        var leadsGroupSync: Bool
    }

    /// One lock for both, so a reader never sees the partitions of one publication with the duty of another.
    private let published: Mutex<Published>

    /// Creates an empty state.
    /// - Parameter leading: whether this instance leads before the engine's first publication: true in single mode;
    ///   false in group mode, where it leads only once the group assigned it the partition that carries the duty.
    package init(leading: Bool = true) {
        published = Mutex(Published(leadsGroupSync: leading))
    }

    /// Replaces the published state.
    func publish(_ snapshot: [TopicPartition: PartitionSnapshot], leadsGroupSync: Bool = true) {
        published.withLock { $0 = Published(partitions: snapshot, leadsGroupSync: leadsGroupSync) }
    }

    /// Whether this instance speaks for the pair: it runs the group-offset sync, offset syncs, checkpoints,
    /// heartbeats and the RPO watch, and raises the pair-level alerts. Always in single mode; in group mode only
    /// while it owns the partition that carries that duty.
    package var leadsGroupSync: Bool { published.withLock { $0.leadsGroupSync } }

    /// The partitions being copied, by source partition.
    package func snapshot() -> [TopicPartition: PartitionSnapshot] {
        published.withLock { $0.partitions }
    }
}
