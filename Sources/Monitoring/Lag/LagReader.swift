import Foundation
import Kafka
import Logging
import Replication
import Topology

/// Measures every selected partition's lag from the two clusters alone, so it works while the bridge is down.
///
/// For each source partition it finds:
/// - the source log end, from a fetch that reaches partition EOF (ListOffsets(latest) alone is not trusted:
///   some Kafka-compatible brokers answer it with the last batch's base offset + 1);
/// - the last copied source offset, from the newest `regionbridge.source` header in the target partition;
/// - records behind, from those two offsets (``LagMath/recordsBehind(sourceLogStart:sourceEnd:lastCopied:)``);
/// - seconds behind, from the source timestamp of the first record after the last copied one.
///
/// Blocks the calling thread; not for concurrent use.
package final class LagReader {
    private let topology: Topology
    private let timeout: Duration
    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let sourceReader: TargetReader
    private let targetReader: TargetReader

    /// Creates the clients (no request is made yet).
    /// - Parameters:
    ///   - topology: the pair to measure.
    ///   - timeout: timeout of each metadata request and partition read. Default 10 s.
    ///   - logger: where librdkafka's log lines go.
    /// - Throws: ``ReplicationError`` of kind `.fatal` when a client cannot be created (bad properties).
    package init(topology: Topology, timeout: Duration = .seconds(10), logger: Logger) throws(ReplicationError) {
        self.topology = topology
        self.timeout = timeout
        let source = topology.source.kafkaConfiguration(pair: topology.pair, job: "lag")
        let target = topology.target.kafkaConfiguration(pair: topology.pair, job: "lag")
        do {
            sourceAdmin = try KafkaAdmin(configuration: source, logger: logger)
            targetAdmin = try KafkaAdmin(configuration: target, logger: logger)
            sourceReader = try TargetReader(
                target: source, groupID: "regionbridge.\(topology.pair).lag", timeout: timeout, logger: logger, cluster: "source")
            targetReader = try TargetReader(
                target: target, groupID: "regionbridge.\(topology.pair).lag-tail", timeout: timeout, logger: logger)
        } catch {
            throw ReplicationError(.fatal, "cannot create Kafka clients: \(error)")
        }
    }

    /// Whether each cluster answers a metadata request within the timeout.
    package func reachability() -> (source: Bool, target: Bool) {
        ((try? sourceAdmin.topics(timeout: timeout)) != nil, (try? targetAdmin.topics(timeout: timeout)) != nil)
    }

    /// The lag of every selected source partition now.
    /// - Parameter now: the clock seconds behind are measured against; read once, after all reads.
    /// - Throws: ``ReplicationError`` `.sourceUnavailable` or `.targetUnavailable` naming the cluster or partition.
    package func report(now: () -> Date = { Date() }) throws(ReplicationError) -> LagReport {
        let sourceTopics: [TopicMetadata]
        let targetTopics: [TopicMetadata]
        do { sourceTopics = try sourceAdmin.topics(timeout: timeout) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot reach source cluster \(topology.source.region) at \(topology.source.bootstrapServers): \(error)")
        }
        do { targetTopics = try targetAdmin.topics(timeout: timeout) } catch {
            throw ReplicationError(.targetUnavailable, "cannot reach target cluster \(topology.target.region) at \(topology.target.bootstrapServers): \(error)")
        }
        let targetPartitions = Dictionary(targetTopics.map { ($0.name, Set($0.partitions)) }, uniquingKeysWith: { a, _ in a })
        var measured: [(source: TopicPartition, target: TopicPartition, low: Int64, end: Int64, lastCopied: Int64?, pending: Int64?, targetEnd: Int64?)] = []
        for topic in sourceTopics where topology.topics.selects(topic.name) && topic.errorName == nil {
            let targetTopic = topology.topics.rename.targetTopic(for: topic.name, sourceRegion: topology.source.region)
            for partition in topic.partitions.sorted() {
                let source = TopicPartition(topic.name, partition)
                let target = TopicPartition(targetTopic, partition)
                let (low, end) = try sourceReader.bounds(of: source)
                let tail = targetPartitions[targetTopic]?.contains(partition) == true
                    ? try targetReader.lastCopied(in: target, from: SourcePartition(region: topology.source.region, partition: source))
                    : nil
                let lastCopied = tail?.lastCopied
                let next = LagMath.nextToCopy(sourceLogStart: low, lastCopied: lastCopied)
                let pending = next < end ? try sourceReader.firstRecord(in: source, from: max(next, low))?.timestamp?.milliseconds : nil
                measured.append((source, target, low, end, lastCopied, pending, tail?.end))
            }
        }
        let time = now()
        return LagReport(
            pair: topology.pair, sourceRegion: topology.source.region, targetRegion: topology.target.region, at: time,
            partitions: measured.map {
                LagMath.lag(
                    source: $0.source, target: $0.target, sourceLogStart: $0.low, sourceEnd: $0.end, lastCopied: $0.lastCopied,
                    oldestPendingTimestamp: $0.pending, now: time, targetEnd: $0.targetEnd)
            })
    }
}
