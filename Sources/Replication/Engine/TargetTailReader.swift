import Kafka
import Logging

/// Finds, for each target partition, the last source offset the bridge copied into it, by reading
/// the partition's tail for the newest `regionbridge.source` header that names the source partition.
///
/// It learns the partition's true end from fetch responses (partition EOF), not from ListOffsets alone,
/// because some Kafka-compatible brokers answer ListOffsets(latest) with the last batch's base offset.
/// When the tail holds no matching record (local records in an active-active pair), it scans back in
/// growing windows down to the log start.
final class TargetTailReader {
    private let consumer: KafkaConsumer
    private let timeout: Duration
    private let logger: Logger

    init(target: KafkaClientConfiguration, groupID: String, timeout: Duration, logger: Logger) throws(KafkaError) {
        consumer = try KafkaConsumer(
            configuration: target, groupID: groupID,
            overrides: ["fetch.wait.max.ms": "10", "enable.partition.eof": "true", "auto.offset.reset": "error"],
            logger: logger)
        self.timeout = timeout
        self.logger = logger
    }

    deinit { consumer.close() }

    /// The last copied source offset held in `target` for the source partition, or `nil` when none is.
    func lastCopiedOffset(in target: TopicPartition, sourceRegion: String, source: TopicPartition) throws(ReplicationError) -> Int64? {
        let matches: (KafkaRecord) -> Int64? = { record in
            guard let value = record.lastHeader(named: Provenance.headerName)?.value,
                  let provenance = Provenance(headerValue: value),
                  provenance.isFrom(region: sourceRegion, topic: source.topic, partition: source.partition)
            else { return nil }
            return provenance.offset
        }
        let (low, approximateEnd) = try watermarks(target)
        var windowEnd = max(low, approximateEnd - 1)
        // The last batch up to the true end of the log.
        if let found = try read(target, from: windowEnd, before: nil).compactMap(matches).last {
            return found
        }
        var width: Int64 = 256
        while windowEnd > low {
            let start = max(low, windowEnd - width)
            if let found = try read(target, from: start, before: windowEnd).compactMap(matches).last {
                return found
            }
            windowEnd = start
            width *= 4
        }
        return nil
    }

    private func watermarks(_ target: TopicPartition) throws(ReplicationError) -> (Int64, Int64) {
        do {
            return try consumer.queryWatermarks(target, timeout: timeout)
        } catch {
            throw ReplicationError(.targetUnavailable, "cannot read the offsets of target partition \(target): \(error)")
        }
    }

    /// Records of `target` from `start` up to the end of the log, or up to (not including) `before`.
    private func read(_ target: TopicPartition, from start: Int64, before: Int64?) throws(ReplicationError) -> [KafkaRecord] {
        do {
            try consumer.assign([(target, .offset(start))])
        } catch {
            throw ReplicationError(.targetUnavailable, "cannot read target partition \(target): \(error)")
        }
        defer { try? consumer.unassign([target]) }
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let batch = consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            for record in batch.records where record.topic == target.topic && record.partition == target.partition {
                if let before, record.offset >= before { return records }
                records.append(record)
            }
            if batch.ends.contains(where: { $0.0 == target }) { return records }
            if let error = batch.errors.first(where: { $0.partition == target || $0.partition == nil && $0.error.isFatal }) {
                throw ReplicationError(.targetUnavailable, "cannot read target partition \(target) at offset \(start): \(error.error)")
            }
        }
        throw ReplicationError(.targetUnavailable, "reading the tail of target partition \(target) took longer than \(timeout)")
    }
}
