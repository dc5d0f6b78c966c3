import Formats
import Kafka
import Logging

/// Reads partitions (of the target, mostly) for what the bridge copied into them: the last source offset copied (for resuming),
/// the true end of the log, and the replicated records from some target offset on (for offset translation).
///
/// It learns a partition's end from fetch responses (partition EOF), not from ListOffsets alone, because some
/// Kafka-compatible brokers answer ListOffsets(latest) with the last batch's base offset.
package final class TargetReader {
    private let consumer: KafkaConsumer
    private let timeout: Duration
    private let cluster: String
    private let failure: ReplicationError.Kind

    /// - Parameter cluster: how errors name the cluster (`target` by default; `source` when reading the source).
    package init(target: KafkaClientConfiguration, groupID: String, timeout: Duration, logger: Logger, cluster: String = "target") throws(KafkaError) {
        consumer = try KafkaConsumer(
            configuration: target, groupID: groupID,
            defaults: ["fetch.wait.max.ms": "10"], overrides: ["enable.partition.eof": "true", "auto.offset.reset": "error"],
            logger: logger)
        self.timeout = timeout
        self.cluster = cluster
        failure = cluster == "source" ? .sourceUnavailable : .targetUnavailable
    }

    deinit { consumer.close() }

    /// What a read from some offset found.
    package struct Read {
        var records: [KafkaRecord] = []
        /// The log end offset, when the read reached it.
        var end: Int64?
    }

    /// The last copied source offset held in `target` for the source partition, or `nil` when none is;
    /// and the target partition's log start and true end.
    package func lastCopied(in target: TopicPartition, from source: SourcePartition) throws(ReplicationError) -> (lastCopied: Int64?, low: Int64, end: Int64) {
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

    /// The last copied source offset held in each target partition for its source partition (`nil` when none
    /// is), reading the tails of all of them in one pass: one assignment, each partition from a few records
    /// before its end, until every partition reports its end. A partition whose tail holds no record of its source
    /// (local writes of an active-active pair, transaction markers) is then scanned back on its own.
    package func lastCopied(_ partitions: [(target: TopicPartition, source: SourcePartition)]) throws(ReplicationError) -> [TopicPartition: Int64?] {
        if partitions.count == 1, let only = partitions.first {
            return [only.target: try lastCopied(in: only.target, from: only.source).lastCopied]
        }
        guard !partitions.isEmpty else { return [:] }
        let tails = try readTails(partitions.map(\.target))
        var result: [TopicPartition: Int64?] = [:]
        for (target, source) in partitions {
            let tail = tails[target] ?? TailRead()
            if !tail.outOfRange, let found = tail.records.compactMap(source.provenanceOffset).last {
                result[target] = .some(found)
            } else if !tail.outOfRange, tail.firstOffset == 0 {
                result[target] = .some(nil)  // the whole log was read
            } else {
                result[target] = .some(try lastCopied(in: target, from: source).lastCopied)
            }
        }
        return result
    }

    /// The true end of each partition (from the fetch that reaches it), reading only its last records.
    package func ends(of partitions: [TopicPartition]) throws(ReplicationError) -> [TopicPartition: Int64] {
        var ends: [TopicPartition: Int64] = [:]
        for (partition, tail) in try readTails(partitions) {
            ends[partition] = tail.outOfRange ? try bounds(of: partition).end : tail.end
        }
        return ends
    }

    /// What a tail read found in one partition.
    package struct TailRead {
        var records: [KafkaRecord] = []
        /// The first offset read: of the first record, or the end when the tail held none.
        var firstOffset: Int64?
        var end: Int64?
        /// The log starts after the tail's first offset (fewer records than the tail since the log start): read it
        /// on its own, from its log start.
        var outOfRange = false
    }

    /// Reads every partition from a few records before its end up to its end, all at once.
    private func readTails(_ partitions: [TopicPartition]) throws(ReplicationError) -> [TopicPartition: TailRead] {
        do {
            try consumer.assign(partitions.map { ($0, .beforeEnd(Self.tailRecords)) })
        } catch {
            throw ReplicationError(failure, "cannot read \(cluster) partitions \(partitions.map(\.description).joined(separator: ", ")): \(error)")
        }
        defer { try? consumer.unassign(partitions) }
        var tails = Dictionary(uniqueKeysWithValues: partitions.map { ($0, TailRead()) })
        var open = Set(partitions)
        let deadline = ContinuousClock.now + timeout
        while !open.isEmpty, ContinuousClock.now < deadline {
            let batch = consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            try throwIfRefused()
            for record in batch.records {
                let partition = TopicPartition(record.topic, record.partition)
                guard open.contains(partition) else { continue }
                tails[partition]!.records.append(record)
                if tails[partition]!.firstOffset == nil { tails[partition]!.firstOffset = record.offset }
            }
            for (partition, end) in batch.ends where open.contains(partition) {
                tails[partition]!.end = end
                if tails[partition]!.firstOffset == nil { tails[partition]!.firstOffset = end }
                open.remove(partition)
            }
            for error in batch.errors {
                if let partition = error.partition, open.contains(partition), error.isOffsetOutOfRange {
                    tails[partition]!.outOfRange = true
                    open.remove(partition)
                } else if error.partition.map(open.contains) ?? error.error.isFatal {
                    throw ReplicationError(failure, "cannot read \(cluster) partition \(error.partition.map(\.description) ?? "(all)"): \(error.error)")
                }
            }
        }
        if !open.isEmpty {
            throw ReplicationError(failure, "reading the end of \(cluster) partition(s) \(open.sorted().map(\.description).joined(separator: ", ")) took longer than \(timeout)")
        }
        return tails
    }

    /// How many records before its end a tail read starts: enough to pass the transaction markers a
    /// transactional writer leaves after each commit.
    private static let tailRecords: Int64 = 64

    /// The target partition's log start and true end.
    package func bounds(of target: TopicPartition) throws(ReplicationError) -> (low: Int64, end: Int64) {
        let (low, approximateEnd) = try watermarks(target)
        let tail = try read(target, from: max(low, approximateEnd - 1), until: .end)
        return (low, tail.end ?? approximateEnd)
    }

    /// The source partition's replicated records from target offset `from` on: at least one unless none is
    /// left up to the end, in target order, covering what was read without holes.
    package func replicatedPairs(in target: TopicPartition, from offset: Int64, of source: SourcePartition) throws(ReplicationError) -> [OffsetPair] {
        try read(target, from: offset, until: .firstMatch { source.provenanceOffset($0) != nil }).records.compactMap { record in
            source.provenanceOffset(record).map { OffsetPair(source: $0, target: record.offset) }
        }
    }

    /// The first record at or after `offset`, if any before the end of the log.
    package func firstRecord(in partition: TopicPartition, from offset: Int64) throws(ReplicationError) -> KafkaRecord? {
        try read(partition, from: offset, until: .firstMatch { _ in true }).records.first
    }

    /// Records of `partition` from `start` up to (not including) `before`, or to the end of the log.
    package func records(in partition: TopicPartition, from start: Int64, before: Int64? = nil) throws(ReplicationError) -> [KafkaRecord] {
        try read(partition, from: start, until: before.map { .before($0) } ?? .end).records
    }

    /// A cluster that refuses the reader is named at once: waiting for the read's timeout would not mend it.
    private func throwIfRefused() throws(ReplicationError) {
        if let refusal = consumer.refusal { throw refused(refusal) }
    }

    private func refused(_ refusal: ConnectionRefusal) -> ReplicationError {
        ReplicationError(failure == .sourceUnavailable ? .sourceRefused : .targetRefused, "the \(cluster) cluster refuses this client: \(refusal)")
    }

    private func watermarks(_ target: TopicPartition) throws(ReplicationError) -> (Int64, Int64) {
        do {
            return try consumer.queryWatermarks(target, timeout: timeout)
        } catch {
            if let refusal = error.refusal { throw refused(refusal) }
            throw ReplicationError(failure, "cannot read the offsets of \(cluster) partition \(target): \(error)")
        }
    }

    package enum Stop {
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
            try throwIfRefused()
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
package struct SourcePartition: Sendable {
    package var region: String
    package var partition: TopicPartition

    package init(region: String, partition: TopicPartition) {
        self.region = region
        self.partition = partition
    }

    /// The source offset a target record was copied from, when it was copied from this partition.
    package func provenanceOffset(_ record: KafkaRecord) -> Int64? {
        guard let value = record.lastHeader(named: Provenance.headerName)?.value,
              let provenance = Provenance(headerValue: value),
              provenance.isFrom(region: region, topic: partition.topic, partition: partition.partition)
        else { return nil }
        return provenance.offset
    }
}
