import Foundation
import Kafka
import Logging
import Replication
import Topology

/// Where one consumer group stands on one partition, on both sides.
package struct GroupPartitionPosition: Sendable, Codable, Equatable {
    /// Consumer group id.
    package var group: String
    /// Source topic.
    package var topic: String
    /// Partition (the same number on both sides).
    package var partition: Int32
    /// The group's committed offset in the source (from a checkpoint when the source is unreachable).
    package var sourceOffset: Int64
    /// Target topic.
    package var targetTopic: String
    /// The exact translation of `sourceOffset` in the target.
    package var targetOffset: Int64
    /// The target partition's end offset now (`nil` when read from a checkpoint only).
    package var targetEnd: Int64?
    /// Source records before `sourceOffset` not yet in the target; 0 when the translated position is safe.
    package var toReplicate: Int64
    /// The group's committed offset in the target now, if any.
    package var committedInTarget: Int64?
    /// `source` for a live translation, or `checkpoint <time>` when read from the checkpoint topic.
    package var basis: String

    enum CodingKeys: String, CodingKey {
        case group, topic, partition, basis
        case sourceOffset = "source_offset"
        case targetTopic = "target_topic"
        case targetOffset = "target_offset"
        case targetEnd = "target_end"
        case toReplicate = "to_replicate"
        case committedInTarget = "committed_in_target"
    }

    /// `true` when committing would move the target offset forward.
    package var moves: Bool { (committedInTarget ?? -1) < targetOffset }
}

/// Why a failover step was refused (exit code 4).
package struct FailoverRefusal: Error, Sendable, CustomStringConvertible {
    /// Every reason, one per group or partition.
    package var reasons: [String]
    package var description: String { reasons.joined(separator: "\n") }
}

