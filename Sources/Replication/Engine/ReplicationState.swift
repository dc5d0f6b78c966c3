import Kafka
import Synchronization

/// What the engine knows about one source partition, published for the group-offset sync.
public struct PartitionSnapshot: Sendable, Equatable {
    /// Where its records go.
    public var target: TopicPartition
    /// Every source offset below this is in the target.
    public var replicatedUpTo: Int64
    /// The last acknowledged record's source and target offsets.
    public var lastPair: OffsetPair?
}

/// The engine's per-partition state, shared with the group-offset sync thread. Thread-safe.
public final class ReplicationState: Sendable {
    private struct Published {
        var partitions: [TopicPartition: PartitionSnapshot] = [:]
        var leadsGroupSync = true
    }

    /// One lock for both, so a reader never sees the partitions of one publication with the duty of another.
    private let published = Mutex(Published())

    /// Creates an empty state.
    public init() {}

    /// Replaces the published state.
    func publish(_ snapshot: [TopicPartition: PartitionSnapshot], leadsGroupSync: Bool = true) {
        published.withLock { $0 = Published(partitions: snapshot, leadsGroupSync: leadsGroupSync) }
    }

    /// Whether this instance runs the group-offset sync, offset syncs and checkpoints: always in single mode;
    /// in group mode only while it owns the partition that carries that duty.
    public var leadsGroupSync: Bool { published.withLock { $0.leadsGroupSync } }

    /// The partitions being copied, by source partition.
    public func snapshot() -> [TopicPartition: PartitionSnapshot] {
        published.withLock { $0.partitions }
    }
}
