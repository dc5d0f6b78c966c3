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
    private let partitions = Mutex<[TopicPartition: PartitionSnapshot]>([:])

    /// Creates an empty state.
    public init() {}

    /// Replaces the published state.
    func publish(_ snapshot: [TopicPartition: PartitionSnapshot]) {
        partitions.withLock { $0 = snapshot }
    }

    /// The partitions being copied, by source partition.
    public func snapshot() -> [TopicPartition: PartitionSnapshot] {
        partitions.withLock { $0 }
    }
}
