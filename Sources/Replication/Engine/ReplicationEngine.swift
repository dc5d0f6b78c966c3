import Kafka
import Logging
import Topology
import Foundation

/// Tunables of a replication run, each with a default.
public struct ReplicationOptions: Sendable {
    /// Return once every source partition is copied up to its end and acknowledged. Default `false`.
    public var untilCaughtUp = false
    /// Source partitions whose lost records the operator accepts (`run --accept-gap`). Default none.
    public var acceptGaps: Set<TopicPartition> = []
    /// Most records taken from the source in one poll. Default 10,000.
    public var batchSize = 10_000
    /// How long shutdown waits for writes in flight. Default 30 s.
    public var drainTimeout: Duration = .seconds(30)
    /// Timeout of one metadata, admin or tail-reading request. Default 30 s.
    public var requestTimeout: Duration = .seconds(30)
    /// How often progress is logged. Default 10 s.
    public var progressInterval: Duration = .seconds(10)
    /// Receives copy counts, latencies, errors and group-sync times (metrics and alerts). Default none.
    public var observer: (any ReplicationObserver)?

    /// Creates options with every default.
    public init() {}
}

/// What one source partition's copy achieved in a run.
public struct PartitionSummary: Sendable, Equatable {
    /// The source partition.
    public var source: TopicPartition
    /// Where its records go.
    public var target: TopicPartition
    /// Records the target acknowledged in this run.
    public var copied: Int64
    /// Source offset of the last record acknowledged in this run.
    public var lastCopiedOffset: Int64?
    /// The source log end last seen.
    public var sourceEnd: Int64?
}

/// The engine's state for one source partition.
private struct OwnedPartition {
    var progress: PartitionProgress
    var active = true
    /// `<region>/<topic>/<partition>/`: the provenance header value without the offset, built once.
    let provenancePrefix: [UInt8]
    /// Group mode: the partition's own transactional producer. `nil` in single mode (the shared idempotent one).
    var writer: PartitionWriter?
}

/// Group mode: the transactional producer of one owned partition.
///
/// Its `transactional.id` is `regionbridge.<pair>.<source topic>.<partition>`, the same in every instance, so
/// `initTransactions` in a new owner bumps the producer epoch: the broker then refuses every write of an
/// earlier owner, and aborts the transaction it left open.
private final class PartitionWriter {
    let producer: KafkaProducer
    let transactionalID: String
    var inTransaction = false

    init(producer: KafkaProducer, transactionalID: String) {
        self.producer = producer
        self.transactionalID = transactionalID
    }
}

/// Copies the selected source topics to the target cluster, record for record, in order.
///
/// One dedicated thread runs `run`; every client call blocks that thread and no other.
/// Exactly-once across crashes comes from where it starts, not from a commit: for each partition
/// it reads the target's tail and resumes right after the last `regionbridge.source` offset there,
/// and the idempotent producer (acks=all, gapless) keeps each partition's writes in order without duplicates.
public final class ReplicationEngine: @unchecked Sendable {
    // @unchecked Sendable: all mutable state is touched only by the thread that calls `run`.
    private let topology: Topology
    private let options: ReplicationOptions
    private let logger: Logger

    private var consumer: KafkaConsumer!
    private var producer: KafkaProducer!
    private var sourceAdmin: KafkaAdmin!
    private var targetAdmin: KafkaAdmin!
    private var targetReader: TargetReader!

    private var partitions: [TopicPartition: OwnedPartition] = [:]
    private var sourceTopicOfTarget: [String: String] = [:]
    private var warned: [String: ContinuousClock.Instant] = [:]
    private var provenanceRegion: [UInt8]
    private var suspects = Set<TopicPartition>()
    private var behindSince: [TopicPartition: Int64] = [:]
    private var nextSecond = ContinuousClock.now
    private var lastAcknowledgement = ContinuousClock.now
    private var nextLossCheck = ContinuousClock.now
    private var recordsCopied: Int64 = 0
    private var bytesCopied: Int64 = 0

    // Group mode (`instances.mode: group`).
    private var groupMode: Bool { topology.instances.mode == .group }
    /// Source topics the consumer is subscribed to, sorted.
    private var subscribed: [String] = []
    /// A partition the group assigned that could not be taken over; the run stops with it.
    private var rebalanceFailure: ReplicationError?
    /// The group has assigned this instance partitions at least once.
    private var everAssigned = false
    /// What partitions handed to another instance copied in this run, for the final table.
    private var released: [TopicPartition: PartitionSummary] = [:]
    private var nextCommit = ContinuousClock.now
    /// The group changed the assignment inside the last `poll`.
    private var rebalancedDuringPoll = false

    /// Per-partition positions, published about once a second for the group-offset sync.
    public let state = ReplicationState()

    /// Creates an engine for one region pair.
    public init(topology: Topology, options: ReplicationOptions = ReplicationOptions(), logger: Logger) {
        self.topology = topology
        self.options = options
        self.logger = logger
        self.provenanceRegion = Array("\(topology.target.region)/".utf8)
    }

    private var sourceConfig: KafkaClientConfiguration { topology.source.kafkaConfiguration(pair: topology.pair) }

    private var targetConfig: KafkaClientConfiguration { topology.target.kafkaConfiguration(pair: topology.pair) }

