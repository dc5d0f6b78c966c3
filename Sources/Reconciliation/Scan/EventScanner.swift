import Foundation
import Kafka
import Logging
import Replication

/// What scanning one side found besides the events.
struct ScanOutcome {
    /// Next offset to scan, per partition: the log end the scan reached.
    var next: [ScannedPartition: Int64] = [:]
    /// Records read.
    var records = 0
    /// Records without an event id (not indexed).
    var withoutEventID = 0
    /// Things an operator should know (records deleted before they were scanned, logs replaced).
    var warnings: [String] = []
}

/// Reads partitions of one cluster from given offsets to their ends, handing each record on.
///
/// A partition ends at the fetch's partition EOF, not at ListOffsets (some Kafka-compatible brokers
/// answer ListOffsets(latest) with the last batch's base offset plus one).
final class EventScanner {
    private let consumer: KafkaConsumer
    private let cluster: String
    private let timeout: Duration

    /// - Parameters:
    ///   - cluster: how messages name the cluster, e.g. `source us-east`.
    ///   - timeout: the longest a partition may go without progress.
    init(configuration: KafkaClientConfiguration, groupID: String, cluster: String, timeout: Duration, logger: Logger) throws(ReconcileError) {
        do {
            consumer = try KafkaConsumer(
                configuration: configuration, groupID: groupID,
                defaults: ["fetch.wait.max.ms": "50"],
                overrides: ["enable.partition.eof": "true", "auto.offset.reset": "error", "queued.max.messages.kbytes": "16384"],
                logger: logger)
        } catch {
            throw ReconcileError(.unreachable, "cannot create a Kafka client for the \(cluster) cluster: \(error)")
        }
        self.cluster = cluster
        self.timeout = timeout
    }

    deinit { consumer.close() }

    /// The partition's log start and (approximate) end.
    func watermarks(_ partition: TopicPartition) throws(ReconcileError) -> (low: Int64, high: Int64) {
        do {
            return try consumer.queryWatermarks(partition, timeout: timeout)
        } catch {
            throw ReconcileError(.unreachable, "cannot read the offsets of \(cluster) partition \(partition): \(error)")
        }
    }

    /// Reads every partition from its start offset to its end, calling `body` for each record.
    /// - Returns: per partition, the offset the scan ended at.
    func scan(
        from starts: [TopicPartition: Int64], progress: (Int) -> Void, _ body: (KafkaRecord) throws -> Void
    ) throws -> [TopicPartition: Int64] {
        guard !starts.isEmpty else { return [:] }
        do {
            try consumer.assign(starts.map { ($0.key, .offset($0.value)) })
        } catch {
            throw ReconcileError(.unreachable, "cannot read \(cluster) partitions: \(error)")
        }
        var ends: [TopicPartition: Int64] = [:]
        var lastProgress = ContinuousClock.now
        var read = 0
        while ends.count < starts.count {
            let batch = consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100))
            for record in batch.records {
                try body(record)
            }
            read += batch.records.count
            for (partition, end) in batch.ends where starts[partition] != nil && ends[partition] == nil {
                ends[partition] = end
                try? consumer.unassign([partition])
            }
            if let error = batch.errors.first(where: { $0.partition == nil ? $0.error.isFatal : ends[$0.partition!] == nil }) {
                let at = error.partition.map { " partition \($0)" } ?? ""
                let hint = error.isOffsetOutOfRange
                    ? " (the log no longer holds the offset an earlier run scanned up to: was the topic re-created? run with --rescan)" : ""
                throw ReconcileError(.unreachable, "cannot read \(cluster)\(at)\(error.offset.map { " at offset \($0)" } ?? ""): \(error.error)\(hint)")
            }
            if !batch.records.isEmpty || !batch.ends.isEmpty {
                lastProgress = .now
                progress(read)
            } else if ContinuousClock.now - lastProgress > timeout {
                let waiting = starts.keys.filter { ends[$0] == nil }.sorted().map(\.description).joined(separator: ", ")
                throw ReconcileError(.unreachable, "reading \(cluster) partitions \(waiting) made no progress for \(timeout)")
            }
        }
        return ends
    }
}
