import Kafka
import Topology

extension ClusterEndpoint {
    /// The Kafka client configuration for this cluster, with a `client.id` naming the pair and the job.
    public func kafkaConfiguration(pair: String, job: String? = nil) -> KafkaClientConfiguration {
        KafkaClientConfiguration(
            bootstrapServers: bootstrapServers, properties: properties,
            clientID: job.map { "regionbridge-\(pair)-\($0)" } ?? "regionbridge-\(pair)")
    }
}
