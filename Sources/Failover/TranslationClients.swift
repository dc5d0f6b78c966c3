import Kafka
import Logging
import Replication
import Topology

/// The clients `failover`, `translate-offsets` and `failback` use: the command's shared admin client of each
/// cluster, and a reader of its own on each.
struct TranslationClients {
    let sourceAdmin: KafkaAdmin
    let targetAdmin: KafkaAdmin
    let targetReader: TargetReader
    let sourceReader: TargetReader

    /// Takes the admin clients and makes the readers for `job` (part of the readers' client ids and group id);
    /// nothing is contacted yet.
    /// - Throws: `ReplicationError` `.clientSetup` when a client cannot be created from the topology's properties.
    init(clients: ClusterClients, job: String, timeout: Duration) throws(ReplicationError) {
        do {
            sourceAdmin = try clients.admin(.source)
            targetAdmin = try clients.admin(.target)
            targetReader = try clients.reader(.target, job: job, timeout: timeout)
            sourceReader = try clients.reader(.source, job: job, timeout: timeout)
        } catch {
            throw ReplicationError(.clientSetup, "cannot create Kafka clients: \(error)")
        }
    }
}
