import Formats
import Foundation
import Kafka
import Logging
import Synchronization
import Topology

/// Tunables of a replication run, each with a default.
package struct ReplicationOptions: Sendable {
    /// Return once every source partition is copied up to its end and acknowledged. Default `false`.
    package var untilCaughtUp = false
    /// Source partitions whose lost records the operator accepts (`run --accept-gap`). Default none.
    package var acceptGaps: Set<TopicPartition> = []
    /// Most records taken from the source in one poll. Default 10,000.
    package var batchSize = 10_000
    /// How long shutdown waits for writes in flight. Default 30 s.
    package var drainTimeout: Duration = .seconds(30)
    /// Timeout of one metadata, admin or tail-reading request. Default 30 s.
    package var requestTimeout: Duration = .seconds(30)
    /// How long a cluster that does not answer at start is waited for before the run stops. Default 2 minutes.
    package var startTimeout: Duration = .seconds(120)
    /// How often progress is logged. Default 10 s.
    package var progressInterval: Duration = .seconds(10)
    /// Receives copy counts, latencies, errors and group-sync times (metrics and alerts). Default none.
    package var observer: (any ReplicationObserver)?
    /// Where the target's acknowledged positions are published for `/v1/replicated` waits. Default none.
    package var positions: ReplicatedPositions?

    /// Creates options with every default.
    package init() {}
}

/// What one source partition's copy achieved in a run.
package struct PartitionSummary: Sendable, Equatable {
    /// The source partition.
    package var source: TopicPartition
    /// Where its records go.
    package var target: TopicPartition
    /// Records the target acknowledged in this run.
    package var copied: Int64
    /// Source offset of the last record acknowledged in this run.
    package var lastCopiedOffset: Int64?
    /// The source log end last seen.
    package var sourceEnd: Int64?
}

