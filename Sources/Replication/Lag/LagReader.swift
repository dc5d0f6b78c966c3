import Foundation
import Kafka
import Logging
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
public final class LagReader {
    private let topology: Topology
    private let timeout: Duration
    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let consumer: KafkaConsumer
    private let tailReader: TargetTailReader

    /// Creates the clients (no request is made yet).
    /// - Parameters:
    ///   - topology: the pair to measure.
    ///   - timeout: timeout of each metadata request and partition read. Default 10 s.
    ///   - logger: where librdkafka's log lines go.
    /// - Throws: ``ReplicationError`` of kind `.fatal` when a client cannot be created (bad properties).
    public init(topology: Topology, timeout: Duration = .seconds(10), logger: Logger) throws(ReplicationError) {
        self.topology = topology
        self.timeout = timeout
        let clientID = "regionbridge-\(topology.pair)-lag"
        let source = KafkaClientConfiguration(
            bootstrapServers: topology.source.bootstrapServers, properties: topology.source.properties, clientID: clientID)
        let target = KafkaClientConfiguration(
            bootstrapServers: topology.target.bootstrapServers, properties: topology.target.properties, clientID: clientID)
        do {
            sourceAdmin = try KafkaAdmin(configuration: source, logger: logger)
            targetAdmin = try KafkaAdmin(configuration: target, logger: logger)
            consumer = try KafkaConsumer(
                configuration: source, groupID: "regionbridge.\(topology.pair).lag",
                overrides: ["fetch.wait.max.ms": "10", "enable.partition.eof": "true", "auto.offset.reset": "error"],
                logger: logger)
            tailReader = try TargetTailReader(
                target: target, groupID: "regionbridge.\(topology.pair).lag-tail", timeout: timeout, logger: logger)
        } catch {
            throw ReplicationError(.fatal, "cannot create Kafka clients: \(error)")
        }
    }

    deinit { consumer.close() }

    /// Whether each cluster answers a metadata request within the timeout.
    public func reachability() -> (source: Bool, target: Bool) {
        ((try? sourceAdmin.topics(timeout: timeout)) != nil, (try? targetAdmin.topics(timeout: timeout)) != nil)
    }

    /// The lag of every selected source partition now.
    /// - Parameter now: the clock seconds behind are measured against; read once, after all reads.
    /// - Throws: ``ReplicationError`` `.sourceUnavailable` or `.targetUnavailable` naming the cluster or partition.
    public func report(now: () -> Date = { Date() }) throws(ReplicationError) -> LagReport {
        let sourceTopics: [TopicMetadata]
        let targetTopics: [TopicMetadata]
        do { sourceTopics = try sourceAdmin.topics(timeout: timeout) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot reach source cluster \(topology.source.region) at \(topology.source.bootstrapServers): \(error)")
        }
        do { targetTopics = try targetAdmin.topics(timeout: timeout) } catch {
            throw ReplicationError(.targetUnavailable, "cannot reach target cluster \(topology.target.region) at \(topology.target.bootstrapServers): \(error)")
        }
        let targetPartitions = Dictionary(targetTopics.map { ($0.name, Set($0.partitions)) }, uniquingKeysWith: { a, _ in a })
        var measured: [(source: TopicPartition, target: TopicPartition, low: Int64, end: Int64, lastCopied: Int64?, pending: Int64?)] = []
        for topic in sourceTopics where topology.topics.selects(topic.name) && topic.errorName == nil {
            let targetTopic = topology.topics.rename.targetTopic(for: topic.name, sourceRegion: topology.source.region)
            for partition in topic.partitions.sorted() {
                let source = TopicPartition(topic.name, partition)
                let target = TopicPartition(targetTopic, partition)
                let (low, end) = try sourceLog(source)
                let lastCopied = targetPartitions[targetTopic]?.contains(partition) == true
                    ? try tailReader.lastCopiedOffset(in: target, sourceRegion: topology.source.region, source: source)
                    : nil
                let next = LagMath.nextToCopy(sourceLogStart: low, lastCopied: lastCopied)
                let pending = next < end ? try firstTimestamp(source, from: max(next, low)) : nil
                measured.append((source, target, low, end, lastCopied, pending))
            }
        }
        let time = now()
        return LagReport(
            pair: topology.pair, sourceRegion: topology.source.region, targetRegion: topology.target.region, at: time,
            partitions: measured.map {
                LagMath.lag(
                    source: $0.source, target: $0.target, sourceLogStart: $0.low, sourceEnd: $0.end, lastCopied: $0.lastCopied,
                    oldestPendingTimestamp: $0.pending, now: time)
            })
    }

    /// The source partition's log start and true end (from partition EOF).
    private func sourceLog(_ partition: TopicPartition) throws(ReplicationError) -> (Int64, Int64) {
        let low: Int64
        let approximateEnd: Int64
        do { (low, approximateEnd) = try consumer.queryWatermarks(partition, timeout: timeout) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot read the offsets of source partition \(partition): \(error)")
        }
        let (_, end) = try read(partition, from: max(low, approximateEnd - 1), stopAtFirstRecord: false)
        return (max(low, 0), end ?? approximateEnd)
    }

    /// The timestamp of the first record at or after `offset`, nil when there is none or it has none.
    private func firstTimestamp(_ partition: TopicPartition, from offset: Int64) throws(ReplicationError) -> Int64? {
        try read(partition, from: offset, stopAtFirstRecord: true).first?.timestamp?.milliseconds
    }

    /// Reads `partition` from `start` until partition EOF (or the first record, when asked).
    private func read(_ partition: TopicPartition, from start: Int64, stopAtFirstRecord: Bool) throws(ReplicationError) -> (first: KafkaRecord?, end: Int64?) {
        do { try consumer.assign([(partition, .offset(start))]) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot read source partition \(partition): \(error)")
        }
        defer { try? consumer.unassign([partition]) }
        var first: KafkaRecord?
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let batch = consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            if first == nil {
                first = batch.records.first { $0.topic == partition.topic && $0.partition == partition.partition && $0.offset >= start }
            }
            if stopAtFirstRecord, first != nil { return (first, nil) }
            if let end = batch.ends.last(where: { $0.0 == partition })?.1 { return (first, end) }
            if let error = batch.errors.first(where: { $0.partition == partition || $0.partition == nil && $0.error.isFatal }) {
                throw ReplicationError(.sourceUnavailable, "cannot read source partition \(partition) at offset \(start): \(error.error)")
            }
        }
        throw ReplicationError(.sourceUnavailable, "reading source partition \(partition) took longer than \(timeout)")
    }
}
