import Kafka
import Logging
import Replication
import Topology

/// The clients `failover`, `translate-offsets` and `failback` use: an admin client and a reader on each cluster.
struct TranslationClients {
    let sourceAdmin: KafkaAdmin
    let targetAdmin: KafkaAdmin
    let targetReader: TargetReader
    let sourceReader: TargetReader

    /// Creates them for `job` (part of the client ids and of the readers' group id); nothing is contacted yet.
    /// - Throws: `ReplicationError` `.fatal` when a client cannot be created from the topology's properties.
    init(topology: Topology, job: String, timeout: Duration, logger: Logger) throws(ReplicationError) {
        let source = topology.source.kafkaConfiguration(pair: topology.pair, job: job)
        let target = topology.target.kafkaConfiguration(pair: topology.pair, job: job)
        let groupID = "regionbridge.\(topology.pair).\(job)"
        do {
            sourceAdmin = try KafkaAdmin(configuration: source, logger: logger)
            targetAdmin = try KafkaAdmin(configuration: target, logger: logger)
            targetReader = try TargetReader(target: target, groupID: groupID, timeout: timeout, logger: logger)
            sourceReader = try TargetReader(target: source, groupID: groupID, timeout: timeout, logger: logger, cluster: "source")
        } catch {
            throw ReplicationError(.fatal, "cannot create Kafka clients: \(error)")
        }
    }
}