    /// Replicates until `stop` is set (or, with `untilCaughtUp`, until caught up), then drains the writes in flight.
    ///
    /// Blocks the calling thread for the whole run.
    /// - Throws: `ReplicationError` naming the cluster, topic, partition and offset concerned.
    public func run(until stop: StopSignal) throws(ReplicationError) -> [PartitionSummary] {
        try connect()
        defer { consumer.close() }
        var failure: ReplicationError?
        do {
            try copyLoop(stop: stop)
        } catch {
            failure = error
            options.observer?.error(kind: "\(error.kind)")
        }
        let drained = drain()
        publishState()
        if let failure { throw failure }
        if !drained {
            throw ReplicationError(
                .targetUnavailable,
                "stopped with \(inFlight) writes unacknowledged after \(options.drainTimeout); they will be copied again on the next start")
        }
        let gaps = partitions.values.compactMap(\.progress.gap)
        if !gaps.isEmpty {
            throw ReplicationError(.sourceGap, gaps.map(\.description).sorted().joined(separator: "\n")
                + "\nrun again with --accept-gap TOPIC/PARTITION to copy on from the source's log start")
        }
        return summaries()
    }

    /// The group-offset sync for this pair, fed by this engine's state.
    func makeGroupSync() throws(ReplicationError) -> GroupOffsetSync {
        try GroupOffsetSync(topology: topology, state: state, timeout: options.requestTimeout, observer: options.observer, logger: logger)
    }

    private func connect() throws(ReplicationError) {
        logger.info("starting pair \(topology.pair): \(topology.source.region) [\(topology.source.bootstrapServers)] -> \(topology.target.region) [\(topology.target.bootstrapServers)], librdkafka \(librdkafkaVersion)")
        do {
            sourceAdmin = try KafkaAdmin(configuration: sourceConfig, logger: logger)
            targetAdmin = try KafkaAdmin(configuration: targetConfig, logger: logger)
            if groupMode {
                let session = Int(topology.instances.sessionTimeout.seconds * 1000)
                consumer = try KafkaConsumer(
                    configuration: sourceConfig, groupID: topology.consumerGroup,
                    overrides: [
                        "partition.assignment.strategy": "cooperative-sticky",
                        "session.timeout.ms": String(session),
                        "heartbeat.interval.ms": String(min(3000, max(100, session / 4))),
                        "max.poll.interval.ms": String(3 * session),
                    ],
                    rebalance: { [unowned self] event in self.rebalanced(event) }, logger: logger)
            } else {
                consumer = try KafkaConsumer(configuration: sourceConfig, groupID: topology.consumerGroup, logger: logger)
            }
            producer = try KafkaProducer(configuration: targetConfig, logger: logger)
            targetReader = try TargetReader(
                target: targetConfig, groupID: "regionbridge.\(topology.pair).tail", timeout: options.requestTimeout,
                logger: logger)
        } catch {
            throw ReplicationError(.fatal, "cannot create Kafka clients: \(error)")
        }
    }

    // MARK: - The copy loop

    private func copyLoop(stop: StopSignal) throws(ReplicationError) {
        try discover(initial: true)
        let clock = ContinuousClock()
        var nextDiscovery = clock.now + topology.topics.discoveryInterval
        var nextProgress = clock.now + options.progressInterval
        var copiedAtLastProgress: Int64 = 0
        while !stop.isStopped {
            let now = clock.now
            try everySecond()
            if now >= nextDiscovery {
                do { try discover() } catch { warn("discovery", "topic discovery failed, retrying in \(topology.topics.discoveryInterval): \(error)") }
                nextDiscovery = now + topology.topics.discoveryInterval
            }
            if now >= nextProgress {
                let rate = Double(recordsCopied - copiedAtLastProgress) / Double(options.progressInterval.components.seconds)
                logger.info("copied \(recordsCopied) records (\(Int(rate))/s), \(partitions.count) partitions, \(inFlight) in flight")
                copiedAtLastProgress = recordsCopied
                nextProgress = now + options.progressInterval
            }
            let batch = consumer.poll(maxRecords: options.batchSize, timeout: .milliseconds(5))
            if let failure = rebalanceFailure { throw failure }
            if rebalancedDuringPoll {
                try rewind()
                continue
            }
            for record in batch.records {
                guard try copy(record, stop: stop) else { return }
            }
            for (partition, offset) in batch.ends { partitions[partition]?.progress.reachedEnd(offset) }
            for error in batch.errors { try handle(error) }
            try pollWrites(timeout: .zero)
            if groupMode, clock.now >= nextCommit {
                try commitTransactions(timeout: options.requestTimeout)
                nextCommit = clock.now + topology.instances.commitInterval
            }
            if options.untilCaughtUp, isCaughtUp { return }
        }
    }

