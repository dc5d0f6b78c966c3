import Kafka
import Topology

extension ClusterEndpoint {
    /// The Kafka client configuration for this cluster, with a `client.id` naming the pair and the job.
    ///
    /// This is where secret properties leave their ``Secret`` wrapper, on their way to librdkafka: the
    /// configuration itself never shows them either (see `KafkaClientConfiguration.description`).
    package func kafkaConfiguration(pair: String, job: String? = nil) -> KafkaClientConfiguration {
        KafkaClientConfiguration(
            bootstrapServers: bootstrapServers, properties: properties.revealedForClient(),
            clientID: job.map { "regionbridge-\(pair)-\($0)" } ?? "regionbridge-\(pair)")
    }
}
