import Foundation
import Kafka
import Synchronization

/// What the replication engine reports as it runs: the hooks behind metrics, alerts and readiness.
///
/// Every method has a do-nothing default, is cheap, never blocks on I/O and may be called from any thread.
/// `partition` is always the **source** partition.
public protocol ReplicationObserver: Sendable {
    /// The target acknowledged `count` records of `partition`, `bytes` of key and value in all.
    func recordsCopied(partition: TopicPartition, count: Int, bytes: Int)
    /// One record's replication latency: target append time minus source timestamp
    /// (``LagMath/latencyMilliseconds(sourceTimestamp:targetAppendTime:)``).
    func latency(partition: TopicPartition, milliseconds: Double)
    /// The partition's lag now (``LagMath``): records behind and seconds behind. Call it regularly
    /// (say once a second) for each partition, also when nothing changes: alerts depend on it.
    func lag(partition: TopicPartition, records: Int64, seconds: Double)
    /// An error of the given kind happened (e.g. `source_unavailable`, `target_refused_record`).
    func error(kind: String)
    /// The consumer-group offsets were last synchronised to the target at `at`.
    func groupSync(at: Date)
    /// Whether `cluster` answered the last request made to it.
    func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool)
    /// This instance no longer copies `partition` (group mode: the group moved it to another instance, or its
    /// writer was fenced; or the partition is no longer replicated). Its lag alerts resolve here: the new owner
    /// raises its own.
    func released(partition: TopicPartition)
    /// Whether the pair is running (copying or ready to copy).
    func running(_ running: Bool)
    /// The newest heartbeat seen in the target was written `seconds` ago (``HeartbeatReader``, once a tick).
    func heartbeatAge(seconds: Double)
    /// A new heartbeat reached the target `seconds` after it was written in the source.
    func heartbeatLatency(seconds: Double)
    /// The continuous reconciliation finished a check (`reconcile.continuous`).
    func rpoChecked(_ result: RPOCheckResult)
    /// Whether the continuous reconciliation's last statements reached Postgres (false: cannot connect, or a query failed).
    func postgresReachable(_ reachable: Bool)
}

extension ReplicationObserver {
    public func recordsCopied(partition: TopicPartition, count: Int, bytes: Int) {}
    public func latency(partition: TopicPartition, milliseconds: Double) {}
    public func lag(partition: TopicPartition, records: Int64, seconds: Double) {}
    public func error(kind: String) {}
    public func groupSync(at: Date) {}
    public func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {}
    public func released(partition: TopicPartition) {}
    public func running(_ running: Bool) {}
    public func heartbeatAge(seconds: Double) {}
    public func heartbeatLatency(seconds: Double) {}
    public func rpoChecked(_ result: RPOCheckResult) {}
    public func postgresReachable(_ reachable: Bool) {}
}

/// Passes every report on to several observers, in order.
public struct ObserverGroup: ReplicationObserver {
    /// The observers reported to.
    public let observers: [any ReplicationObserver]

    /// Creates a group.
    public init(_ observers: [any ReplicationObserver]) { self.observers = observers }

    public func recordsCopied(partition: TopicPartition, count: Int, bytes: Int) {
        for observer in observers { observer.recordsCopied(partition: partition, count: count, bytes: bytes) }
    }
    public func latency(partition: TopicPartition, milliseconds: Double) {
        for observer in observers { observer.latency(partition: partition, milliseconds: milliseconds) }
    }
    public func lag(partition: TopicPartition, records: Int64, seconds: Double) {
        for observer in observers { observer.lag(partition: partition, records: records, seconds: seconds) }
    }
    public func error(kind: String) {
        for observer in observers { observer.error(kind: kind) }
    }
    public func groupSync(at: Date) {
        for observer in observers { observer.groupSync(at: at) }
    }
    public func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {
        for observer in observers { observer.clusterReachable(cluster, reachable) }
    }
    public func released(partition: TopicPartition) {
        for observer in observers { observer.released(partition: partition) }
    }
    public func running(_ running: Bool) {
        for observer in observers { observer.running(running) }
    }
    public func heartbeatAge(seconds: Double) {
        for observer in observers { observer.heartbeatAge(seconds: seconds) }
    }
    public func heartbeatLatency(seconds: Double) {
        for observer in observers { observer.heartbeatLatency(seconds: seconds) }
    }
    public func rpoChecked(_ result: RPOCheckResult) {
        for observer in observers { observer.rpoChecked(result) }
    }
    public func postgresReachable(_ reachable: Bool) {
        for observer in observers { observer.postgresReachable(reachable) }
    }
}

/// Whether the bridge is ready: both clusters answer and the pair is running. Feeds `/health/ready`.
public final class BridgeReadiness: ReplicationObserver {
    private let sourceUp = Atomic<Bool>(false)
    private let targetUp = Atomic<Bool>(false)
    private let pairRunning = Atomic<Bool>(false)

    /// Creates a readiness that is not ready (nothing answered yet, not running).
    public init() {}

    /// `true` when both clusters answered last and the pair is running.
    public var isReady: Bool {
        sourceUp.load(ordering: .acquiring) && targetUp.load(ordering: .acquiring) && pairRunning.load(ordering: .acquiring)
    }

    public func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {
        switch cluster {
        case .source: sourceUp.store(reachable, ordering: .releasing)
        case .target: targetUp.store(reachable, ordering: .releasing)
        }
    }

    public func running(_ running: Bool) {
        pairRunning.store(running, ordering: .releasing)
    }
}