/// Translates consumer-group positions for an operator, and moves groups to the target on failover.
///
/// With the source reachable, positions are translated live and exactly. With the source gone, they come
/// from the checkpoints the bridge wrote into the target (as of its last group-offset sync).
package final class ConsumerFailover {
    private let topology: Topology
    private let timeout: Duration
    private let logger: Logger
    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let targetReader: TargetReader
    private let sourceReader: TargetReader
    private let translator: OffsetTranslator

    /// Creates the clients; nothing is contacted yet.
    /// - Parameter clients: the command's shared clients (the pair, and its admin clients).
    package init(clients: ClusterClients, timeout: Duration, logger: Logger) throws(ReplicationError) {
        self.topology = clients.topology
        self.timeout = timeout
        self.logger = logger
        let clients = try TranslationClients(clients: clients, job: "failover", timeout: timeout)
        (sourceAdmin, targetAdmin) = (clients.sourceAdmin, clients.targetAdmin)
        (targetReader, sourceReader) = (clients.targetReader, clients.sourceReader)
        translator = OffsetTranslator(reader: targetReader)
    }

    /// The source's consumer groups that the topology's `groups:` section selects, sorted.
    package func selectedGroups() throws(ReplicationError) -> [String] {
        do {
            return try sourceAdmin.consumerGroups(timeout: timeout).filter(topology.groups.selects).sorted()
        } catch {
            throw .unavailable(.source, "cannot list consumer groups in \(topology.source.region) at \(topology.source.bootstrapServers)", error)
        }
    }

    /// The group's positions translated live from the source's committed offsets.
    /// - Throws: `ReplicationError` of kind `.sourceUnavailable` when the source cannot be read.
    package func translate(group: String) throws(ReplicationError) -> [GroupPartitionPosition] {
        let committed: [TopicPartition: Int64]
        do { committed = try sourceAdmin.committedOffsets(group: group, timeout: timeout) } catch {
            throw .unavailable(.source, "cannot read group \(group)'s offsets in \(topology.source.region) at \(topology.source.bootstrapServers)", error)
        }
        try learnOffsetSyncs()
        let inTarget = try targetCommitted(group)
        var positions: [GroupPartitionPosition] = []
        for (source, position) in committed.sorted(by: { $0.key < $1.key }) where topology.topics.selects(source.topic) {
            let target = TopicPartition(topology.topics.rename.targetTopic(for: source.topic, sourceRegion: topology.source.region), source.partition)
            let from = SourcePartition(region: topology.source.region, partition: source)
            let tail = try targetReader.lastCopied(in: target, from: from)
            let replicatedUpTo = (tail.lastCopied ?? -1) + 1
            var toReplicate: Int64 = 0
            if position > replicatedUpTo {
                toReplicate = Int64(try sourceReader.records(in: source, from: replicatedUpTo, before: position).count)
            }
            let offset = try translator.translate(position, from: from, to: target, bounds: (tail.low, tail.end))
            positions.append(GroupPartitionPosition(
                group: group, topic: source.topic, partition: source.partition, sourceOffset: position,
                targetTopic: target.topic, targetOffset: offset, targetEnd: tail.end, toReplicate: toReplicate,
                committedInTarget: inTarget[target], basis: "source"))
        }
        return positions
    }

    /// The groups' positions from the newest checkpoints in the target.
    package func checkpointPositions(groups: [String]) throws(ReplicationError) -> [GroupPartitionPosition] {
        let wanted = Set(groups)
        var newest: [String: CheckpointRecord] = [:]
        let topic = TopicPartition(topology.checkpointsTopic, 0)
        let bounds = try targetReader.bounds(of: topic)
        for record in try targetReader.records(in: topic, from: bounds.low) {
            guard let checkpoint = SyncJSON.decode(CheckpointRecord.self, record.value), wanted.contains(checkpoint.group) else { continue }
            newest[checkpoint.key] = checkpoint
        }
        var committed: [String: [TopicPartition: Int64]] = [:]
        for group in groups { committed[group] = try targetCommitted(group) }
        var positions: [GroupPartitionPosition] = []
        for checkpoint in newest.values {
            let target = TopicPartition(checkpoint.targetTopic, checkpoint.partition)
            positions.append(GroupPartitionPosition(
                group: checkpoint.group, topic: checkpoint.topic, partition: checkpoint.partition,
                sourceOffset: checkpoint.sourceOffset, targetTopic: checkpoint.targetTopic, targetOffset: checkpoint.targetOffset,
                targetEnd: nil, toReplicate: 0, committedInTarget: committed[checkpoint.group]?[target],
                basis: "checkpoint \(checkpoint.at)"))
        }
        return positions.sorted { lhs, rhs in
            lhs.group != rhs.group ? lhs.group < rhs.group : TopicPartition(lhs.topic, lhs.partition) < TopicPartition(rhs.topic, rhs.partition)
        }
    }

    /// The positions to move the groups to: live when the source answers, else from checkpoints.
    /// - Throws: `FailoverRefusal` when a group is active in the target, a live position is not yet
    ///   replicated, or a group has no checkpoint; `ReplicationError` when the target cannot be read.
    package func plan(groups: [String]) throws -> [GroupPartitionPosition] {
        var refusals: [String] = []
        for group in groups {
            let members = try activeMembers(group)
            if members > 0 {
                refusals.append("group \(group) has \(members) active member(s) in \(topology.target.region): stop them before moving the group")
            }
        }
        var positions: [GroupPartitionPosition] = []
        var sourceReachable = true
        for group in groups {
            var found: [GroupPartitionPosition] = []
            if sourceReachable {
                do {
                    found = try translate(group: group)
                } catch {
                    guard error.kind == .sourceUnavailable else { throw error }
                    logger.warning("source \(topology.source.region) unreachable (\(error)); using the checkpoints in \(topology.target.region)")
                    sourceReachable = false
                }
            }
            if !sourceReachable {
                found = try checkpointPositions(groups: [group])
                if found.isEmpty {
                    refusals.append("group \(group) has no checkpoint in \(topology.target.region) (\(topology.checkpointsTopic)): the bridge never synced it")
                }
            }
            for position in found where position.toReplicate > 0 {
                refusals.append("group \(group) \(position.topic)/\(position.partition): \(position.toReplicate) record(s) before its position (\(position.sourceOffset)) are not in \(topology.target.region) yet; let the bridge catch up first")
            }
            positions += found
        }
        if !refusals.isEmpty { throw FailoverRefusal(reasons: refusals) }
        return positions
    }

    /// Commits the positions that move forward, group by group.
    package func apply(_ positions: [GroupPartitionPosition]) throws(ReplicationError) {
        for (group, entries) in Dictionary(grouping: positions.filter(\.moves), by: \.group).sorted(by: { $0.key < $1.key }) {
            var offsets: [TopicPartition: Int64] = [:]
            for entry in entries { offsets[TopicPartition(entry.targetTopic, entry.partition)] = entry.targetOffset }
            do { try targetAdmin.commitOffsets(group: group, offsets, timeout: timeout) } catch {
                throw .unavailable(.target, "cannot commit group \(group)'s offsets in \(topology.target.region)", error)
            }
            logger.notice("group \(group): committed \(offsets.count) offset(s) in \(topology.target.region)")
        }
    }

    /// The groups' committed positions in the source whose topic has no copy in the target at all (the pair never
    /// ran, or has not created it yet), as reasons to refuse; positions at 0 need no copy. `failback` asks this of the
    /// reverse pair before it translates, because a translation would fail on the missing topic.
    /// - Throws: `ReplicationError` when either cluster cannot be read.
    package func positionsWithoutCopy(groups: [String]) throws(ReplicationError) -> [String] {
        let inTarget: Set<String>
        do { inTarget = Set(try targetAdmin.topics(timeout: timeout).filter { $0.errorName == nil }.map(\.name)) } catch {
            throw .unavailable(.target, "cannot list topics in \(topology.target.region) at \(topology.target.bootstrapServers)", error)
        }
        var reasons: [String] = []
        for group in groups {
            let committed: [TopicPartition: Int64]
            do { committed = try sourceAdmin.committedOffsets(group: group, timeout: timeout) } catch {
                throw .unavailable(.source, "cannot read group \(group)'s offsets in \(topology.source.region) at \(topology.source.bootstrapServers)", error)
            }
            for (source, position) in committed.sorted(by: { $0.key < $1.key }) where position > 0 && topology.topics.selects(source.topic) {
                let copy = topology.topics.rename.targetTopic(for: source.topic, sourceRegion: topology.source.region)
                guard !inTarget.contains(copy) else { continue }
                reasons.append("group \(group) \(source) at \(position) in \(topology.source.region): \(topology.target.region) holds no copy \(copy) yet; run pair \(topology.pair) until it has caught up")
            }
        }
        return reasons
    }

    /// Members of the group now active in the target.
    package func activeMembers(_ group: String) throws(ReplicationError) -> Int {
        do { return try targetAdmin.describeConsumerGroups([group], timeout: timeout).first?.memberCount ?? 0 } catch {
            throw .unavailable(.target, "cannot describe group \(group) in \(topology.target.region)", error)
        }
    }

    private func targetCommitted(_ group: String) throws(ReplicationError) -> [TopicPartition: Int64] {
        do { return try targetAdmin.committedOffsets(group: group, timeout: timeout) } catch {
            throw .unavailable(.target, "cannot read group \(group)'s offsets in \(topology.target.region)", error)
        }
    }

    private var learned = false

    /// Narrows later translations with the offset syncs the bridge wrote.
    private func learnOffsetSyncs() throws(ReplicationError) {
        guard !learned else { return }
        learned = true
        let topic = TopicPartition(topology.offsetSyncsTopic, 0)
        guard let bounds = try? targetReader.bounds(of: topic) else { return }  // no syncs yet: a plain search
        for record in try targetReader.records(in: topic, from: bounds.low) {
            guard let sync = SyncJSON.decode(OffsetSyncRecord.self, record.value) else { continue }
            let target = topology.topics.rename.targetTopic(for: sync.topic, sourceRegion: topology.source.region)
            translator.learn(OffsetPair(source: sync.sourceOffset, target: sync.targetOffset), in: TopicPartition(target, sync.partition))
        }
    }
}
