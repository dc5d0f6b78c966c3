import Kafka
import Logging
import Topology

/// Whether a source record is in the target, from the two clusters alone (`regionbridge wait-replicated`): the
/// newest `regionbridge.source` offset in the target partition, read from its tail as the bridge does when it
/// resumes (``TargetReader``, read_committed: in group mode a record of an open transaction does not count).
/// The bridge copies each partition in order, so every source offset at or below that one is in the target.
///
/// Blocks the calling thread; not for concurrent use.
package final class ReplicatedCheck {
    private let topology: Topology
    private let timeout: Duration
    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let reader: TargetReader

    /// Why a record cannot be asked about.
    package enum Problem: Error, Equatable {
        /// The topology does not select the topic, or the source has no such topic or partition; in words.
        case unknown(String)
        /// A cluster did not answer; in words.
        case unavailable(String)
        /// A cluster refused the client (a certificate, credentials, a permission); in words, with what to check.
        case refused(String)

        /// The problem for a cluster that did not answer `error`.
        static func reaching(_ role: ClusterRole, _ endpoint: ClusterEndpoint, _ error: KafkaError) -> Problem {
            let failure = ReplicationError.cannotReach(role, endpoint, error)
            return failure.exitCode == .usage ? .refused(failure.message) : .unavailable(failure.message)
        }
    }

    /// Takes the admin clients and makes the target reader (no request is made yet).
    /// - Parameters:
    ///   - clients: the command's shared clients (the pair and its admin clients).
    ///   - timeout: timeout of one metadata request or partition read.
    /// - Throws: ``ReplicationError`` of kind `.clientSetup` when a client cannot be created (bad properties).
    package init(clients: ClusterClients, timeout: Duration) throws(ReplicationError) {
        topology = clients.topology
        self.timeout = timeout
        do {
            sourceAdmin = try clients.admin(.source)
            targetAdmin = try clients.admin(.target)
            reader = try clients.reader(.target, job: "wait-replicated", timeout: timeout)
        } catch {
            throw ReplicationError(.clientSetup, "cannot create Kafka clients: \(error)")
        }
    }

    /// The target partition of a selected source partition that exists.
    package func target(of source: TopicPartition) -> Result<TopicPartition, Problem> {
        guard topology.topics.selects(source.topic) else {
            return .failure(.unknown("topic \(source.topic) is not replicated by pair \(topology.pair) (not selected by its topics section)"))
        }
        let topics: [TopicMetadata]
        do { topics = try sourceAdmin.topics(timeout: timeout) } catch {
            return .failure(.reaching(.source, topology.source, error))
        }
        guard let topic = topics.first(where: { $0.name == source.topic && $0.errorName == nil }) else {
            return .failure(.unknown("source cluster \(topology.source.region) has no topic \(source.topic)"))
        }
        guard topic.partitions.contains(source.partition) else {
            return .failure(.unknown("source topic \(source.topic) has no partition \(source.partition) (it has \(topic.partitions.count))"))
        }
        return .success(Discovery.targetPartition(of: source, topology: topology))
    }

    /// The newest source offset of `source` that the target partition `target` holds (committed), or `nil` when it
    /// holds none or the target topic does not exist (yet).
    package func lastCopied(_ source: TopicPartition, in target: TopicPartition) -> Result<Int64?, Problem> {
        let topics: [TopicMetadata]
        do { topics = try targetAdmin.topics(timeout: timeout) } catch {
            return .failure(.reaching(.target, topology.target, error))
        }
        guard topics.contains(where: { $0.name == target.topic && $0.errorName == nil && $0.partitions.contains(target.partition) }) else {
            return .success(nil)
        }
        do {
            return .success(try reader.lastCopied(in: target, from: SourcePartition(region: topology.source.region, partition: source)).lastCopied)
        } catch {
            return .failure(.unavailable(error.message))
        }
    }
}
