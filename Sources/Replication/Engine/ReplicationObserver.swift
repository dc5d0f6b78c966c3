import Foundation
import Kafka
import Synchronization

/// What the replication engine reports as it runs: the hooks behind metrics, alerts and readiness.
///
/// Every method has a do-nothing default, is cheap, never blocks on I/O and may be called from any thread.
/// `partition` is always the **source** partition.
package protocol ReplicationObserver: Sendable {
    /// The target acknowledged `count` records of `partition`, `bytes` of key and value in all.
    func recordsCopied(partition: TopicPartition, count: Int, bytes: Int)
    /// One record's replication latency: target append time minus source timestamp
    /// (Monitoring's `LagMath.latencyMilliseconds(sourceTimestamp:targetAppendTime:)`).
    func latency(partition: TopicPartition, milliseconds: Double)
    /// The partition's lag now (Monitoring's `LagMath`): records behind and seconds behind. Call it regularly
    /// (say once a second) for each partition, also when nothing changes: alerts depend on it.
    func lag(partition: TopicPartition, records: Int64, seconds: Double)
    /// An error of the given kind happened (e.g. `source_unavailable`, `target_refused_record`).
    func error(kind: String)
    /// The consumer-group offsets were last synchronised to the target at `at`.
    func groupSync(at: Date)
    /// Whether `cluster` answered the last request made to it.
    func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool)
    /// What `cluster` refused at the last look (a certificate, credentials, a permission), nil when it refused
    /// nothing. Told before ``clusterReachable(_:_:)`` of the same look.
    func clusterRefuses(_ cluster: ClusterRole, _ refusal: ConnectionRefusal?)
    /// This instance no longer copies `partition` (group mode: the group moved it to another instance, or its
    /// writer was fenced; or the partition is no longer replicated). Its lag alerts resolve here: the new owner
    /// raises its own.
    func released(partition: TopicPartition)
    /// Whether the pair is running (copying or ready to copy).
    func running(_ running: Bool)
    /// The newest heartbeat seen in the target was written `seconds` ago (Monitoring's `HeartbeatReader`, once a tick).
    func heartbeatAge(seconds: Double)
    /// A new heartbeat reached the target `seconds` after it was written in the source.
    func heartbeatLatency(seconds: Double)
}

extension ReplicationObserver {
    package func recordsCopied(partition: TopicPartition, count: Int, bytes: Int) {}
    package func latency(partition: TopicPartition, milliseconds: Double) {}
    package func lag(partition: TopicPartition, records: Int64, seconds: Double) {}
    package func error(kind: String) {}
    package func groupSync(at: Date) {}
    package func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {}
    package func clusterRefuses(_ cluster: ClusterRole, _ refusal: ConnectionRefusal?) {}
    package func released(partition: TopicPartition) {}
    package func running(_ running: Bool) {}
    package func heartbeatAge(seconds: Double) {}
    package func heartbeatLatency(seconds: Double) {}
}

/// Passes every report on to several observers, in order.
package struct ObserverGroup: ReplicationObserver {
    /// The observers reported to.
    package let observers: [any ReplicationObserver]

    /// Creates a group.
    package init(_ observers: [any ReplicationObserver]) { self.observers = observers }

    package func recordsCopied(partition: TopicPartition, count: Int, bytes: Int) {
        for observer in observers { observer.recordsCopied(partition: partition, count: count, bytes: bytes) }
    }
    package func latency(partition: TopicPartition, milliseconds: Double) {
        for observer in observers { observer.latency(partition: partition, milliseconds: milliseconds) }
    }
    package func lag(partition: TopicPartition, records: Int64, seconds: Double) {
        for observer in observers { observer.lag(partition: partition, records: records, seconds: seconds) }
    }
    package func error(kind: String) {
        for observer in observers { observer.error(kind: kind) }
    }
    package func groupSync(at: Date) {
        for observer in observers { observer.groupSync(at: at) }
    }
    package func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {
        for observer in observers { observer.clusterReachable(cluster, reachable) }
    }
    package func clusterRefuses(_ cluster: ClusterRole, _ refusal: ConnectionRefusal?) {
        for observer in observers { observer.clusterRefuses(cluster, refusal) }
    }
    package func released(partition: TopicPartition) {
        for observer in observers { observer.released(partition: partition) }
    }
    package func running(_ running: Bool) {
        for observer in observers { observer.running(running) }
    }
    package func heartbeatAge(seconds: Double) {
        for observer in observers { observer.heartbeatAge(seconds: seconds) }
    }
    package func heartbeatLatency(seconds: Double) {
        for observer in observers { observer.heartbeatLatency(seconds: seconds) }
    }
}
