import Formats
import Foundation
import Kafka
import Logging
import Replication
import Topology

/// Where one consumer group stands on one partition of a copy, and where that puts it in the source (failback).
package struct FailbackPosition: Sendable, Codable, Equatable {
    /// Consumer group id.
    package var group: String
    /// The copy in the target region (`us-east.payment-events`).
    package var copyTopic: String
    /// Partition (the same number on both sides).
    package var partition: Int32
    /// The group's committed offset on the copy in the target region.
    package var copyPosition: Int64
    /// The original topic in the source region (`payment-events`).
    package var topic: String
    /// The exact translation in the source: right after the last source record the group processed in the copy, or
    /// the first copied record after its position when it processed none; `nil` when there is no answer (see `action`).
    package var sourceOffset: Int64?
    /// The group's committed offset on the original topic in the source now, if any.
    package var committedInSource: Int64?
    /// The last source offset ever copied into the copy, if any.
    package var lastReplicated: Int64?
    /// Records in the source after `lastReplicated`: written there, never replicated. The group reads them for the first
    /// time after the failback.
    package var notReplicated: Int
    /// `commit`, `keep` (the source offset is already at or past the translation), `none` (the copy holds no record of
    /// this source partition: the group read nothing of it in the target region) or `refused` (the copy no longer
    /// holds what the answer depends on).
    package var action: String

    enum CodingKeys: String, CodingKey {
        case group, partition, topic, action
        case copyTopic = "copy_topic"
        case copyPosition = "copy_position"
        case sourceOffset = "source_offset"
        case committedInSource = "committed_in_source"
        case lastReplicated = "last_replicated"
        case notReplicated = "not_replicated"
    }

    /// `true` when committing would move the source offset forward.
    package var moves: Bool { action == "commit" }
}

/// What a failback would do: every position, and every reason to refuse it (exit code 4).
package struct FailbackPlan: Sendable {
    /// One per group and copy partition, sorted by group, topic and partition.
    package var positions: [FailbackPosition] = []
    /// Why the failback cannot be applied now; empty when it can.
    package var refusals: [String] = []
    /// Never-replicated records per source partition (every copied partition of the selected groups, once).
    package var notReplicated: [TopicPartition: Int] = [:]
    /// The timestamp of the oldest never-replicated record, if any (for the reconcile window).
    package var oldestNotReplicated: Date?

    /// An empty plan.
    package init() {}
}