    /// Sends one record; `false` when a stop was requested while waiting for room in the queue.
    private func copy(_ record: KafkaRecord, stop: StopSignal) throws(ReplicationError) -> Bool {
        let source = TopicPartition(record.topic, record.partition)
        guard var owned = partitions[source], owned.active, owned.progress.gap == nil,
              owned.progress.accept(offset: record.offset)
        else { return true }
        defer { partitions[source] = owned }
        if isLooping(record) { return true }
        var headers = record.headers
        headers.append(KafkaHeader(name: Provenance.headerName, value: owned.provenancePrefix + Array(String(record.offset).utf8)))
        let producer: KafkaProducer
        if let writer = owned.writer {
            if !writer.inTransaction {
                do { try writer.producer.beginTransaction() } catch {
                    partitions[source] = owned
                    try writerFailed(source, error)
                    owned = partitions[source] ?? owned
                    return true
                }
                writer.inTransaction = true
            }
            producer = writer.producer
        } else {
            producer = self.producer
        }
        while true {
            do {
                try producer.send(
                    topic: owned.progress.target.topic, partition: record.partition, key: record.key, value: record.value,
                    headers: headers, timestamp: record.timestamp?.milliseconds, id: UInt64(record.offset))
                owned.progress.sent(timestamp: record.timestamp?.milliseconds)
                bytesCopied += Int64((record.key?.count ?? 0) + (record.value?.count ?? 0))
                return true
            } catch where error.rawName == "QUEUE_FULL" {
                partitions[source] = owned
                try pollWrites(timeout: .milliseconds(10))
                try everySecond()  // lag must still be reported while the target does not take writes
                guard let current = partitions[source], current.writer === owned.writer else { return true }  // dropped meanwhile
                owned = current
                if stop.isStopped { return false }
            } catch where owned.writer != nil && (error.isFenced || error.requiresAbort || error.isFatal) {
                partitions[source] = owned
                try writerFailed(source, error)
                owned = partitions[source] ?? owned
                return true
            } catch where error.isFatal {
                // A write that failed earlier made the producer fatal (with the gapless guarantee any failed write
                // does): its delivery report names the cause and the record, so report that one when it is there.
                partitions[source] = owned
                try handle(producer.poll(timeout: .milliseconds(100)))
                throw ReplicationError(.fatal, "target producer failed: \(producer.fatalError ?? error)")
            } catch {
                throw ReplicationError(
                    .targetRefusedRecord,
                    "cannot copy source \(source) offset \(record.offset) to target \(owned.progress.target): \(error)")
            }
        }
    }

    /// A record that came from the target's own region (active-active pairs) is not sent back there.
    private func isLooping(_ record: KafkaRecord) -> Bool {
        record.headers.contains { header in
            header.name == Provenance.headerName && header.value?.starts(with: provenanceRegion) == true
        }
    }

    /// Delivery errors about the idempotent producer's sequence state with the broker rather than about the record:
    /// librdkafka makes OUT_OF_ORDER_SEQUENCE_NUMBER on the first request in flight fatal. A new run resumes from the
    /// target's tail, so it stops the bridge as a fatal client error (exit 1), not as a refused record (exit 6).
    private static let producerStateErrors: Set<String> = ["OUT_OF_ORDER_SEQUENCE_NUMBER"]

    /// Handles delivery reports and errors; `writer` names the partition whose transactional producer sent them.
    private func handle(_ events: ProducerEvents, writer: TopicPartition? = nil) throws(ReplicationError) {
        var copied: [TopicPartition: (count: Int, bytes: Int, timestamp: Int64?)] = [:]
        defer { report(copied) }
        for report in events.deliveries {
            guard let sourceTopic = sourceTopicOfTarget[report.topic] else { continue }
            let source = TopicPartition(sourceTopic, report.partition)
            if let writer, partitions[writer]?.writer == nil { continue }  // dropped while these were read
            if let error = report.error, let writer, Self.isTransactionFailure(error) {
                if error.rawName.hasPrefix("_PURGE") { continue }  // records of an aborted transaction
                try writerFailed(writer, error)
                continue
            }
            if let error = report.error {
                // librdkafka purges the queued records of every partition when the producer turns fatal. They were
                // not refused; the fatal error itself comes as an error event or as its own record's report.
                if error.rawName == "_PURGE_QUEUE" || error.rawName == "_PURGE_INFLIGHT" { continue }
                if Self.producerStateErrors.contains(error.rawName) {
                    throw ReplicationError(
                        .fatal,
                        "target producer failed at the record from source \(source) offset \(report.id) (target \(report.topic)/\(report.partition)): \(producer.fatalError ?? error). This is the idempotent producer losing step with the target broker, not a refusal of the record: start the bridge again, it resumes after the last record the target holds")
                }
                throw ReplicationError(
                    .targetRefusedRecord,
                    "the target refused the record from source \(source) offset \(report.id) (target \(report.topic)/\(report.partition)): \(error). Nothing after it was copied; fix the cause and start the bridge again")
            }
            if let last = partitions[source]?.progress.lastPair, report.offset <= last.target {
                throw ReplicationError(
                    .targetDataLost,
                    "target \(report.topic)/\(report.partition) went back from offset \(last.target) to \(report.offset): the target cluster lost records the bridge had written (a broker restarted empty, or the topic was re-created). Stopped; start the bridge again to copy \(source) anew from what the target still holds")
            }
            partitions[source]?.progress.delivered(sourceOffset: Int64(report.id), targetOffset: report.offset)
            lastAcknowledgement = ContinuousClock.now
            recordsCopied += 1
            copied[source, default: (0, 0, nil)].count += 1
            copied[source]!.bytes += report.size
            copied[source]!.timestamp = report.timestamp ?? copied[source]!.timestamp
        }
        for error in events.errors {
            if let writer, partitions[writer]?.writer != nil, Self.isTransactionFailure(error) || error.isFatal {
                try writerFailed(writer, error)
                continue
            }
            if error.isFatal { throw ReplicationError(.fatal, "target producer failed: \(error)") }
            warn("target:\(error.rawName)", "target cluster \(topology.target.region): \(error)")
        }
    }

