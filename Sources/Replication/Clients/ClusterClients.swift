import Kafka
import Logging
import Synchronization
import Topology

/// The Kafka clients one command shares for each cluster of its pair: one admin client per cluster (metadata,
/// offsets, consumer groups, topic administration), created on first use, used from any thread, and the
/// cluster's metadata, kept for `metadataMaxAge`.
///
/// Every part of a command (the engine, the group-offset sync, the probe, alerts, heartbeats, lag, failover,
/// reconciliation) takes its admin clients from here instead of opening its own. Clients with state of their own
/// are not shared: a consumer's fetch positions or group membership, a producer's transactions or queue.
/// ``reader(_:job:timeout:)`` makes such a reader; its caller keeps it.
///
/// librdkafka documents every call on a handle as thread-safe, and ``KafkaAdmin`` makes a queue of its own for
/// each request, so one admin client serves concurrent requests from several threads.
package final class ClusterClients: Sendable {
    /// The pair the clients are for.
    package let topology: Topology
    /// How long an answer of ``topics(_:timeout:)`` is reused; zero (the default) asks the cluster every time.
    package let metadataMaxAge: Duration
    private let logger: Logger
    private let admins = Mutex<[ClusterRole: KafkaAdmin]>([:])
    private let metadata = Mutex<[ClusterRole: (at: ContinuousClock.Instant, topics: [TopicMetadata])]>([:])

    /// Creates the set; no client exists and nothing is contacted until a part asks.
    /// - Parameters:
    ///   - metadataMaxAge: how long a metadata answer is reused. Zero for `run`, which watches reachability and new
    ///     partitions; a one-shot command that reads the topic list several times (`reconcile`) may reuse it.
    package init(topology: Topology, metadataMaxAge: Duration = .zero, logger: Logger) {
        self.topology = topology
        self.metadataMaxAge = metadataMaxAge
        self.logger = logger
    }

    /// The cluster's endpoint in the topology.
    package func endpoint(_ cluster: ClusterRole) -> ClusterEndpoint {
        cluster == .source ? topology.source : topology.target
    }

    /// The cluster's client configuration with a `client.id` naming the pair and `job`.
    package func configuration(_ cluster: ClusterRole, job: String? = nil) -> KafkaClientConfiguration {
        endpoint(cluster).kafkaConfiguration(pair: topology.pair, job: job)
    }

    /// The cluster's admin client (`client.id` `regionbridge-<pair>-admin`), created on the first call.
    /// - Throws: `KafkaError` when the client cannot be created (a property librdkafka rejects).
    package func admin(_ cluster: ClusterRole) throws(KafkaError) -> KafkaAdmin {
        try admins.withLock { (admins: inout [ClusterRole: KafkaAdmin]) throws(KafkaError) -> KafkaAdmin in
            if let admin = admins[cluster] { return admin }
            // rd_kafka_new makes no request: creating under the lock holds nobody up for long.
            let admin: KafkaAdmin
            do throws(KafkaError) { admin = try KafkaAdmin(configuration: configuration(cluster, job: "admin"), logger: logger) } catch {
                throw naming(cluster, error)
            }
            admins[cluster] = admin
            return admin
        }
    }

    /// Every topic of the cluster with its partitions: a new answer, or one at most `metadataMaxAge` old.
    /// - Throws: `KafkaError` when the client cannot be created or the cluster does not answer within `timeout`.
    package func topics(_ cluster: ClusterRole, timeout: Duration) throws(KafkaError) -> [TopicMetadata] {
        if metadataMaxAge > .zero, let kept = metadata.withLock({ $0[cluster] }), ContinuousClock.now - kept.at < metadataMaxAge {
            return kept.topics
        }
        let topics = try admin(cluster).topics(timeout: timeout)
        if metadataMaxAge > .zero {
            metadata.withLock { $0[cluster] = (ContinuousClock.now, topics) }
        }
        return topics
    }

    /// A new reader of the cluster's partitions (its own consumer: a reader's fetch positions are its own). The
    /// caller keeps it; it is not shared.
    /// - Parameters:
    ///   - job: names the reader's `client.id` and group id (`regionbridge.<pair>.<job>`, never joined or committed).
    ///   - timeout: of one read.
    package func reader(_ cluster: ClusterRole, job: String, timeout: Duration) throws(KafkaError) -> TargetReader {
        do {
            return try TargetReader(
                target: configuration(cluster, job: job), groupID: "regionbridge.\(topology.pair).\(job)", timeout: timeout, logger: logger,
                cluster: cluster.rawValue)
        } catch {
            throw naming(cluster, error)
        }
    }

    /// A client creation error with the cluster it concerns, and what to check.
    private func naming(_ cluster: ClusterRole, _ error: KafkaError) -> KafkaError {
        var named = error
        named.message = "\(cluster) cluster \(endpoint(cluster).region): \(error.message)"
        if error.code == .clientCreation {
            named.message += " (check the cluster's properties: the ssl.*.location files exist and are readable, ssl.key.password opens the key)"
        }
        return named
    }
}
