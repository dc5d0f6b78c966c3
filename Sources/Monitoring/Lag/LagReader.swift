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
/// - seconds behind, from the source timestamp of the first record after the last copied one, with its basis: the
///   broker's log-append time where the topic uses it, else the record's own (producer) timestamp.
///
/// Blocks the calling thread; not for concurrent use.
package final class LagReader {
    private let clients: ClusterClients
    private var topology: Topology { clients.topology }
    private let timeout: Duration
    /// The readers of the two clusters (a consumer each), made on the first ``report(now:)``.
    private var readers: (source: TargetReader, target: TargetReader)?

    /// Creates a reader; no client is made and no request is sent yet.
    /// - Parameters:
    ///   - clients: the command's shared clients (the pair to measure, and the metadata requests).
    ///   - timeout: timeout of each metadata request and partition read. Default 10 s.
    package init(clients: ClusterClients, timeout: Duration = .seconds(10)) {
        self.clients = clients
        self.timeout = timeout
    }

    /// Whether each cluster answers a metadata request within the timeout.
    /// Whether `cluster` answers a metadata request now, and what it refused if it did not.
    package func look(_ cluster: ClusterRole) -> (reachable: Bool, refusal: ConnectionRefusal?) {
        do {
            _ = try clients.topics(cluster, timeout: timeout)
            return (true, nil)
        } catch {
            return (false, error.refusal)
        }
    }

    private func makeReaders() throws(ReplicationError) -> (source: TargetReader, target: TargetReader) {
        if let readers { return readers }
        do {
            let made = (source: try clients.reader(.source, job: "lag", timeout: timeout), target: try clients.reader(.target, job: "lag-tail", timeout: timeout))
            readers = made
            return made
        } catch {
            throw ReplicationError(.clientSetup, "cannot create Kafka clients: \(error)")
        }
    }

    /// The lag of every selected source partition now.
    /// - Parameter now: the clock seconds behind are measured against; read once, after all reads.
    /// - Throws: ``ReplicationError`` `.sourceUnavailable` or `.targetUnavailable` naming the cluster or partition.
    package func report(now: () -> Date = { Date() }) throws(ReplicationError) -> LagReport {
        let sourceTopics: [TopicMetadata]
        let targetTopics: [TopicMetadata]
        let (sourceReader, targetReader) = try makeReaders()
        do { sourceTopics = try clients.topics(.source, timeout: timeout) } catch {
            throw .cannotReach(.source, topology.source, error)
        }
        do { targetTopics = try clients.topics(.target, timeout: timeout) } catch {
            throw .cannotReach(.target, topology.target, error)
        }
        let targetPartitions = Dictionary(targetTopics.map { ($0.name, Set($0.partitions)) }, uniquingKeysWith: { a, _ in a })
        var measured: [(source: TopicPartition, target: TopicPartition, low: Int64, end: Int64, lastCopied: Int64?, pending: KafkaTimestamp?, targetEnd: Int64?)] = []
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
                let pending = next < end ? try sourceReader.firstRecord(in: source, from: max(next, low))?.timestamp : nil
                measured.append((source, target, low, end, lastCopied, pending, tail?.end))
            }
        }
        let time = now()
        return LagReport(
            pair: topology.pair, sourceRegion: topology.source.region, targetRegion: topology.target.region, at: time,
            partitions: measured.map {
                LagMath.lag(
                    source: $0.source, target: $0.target, sourceLogStart: $0.low, sourceEnd: $0.end, lastCopied: $0.lastCopied,
                    oldestPendingTimestamp: $0.pending?.milliseconds, now: time, targetEnd: $0.targetEnd,
                    pendingTimestampKind: $0.pending?.kind)
            })
    }
}