    /// Tells the observer what a poll of delivery reports acknowledged: counts and bytes per partition, and the
    /// latency of the newest record (acknowledgement time minus its source timestamp), one sample per poll.
    private func report(_ copied: [TopicPartition: (count: Int, bytes: Int, timestamp: Int64?)]) {
        guard let observer = options.observer, !copied.isEmpty else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for (partition, batch) in copied {
            observer.recordsCopied(partition: partition, count: batch.count, bytes: batch.bytes)
            if let timestamp = batch.timestamp { observer.latency(partition: partition, milliseconds: Double(max(0, now - timestamp))) }
        }
    }

    private func handle(_ error: ConsumerError) throws(ReplicationError) {
        if error.error.isFatal { throw ReplicationError(.fatal, "source consumer failed: \(error.error)") }
        guard let partition = error.partition else {
            warn("source:\(error.error.rawName)", "source cluster \(topology.source.region): \(error.error)")
            return
        }
        guard error.isOffsetOutOfRange, let owned = partitions[partition] else {
            warn("source:\(partition):\(error.error.rawName)", "source \(partition): \(error.error)")
            return
        }
        let wanted = owned.progress.next ?? error.offset ?? 0
        let marks = (try? consumer.queryWatermarks(partition, timeout: options.requestTimeout)) ?? (low: -1, high: -1)
        try stopOrSkip(SourceGap(partition: partition, wanted: wanted, logStart: marks.low, logEnd: consumer.cachedWatermarks(partition)?.high ?? marks.high))
    }

    /// Finds partitions whose source log no longer holds the next offset to copy, from the watermarks of the
    /// last fetch responses. Brokers should answer OFFSET_OUT_OF_RANGE there, but not all do (tansu answers
    /// an empty fetch), and a partition must never wait silently at a position that cannot exist.
    /// A suspect is confirmed by a second look a second later.
    private func checkPositions() throws(ReplicationError) {
        for (partition, owned) in partitions where owned.active && owned.progress.gap == nil {
            guard let next = owned.progress.next, let marks = consumer.cachedWatermarks(partition),
                  marks.high < next || marks.low > next
            else {
                suspects.remove(partition)
                continue
            }
            if suspects.insert(partition).inserted { continue }
            suspects.remove(partition)
            try stopOrSkip(SourceGap(partition: partition, wanted: next, logStart: max(marks.low, 0), logEnd: marks.high))
        }
    }

    /// Stops a partition at a gap, or restarts it at the log start when the operator accepted the gap.
    private func stopOrSkip(_ gap: SourceGap) throws(ReplicationError) {
        let partition = gap.partition
        guard var owned = partitions[partition] else { return }
        if options.acceptGaps.contains(partition) {
            logger.warning("accepting a gap as the operator asked (--accept-gap \(partition)): \(gap)")
            do { try consumer.seek([(partition, .beginning)], timeout: options.requestTimeout) } catch {
                throw ReplicationError(.sourceUnavailable, "cannot restart \(partition) at its log start: \(error)")
            }
            owned.progress.restart(at: .beginning)
        } else {
            logger.error("stopped copying \(partition): \(gap). Records already copied are kept; run with --accept-gap \(partition) to copy on from the log start")
            owned.progress.gap = gap
            try? consumer.pause([partition])
        }
        partitions[partition] = owned
    }

    /// Checks positions against the source log and publishes state, at most once a second.
    private func everySecond() throws(ReplicationError) {
        let now = ContinuousClock.now
        guard now >= nextSecond else { return }
        nextSecond = now + .seconds(1)
        try checkPositions()
        publishState()
        try checkTargetKeptItsRecords()
    }

    /// When writes have gone unacknowledged for a while, looks at each target partition's true end: a target
    /// that ends before the last record it acknowledged has lost data (a broker came back empty). Some brokers
    /// then never acknowledge again (the idempotent producer's epoch bumps loop on UNKNOWN_PRODUCER_ID), so
    /// this cannot wait for a delivery report.
    private func checkTargetKeptItsRecords() throws(ReplicationError) {
        let now = ContinuousClock.now
        guard inFlight > 0, now - lastAcknowledgement > .seconds(10), now >= nextLossCheck else { return }
        nextLossCheck = now + .seconds(10)
        warn("stalled", "no write acknowledged by target \(topology.target.region) for \(now - lastAcknowledgement) with \(inFlight) in flight")
        // A fresh client: a long-lived one can keep metadata of a broker that restarted empty and never fetch again.
        let reader: TargetReader
        do {
            reader = try TargetReader(
                target: targetConfig, groupID: "regionbridge.\(topology.pair).tail", timeout: options.requestTimeout, logger: logger)
        } catch {
            warn("stalled-check", "cannot create a client to check the target's partitions: \(error)")
            return
        }
        for (source, owned) in partitions where owned.active {
            guard let last = owned.progress.lastPair else { continue }
            let end: Int64
            do { end = try reader.bounds(of: owned.progress.target).end } catch {
                warn("stalled-check", "cannot read the end of target \(owned.progress.target): \(error)")
                continue
            }
            guard end <= last.target else { continue }
            throw ReplicationError(
                .targetDataLost,
                "target \(owned.progress.target) now ends at offset \(end), but it had acknowledged offset \(last.target) (source \(source) offset \(last.source)): the target cluster lost records the bridge had written (a broker restarted empty, or the topic was re-created). Stopped; start the bridge again to copy \(source) anew from what the target still holds")
        }
    }