/// Copies the selected source topics to the target cluster, record for record, in order.
///
/// One dedicated thread runs `run`: the copy loop. It only moves records and reads delivery reports: it waits on a
/// ``ReadySignal`` that the consumer, the producers and the background thread raise, takes the records that are
/// ready, forwards each one straight from librdkafka's message (``KafkaProducer/forward(_:to:partition:header:value:id:)``),
/// and reads the acknowledgements. Topic discovery, lag sampling, the target loss check and gap lookups run on a
/// background thread (``BackgroundWork``).
///
/// Exactly-once across crashes comes from where it starts, not from a commit: for each partition it reads the
/// target's tail and resumes right after the last `regionbridge.source` offset there, and the idempotent producer
/// (acks=all, gapless) keeps each partition's writes in order without duplicates. In group mode each partition is
/// written in transactions by its own fenced producer (see `GroupMode.swift`).
package final class ReplicationEngine: @unchecked Sendable {
    // @unchecked Sendable: all mutable state is touched only by the thread that calls `run` (the background
    // thread talks to it through ``BackgroundWork``'s mailbox, the group sync through ``state``).
    let topology: Topology
    let options: ReplicationOptions
    let logger: Logger

    var consumer: KafkaConsumer!
    /// Single mode: the idempotent producer the partitions are written through. (A list, so that the copy loop
    /// reads every producer the same way in both modes; several producers, each with its own connections, were
    /// measured and left out: see the README's performance section.)
    var producers: [KafkaProducer] = []
    /// The command's shared clients: the admin clients come from here.
    let clients: ClusterClients
    var sourceAdmin: KafkaAdmin!
    var targetAdmin: KafkaAdmin!
    /// Group mode only: reads target tails on the copy thread (take-overs, restarts after an aborted transaction).
    var targetReader: TargetReader!
    var discovery: Discovery!
    var background: BackgroundWork!
    /// What the copy loop waits on: records, acknowledgements and background results raise it.
    var signal: ReadySignal!

    let table = PartitionTable()
    let batch: MessageBatch
    /// Slots that started over while the current batch was being copied: the rest of the batch is stale for them.
    var restartedInBatch = Set<Int>()
    /// The provenance header value being built, reused for every record.
    private var provenance: [UInt8] = []
    /// `<target region>/`: a record whose provenance starts with it came from the target and is not sent back.
    private let loopPrefix: [UInt8]
    /// Target topics of the shared producers, resolved once each per producer.
    var targetTopics: [ObjectIdentifier: [String: ProducerTopic]] = [:]
    /// Slots whose acknowledgements were counted since the observer was last told.
    private var unreported: [PartitionSlot] = []

    private var warned: [String: ContinuousClock.Instant] = [:]
    private var suspects = Set<TopicPartition>()
    /// Source partitions whose target log the background is checking after a suspicious acknowledgement.
    private var logChecks = Set<TopicPartition>()
    private var nextSecond = ContinuousClock.now
    var lastAcknowledgement = ContinuousClock.now
    private var nextLossCheck = ContinuousClock.now
    private var nextProgress = ContinuousClock.now + .seconds(10)
    private var recordsCopied: Int64 = 0
    /// Back-pressure: partitions that waited for room read on once the queues are at or below this.
    var roomAt: Int?
    /// When the single-mode producer was replaced (see ProducerReplacement.swift), within the last window.
    var replacements: [ContinuousClock.Instant] = []
    /// When the first record of the run was sent.
    private var firstSent: ContinuousClock.Instant?
    /// How often a partition stopped fetching because the target's queue was full (``waitForRoom(_:)``).
    private var queueFullPauses = 0
    private var copiedAtLastProgress: Int64 = 0
    private var ownedReported: [TopicPartition] = []

    // Group mode (`instances.mode: group`), see GroupMode.swift.
    var groupMode: Bool { topology.instances.mode == .group }
    /// Source topics the consumer is subscribed to, sorted.
    var subscribed: [String] = []
    /// A partition the group assigned that could not be taken over for good; the run stops with it.
    var rebalanceFailure: ReplicationError?
    /// Partitions the group assigned whose take-over could not reach the target; they stay assigned and paused,
    /// and the take-over is tried again at `nextTakeOver` (see ``retryTakeOver()``).
    var waitingForTakeOver: [TopicPartition] = []
    var nextTakeOver = ContinuousClock.now
    /// The take-over retry running off the copy thread, if any.
    var takeOverRetry: TakeOverRetry?
    /// The take-over retries' target reader.
    lazy var retryReaders = RetryReaders { [topology, options, logger] () throws(KafkaError) -> TargetReader in
        try Self.tailReader(topology: topology, timeout: options.requestTimeout, logger: logger)
    }
    /// The group has assigned this instance partitions at least once.
    var everAssigned = false
    /// The group changed the assignment inside the last poll.
    var rebalancedDuringPoll = false
    var nextCommit = ContinuousClock.now
    /// The shutdown's drain is over: a hand-over while the consumer closes waits for nothing more.
    var closing = false

    /// Per-partition positions, published about once a second for the group-offset sync.
    package let state: ReplicationState

    /// Creates an engine for one region pair.
    /// - Parameters:
    ///   - clients: the command's shared clients: the engine takes its admin clients there, and makes only the
    ///     consumer, producers and readers that are its own.
    ///   - state: where it publishes its positions and whether it speaks for the pair; a new one by default.
    package init(
        topology: Topology, options: ReplicationOptions = ReplicationOptions(), clients: ClusterClients, state: ReplicationState? = nil,
        logger: Logger
    ) {
        self.topology = topology
        self.clients = clients
        self.options = options
        self.logger = logger
        self.loopPrefix = Array("\(topology.target.region)/".utf8)
        self.batch = MessageBatch(capacity: max(1, options.batchSize))
        self.state = state ?? ReplicationState(leading: topology.instances.mode != .group)
    }

    /// The copy producers' defaults over ``KafkaProducer/defaultProperties`` (the target's `properties` win over
    /// them): zstd compression. The bridge decompresses what it reads, so without compression of its own a bridge
    /// in the source region sends every record uncompressed across the link: 308 bytes per record of a 217-byte
    /// payment event, against 97 stored by an lz4 source producer and 57 by a zstd one; with zstd it sends 61, for
    /// half as much CPU again per record (`make bench`, section 7, 2026-12-07).
    static let copyProducerDefaults = ["compression.type": "zstd"]

    var sourceConfig: KafkaClientConfiguration { topology.source.kafkaConfiguration(pair: topology.pair) }

    var targetConfig: KafkaClientConfiguration { topology.target.kafkaConfiguration(pair: topology.pair) }

    /// Replicates until `stop` is set (or, with `untilCaughtUp`, until caught up), then drains the writes in flight.
    ///
    /// Blocks the calling thread for the whole run.
    /// - Throws: `ReplicationError` naming the cluster, topic, partition and offset concerned.
    package func run(until stop: StopSignal) throws(ReplicationError) -> [PartitionSummary] {
        // After the drain (a defer runs last): what the drain acknowledged is answered first.
        defer { options.positions?.close("the bridge stopped copying (shut down or failed)") }
        try connect()
        defer {
            background?.stop()
            consumer.close()
        }
        var failure: ReplicationError?
        do {
            try copyLoop(stop: stop)
        } catch {
            failure = error
            options.observer?.error(kind: "\(error.kind)")
        }
        var drained = false
        do { drained = try drain() } catch {
            logger.error("while draining: \(error)")
            if failure == nil {
                failure = error
                options.observer?.error(kind: "\(error.kind)")
            }
        }
        closing = true
        publishState()
        if let failure { throw failure }
        if !drained {
            // A stop asked for while the target does not answer: nothing is lost (the run resumes after what the
            // target holds), so the stop is an ordinary one that says what it left.
            logger.warning("stopped with \(inFlight) writes unacknowledged after the drain timeout (\(options.drainTimeout)): the target did not answer in time. Nothing is lost: the next start resumes after the last record the target holds and copies them again")
        }
        let gaps = table.slots.compactMap { slot -> SourceGap? in
            if case .stoppedAtGap(let gap) = slot.state { return gap }
            return nil
        }
        if !gaps.isEmpty {
            throw ReplicationError(.sourceGap, gaps.map(\.description).sorted().joined(separator: "\n")
                + "\nrun again with --accept-gap TOPIC/PARTITION to copy on from the source's log start")
        }
        return summaries()
    }

    /// The source consumer's defaults, over ``KafkaConsumer/defaultProperties``; a cluster's `properties` win.
    ///
    /// `fetch.wait.max.ms` 100: a Kafka broker answers a fetch as soon as a record arrives, so this bounds only how
    /// often an idle bridge asks (10 times a second per broker), not latency. Brokers that answer only when the
    /// wait runs out (tansu) add up to that much to each record's latency, and with 10 ms tansu spent about
    /// three times the CPU on the same records at 60 partitions and the copy ran at a third of the rate (see the
    /// README's performance section).
    static let copyConsumerDefaults = ["fetch.wait.max.ms": "100"]

    private func connect() throws(ReplicationError) {
        logger.info("starting pair \(topology.pair): \(topology.source.region) [\(topology.source.bootstrapServers)] -> \(topology.target.region) [\(topology.target.bootstrapServers)], librdkafka \(librdkafkaVersion)")
        do {
            signal = try ReadySignal()
            sourceAdmin = try clients.admin(.source)
            targetAdmin = try clients.admin(.target)
            if groupMode {
                let session = Int(topology.instances.sessionTimeout.seconds * 1000)
                consumer = try KafkaConsumer(
                    configuration: sourceConfig, groupID: topology.consumerGroup, defaults: Self.copyConsumerDefaults,
                    overrides: [
                        "partition.assignment.strategy": "cooperative-sticky",
                        "session.timeout.ms": String(session),
                        "heartbeat.interval.ms": String(min(3000, max(100, session / 4))),
                        "max.poll.interval.ms": String(3 * session),
                    ],
                    rebalance: { [unowned self] event in self.rebalanced(event) }, logger: logger)
            } else {
                consumer = try KafkaConsumer(
                    configuration: sourceConfig, groupID: topology.consumerGroup, defaults: Self.copyConsumerDefaults,
                    logger: logger)
                let producer = try KafkaProducer(configuration: targetConfig, defaults: Self.copyProducerDefaults, logger: logger)
                producer.signal(signal)
                producers = [producer]
            }
            consumer.signal(signal)
            if groupMode { targetReader = try makeTargetReader(timeout: rebalanceBudget) }
            let discoveryReader = try makeTargetReader()
            discovery = Discovery(
                topology: topology, sourceAdmin: sourceAdmin, targetAdmin: targetAdmin, targetReader: discoveryReader,
                requestTimeout: options.requestTimeout, logger: logger)
        } catch {
            throw ReplicationError(.clientSetup, "cannot create Kafka clients: \(error)")
        }
        background = BackgroundWork(
            discovery: discovery, sourceRegion: topology.source.region, sourceAdmin: sourceAdmin, targetReader: { [topology, options, logger] () throws(KafkaError) -> TargetReader in
                try TargetReader(
                    target: topology.target.kafkaConfiguration(pair: topology.pair), groupID: "regionbridge.\(topology.pair).tail",
                    timeout: options.requestTimeout, logger: logger)
            },
            signal: signal, requestTimeout: options.requestTimeout, discoveryInterval: topology.topics.discoveryInterval,
            logger: logger)
    }

    /// A reader of the target's tails; `timeout` (default `--request-timeout`) bounds each read. Group mode's
    /// take-over in the rebalance answer reads with ``rebalanceBudget``.
    func makeTargetReader(timeout: Duration? = nil) throws(KafkaError) -> TargetReader {
        try Self.tailReader(topology: topology, timeout: timeout ?? options.requestTimeout, logger: logger)
    }

    /// A reader of the target's tails (consumer group `regionbridge.<pair>.tail`, never committed to).
    static func tailReader(topology: Topology, timeout: Duration, logger: Logger) throws(KafkaError) -> TargetReader {
        try TargetReader(
            target: topology.target.kafkaConfiguration(pair: topology.pair), groupID: "regionbridge.\(topology.pair).tail",
            timeout: timeout, logger: logger)
    }

    // MARK: - The copy loop

    private func copyLoop(stop: StopSignal) throws(ReplicationError) {
        guard try startUp(stop: stop) else {
            logger.notice("stopped before the first discovery answered: nothing was copied")
            return
        }
        reportOwned()
        background.start()
        var moreReady = true
        while !stop.isStopped {
            if !moreReady { signal.wait(timeout: nextWait()) }
            consumer.poll(into: batch, timeout: .zero)
            if let failure = rebalanceFailure { throw failure }
            if rebalancedDuringPoll {
                batch.release()
                try rewind()
                continue
            }
            moreReady = batch.count == batch.capacity
            try copyBatch()
            try pollDeliveries()
            try housekeeping()
            resumeWhenRoom()
            if options.untilCaughtUp, isCaughtUp {
                logCopyPhase()
                return
            }
        }
    }

    /// At the end of an `--until-caught-up` run: how long copying took from the first record sent to the last
    /// one acknowledged, without the start-up (connecting, reading the target's tails) and the shutdown.
    private func logCopyPhase() {
        guard let firstSent, recordsCopied > 0 else { return }
        let phase = lastAcknowledgement - firstSent
        let seconds = Double(phase.components.seconds) + Double(phase.components.attoseconds) / 1e18
        logger.notice("caught up: copied \(recordsCopied) records in \(String(format: "%.3f", seconds)) s from the first record sent to the last acknowledged (\(Int(Double(recordsCopied) / max(seconds, 0.001))) records/s; partitions waited for room in the target's queue \(queueFullPauses) times)")
    }

    /// The first discovery. A cluster that does not answer is asked again every few seconds until
    /// `startTimeout` has passed (a bridge restarted during an outage waits it out instead of exiting, which under
    /// Kubernetes would become a crash loop whose back-off outlasts the outage); then the run stops naming it.
    ///
    /// Each round runs on a thread of its own, so that a stop asked for meanwhile is answered at once, not after
    /// a request timeout: nothing was copied yet, so there is nothing to drain.
    /// - Returns: `false` when the run was stopped before the first discovery answered.
    private func startUp(stop: StopSignal) throws(ReplicationError) -> Bool {
        let started = ContinuousClock.now
        let deadline = started + options.startTimeout
        while true {
            guard let results = discoverOnce(until: stop) else { return false }
            let unreachable = results.lazy.compactMap { result -> ReplicationError? in
                guard case .failed(let error) = result, error.kind == .sourceUnavailable || error.kind == .targetUnavailable else { return nil }
                return error
            }.first
            if stop.isStopped { return false }
            if let unreachable, ContinuousClock.now < deadline {
                warn("start", "\(unreachable.message); trying again until --start-timeout (\(options.startTimeout)) has passed")
                let retry = ContinuousClock.now + min(.seconds(2), max(.zero, deadline - ContinuousClock.now))
                while !stop.isStopped, ContinuousClock.now < retry { signal.wait(timeout: min(.milliseconds(100), retry - ContinuousClock.now)) }
                if stop.isStopped { return false }
                continue
            }
            if let unreachable, options.startTimeout > .zero {
                throw ReplicationError(unreachable.kind, "\(unreachable.message) (still after --start-timeout \(options.startTimeout), \(ContinuousClock.now - started) since the start)")
            }
            for result in results { try apply(result) }
            return true
        }
    }

    /// One discovery round on its own thread; `nil` when `stop` was set before it answered (the round then ends
    /// by itself, at most a request timeout later, and its results are dropped).
    private func discoverOnce(until stop: StopSignal) -> [BackgroundResult]? {
        let outcome = Mutex<[BackgroundResult]?>(nil)
        let answered = DispatchSemaphore(value: 0)
        // Used by this one thread only: the background thread, its other user, starts after the start-up, and a
        // round abandoned on a stop only ever touches the admin clients, which librdkafka makes thread-safe.
        nonisolated(unsafe) let discovery = self.discovery!
        let thread = Thread {
            let results = discovery.run(owned: [], initial: true)
            outcome.withLock { $0 = results }
            answered.signal()
        }
        thread.name = "regionbridge-start"
        thread.start()
        while answered.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if stop.isStopped { return nil }
        }
        return outcome.withLock { $0 }
    }

    /// How long the loop may sleep when nothing is ready: until the next once-a-second round or commit.
    private func nextWait() -> Duration {
        let now = ContinuousClock.now
        var until = nextSecond
        if groupMode { until = min(until, nextCommit) }
        return max(.milliseconds(1), min(.milliseconds(100), until - now))
    }

    /// Copies the records of the batch; a partition whose record found the queue full skips the rest (see ``send``).
    private func copyBatch() throws(ReplicationError) {
        restartedInBatch.removeAll(keepingCapacity: true)
        defer { batch.release() }
        for index in 0..<batch.count {
            let message = batch[index]
            guard message.isRecord else {
                try consumed(nonRecord: message)
                continue
            }
            let topicIndex = consumer.topicIndex(of: message)
            guard let slot = table.slot(topicIndex: topicIndex, partition: message.partition, name: consumer.topicName(index:)),
                  slot.takesRecords, !restartedInBatch.contains(slot.index),
                  slot.progress.accept(offset: message.offset)
            else { continue }
            // A record that came from the target's own region (active-active pairs) is not sent back there.
            if message.hasHeader(named: Provenance.headerName, valuePrefix: loopPrefix) { continue }
            try send(message, slot)
        }
    }

    /// Sends one accepted record. When the producer's queue is full, the partition waits for room (see
    /// ``waitForRoom(_:)``) and the record is read again later.
    private func send(_ message: ConsumedMessage, _ slot: PartitionSlot) throws(ReplicationError) {
        guard try transactionReady(slot), let producer = slot.producer, let topic = slot.topic else {
            slot.progress.putBack(offset: message.offset)
            return
        }
        provenance.removeAll(keepingCapacity: true)
        provenance.append(contentsOf: slot.provenancePrefix)
        Self.appendDecimal(message.offset, to: &provenance)
        let id = slot.deliveryID
        let partition = slot.target.partition
        let outcome: KafkaError? = provenance.withUnsafeBytes { value in
            do throws(KafkaError) {
                try producer.forward(message, to: topic, partition: partition, header: Provenance.headerName, value: value, id: id)
                return nil
            } catch {
                return error
            }
        }
        guard let error = outcome else {
            slot.progress.sent(offset: message.offset)
            if firstSent == nil { firstSent = ContinuousClock.now }
            return
        }
        slot.progress.putBack(offset: message.offset)
        if error.code == .queueFull {
            waitForRoom(slot)
            return
        }
        try writeFailed(slot, error, sourceOffset: message.offset, producer: producer)
    }

    /// Back-pressure: the target takes writes more slowly than the source gives records, and the producer's queue
    /// is full. The partition stops fetching (pausing drops what librdkafka had fetched ahead for it) until the
    /// queue has drained to half of where it was full; then it reads on from its next offset. The copy loop
    /// meanwhile goes on as usual: it reads acknowledgements, reports lag, serves the background, and polls the
    /// consumer, which keeps a group member's place in its group however long the target takes.
    private func waitForRoom(_ slot: PartitionSlot) {
        guard !slot.waitsForRoom else { return }
        slot.waitsForRoom = true
        queueFullPauses += 1
        try? consumer.pause([slot.source])
        let queued = slot.producer?.queueLength ?? 0
        roomAt = roomAt.map { min($0, queued / 2) } ?? queued / 2
    }

    /// Partitions that waited for room read on once the queues have drained to half of where they were full.
    private func resumeWhenRoom() {
        guard let threshold = roomAt, inFlight <= threshold else { return }
        roomAt = nil
        var resumed: [(TopicPartition, StartOffset)] = []
        for slot in table.slots where slot.waitsForRoom {
            slot.waitsForRoom = false
            guard slot.takesRecords else { continue }
            resumed.append((slot.source, slot.progress.next.map { .offset($0) } ?? .beginning))
        }
        guard !resumed.isEmpty else { return }
        do {
            try consumer.readFrom(resumed)
        } catch {
            warn("resume", "cannot read on after waiting for room in the target's queue: \(error)")
        }
    }

    /// A record could not be queued for sending (other than a full queue).
    private func writeFailed(_ slot: PartitionSlot, _ error: KafkaError, sourceOffset: Int64, producer: KafkaProducer) throws(ReplicationError) {
        if slot.transaction != nil {
            try fail(slot, TransactionDecision.afterWrite(error, producerFatal: producer.fatalError), error: error, sourceOffset: sourceOffset)
            return
        }
        if error.isFatal || producer.fatalError != nil {
            // A write that failed earlier made the producer fatal (with the gapless guarantee any failed write
            // does): its delivery report says whether a record was refused (exit 6); otherwise it is replaced.
            try pollDeliveries(timeout: .milliseconds(100))
            if isCurrent(producer) { try replaceProducer(producer, because: producer.fatalError ?? error) }
            return
        }
        throw ReplicationError(
            .targetRefusedRecord,
            "cannot copy source \(slot.source) offset \(sourceOffset) to target \(slot.target): \(error)")
    }

    /// Appends the decimal digits of a non-negative offset.
    private static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        guard value > 0 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
        }
    }

    /// A partition end or an error from the consumer.
    private func consumed(nonRecord message: ConsumedMessage) throws(ReplicationError) {
        if let (partition, end) = consumer.partitionEnd(message) {
            // Only for a partition whose records of this batch were all taken: after one was put back (no room in
            // the queue) or the slot started over, an end further on would count unread records as replicated.
            if let slot = table[partition], slot.takesRecords, !restartedInBatch.contains(slot.index) { slot.progress.reachedEnd(end) }
            return
        }
        let error = consumer.error(of: message)
        if error.error.isFatal { throw ReplicationError(.fatal, "source consumer failed: \(error.error)") }
        // The source refuses the consumer before anything was copied (the group's ACL, GROUP_AUTHORIZATION_FAILED,
        // or a topic's): a configuration to fix, not an outage to wait out. Later it is said in a warning.
        if recordsCopied == 0, let cause = ConnectionRefusal.Cause(errorCode: error.error.rawCode, text: error.error.message) {
            let refusal = ConnectionRefusal(cause: cause, detail: error.error.description)
            throw ReplicationError(
                .sourceRefused, "source cluster \(topology.source.region) at \(topology.source.bootstrapServers) refuses this client: \(refusal)")
        }
        guard let partition = error.partition else {
            warn("source:\(error.error.rawCode)", "source cluster \(topology.source.region): \(error.error)")
            return
        }
        guard error.isOffsetOutOfRange, let slot = table[partition], slot.state.isCopying else {
            warn("source:\(partition):\(error.error.rawCode)", "source \(partition): \(error.error)")
            return
        }
        // The position is outside the log: stop reading the partition now, and look up its bounds off this thread.
        let wanted = slot.progress.next ?? error.offset ?? 0
        slot.state = .stoppedAtGap(SourceGap(partition: partition, wanted: wanted, logStart: -1, logEnd: -1))
        try? consumer.pause([partition])
        background.request(.gapCheck(partition, wanted: wanted))
    }

    // MARK: - Acknowledgements

    /// Reads delivery reports and errors of every producer, waiting at most `timeout` (for the first producer).
    func pollDeliveries(timeout: Duration = .zero) throws(ReplicationError) {
        defer { reportCopied() }
        var wait = timeout
        for producer in producers {
            try poll(producer, timeout: wait)
            wait = .zero
        }
        for slot in table.slots {
            guard let producer = slot.producer else { continue }
            try poll(producer, timeout: wait)
            wait = .zero
        }
    }

    func poll(_ producer: KafkaProducer, timeout: Duration) throws(ReplicationError) {
        var fatal: KafkaError?
        try producer.poll(timeout: timeout) { (delivery: Delivery) throws(ReplicationError) in
            try delivered(delivery, producer: producer)
        } errors: { (error: KafkaError) throws(ReplicationError) in
            if error.isFatal, !groupMode { fatal = fatal ?? error } else { try producerError(error, producer: producer) }
        }
        guard let fatal, isCurrent(producer) else { return }
        // The fatal error event can come before the delivery report of the record that caused it (a record the
        // target refused makes the gapless producer fatal): that report names the record and the cause, so read it.
        try producer.poll(timeout: .milliseconds(100)) { (delivery: Delivery) throws(ReplicationError) in
            try delivered(delivery, producer: producer)
        } errors: { (_: KafkaError) throws(ReplicationError) in }
        try replaceProducer(producer, because: producer.fatalError ?? fatal)
    }

    private func delivered(_ delivery: Delivery, producer: KafkaProducer) throws(ReplicationError) {
        guard let slot = table.slot(deliveryID: delivery.id) else { return }  // sent before the slot started over
        if let error = delivery.error {
            try deliveryFailed(slot, error, producer: producer)
            return
        }
        // A report at or below an offset acknowledged before (seen on tansu after a long outage: 0 for a retried
        // write that the broker had kept) is not a verdict: the write went through, at an offset the report does
        // not tell, and whether the target still holds what it acknowledged is read from its log (``checkLog``).
        // -1 is the same without the suspicion: a retried request answered DUPLICATE_SEQUENCE_NUMBER.
        var offset = delivery.offset
        if offset >= 0, let last = slot.progress.lastPair, offset <= last.target {
            checkLog(slot, after: "acknowledged a write of source \(slot.source) at offset \(offset), at or below offset \(last.target) it had acknowledged before")
            offset = -1
        }
        guard slot.progress.delivered(targetOffset: offset) != nil else { return }
        recordsCopied += 1
        if slot.unreported.count == 0 { unreported.append(slot) }
        slot.unreported.count += 1
        slot.unreported.bytes += delivery.size
        slot.unreported.timestamp = delivery.timestamp ?? slot.unreported.timestamp
    }

    /// Has the background read the slot's target log (once at a time per partition), to tell a lost log from a
    /// re-sent write answered with a stale offset; logs why, once.
    private func checkLog(_ slot: PartitionSlot, after what: String) {
        guard let last = slot.progress.durablePair, logChecks.insert(slot.source).inserted else { return }
        logger.notice("target \(slot.target) \(what): reading its log to tell a lost log from a re-sent write")
        background.request(.logCheck(
            [AcknowledgedWrite(target: slot.target, source: slot.source, sourceOffset: last.source, targetOffset: last.target)],
            reason: .lowAcknowledgement))
    }

    private func deliveryFailed(_ slot: PartitionSlot, _ error: KafkaError, producer: KafkaProducer) throws(ReplicationError) {
        let sourceOffset = slot.progress.oldestInFlight ?? -1
        if slot.transaction != nil {
            try fail(slot, TransactionDecision.afterWrite(error, producerFatal: producer.fatalError), error: error, sourceOffset: sourceOffset)
            return
        }
        switch WriteFailureDecision(error) {
        case .ignore:
            // librdkafka purges the queued records of every partition when the producer turns fatal. They were
            // not refused; the fatal error itself comes as an error event or as its own record's report.
            return
        case .replaceProducer:
            try replaceProducer(producer, because: producer.fatalError ?? error, at: "the record from source \(slot.source) offset \(sourceOffset) (target \(slot.target))")
        case .refusedRecord:
            throw ReplicationError(
                .targetRefusedRecord,
                "the target refused the record from source \(slot.source) offset \(sourceOffset) (target \(slot.target)): \(error). Nothing after it was copied; fix the cause and start the bridge again")
        }
    }

    private func producerError(_ error: KafkaError, producer: KafkaProducer) throws(ReplicationError) {
        if groupMode, error.isFatal, let slot = table.slots.first(where: { $0.producer === producer }) {
            try fail(slot, TransactionDecision.afterWrite(error, producerFatal: producer.fatalError), error: error, sourceOffset: slot.progress.oldestInFlight ?? -1)
            return
        }
        if error.isFatal {
            try replaceProducer(producer, because: error)
            return
        }
        warn("target:\(error.rawCode)", "target cluster \(topology.target.region): \(error)")
    }

    /// Tells the observer what the last polls acknowledged: counts and bytes per partition, and the latency of the
    /// newest record of each (acknowledgement time minus its source timestamp).
    private func reportCopied() {
        guard !unreported.isEmpty else { return }
        lastAcknowledgement = ContinuousClock.now
        if let observer = options.observer {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for slot in unreported {
                observer.recordsCopied(partition: slot.source, count: slot.unreported.count, bytes: slot.unreported.bytes)
                if let timestamp = slot.unreported.timestamp {
                    observer.latency(partition: slot.source, milliseconds: Double(max(0, now - timestamp)))
                }
            }
        }
        for slot in unreported {
            // Once per partition per poll round; in group mode durableUpTo moves at commits (see GroupMode.commit).
            options.positions?.advance(slot.source, target: slot.target, to: slot.progress.durableUpTo)
            slot.unreported = (0, 0, nil)
        }
        unreported.removeAll(keepingCapacity: true)
    }

    // MARK: - Housekeeping

    /// What the background found, the once-a-second round, and (group mode) due commits.
    func housekeeping() throws(ReplicationError) {
        for result in background.takeResults() { try apply(result) }
        let now = ContinuousClock.now
        if now >= nextSecond {
            nextSecond = now + .seconds(1)
            try everySecond(now)
        }
        if groupMode, now >= nextCommit {
            try commitRound()
            nextCommit = ContinuousClock.now + topology.instances.commitInterval
        }
        if groupMode {
            try finishTakeOverRetry()
            retryTakeOver()
        }
    }

    private func apply(_ result: BackgroundResult) throws(ReplicationError) {
        switch result {
        case .startCopying(let starts):
            startCopying(starts)
        case .vanished(let sources):
            for source in sources {
                guard let slot = table[source], slot.state.isCopying else { continue }
                slot.retire(.vanished)
                try? consumer.unassign([source])
                options.observer?.released(partition: source)
                let last = slot.progress.lastDelivered.map(String.init) ?? "none this run"
                logger.warning("source \(source) is gone (topic deleted or no longer selected); last offset copied: \(last). Its target copy is kept")
            }
            reportOwned()
        case .subscribe(let topics):
            try subscribe(topics)
        case .sourceEnds(let ends, _):
            for (partition, end) in ends { table[partition]?.sampledEnd = end }
        case .targetLost(let message):
            throw ReplicationError(.targetDataLost, message)
        case .targetKept(let source, let message):
            logChecks.remove(source)
            logger.notice("\(message)")
        case .logCheckUnanswered(let sources):
            logChecks.subtract(sources)
        case .resume(let starts):
            resume(starts)
        case .gap(let gap):
            try stopOrSkip(gap)
        case .reachable:
            break  // the monitor probe reports reachability; the engine only needs the data
        case .warning(let key, let message):
            warn(key, message)
        case .failed(let error):
            throw error
        }
    }

    /// Single mode: starts copying newly found partitions, each right after what the target holds of it. Each
    /// partition is written by one of the producers, always the same one (by its slot), so its records keep their
    /// order and the idempotent producer's sequence numbers.
    private func startCopying(_ starts: [PartitionStart]) {
        guard !producers.isEmpty else { return }
        var assignments: [(TopicPartition, StartOffset)] = []
        for start in starts {
            if let existing = table[start.source], existing.state.isCopying { continue }
            let resume = ResumePoint.start(afterLastCopied: start.lastCopied)
            let progress = PartitionProgress(target: start.target, start: resume)
            let index = table[start.source]?.index ?? table.slots.count
            let producer = producers[index % producers.count]
            let topic: ProducerTopic
            do { topic = try targetTopic(start.target.topic, producer: producer) } catch {
                warn("topic:\(start.target.topic)", "cannot open target topic \(start.target.topic): \(error)")
                continue
            }
            let slot = table.slot(for: start.source) { index in
                PartitionSlot(
                    index: index, source: start.source, target: start.target, sourceRegion: topology.source.region,
                    progress: progress, producer: producer, topic: topic)
            }
            slot.startOver(progress, producer: producer, topic: topic)
            assignments.append((start.source, resume))
            logger.info("copying \(start.source) -> \(start.target) from \(start.lastCopied.map { "offset \($0 + 1) (after \($0), the last copied)" } ?? "the log start")")
        }
        guard !assignments.isEmpty else { return }
        do { try consumer.assign(assignments) } catch {
            warn("assign", "cannot assign source partitions: \(error); retrying at the next discovery")
            for (source, _) in assignments { table[source]?.state = .vanished }
        }
        reportOwned()
    }

    func targetTopic(_ name: String, producer: KafkaProducer) throws(KafkaError) -> ProducerTopic {
        let key = ObjectIdentifier(producer)
        if let topic = targetTopics[key]?[name] { return topic }
        let topic = try producer.topic(named: name)
        targetTopics[key, default: [:]][name] = topic
        return topic
    }

    /// Tells the background which partitions are owned now (for discovery and the source end samples).
    func reportOwned() {
        let owned = table.slots.filter { $0.state.isCopying || $0.isStoppedAtGap }.map(\.source)
        guard owned != ownedReported else { return }
        ownedReported = owned
        background?.owned(owned)
    }

    /// Stops a partition at a gap, or restarts it at the log start when the operator accepted the gap.
    private func stopOrSkip(_ gap: SourceGap) throws(ReplicationError) {
        let partition = gap.partition
        guard let slot = table[partition], slot.state.isCopying || slot.isStoppedAtGap else { return }
        if options.acceptGaps.contains(partition) {
            logger.warning("accepting a gap as the operator asked (--accept-gap \(partition)): \(gap)")
            do {
                try consumer.readFrom([(partition, .beginning)])
            } catch {
                throw ReplicationError(.sourceUnavailable, "cannot restart \(partition) at its log start: \(error)")
            }
            var progress = slot.progress
            progress.restart(at: .beginning)
            slot.startOver(progress)
            restartedInBatch.insert(slot.index)
        } else {
            logger.error("stopped copying \(partition): \(gap). Records already copied are kept; run with --accept-gap \(partition) to copy on from the log start")
            slot.state = .stoppedAtGap(gap)
            try? consumer.pause([partition])
        }
    }

    /// The once-a-second round: positions against the source log, lag and state, progress, stalled writes.
    private func everySecond(_ now: ContinuousClock.Instant) throws(ReplicationError) {
        try checkPositions()
        publishState()
        if now >= nextProgress {
            let interval = options.progressInterval + (now - nextProgress)
            let seconds = max(0.001, Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
            let rate = Double(recordsCopied - copiedAtLastProgress) / seconds
            logger.info("copied \(recordsCopied) records (\(Int(rate))/s), \(table.copying.count) partitions, \(inFlight) in flight")
            copiedAtLastProgress = recordsCopied
            nextProgress = now + options.progressInterval
        }
        checkStalledWrites(now)
    }

    /// Finds partitions whose source log no longer holds the next offset to copy, from the watermarks of the
    /// last fetch responses. Brokers should answer OFFSET_OUT_OF_RANGE there, but not all do (tansu answers
    /// an empty fetch), and a partition must never wait silently at a position that cannot exist.
    /// A suspect is confirmed by a second look a second later.
    ///
    /// Not in the first 10 s after a partition (re)started here: librdkafka keeps the watermarks of an earlier
    /// ownership of the partition until the first fetch after a take-over returns, which on a loaded broker took
    /// longer than the two looks (a group instance given back a partition it had lost stopped it at a false gap,
    /// the log "ending" 20,000 records early).
    private func checkPositions() throws(ReplicationError) {
        let now = ContinuousClock.now
        for slot in table.slots where slot.state.isCopying {
            let partition = slot.source
            guard slot.trustsCachedWatermarks(at: now), let next = slot.progress.next, let marks = consumer.cachedWatermarks(partition),
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

    /// When writes have gone unacknowledged for a while, has the background look at each target partition's true
    /// end: a target that ends before the last record it acknowledged has lost data (a broker came back empty).
    /// Some brokers then never acknowledge again (the idempotent producer's epoch bumps loop on
    /// UNKNOWN_PRODUCER_ID), so this cannot wait for a delivery report.
    private func checkStalledWrites(_ now: ContinuousClock.Instant) {
        let inFlight = inFlight
        guard inFlight > 0, now - lastAcknowledgement > .seconds(10), now >= nextLossCheck else { return }
        nextLossCheck = now + .seconds(10)
        warn("stalled", "no write acknowledged by target \(topology.target.region) for \(now - lastAcknowledgement) with \(inFlight) in flight")
        // Durable pairs: in group mode an acknowledged record of an open transaction is below the target's last
        // stable offset until the commit, so only committed ones can show a loss.
        let acknowledged = table.slots.compactMap { slot -> AcknowledgedWrite? in
            guard slot.state.isCopying, let last = slot.progress.durablePair else { return nil }
            return AcknowledgedWrite(target: slot.target, source: slot.source, sourceOffset: last.source, targetOffset: last.target)
        }
        background.request(.logCheck(acknowledged, reason: .stalledWrites))
    }

    /// Publishes positions for the group sync, and lag for metrics and alerts.
    ///
    /// Records behind: the source log end as best known (fetch responses, partition ends, ListOffsets samples from
    /// the background) minus what the target holds for good. Seconds behind: from when the log end passed that
    /// position (``EndOffsetHistory``), never from record timestamps.
    func publishState() {
        var snapshot: [TopicPartition: PartitionSnapshot] = [:]
        var positions: [ReplicatedPositions.Position] = []
        let now = MonotonicTime.seconds()
        let clockNow = ContinuousClock.now
        for slot in table.slots where slot.state.isCopying || slot.isStoppedAtGap {
            let progress = slot.progress
            let position = progress.durableUpTo
            snapshot[slot.source] = PartitionSnapshot(target: slot.target, replicatedUpTo: position, lastPair: progress.durablePair)
            positions.append(ReplicatedPositions.Position(
                source: slot.source, target: slot.target, replicatedUpTo: position,
                state: slot.stoppedAtGap.map { .stopped("stopped copying: \($0)") } ?? .copying))
            // librdkafka keeps the watermarks of an earlier assignment: in the first 10 s after a partition (re)started
            // here they may be those of before, below the log's end, and would read as a lag of 0 with records left
            // to copy (as the gap check above also knows). The ListOffsets sample (every second, cleared at the
            // restart) and the partition end say where the log ends meanwhile.
            let cachedHigh = slot.trustsCachedWatermarks(at: clockNow) ? consumer.cachedWatermarks(slot.source)?.high : nil
            // Before any fetch response, partition end or ListOffsets sample, the source end is unknown (right
            // after a start or a take-over): no lag is reported then, rather than a false 0.
            guard cachedHigh != nil || progress.end != nil || slot.sampledEnd != nil else { continue }
            let end = slot.sourceEnd(cachedHigh: cachedHigh)
            slot.ends.record(end: end, at: now)
            guard let observer = options.observer else { continue }
            let records = max(0, end - position)
            observer.lag(partition: slot.source, records: records, seconds: records == 0 ? 0 : slot.ends.secondsBehind(position: position, now: now))
        }
        if !groupMode || everAssigned { options.positions?.publish(positions) }
        state.publish(snapshot, leadsGroupSync: !groupMode || syncLeaderPartition.map { table[$0]?.state.isCopying == true } == true)
    }

    var isCaughtUp: Bool {
        if groupMode, !everAssigned || table.copying.isEmpty { return false }
        return inFlight == 0 && table.slots.allSatisfy { !$0.state.isCopying || (!$0.awaitsResume && $0.progress.isCaughtUp) }
    }

    /// Writes queued or in flight, over every producer.
    var inFlight: Int {
        if !producers.isEmpty { return producers.reduce(0) { $0 + $1.queueLength } }
        return table.slots.reduce(0) { $0 + ($1.producer?.queueLength ?? 0) }
    }

    /// Waits for every write in flight; `false` when the drain timeout passed first.
    /// - Throws: what the acknowledgements read meanwhile reported (a refused record, a lost target).
    private func drain() throws(ReplicationError) -> Bool {
        if groupMode { return try commitAll(timeout: options.drainTimeout) }
        let deadline = ContinuousClock.now + options.drainTimeout
        while inFlight > 0, ContinuousClock.now < deadline {
            try pollDeliveries(timeout: .milliseconds(50))
        }
        return inFlight == 0
    }

    /// Logs a warning at most once a minute per key, so a flapping cluster does not flood the log.
    func warn(_ key: String, _ message: String) {
        options.observer?.error(kind: String(key.prefix { $0 != ":" }))
        let now = ContinuousClock.now
        if let last = warned[key], now - last < .seconds(60) { return }
        warned[key] = now
        logger.warning("\(message)")
    }

    private func summaries() -> [PartitionSummary] {
        table.slots.map(\.summary).sorted { $0.source < $1.source }
    }
}

extension PartitionSlot {
    var isStoppedAtGap: Bool { stoppedAtGap != nil }

    var stoppedAtGap: SourceGap? {
        if case .stoppedAtGap(let gap) = state { return gap }
        return nil
    }
}

