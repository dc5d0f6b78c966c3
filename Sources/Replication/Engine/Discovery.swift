import Foundation
import Kafka
import Logging
import Topology

/// Mirrors topics and finds the partitions to copy: reads both clusters' metadata, creates missing target topics
/// (with the source topic's configuration) and grows those with too few partitions, then either reads the tails
/// of the new target partitions (single mode: where each new partition starts) or names the topics to subscribe
/// to (group mode: the group coordinator assigns the partitions).
///
/// Blocking; runs once on the copy thread at start, then on the background thread.
final class Discovery {
    private let topology: Topology
    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let targetReader: TargetReader
    private let requestTimeout: Duration
    private let logger: Logger

    init(topology: Topology, sourceAdmin: KafkaAdmin, targetAdmin: KafkaAdmin, targetReader: TargetReader,
         requestTimeout: Duration, logger: Logger) {
        self.topology = topology
        self.sourceAdmin = sourceAdmin
        self.targetAdmin = targetAdmin
        self.targetReader = targetReader
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    private var groupMode: Bool { topology.instances.mode == .group }

    /// One round. `initial`: at start, where a cluster that does not answer stops the run; later rounds report it
    /// and retry at the next interval.
    func run(owned: Set<TopicPartition>, initial: Bool) -> [BackgroundResult] {
        do {
            return try round(owned: owned)
        } catch {
            guard !initial, let role = error.cluster else { return [.failed(error)] }
            return [.reachable(role, false), .warning(key: "discovery", message: "topic discovery failed, retrying in \(topology.topics.discoveryInterval): \(error)")]
        }
    }

    private func round(owned: Set<TopicPartition>) throws(ReplicationError) -> [BackgroundResult] {
        let sourceTopics: [TopicMetadata]
        let targetTopics: [TopicMetadata]
        do { sourceTopics = try sourceAdmin.topics(timeout: requestTimeout) } catch {
            throw .cannotReach(.source, topology.source, error)
        }
        do { targetTopics = try targetAdmin.topics(timeout: requestTimeout) } catch {
            throw .cannotReach(.target, topology.target, error)
        }
        var results: [BackgroundResult] = [.reachable(.source, true), .reachable(.target, true)]
        let plan = TopicPlan.make(source: sourceTopics, target: targetTopics, topology: topology, owned: groupMode ? [] : owned)
        results += plan.warnings.map { .warning(key: $0, message: $0) }
        for creation in plan.creations { try createTargetTopic(creation) }
        for growth in plan.growths {
            do {
                try targetAdmin.createPartitions(topic: growth.target, totalCount: growth.to, timeout: requestTimeout)
                logger.notice("grew target topic \(growth.target) from \(growth.from) to \(growth.to) partitions")
            } catch {
                throw ReplicationError(.targetTopicSetup, "cannot grow target topic \(growth.target) to \(growth.to) partitions: \(error)")
            }
        }
        if !plan.creations.isEmpty || !plan.growths.isEmpty { try waitForTargetPartitions(plan.newPartitions) }
        if groupMode {
            let topics = Set(plan.newPartitions.map(\.topic)).union(plan.creations.map(\.source)).sorted()
            if !topics.isEmpty { results.append(.subscribe(topics)) }
            return results
        }
        if !plan.vanished.isEmpty { results.append(.vanished(plan.vanished)) }
        if !plan.newPartitions.isEmpty { results.append(.startCopying(try starts(of: plan.newPartitions))) }
        return results
    }

    /// Where each new partition starts: right after the last record of it in its target partition, all tails read
    /// in one pass.
    func starts(of sources: [TopicPartition]) throws(ReplicationError) -> [PartitionStart] {
        try Self.starts(of: sources, reader: targetReader, topology: topology)
    }

    /// Where each partition starts, read with `reader`, in the order of `sources`.
    static func starts(of sources: [TopicPartition], reader: TargetReader, topology: Topology) throws(ReplicationError) -> [PartitionStart] {
        let pairs = sources.map { source in
            (target: targetPartition(of: source, topology: topology), source: SourcePartition(region: topology.source.region, partition: source))
        }
        let last = try reader.lastCopied(pairs)
        return pairs.map { pair in
            PartitionStart(source: pair.source.partition, target: pair.target, lastCopied: last[pair.target] ?? nil)
        }
    }

    /// Where each source partition resumes: right after the last record of it the target holds.
    func starts(of sources: [TopicPartition], reader: TargetReader) throws(ReplicationError) -> [PartitionStart] {
        try Self.starts(of: sources, reader: reader, topology: topology)
    }

    /// The target partition a source partition is copied to.
    func targetPartition(of source: TopicPartition) -> TopicPartition {
        Self.targetPartition(of: source, topology: topology)
    }

    static func targetPartition(of source: TopicPartition, topology: Topology) -> TopicPartition {
        topology.targetPartition(of: source)
    }

    private func createTargetTopic(_ creation: TopicPlan.Creation) throws(ReplicationError) {
        var configs: [String: String] = [:]
        do {
            configs = TopicConfigCopy.entriesToCopy(try sourceAdmin.describeTopicConfig(creation.source, timeout: requestTimeout))
        } catch {
            logger.warning("cannot read the configuration of source topic \(creation.source) (\(error)); creating \(creation.target) with the target's defaults")
        }
        let topic = NewTopic(
            name: creation.target, partitions: creation.partitions,
            replicationFactor: topology.topics.replicationFactor, configs: configs)
        let errors: [String: KafkaError]
        do { errors = try targetAdmin.createTopics([topic], timeout: requestTimeout) } catch {
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
        let deadline = ContinuousClock.now + requestTimeout
        while true {
            let topics = (try? targetAdmin.topics(timeout: requestTimeout)) ?? []
            let known = Dictionary(topics.map { ($0.name, Set($0.partitions)) }, uniquingKeysWith: { a, _ in a })
            let missing = sources.filter { known[targetPartition(of: $0).topic]?.contains($0.partition) != true }
            if missing.isEmpty { return }
            if ContinuousClock.now > deadline {
                throw ReplicationError(.targetTopicSetup, "target partitions for \(missing.map(\.description).joined(separator: ", ")) did not appear within \(requestTimeout)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }
}