    /// Publishes positions for the group sync, and lag for metrics and alerts.
    ///
    /// Records behind: the source end from the last fetch response minus what the target acknowledged.
    /// Seconds behind: now minus the source timestamp of the oldest record sent and not acknowledged; when
    /// nothing is in flight but the partition is behind, the time since it was first seen so.
    private func publishState() {
        var snapshot: [TopicPartition: PartitionSnapshot] = [:]
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for (source, owned) in partitions where owned.active {
            let progress = owned.progress
            snapshot[source] = PartitionSnapshot(target: progress.target, replicatedUpTo: progress.replicatedUpTo, lastPair: progress.lastPair)
            guard let observer = options.observer else { continue }
            let end = max(consumer.cachedWatermarks(source)?.high ?? 0, progress.end ?? 0)
            let records = max(0, end - progress.replicatedUpTo)
            var seconds = 0.0
            if let oldest = progress.oldestInFlightTimestamp {
                seconds = Double(max(0, now - oldest)) / 1000
                behindSince[source] = nil
            } else if records > 0 {
                let since = behindSince[source] ?? now
                behindSince[source] = since
                seconds = Double(now - since) / 1000
            } else {
                behindSince[source] = nil
            }
            observer.lag(partition: source, records: records, seconds: seconds)
        }
        state.publish(snapshot, leadsGroupSync: !groupMode || syncLeaderPartition.map { partitions[$0] != nil } == true)
    }

    private var isCaughtUp: Bool {
        if groupMode, !everAssigned || partitions.isEmpty { return false }
        return inFlight == 0 && partitions.values.allSatisfy { !$0.active || $0.progress.isCaughtUp || $0.progress.gap != nil }
    }

    /// Writes queued or in flight, over every producer.
    private var inFlight: Int {
        groupMode ? partitions.values.reduce(0) { $0 + ($1.writer?.producer.queueLength ?? 0) } : producer.queueLength
    }

    /// Waits for every write in flight; `false` when the drain timeout passed first.
    private func drain() -> Bool {
        if groupMode {
            do { try commitTransactions(timeout: options.drainTimeout) } catch { logger.error("while draining: \(error)"); return false }
            return partitions.values.allSatisfy { $0.writer?.inTransaction != true }
        }
        let deadline = ContinuousClock.now + options.drainTimeout
        while producer.queueLength > 0, ContinuousClock.now < deadline {
            let events = producer.poll(timeout: .milliseconds(50))
            do { try handle(events) } catch { logger.error("while draining: \(error)"); return false }
        }
        return producer.queueLength == 0
    }

    /// Logs a warning at most once a minute per key, so a flapping cluster does not flood the log.
    private func warn(_ key: String, _ message: String) {
        options.observer?.error(kind: String(key.prefix { $0 != ":" }))
        let now = ContinuousClock.now
        if let last = warned[key], now - last < .seconds(60) { return }
        warned[key] = now
        logger.warning("\(message)")
    }

    private func summaries() -> [PartitionSummary] {
        var result = released
        for (source, owned) in partitions { result[source] = summary(source, owned, adding: released[source]) }
        return result.values.sorted { $0.source < $1.source }
    }

    private func summary(_ source: TopicPartition, _ owned: OwnedPartition, adding earlier: PartitionSummary?) -> PartitionSummary {
        PartitionSummary(
            source: source, target: owned.progress.target, copied: owned.progress.copied + (earlier?.copied ?? 0),
            lastCopiedOffset: owned.progress.lastDelivered ?? earlier?.lastCopiedOffset, sourceEnd: owned.progress.end ?? earlier?.sourceEnd)
    }

    // MARK: - Topics and partitions

