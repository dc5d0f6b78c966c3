import Kafka
import Logging

/// Reads partitions (of the target, mostly) for what the bridge copied into them: the last source offset copied (for resuming),
/// the true end of the log, and the replicated records from some target offset on (for offset translation).
///
/// It learns a partition's end from fetch responses (partition EOF), not from ListOffsets alone, because some
/// Kafka-compatible brokers answer ListOffsets(latest) with the last batch's base offset.
final class TargetReader {
    private let consumer: KafkaConsumer
    private let timeout: Duration
    private let cluster: String
    private let failure: ReplicationError.Kind

    /// - Parameter cluster: how errors name the cluster (`target` by default; `source` when reading the source).
    init(target: KafkaClientConfiguration, groupID: String, timeout: Duration, logger: Logger, cluster: String = "target") throws(KafkaError) {
        consumer = try KafkaConsumer(
            configuration: target, groupID: groupID,
            overrides: ["fetch.wait.max.ms": "10", "enable.partition.eof": "true", "auto.offset.reset": "error"],
            logger: logger)
        self.timeout = timeout
        self.cluster = cluster
        failure = cluster == "source" ? .sourceUnavailable : .targetUnavailable
    }

    deinit { consumer.close() }

    /// What a read from some offset found.
    struct Read {
        var records: [KafkaRecord] = []
        /// The log end offset, when the read reached it.
        var end: Int64?
    }

    /// The last copied source offset held in `target` for the source partition, or `nil` when none is;
    /// and the target partition's log start and true end.
    func lastCopied(in target: TopicPartition, from source: SourcePartition) throws(ReplicationError) -> (lastCopied: Int64?, low: Int64, end: Int64) {
        let (low, approximateEnd) = try watermarks(target)
        var windowEnd = max(low, approximateEnd - 1)
        // The last batch up to the true end of the log.
        let tail = try read(target, from: windowEnd, until: .end)
        let end = tail.end ?? approximateEnd
        if let found = tail.records.compactMap(source.provenanceOffset).last { return (found, low, end) }
        var width: Int64 = 256
        while windowEnd > low {
            let start = max(low, windowEnd - width)
            if let found = try read(target, from: start, until: .before(windowEnd)).records.compactMap(source.provenanceOffset).last {
                return (found, low, end)
            }
            windowEnd = start
            width *= 4
        }
        return (nil, low, end)
    }

    /// The target partition's log start and true end.
    func bounds(of target: TopicPartition) throws(ReplicationError) -> (low: Int64, end: Int64) {
        let (low, approximateEnd) = try watermarks(target)
        let tail = try read(target, from: max(low, approximateEnd - 1), until: .end)
        return (low, tail.end ?? approximateEnd)
    }

    /// The source partition's replicated records from target offset `from` on: at least one unless none is
    /// left up to the end, in target order, covering what was read without holes.
    func replicatedPairs(in target: TopicPartition, from offset: Int64, of source: SourcePartition) throws(ReplicationError) -> [OffsetPair] {
        try read(target, from: offset, until: .firstMatch { source.provenanceOffset($0) != nil }).records.compactMap { record in
            source.provenanceOffset(record).map { OffsetPair(source: $0, target: record.offset) }
        }
    }

    /// The first record at or after `offset`, if any before the end of the log.
    func firstRecord(in partition: TopicPartition, from offset: Int64) throws(ReplicationError) -> KafkaRecord? {
        try read(partition, from: offset, until: .firstMatch { _ in true }).records.first
    }

    /// Records of `partition` from `start` up to (not including) `before`, or to the end of the log.
    func records(in partition: TopicPartition, from start: Int64, before: Int64? = nil) throws(ReplicationError) -> [KafkaRecord] {
        try read(partition, from: start, until: before.map { .before($0) } ?? .end).records
    }

    private func watermarks(_ target: TopicPartition) throws(ReplicationError) -> (Int64, Int64) {
        do {
            return try consumer.queryWatermarks(target, timeout: timeout)
        } catch {
            throw ReplicationError(failure, "cannot read the offsets of \(cluster) partition \(target): \(error)")
        }
    }

    enum Stop {
        /// Read to the end of the log.
        case end
        /// Stop before this offset (or at the end).
        case before(Int64)
        /// Stop after the poll that returned a record matching this (or at the end).
        case firstMatch((KafkaRecord) -> Bool)
    }

    private func read(_ target: TopicPartition, from start: Int64, until stop: Stop) throws(ReplicationError) -> Read {
        do {
            try consumer.assign([(target, .offset(start))])
        } catch {
            throw ReplicationError(failure, "cannot read \(cluster) partition \(target): \(error)")
        }
        defer { try? consumer.unassign([target]) }
        var result = Read()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let batch = consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            var matched = false
            for record in batch.records where record.topic == target.topic && record.partition == target.partition {
                if case .before(let limit) = stop, record.offset >= limit { return result }
                if case .firstMatch(let isMatch) = stop, isMatch(record) { matched = true }
                result.records.append(record)
            }
            if let end = batch.ends.first(where: { $0.0 == target }) {
                result.end = end.1
                return result
            }
            if matched { return result }
            if let error = batch.errors.first(where: { $0.partition == target || $0.partition == nil && $0.error.isFatal }) {
                throw ReplicationError(failure, "cannot read \(cluster) partition \(target) at offset \(start): \(error.error)")
            }
        }
        throw ReplicationError(failure, "reading \(cluster) partition \(target) from offset \(start) took longer than \(timeout)")
    }
}

/// A source partition as its provenance header names it.
struct SourcePartition: Sendable {
    var region: String
    var partition: TopicPartition

    /// The source offset a target record was copied from, when it was copied from this partition.
    func provenanceOffset(_ record: KafkaRecord) -> Int64? {
        guard let value = record.lastHeader(named: Provenance.headerName)?.value,
              let provenance = Provenance(headerValue: value),
              provenance.isFrom(region: region, topic: partition.topic, partition: partition.partition)
        else { return nil }
        return provenance.offset
    }
}