/// Moves consumer groups back from their copies in the target region to the original topics in the source region, once
/// the source answers again: the failback half of `failover`.
///
/// For each group and copy partition, the group's committed offset on the copy is translated back through the
/// `regionbridge.source` headers (``FailbackTranslation``) and committed for the group on the original topic, only
/// while the group has no active members in either region, and never backwards.
package final class ConsumerFailback {
    private let topology: Topology
    private let timeout: Duration
    private let logger: Logger
    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let targetReader: TargetReader
    private let sourceReader: TargetReader

    /// Creates the clients for the forward topology (source = the region returned to); nothing is contacted yet.
    /// - Throws: `ReplicationError` `.clientSetup` when a client cannot be created from the topology's properties.
    /// - Parameter clients: the command's shared clients (the pair, and its admin clients).
    package init(clients: ClusterClients, timeout: Duration, logger: Logger) throws(ReplicationError) {
        self.topology = clients.topology
        self.timeout = timeout
        self.logger = logger
        let clients = try TranslationClients(clients: clients, job: "failback", timeout: timeout)
        (sourceAdmin, targetAdmin) = (clients.sourceAdmin, clients.targetAdmin)
        (targetReader, sourceReader) = (clients.targetReader, clients.sourceReader)
    }

    /// The original source topic of a copy in the target, when the copy is one this pair writes.
    package func sourceTopic(ofCopy copy: String) -> String? {
        let topic: String
        switch topology.topics.rename {
        case .prefix:
            let prefix = "\(topology.source.region)."
            guard copy.hasPrefix(prefix) else { return nil }
            topic = String(copy.dropFirst(prefix.count))
        case .identity:
            topic = copy
        }
        return topology.topics.selects(topic) ? topic : nil
    }

    /// Translates every selected group's positions on the copies back to the source and checks that they may be committed.
    /// - Returns: the plan; its `refusals` name a group active in either region and a position that cannot be translated.
    /// - Throws: `ReplicationError` when a cluster cannot be read (`.sourceUnavailable` for the source).
    package func plan(groups: [String]) throws(ReplicationError) -> FailbackPlan {
        var plan = FailbackPlan()
        for group in groups {
            let inTarget = try members(group, admin: targetAdmin, region: topology.target.region, failure: .targetUnavailable)
            if inTarget > 0 {
                plan.refusals.append("group \(group) has \(inTarget) active member(s) in \(topology.target.region): stop them before failing back")
            }
            let inSource = try members(group, admin: sourceAdmin, region: topology.source.region, failure: .sourceUnavailable)
            if inSource > 0 {
                plan.refusals.append("group \(group) has \(inSource) active member(s) in \(topology.source.region): stop them before failing back")
            }
        }
        var tails: [TopicPartition: (lastCopied: Int64?, low: Int64, end: Int64)] = [:]
        for group in groups {
            let onCopies = try committed(group, admin: targetAdmin, region: topology.target.region, failure: .targetUnavailable)
            let inSource = try committed(group, admin: sourceAdmin, region: topology.source.region, failure: .sourceUnavailable)
            for (copy, position) in onCopies.sorted(by: { $0.key < $1.key }) {
                guard let topic = sourceTopic(ofCopy: copy.topic) else { continue }
                let source = TopicPartition(topic, copy.partition)
                let origin = SourcePartition(region: topology.source.region, partition: source)
                let tail: (lastCopied: Int64?, low: Int64, end: Int64)
                if let known = tails[copy] {
                    tail = known
                } else {
                    tail = try targetReader.lastCopied(in: copy, from: origin)
                    tails[copy] = tail
                    try countNotReplicated(source, after: tail.lastCopied, into: &plan)
                }
                let answer = try translateBack(position, on: copy, from: origin, low: tail.low, end: tail.end)
                let committed = inSource[source]
                let action: String
                switch answer {
                case .after, .at:
                    action = (committed ?? -1) < (answer.sourceOffset ?? -1) ? "commit" : "keep"
                case .nothingCopied:
                    action = "none"
                case .deleted(let logStart):
                    action = "refused"
                    plan.refusals.append(
                        "group \(group) \(copy): its position \(position) in \(topology.target.region) needs records before the copy's log start "
                            + "\(logStart), which were deleted (retention): the source position in \(source) cannot be translated exactly; "
                            + "commit it by hand or let the group re-read")
                }
                plan.positions.append(FailbackPosition(
                    group: group, copyTopic: copy.topic, partition: copy.partition, copyPosition: position, topic: topic,
                    sourceOffset: answer.sourceOffset, committedInSource: committed, lastReplicated: tail.lastCopied,
                    notReplicated: plan.notReplicated[source] ?? 0, action: action))
            }
        }
        return plan
    }

    /// Commits the positions that move forward in the source, group by group; re-checks first that each group has no
    /// active member there.
    /// - Throws: `FailoverRefusal` when a group became active in the source since the plan; `ReplicationError` when the
    ///   source refuses the commit or cannot be reached.
    package func apply(_ positions: [FailbackPosition]) throws {
        for (group, entries) in Dictionary(grouping: positions.filter(\.moves), by: \.group).sorted(by: { $0.key < $1.key }) {
            let active = try members(group, admin: sourceAdmin, region: topology.source.region, failure: .sourceUnavailable)
            if active > 0 {
                throw FailoverRefusal(reasons: ["group \(group) has \(active) active member(s) in \(topology.source.region): stop them before failing back"])
            }
            var offsets: [TopicPartition: Int64] = [:]
            for entry in entries { offsets[TopicPartition(entry.topic, entry.partition)] = entry.sourceOffset }
            do { try sourceAdmin.commitOffsets(group: group, offsets, timeout: timeout) } catch {
                throw ReplicationError(
                    .sourceUnavailable,
                    "cannot commit group \(group)'s offsets (\(offsets.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ", "))) in \(topology.source.region) at \(topology.source.bootstrapServers): \(error)")
            }
            logger.notice("group \(group): committed \(offsets.count) offset(s) in \(topology.source.region)")
        }
    }

    /// Partitions on which a group's failback position and its reverse-pair position would both be committed: with
    /// `rename: identity` a topic in the source holds its own records and the reverse pair's copies, and one committed
    /// offset per partition cannot mark where the group stands in both. Returned as reasons to refuse.
    /// - Parameters:
    ///   - own: where failback commits: group, topic and partition in the source (positions with an answer only).
    ///   - reverse: where the reverse pair's failover commits: group, its copy topic in the source, partition.
    package static func sharedPartitions(
        own: [(group: String, topic: String, partition: Int32)], reverse: [(group: String, topic: String, partition: Int32)]
    ) -> [String] {
        let mine = Set(own.map { "group \($0.group) \($0.topic)/\($0.partition)" })
        return reverse.map { "group \($0.group) \($0.topic)/\($0.partition)" }.filter(mine.contains).map {
            "\($0): both its own position and the reverse pair's copy position would be committed on this one partition "
                + "(rename: identity); fail back with rename: prefix pairs"
        }
    }

    private func translateBack(_ position: Int64, on copy: TopicPartition, from origin: SourcePartition, low: Int64, end: Int64) throws(ReplicationError) -> TranslatedBack {
        let reader = targetReader
        do {
            return try FailbackTranslation.translateBack(
                position: position, low: low, end: end, region: origin.region, topic: origin.partition.topic, partition: origin.partition.partition,
                readBefore: { from, before in
                    try reader.records(in: copy, from: from, before: before).map {
                        CopiedRecord(offset: $0.offset, provenance: $0.lastHeader(named: Provenance.headerName)?.value.flatMap(Provenance.init(headerValue:)))
                    }
                },
                readFrom: { from in
                    try reader.replicatedPairs(in: copy, from: from, of: origin).map {
                        CopiedRecord(offset: $0.target, provenance: Provenance(
                            region: origin.region, topic: origin.partition.topic, partition: origin.partition.partition, offset: $0.source))
                    }
                })
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw .unavailable(.target, "cannot translate \(copy) offset \(position) back to \(origin.partition)", error)
        }
    }

    /// Counts the source partition's records after the last one copied (all of them when none was), once per partition.
    private func countNotReplicated(_ source: TopicPartition, after lastCopied: Int64?, into plan: inout FailbackPlan) throws(ReplicationError) {
        guard plan.notReplicated[source] == nil else { return }
        let bounds = try sourceReader.bounds(of: source)
        let start = max(bounds.low, (lastCopied ?? -1) + 1)
        guard start < bounds.end else {
            plan.notReplicated[source] = 0
            return
        }
        // In windows, so that a long backlog is counted without holding it.
        var count = 0
        var from = start
        while from < bounds.end {
            let before = min(bounds.end, from + Self.countWindow)
            for record in try sourceReader.records(in: source, from: from, before: before) {
                count += 1
                guard let milliseconds = record.timestamp?.milliseconds else { continue }
                let at = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
                plan.oldestNotReplicated = min(plan.oldestNotReplicated ?? at, at)
            }
            from = before
        }
        plan.notReplicated[source] = count
    }

    /// How many source offsets one read covers when never-replicated records are counted.
    private static let countWindow: Int64 = 10_000

    private func members(_ group: String, admin: KafkaAdmin, region: String, failure: ReplicationError.Kind) throws(ReplicationError) -> Int {
        do { return try admin.describeConsumerGroups([group], timeout: timeout).first?.memberCount ?? 0 } catch {
            throw ReplicationError(failure, "cannot describe group \(group) in \(region) at \(endpoint(region)): \(error)")
        }
    }

    private func committed(_ group: String, admin: KafkaAdmin, region: String, failure: ReplicationError.Kind) throws(ReplicationError) -> [TopicPartition: Int64] {
        do { return try admin.committedOffsets(group: group, timeout: timeout) } catch {
            throw ReplicationError(failure, "cannot read group \(group)'s offsets in \(region) at \(endpoint(region)): \(error)")
        }
    }

    private func endpoint(_ region: String) -> String {
        region == topology.source.region ? topology.source.bootstrapServers : topology.target.bootstrapServers
    }
}