    /// Mirrors new topics and partitions, and starts copying partitions not owned yet.
    ///
    /// At start the metadata requests wait `requestTimeout`; later rounds run inside the copy loop and wait
    /// at most 2 s, so that a cluster that stops answering does not stall copying and lag reports.
    private func discover(initial: Bool = false) throws(ReplicationError) {
        let timeout = initial ? options.requestTimeout : min(options.requestTimeout, .seconds(2))
        let sourceTopics: [TopicMetadata]
        let targetTopics: [TopicMetadata]
        do { sourceTopics = try sourceAdmin.topics(timeout: timeout) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot reach source cluster \(topology.source.region) at \(topology.source.bootstrapServers): \(error)")
        }
        do { targetTopics = try targetAdmin.topics(timeout: timeout) } catch {
            throw ReplicationError(.targetUnavailable, "cannot reach target cluster \(topology.target.region) at \(topology.target.bootstrapServers): \(error)")
        }
        let owned = Set(partitions.filter { $0.value.active }.keys)
        let plan = TopicPlan.make(source: sourceTopics, target: targetTopics, topology: topology, owned: owned)
        for warning in plan.warnings { warn(warning, warning) }
        for creation in plan.creations { try createTargetTopic(creation) }
        for growth in plan.growths {
            do {
                try targetAdmin.createPartitions(topic: growth.target, totalCount: growth.to, timeout: options.requestTimeout)
                logger.notice("grew target topic \(growth.target) from \(growth.from) to \(growth.to) partitions")
            } catch {
                throw ReplicationError(.targetTopicSetup, "cannot grow target topic \(growth.target) to \(growth.to) partitions: \(error)")
            }
        }
        if groupMode {
            try subscribe(plan)
            return
        }
        for vanished in plan.vanished {
            partitions[vanished]?.active = false
            try? consumer.unassign([vanished])
            let last = partitions[vanished]?.progress.lastDelivered.map(String.init) ?? "none this run"
            logger.warning("source \(vanished) is gone (topic deleted or no longer selected); last offset copied: \(last). Its target copy is kept")
        }
        guard !plan.newPartitions.isEmpty else { return }
        if !plan.creations.isEmpty || !plan.growths.isEmpty {
            try waitForTargetPartitions(plan.newPartitions)
        }
        var assignments: [(TopicPartition, StartOffset)] = []
        for source in plan.newPartitions {
            let targetTopic = topology.topics.rename.targetTopic(for: source.topic, sourceRegion: topology.source.region)
            let target = TopicPartition(targetTopic, source.partition)
            let last = try targetReader.lastCopied(in: target, from: SourcePartition(region: topology.source.region, partition: source)).lastCopied
            let start = ResumePoint.start(afterLastCopied: last)
            sourceTopicOfTarget[targetTopic] = source.topic
            let prefix = Array("\(topology.source.region)/\(source.topic)/\(source.partition)/".utf8)
            partitions[source] = OwnedPartition(progress: PartitionProgress(target: target, start: start), provenancePrefix: prefix)
            assignments.append((source, start))
            logger.info("copying \(source) -> \(target) from \(last.map { "offset \($0 + 1) (after \($0), the last copied)" } ?? "the log start")")
        }
        do { try consumer.assign(assignments) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot assign source partitions: \(error)")
        }
    }

    private func createTargetTopic(_ creation: TopicPlan.Creation) throws(ReplicationError) {
        var configs: [String: String] = [:]
        do {
            configs = TopicConfigCopy.entriesToCopy(try sourceAdmin.describeTopicConfig(creation.source, timeout: options.requestTimeout))
        } catch {
            warn("describe:\(creation.source)", "cannot read the configuration of source topic \(creation.source) (\(error)); creating \(creation.target) with the target's defaults")
        }
        let topic = NewTopic(
            name: creation.target, partitions: creation.partitions,
            replicationFactor: topology.topics.replicationFactor, configs: configs)
        let errors: [String: KafkaError]
        do { errors = try targetAdmin.createTopics([topic], timeout: options.requestTimeout) } catch {
            throw ReplicationError(.targetTopicSetup, "cannot create target topic \(creation.target): \(error)")
        }
        if let error = errors[creation.target], error.code != .topicAlreadyExists {
            throw ReplicationError(.targetTopicSetup, "cannot create target topic \(creation.target) for source \(creation.source): \(error)")
        }
        let shown = configs.keys.sorted().map { "\($0)=\(configs[$0]!)" }.joined(separator: ", ")
        logger.notice("created target topic \(creation.target) with \(creation.partitions) partitions\(shown.isEmpty ? "" : " (\(shown))")")
    }

