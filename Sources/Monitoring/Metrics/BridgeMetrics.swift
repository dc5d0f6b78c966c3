import CoreMetrics
import Foundation
import Kafka
import Metrics
import Replication
import Synchronization

/// The bridge's metrics through swift-metrics: a ``ReplicationObserver`` that records what it is told.
///
/// With swift-prometheus's factory they appear at `/metrics` as (names in ``BridgeMetrics/Name``):
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `regionbridge_records_replicated_total` | counter | pair, topic, partition |
/// | `regionbridge_bytes_replicated_total` | counter | pair, topic, partition |
/// | `regionbridge_lag_records` | gauge | pair, topic, partition |
/// | `regionbridge_lag_seconds` | gauge | pair, topic, partition |
/// | `regionbridge_replication_latency_seconds` | histogram | pair, topic |
/// | `regionbridge_errors_total` | counter | pair, kind |
/// | `regionbridge_last_group_sync_timestamp_seconds` | gauge | pair |
/// | `regionbridge_cluster_reachable` | gauge, 1 or 0 | pair, cluster (`source`, `target`) |
/// | `regionbridge_heartbeat_age_seconds` | gauge | pair |
/// | `regionbridge_end_to_end_latency_seconds` | histogram | pair |
/// | `regionbridge_kafka_clients` | gauge | pair |
/// | `regionbridge_pair_voice` | gauge, 1 or 0 | pair |
///
/// The latency histogram is labelled by topic, not partition, to keep the number of series small.
package final class BridgeMetrics: ReplicationObserver {
    /// Metric names.
    package enum Name {
        package static let recordsReplicated = "regionbridge_records_replicated_total"
        package static let bytesReplicated = "regionbridge_bytes_replicated_total"
        package static let lagRecords = "regionbridge_lag_records"
        package static let lagSeconds = "regionbridge_lag_seconds"
        package static let latency = "regionbridge_replication_latency_seconds"
        package static let errors = "regionbridge_errors_total"
        package static let lastGroupSync = "regionbridge_last_group_sync_timestamp_seconds"
        package static let clusterReachable = "regionbridge_cluster_reachable"
        package static let clusterRefuses = "regionbridge_cluster_refuses"
        package static let heartbeatAge = "regionbridge_heartbeat_age_seconds"
        package static let endToEndLatency = "regionbridge_end_to_end_latency_seconds"
        package static let kafkaClients = "regionbridge_kafka_clients"
        package static let pairVoice = "regionbridge_pair_voice"
    }

    private struct PartitionMetrics {
        let records: Counter
        let bytes: Counter
        let lagRecords: Gauge
        let lagSeconds: Gauge
    }

    /// The pair named in every metric's `pair` label.
    package let pair: String
    private let factory: any MetricsFactory
    private let partitions = Mutex<[TopicPartition: PartitionMetrics]>([:])
    private let latencies = Mutex<[String: Metrics.Timer]>([:])
    private let errors = Mutex<[String: Counter]>([:])
    private let groupSyncGauge: Gauge
    private let kafkaClientsGauge: Gauge
    private let pairVoiceGauge: Gauge
    private let reachability = Mutex<[ClusterRole: Gauge]>([:])
    private let refusals = Mutex<[ClusterRole: [ConnectionRefusal.Cause: Gauge]]>([:])
    /// Made at the first heartbeat report, so that a bridge with heartbeats off exports no age of 0.
    private let heartbeatSeries = Mutex<(age: Gauge, latency: Metrics.Timer)?>(nil)

    /// Creates the metrics of one pair.
    /// - Parameters:
    ///   - pair: the `pair` label.
    ///   - factory: where metrics go; default the one bootstrapped in `MetricsSystem`.
    package init(pair: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.pair = pair
        self.factory = factory
        groupSyncGauge = Gauge(label: Name.lastGroupSync, dimensions: [("pair", pair)], factory: factory)
        kafkaClientsGauge = Gauge(label: Name.kafkaClients, dimensions: [("pair", pair)], factory: factory)
        pairVoiceGauge = Gauge(label: Name.pairVoice, dimensions: [("pair", pair)], factory: factory)
    }

    /// Both heartbeat series, made together at the first heartbeat report.
    private func heartbeatMetrics() -> (age: Gauge, latency: Metrics.Timer) {
        heartbeatSeries.withLock { series in
            if let series { return series }
            let made = (Gauge(label: Name.heartbeatAge, dimensions: [("pair", pair)], factory: factory),
                        Metrics.Timer(label: Name.endToEndLatency, dimensions: [("pair", pair)], factory: factory))
            series = made
            return made
        }
    }

    /// `regionbridge_heartbeat_age_seconds{pair}`: now minus the write time of the newest heartbeat seen in the target.
    package func heartbeatAge(seconds: Double) {
        heartbeatMetrics().age.record(max(0, seconds))
    }

    /// `regionbridge_end_to_end_latency_seconds{pair}`: one heartbeat's time from its write in the source to the
    /// bridge seeing it in the target.
    package func heartbeatLatency(seconds: Double) {
        heartbeatMetrics().latency.recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    private func metrics(_ partition: TopicPartition) -> PartitionMetrics {
        partitions.withLock { cache in
            if let found = cache[partition] { return found }
            let dimensions = [("pair", pair), ("topic", partition.topic), ("partition", String(partition.partition))]
            let made = PartitionMetrics(
                records: Counter(label: Name.recordsReplicated, dimensions: dimensions, factory: factory),
                bytes: Counter(label: Name.bytesReplicated, dimensions: dimensions, factory: factory),
                lagRecords: Gauge(label: Name.lagRecords, dimensions: dimensions, factory: factory),
                lagSeconds: Gauge(label: Name.lagSeconds, dimensions: dimensions, factory: factory))
            cache[partition] = made
            return made
        }
    }

    package func recordsCopied(partition: TopicPartition, count: Int, bytes: Int) {
        let metrics = metrics(partition)
        metrics.records.increment(by: count)
        metrics.bytes.increment(by: bytes)
    }

    package func latency(partition: TopicPartition, milliseconds: Double) {
        let timer = latencies.withLock { cache in
            if let found = cache[partition.topic] { return found }
            let made = Metrics.Timer(
                label: Name.latency, dimensions: [("pair", pair), ("topic", partition.topic)], factory: factory)
            cache[partition.topic] = made
            return made
        }
        timer.recordNanoseconds(Int64(max(0, milliseconds) * 1_000_000))
    }

    package func lag(partition: TopicPartition, records: Int64, seconds: Double) {
        let metrics = metrics(partition)
        metrics.lagRecords.record(records)
        metrics.lagSeconds.record(seconds)
    }

    /// Removes the partition's lag gauges: this instance no longer copies it, and a gauge left at its last value
    /// would keep a Prometheus lag alert firing for ever (the new owner exports its own). Counters stay.
    package func released(partition: TopicPartition) {
        guard let removed = partitions.withLock({ $0.removeValue(forKey: partition) }) else { return }
        removed.lagRecords.destroy()
        removed.lagSeconds.destroy()
    }

    package func error(kind: String) {
        errors.withLock { cache in
            if let found = cache[kind] { return found }
            let made = Counter(label: Name.errors, dimensions: [("pair", pair), ("kind", kind)], factory: factory)
            cache[kind] = made
            return made
        }.increment()
    }

    /// The librdkafka clients the process holds (`KafkaClientCensus.total`), set before each scrape: each has
    /// threads and connections of its own, so a count that grows means a part opens clients it should share.
    package func kafkaClients(_ count: Int) {
        kafkaClientsGauge.record(count)
    }

    /// Whether this instance speaks for the pair, set before each scrape: it raises the pair-level alerts, runs the
    /// RPO watch, the group-offset sync and the heartbeats. Always 1 in single mode; in group mode 1 on the instance
    /// that leads the group, 0 on the others.
    package func pairVoice(_ speaks: Bool) {
        pairVoiceGauge.record(speaks ? 1 : 0)
    }

    package func groupSync(at: Date) {
        groupSyncGauge.record(at.timeIntervalSince1970)
    }

    /// `regionbridge_cluster_reachable{pair, cluster}`: 1 when the cluster answered the last look, 0 when not.
    /// The series appears with the first look, so a bridge that has not looked yet shows no 0.
    package func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {
        reachability.withLock { cache in
            if let found = cache[cluster] { return found }
            let made = Gauge(label: Name.clusterReachable, dimensions: [("pair", pair), ("cluster", cluster.rawValue)], factory: factory)
            cache[cluster] = made
            return made
        }.record(reachable ? 1 : 0)
    }

    /// `regionbridge_cluster_refuses{pair, cluster, cause}`: 1 while the cluster refuses the bridge for that cause (a
    /// certificate, credentials, a permission: ``ConnectionRefusal/Cause``), 0 once it no longer does. A series
    /// appears with the first refusal of its cause.
    package func clusterRefuses(_ cluster: ClusterRole, _ refusal: ConnectionRefusal?) {
        refusals.withLock { cache in
            var gauges = cache[cluster] ?? [:]
            if let cause = refusal?.cause, gauges[cause] == nil {
                gauges[cause] = Gauge(
                    label: Name.clusterRefuses, dimensions: [("pair", pair), ("cluster", cluster.rawValue), ("cause", cause.rawValue)],
                    factory: factory)
            }
            for (cause, gauge) in gauges { gauge.record(cause == refusal?.cause ? 1 : 0) }
            cache[cluster] = gauges
        }
    }
}
