import Foundation
import Kafka
import Logging
import Replication
import Topology

/// Keeps consumer-group offsets in step: every `groups.sync_interval` it reads the committed offsets of the
/// selected groups in the source, translates them exactly, commits them to the same groups in the target
/// (only while a group has no active members there, and never backwards), and records each translation in
/// the checkpoint topic. It also writes the offset-sync topic that narrows later translations.
///
/// Runs on its own thread, so a slow cluster never stalls the copy loop; it takes the command's shared admin
/// clients and has its own producer and target reader.
/// A position is translated only once the engine has copied every source record before it.
///
/// `@unchecked Sendable`: handed from the service to one dedicated thread at a time (the periodic loop,
/// then the final round after that loop has returned); never used by two threads at once.
package final class GroupOffsetSync: EngineCompanion, @unchecked Sendable {
    private let topology: Topology
    private let state: ReplicationState
    private let timeout: Duration
    private let logger: Logger

    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let clients: ClusterClients
    /// The sync's own producer (offset syncs, checkpoints) and target reader, made at its first round by
    /// ``makeOwnClients()``: in group mode only the leading instance runs rounds, so the others never hold them.
    private var producer: KafkaProducer!
    private var reader: TargetReader!
    private var translator: OffsetTranslator!

    private var writtenSyncs: [TopicPartition: OffsetPair] = [:]
    private var writtenCheckpoints: [String: Int64] = [:]
    private var skippedActive: Set<String> = []
    private var triedTopics = false

    private let observer: (any ReplicationObserver)?

    /// Creates the sync and its clients.
    /// - Parameters:
    ///   - state: the engine's state: what it copied, and whether this instance leads the sync (group mode).
    ///   - clients: the command's shared clients (the admin clients).
    ///   - timeout: of one Kafka request.
    /// - Throws: ``ReplicationError`` `.clientSetup` when a client cannot be created.
    package init(
        topology: Topology, state: ReplicationState, clients: ClusterClients, timeout: Duration, observer: (any ReplicationObserver)?,
        logger: Logger
    ) throws(ReplicationError) {
        self.observer = observer
        self.topology = topology
        self.state = state
        self.timeout = timeout
        self.logger = logger
        self.clients = clients
        do {
            sourceAdmin = try clients.admin(.source)
            targetAdmin = try clients.admin(.target)
        } catch {
            throw ReplicationError(.clientSetup, "cannot create Kafka clients for the group-offset sync: \(error)")
        }
    }

    private func makeOwnClients() throws(ReplicationError) {
        guard producer == nil else { return }
        do {
            let reader = try clients.reader(.target, job: "translate", timeout: timeout)
            producer = try KafkaProducer(configuration: clients.configuration(.target, job: "groups"), overrides: ["linger.ms": "0"], logger: logger)
            self.reader = reader
            translator = OffsetTranslator(reader: reader)
        } catch {
            throw ReplicationError(.clientSetup, "cannot create Kafka clients for the group-offset sync: \(error)")
        }
    }

    /// `regionbridge-groups`.
    package var threadName: String { "regionbridge-groups" }

    /// Syncs every interval until `stop` is set. Failures are logged and retried at the next interval.
    package func run(until stop: StopSignal) {
        guard !topology.groups.include.isEmpty else { return }
        do { try createTopics() } catch { logger.warning("\(error)") }
        var next = ContinuousClock.now + topology.groups.syncInterval
        var leading = true
        while !stop.isStopped {
            if ContinuousClock.now >= next, state.leadsGroupSync != leading {
                leading.toggle()
                if topology.instances.mode == .group {
                    logger.notice(leading
                        ? "this instance now runs the group-offset sync, offset syncs and checkpoints for pair \(topology.pair)"
                        : "another instance runs the group-offset sync, offset syncs and checkpoints for pair \(topology.pair)")
                }
            }
            if ContinuousClock.now >= next, !leading {
                next = ContinuousClock.now + topology.groups.syncInterval
            }
            if ContinuousClock.now >= next {
                do { try syncOnce() } catch { logger.warning("group-offset sync failed, retrying in \(topology.groups.syncInterval): \(error)") }
                next = ContinuousClock.now + topology.groups.syncInterval
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// One round after the engine stopped, when group sync is enabled. Failures are logged.
    package func finalRound() {
        guard !topology.groups.include.isEmpty, state.leadsGroupSync else { return }
        do {
            if !triedTopics { try createTopics() }
            try syncOnce()
        } catch {
            logger.warning("last group-offset sync failed: \(error)")
        }
    }

    /// Creates the compacted offset-sync and checkpoint topics in the target if they are missing.
    private func createTopics() throws(ReplicationError) {
        triedTopics = true
        let existing: Set<String>
        do { existing = Set(try targetAdmin.topics(timeout: timeout).map(\.name)) } catch {
            throw .unavailable(.target, "cannot list target topics", error)
        }
        let wanted = [topology.offsetSyncsTopic, topology.checkpointsTopic].filter { !existing.contains($0) }
        guard !wanted.isEmpty else { return }
        do {
            let errors = try targetAdmin.createTopics(
                wanted.map { NewTopic(name: $0, partitions: 1, replicationFactor: topology.topics.replicationFactor, configs: ["cleanup.policy": "compact"]) },
                timeout: timeout)
            for (name, error) in errors where error.code != .topicAlreadyExists {
                logger.warning("cannot create \(name): \(error)")
            }
        } catch {
            throw ReplicationError(.targetTopicSetup, "cannot create \(wanted.joined(separator: ", ")): \(error)")
        }
    }

    /// One round: offset syncs, then every selected group.
    func syncOnce() throws(ReplicationError) {
        try makeOwnClients()
        var partitions = state.snapshot()
        if topology.instances.mode == .group { try addPartitionsOfOtherInstances(&partitions) }
        guard !partitions.isEmpty else { return }
        writeOffsetSyncs(partitions)

        let groups: [String]
        do { groups = try sourceAdmin.consumerGroups(timeout: timeout).filter(topology.groups.selects) } catch {
            throw .unavailable(.source, "cannot list consumer groups in \(topology.source.region)", error)
        }
        var bounds: [TopicPartition: (low: Int64, end: Int64)] = [:]
        for group in groups {
            let committed: [TopicPartition: Int64]
            do { committed = try sourceAdmin.committedOffsets(group: group, timeout: timeout) } catch {
                logger.warning("cannot read the offsets of group \(group) in \(topology.source.region): \(error)")
                continue
            }
            var translated: [TopicPartition: Int64] = [:]
            for (source, position) in committed.sorted(by: { $0.key < $1.key }) {
                guard let snapshot = partitions[source] else { continue }
                guard position <= snapshot.replicatedUpTo else {
                    logger.debug("group \(group) \(source) at \(position): not replicated yet (up to \(snapshot.replicatedUpTo))")
                    continue
                }
                if bounds[snapshot.target] == nil { bounds[snapshot.target] = try reader.bounds(of: snapshot.target) }
                let offset = try translator.translate(
                    position, from: SourcePartition(region: topology.source.region, partition: source), to: snapshot.target,
                    bounds: bounds[snapshot.target]!)
                translated[snapshot.target] = offset
                writeCheckpoint(CheckpointRecord(
                    group: group, topic: source.topic, partition: source.partition, sourceOffset: position,
                    targetOffset: offset, targetTopic: snapshot.target.topic, at: SyncJSON.timestamp()))
            }
            try commit(group: group, translated)
        }
        try flush()
        observer?.groupSync(at: Date())
    }

    /// Group mode: the leader translates for the whole pair, so partitions other instances copy are read from
    /// the target: everything up to the last source offset found in its tail is there.
    private func addPartitionsOfOtherInstances(_ partitions: inout [TopicPartition: PartitionSnapshot]) throws(ReplicationError) {
        let topics: [TopicMetadata]
        do { topics = try sourceAdmin.topics(timeout: timeout) } catch {
            throw .unavailable(.source, "cannot list topics in \(topology.source.region)", error)
        }
        for topic in topics where topology.topics.selects(topic.name) && topic.errorName == nil {
            let targetTopic = topology.topics.rename.targetTopic(for: topic.name, sourceRegion: topology.source.region)
            for partition in topic.partitions {
                let source = TopicPartition(topic.name, partition)
                guard partitions[source] == nil else { continue }
                let target = TopicPartition(targetTopic, partition)
                guard let last = try? reader.lastCopied(in: target, from: SourcePartition(region: topology.source.region, partition: source)).lastCopied
                else { continue }
                partitions[source] = PartitionSnapshot(target: target, replicatedUpTo: last + 1, lastPair: nil)
            }
        }
    }

    /// Commits translated offsets to the target group, unless it is active there; never moves an offset back.
    private func commit(group: String, _ translated: [TopicPartition: Int64]) throws(ReplicationError) {
        guard !translated.isEmpty else { return }
        do {
            let description = try targetAdmin.describeConsumerGroups([group], timeout: timeout).first
            if let description, description.memberCount > 0 {
                if skippedActive.insert(group).inserted {
                    logger.notice("group \(group) has \(description.memberCount) active member(s) in \(topology.target.region); its offsets there are left alone while it is active")
                }
                return
            }
            skippedActive.remove(group)
            let current = try targetAdmin.committedOffsets(group: group, timeout: timeout)
            let forward = translated.filter { partition, offset in (current[partition] ?? -1) < offset }
            guard !forward.isEmpty else { return }
            try targetAdmin.commitOffsets(group: group, forward, timeout: timeout)
            logger.debug("group \(group): committed \(forward.count) translated offset(s) in \(topology.target.region)")
        } catch {
            logger.warning("cannot sync group \(group) into \(topology.target.region): \(error)")
        }
    }

    private func writeOffsetSyncs(_ partitions: [TopicPartition: PartitionSnapshot]) {
        for (source, snapshot) in partitions {
            guard let pair = snapshot.lastPair, writtenSyncs[source] != pair else { continue }
            translator.learn(pair, in: snapshot.target)
            let record = OffsetSyncRecord(topic: source.topic, partition: source.partition, sourceOffset: pair.source, targetOffset: pair.target)
            send(topic: topology.offsetSyncsTopic, key: "\(source.topic)/\(source.partition)", value: SyncJSON.encode(record))
            writtenSyncs[source] = pair
        }
    }

    private func writeCheckpoint(_ checkpoint: CheckpointRecord) {
        let signature = checkpoint.sourceOffset &* 31 &+ checkpoint.targetOffset
        guard writtenCheckpoints[checkpoint.key] != signature else { return }
        send(topic: topology.checkpointsTopic, key: checkpoint.key, value: SyncJSON.encode(checkpoint))
        writtenCheckpoints[checkpoint.key] = signature
    }

    private func send(topic: String, key: String, value: [UInt8]) {
        do {
            try producer.send(topic: topic, partition: 0, key: Array(key.utf8), value: value, headers: [], timestamp: nil, id: 0)
        } catch {
            logger.warning("cannot write to \(topic): \(error)")
        }
    }

    /// Waits for the offset-sync and checkpoint writes; on failure everything is written again next round.
    private func flush() throws(ReplicationError) {
        let deadline = ContinuousClock.now + timeout
        while producer.queueLength > 0, ContinuousClock.now < deadline {
            for report in producer.poll(timeout: .milliseconds(50)).deliveries {
                if let error = report.error {
                    writtenSyncs = [:]
                    writtenCheckpoints = [:]
                    throw .unavailable(.target, "cannot write \(report.topic)", error)
                }
            }
        }
    }
}