    /// Waits until the target's metadata shows every partition the new source partitions map to.
    private func waitForTargetPartitions(_ sources: [TopicPartition]) throws(ReplicationError) {
        let deadline = ContinuousClock.now + options.requestTimeout
        while true {
            let topics = (try? targetAdmin.topics(timeout: options.requestTimeout)) ?? []
            let known = Dictionary(topics.map { ($0.name, Set($0.partitions)) }, uniquingKeysWith: { a, _ in a })
            let missing = sources.filter { source in
                let target = topology.topics.rename.targetTopic(for: source.topic, sourceRegion: topology.source.region)
                return known[target]?.contains(source.partition) != true
            }
            if missing.isEmpty { return }
            if ContinuousClock.now > deadline {
                throw ReplicationError(.targetTopicSetup, "target partitions for \(missing.map(\.description).joined(separator: ", ")) did not appear within \(options.requestTimeout)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}

// MARK: - Group mode

extension ReplicationEngine {
    /// Subscribes to the selected source topics whose target topics exist, when that set changed. The group
    /// coordinator then assigns partitions, and `rebalanced` takes them over.
    private func subscribe(_ plan: TopicPlan) throws(ReplicationError) {
        let pending = Set(plan.creations.map(\.source))
        let present = plan.newPartitions + partitions.keys
        if !plan.creations.isEmpty || !plan.growths.isEmpty { try waitForTargetPartitions(plan.newPartitions) }
        let topics = Set(present.map(\.topic)).union(pending).sorted()
        guard topics != subscribed, !topics.isEmpty else { return }
        do { try consumer.subscribe(topics) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot join consumer group \(topology.consumerGroup): \(error)")
        }
        subscribed = topics
        logger.info("joined consumer group \(topology.consumerGroup) in \(topology.source.region) for \(topics.joined(separator: ", ")) (cooperative-sticky, session timeout \(topology.instances.sessionTimeout))")
        publishState()
    }

    /// After a rebalance inside a batch poll, the batch is dropped and every owned partition is read again from
    /// the next offset to copy. librdkafka's batch consume can drop records it had already collected
    /// when a rebalance lands in the middle of a batch, while their partition's fetch position has moved past
    /// them (seen on tansu: one record lost per kept partition); reading again from the engine's own position
    /// makes that harmless, and `PartitionProgress.accept` skips whatever is delivered twice.
    private func rewind() throws(ReplicationError) {
        rebalancedDuringPoll = false
        let seeks = partitions.keys.sorted().compactMap { source -> (TopicPartition, StartOffset)? in
            guard let owned = partitions[source], owned.progress.gap == nil else { return nil }
            return (source, owned.progress.next.map { .offset($0) } ?? .beginning)
        }
        do { try consumer.seek(seeks, timeout: options.requestTimeout) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot read the owned partitions again after a rebalance: \(error)")
        }
    }

    /// The partition whose owner runs the group-offset sync, offset syncs and checkpoints: partition 0 of the
    /// first replicated topic. Leadership moves with that partition.
    private var syncLeaderPartition: TopicPartition? { subscribed.first.map { TopicPartition($0, 0) } }

    /// Answers the group coordinator: takes over assigned partitions, hands revoked ones back.
    fileprivate func rebalanced(_ event: RebalanceEvent) -> [(TopicPartition, StartOffset)] {
        if case .failed = event {} else { rebalancedDuringPoll = true }
        switch event {
        case .assigned(let sources):
            everAssigned = true
            guard !sources.isEmpty else { return [] }
            var starts: [(TopicPartition, StartOffset)] = []
            for source in sources.sorted() {
                do throws(ReplicationError) {
                    starts.append((source, try takeOver(source)))
                } catch {
                    logger.error("cannot take over \(source): \(error)")
                    rebalanceFailure = rebalanceFailure ?? error
                }
            }
            logOwnership("the group assigned \(sources.sorted().map(\.description).joined(separator: ", "))")
            publishState()
            return starts
        case .revoked(let sources, let lost):
            guard !sources.isEmpty else { return [] }
            for source in sources.sorted() { release(source, lost: lost) }
            logOwnership("the group \(lost ? "found lost" : "revoked") \(sources.sorted().map(\.description).joined(separator: ", "))")
            publishState()
            return []
        case .failed(let error):
            warn("group", "consumer group \(topology.consumerGroup): \(error)")
            return []
        }
    }

    /// Logs what this instance owns after a change, in one line: `<why>; owns N partition(s): a/0, b/1`.
    private func logOwnership(_ why: String) {
        logger.notice("\(why); owns \(partitions.count) partition(s): \(partitions.keys.sorted().map(\.description).joined(separator: ", "))")
    }

    /// Fences every earlier writer of the partition, then reads the target tail: the source resumes right after
    /// the last record any owner committed, and no earlier owner can write after that.
    private func takeOver(_ source: TopicPartition) throws(ReplicationError) -> StartOffset {
        let targetTopic = topology.topics.rename.targetTopic(for: source.topic, sourceRegion: topology.source.region)
        let target = TopicPartition(targetTopic, source.partition)
        let transactionalID = "\(topology.consumerGroup).\(source.topic).\(source.partition)"
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: targetConfig, transactionalID: transactionalID, logger: logger)
            try producer.initTransactions(timeout: options.requestTimeout)
        } catch {
            throw ReplicationError(.targetUnavailable, "cannot fence earlier writers of \(target) (transactional.id \(transactionalID)): \(error)")
        }
        let last = try targetReader.lastCopied(in: target, from: SourcePartition(region: topology.source.region, partition: source)).lastCopied
        let start = ResumePoint.start(afterLastCopied: last)
        sourceTopicOfTarget[targetTopic] = source.topic
        let prefix = Array("\(topology.source.region)/\(source.topic)/\(source.partition)/".utf8)
        partitions[source] = OwnedPartition(
            progress: PartitionProgress(target: target, start: start), provenancePrefix: prefix,
            writer: PartitionWriter(producer: producer, transactionalID: transactionalID))
        logger.info("took over \(source) -> \(target): earlier writers fenced, copying from \(last.map { "offset \($0 + 1) (after \($0), the last copied)" } ?? "the log start")")
        return start
    }

    /// Hands a partition back: commits its open transaction (or, when the group says it was lost, aborts it,
    /// because another instance may own it already), then forgets it.
    private func release(_ source: TopicPartition, lost: Bool) {
        guard let owned = partitions[source] else { return }
        if let writer = owned.writer, writer.inTransaction {
            if lost {
                // Another instance may own the partition and have fenced this writer already: an abort would only
                // wait for a refusal. The new owner's fence aborts the transaction (or the transaction timeout does).
                logger.notice("\(source): open transaction left to be aborted by the next owner (assignment lost); its records are copied again")
            } else {
                do throws(ReplicationError) { try commit(source, timeout: options.drainTimeout) } catch {
                    try? writer.producer.abortTransaction(timeout: options.requestTimeout)
                    writer.inTransaction = false
                    logger.notice("\(source): open transaction abandoned on hand-over (\(error)); the next owner copies its records again")
                }
            }
        }
        if let current = partitions[source] {
            released[source] = summary(source, current, adding: released[source])
        }
        partitions[source] = nil
    }

    /// Commits every open transaction: first waits until each one's records are acknowledged (delivery reports
    /// handled), then ends the transactions.
    private func commitTransactions(timeout: Duration) throws(ReplicationError) {
        let open = partitions.filter { $0.value.writer?.inTransaction == true }.keys.sorted()
        guard !open.isEmpty else { return }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let waiting = open.filter { (partitions[$0]?.writer?.producer.queueLength ?? 0) > 0 }
            if waiting.isEmpty { break }
            for source in waiting {
                guard let writer = partitions[source]?.writer else { continue }
                try handle(writer.producer.poll(timeout: .milliseconds(1)), writer: source)
            }
        }
        for source in open where partitions[source]?.writer?.inTransaction == true {
            do throws(ReplicationError) { try commit(source, timeout: max(.zero, deadline - ContinuousClock.now)) } catch {
                // The commit neither succeeded nor failed for good (it timed out, or the coordinator was unreachable):
                // librdkafka may still complete it, so it cannot be aborted, and neither writing on nor resuming is
                // safe. A woken zombie ends up here too when its coordinator connection went stale while it was paused.
                throw ReplicationError(
                    .targetUnavailable,
                    "\(error.message). The outcome of that transaction is unknown, so this instance stops: the group hands its partitions to another instance, whose fence settles the transaction. Start this one again")
            }
        }
    }

    /// Flushes and commits one partition's transaction.
    private func commit(_ source: TopicPartition, timeout: Duration) throws(ReplicationError) {
        guard let writer = partitions[source]?.writer, writer.inTransaction else { return }
        let deadline = ContinuousClock.now + timeout
        while writer.producer.queueLength > 0, ContinuousClock.now < deadline {
            try handle(writer.producer.poll(timeout: .milliseconds(5)), writer: source)
            guard partitions[source]?.writer === writer else { return }
        }
        do {
            try writer.producer.commitTransaction(timeout: max(.milliseconds(1), deadline - ContinuousClock.now))
            writer.inTransaction = false
        } catch {
            if error.isFenced || error.requiresAbort || error.isFatal {
                try writerFailed(source, error)
            } else {
                throw ReplicationError(.targetUnavailable, "cannot commit the transaction of \(source): \(error)")
            }
        }
        try handle(writer.producer.poll(timeout: .zero), writer: source)
    }

    /// A transactional write failed. Fenced: a newer owner has the partition, so it is dropped at once and never
    /// written again by this instance unless the group assigns it back. Otherwise the transaction is aborted and
    /// the partition restarts from what the target holds.
    private func writerFailed(_ source: TopicPartition, _ error: KafkaError) throws(ReplicationError) {
        guard let owned = partitions[source], let writer = owned.writer else { return }
        let fenced = error.isFenced || writer.producer.fatalError?.isFenced == true
        if fenced || error.isFatal || writer.producer.fatalError != nil {
            logger.warning("\(source): \(fenced ? "a newer owner fenced this instance's writer" : "the writer failed") (\(error)); the partition is dropped here and not written again unless the group assigns it back")
            options.observer?.error(kind: fenced ? "fenced" : "writer")
            released[source] = summary(source, owned, adding: released[source])
            partitions[source] = nil
            publishState()
            logOwnership("dropped \(source)")
            return
        }
        logger.warning("\(source): transaction failed (\(error)); aborting it and resuming from the target's tail")
        options.observer?.error(kind: "transaction")
        do { try writer.producer.abortTransaction(timeout: options.requestTimeout) } catch {
            throw ReplicationError(.targetUnavailable, "cannot abort the transaction of \(source): \(error)")
        }
        writer.inTransaction = false
        let last = try targetReader.lastCopied(in: owned.progress.target, from: SourcePartition(region: topology.source.region, partition: source)).lastCopied
        let start = ResumePoint.start(afterLastCopied: last)
        do { try consumer.seek([(source, start)], timeout: options.requestTimeout) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot restart \(source) after an aborted transaction: \(error)")
        }
        partitions[source]?.progress = PartitionProgress(target: owned.progress.target, start: start)
    }

    /// Reads delivery reports and errors of every producer without waiting longer than `timeout` in total.
    private func pollWrites(timeout: Duration) throws(ReplicationError) {
        guard groupMode else {
            try handle(producer.poll(timeout: timeout))
            return
        }
        let writers = partitions.compactMap { source, owned in owned.writer.map { (source, $0) } }
        for (index, (source, writer)) in writers.enumerated() {
            try handle(writer.producer.poll(timeout: index == 0 ? timeout : .zero), writer: source)
        }
    }

    /// Errors that end a partition's transaction (rather than a record the target refuses).
    private static func isTransactionFailure(_ error: KafkaError) -> Bool {
        error.isFenced || error.requiresAbort || error.isFatal || error.rawName.hasPrefix("_PURGE")
            || ["_MSG_TIMED_OUT", "_TIMED_OUT", "_STATE", "INVALID_TXN_STATE", "_GAPLESS_GUARANTEE", "OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID"].contains(error.rawName)
    }
}
