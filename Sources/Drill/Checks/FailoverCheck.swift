import Failover
import Foundation
import Replication
import Topology

/// What the drill learned about one consumer group: what `failover --apply` would do with it now.
package struct GroupFacts: Sendable, Equatable {
    /// Group id.
    package var group: String
    /// Members active in the target now; nil when that could not be read.
    package var activeMembers: Int?
    /// Its positions: translated live from the source, or from the newest checkpoints when the source did not answer.
    package var positions: [GroupPartitionPosition]
    /// True when `positions` are a live translation from the source.
    package var live: Bool
    /// Age in seconds of its newest checkpoint in the target; nil when it has none.
    package var checkpointAge: Double?
    /// Why the group could not be read, if it could not.
    package var failure: String?

    /// Creates the facts of one group.
    package init(
        group: String, activeMembers: Int?, positions: [GroupPartitionPosition], live: Bool, checkpointAge: Double?, failure: String? = nil
    ) {
        self.group = group
        self.activeMembers = activeMembers
        self.positions = positions
        self.live = live
        self.checkpointAge = checkpointAge
        self.failure = failure
    }
}

/// Consumer failover: for each selected group, whether `failover --apply` would succeed now, and the exact target
/// offsets it would commit.
package enum FailoverCheck {
    /// One line per group.
    /// - Parameters:
    ///   - groups: the facts of every selected group.
    ///   - syncInterval: `groups.sync_interval`; a checkpoint may be at most three of them old.
    ///   - sourceRegion, targetRegion: named in the figures and causes.
    ///   - selection: how the groups were chosen, for the line shown when there is none.
    package static func checks(
        _ groups: [GroupFacts], syncInterval: Duration, sourceRegion: String, targetRegion: String, selection: String
    ) -> [DrillCheck] {
        guard !groups.isEmpty else {
            return [DrillCheck(.failover, "consumer groups", "none to move (\(selection))", .skip)]
        }
        let limit = 3 * syncInterval.seconds
        return groups.map { facts in
            let subject = "group \(facts.group)"
            if let failure = facts.failure {
                return DrillCheck(.failover, subject, "not read", .fail, cause: "group \(facts.group): \(failure)")
            }
            var causes: [String] = []
            var warnings: [String] = []
            if let members = facts.activeMembers, members > 0 {
                causes.append("group \(facts.group) has \(Figures.count(members, "active member")) in \(targetRegion): stop them before failing over")
            }
            if facts.live {
                for position in facts.positions where position.toReplicate > 0 {
                    causes.append("group \(facts.group) \(position.topic)/\(position.partition): \(Figures.count(position.toReplicate, "record")) "
                        + "before its position (\(position.sourceOffset)) not in \(targetRegion) yet")
                }
            }
            let age = facts.checkpointAge.map { "checkpoint \(Figures.seconds($0)) old" } ?? "no checkpoint"
            let stale = facts.checkpointAge.map { $0 > limit } ?? true
            if stale && !facts.positions.isEmpty {
                let why = facts.checkpointAge.map { "its newest checkpoint in \(targetRegion) is \(Figures.seconds($0)) old, more than 3 × groups.sync_interval (\(Figures.seconds(limit)))" }
                    ?? "it has no checkpoint in \(targetRegion)"
                if facts.live {
                    warnings.append("if \(sourceRegion) were lost now, failover could not translate group \(facts.group) live: \(why)")
                } else {
                    causes.append("\(sourceRegion) does not answer and \(why)")
                }
            }
            let basis = facts.live ? "live from \(sourceRegion)" : "from checkpoints (\(sourceRegion) does not answer)"
            let figure = facts.positions.isEmpty
                ? "nothing to commit: no committed offset on a replicated topic (\(age))"
                : "would commit \(commits(facts.positions)) \(basis); \(age)"
            if !causes.isEmpty {
                let step = facts.activeMembers.map { $0 > 0 } == true
                    ? "stop the \(Figures.count(facts.activeMembers ?? 0, "member")) of group \(facts.group) in \(targetRegion)" : causes[0]
                return DrillCheck(.failover, subject, figure, .fail, cause: causes.joined(separator: "; "), action: FirstStep(.failover, step))
            }
            if !warnings.isEmpty { return DrillCheck(.failover, subject, figure, .warn, cause: warnings.joined(separator: "; ")) }
            return DrillCheck(.failover, subject, figure, .pass)
        }
    }

    /// `us-east.payments/0@40, us-east.payments/1@100 (1 moves)`, at most eight positions named.
    static func commits(_ positions: [GroupPartitionPosition]) -> String {
        let named = positions.prefix(8).map { "\($0.targetTopic)/\($0.partition)@\($0.targetOffset)" }.joined(separator: ", ")
        let more = positions.count > 8 ? " and \(positions.count - 8) more" : ""
        let moving = positions.filter(\.moves).count
        return "\(named)\(more) (\(moving) of \(positions.count) move)"
    }
}
