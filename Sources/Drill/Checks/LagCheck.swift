import Foundation
import Kafka
import Monitoring
import Replication

/// RPO now, from the clusters alone: every partition of the replicated data must be at most
/// `drill.max_lag_seconds` behind. The bridge's own topics (its heartbeats) are liveness, see ``bridgeTopics(_:targetRegion:)``.
package enum LagCheck {
    /// One failing line per topic with a partition over the limit (or whose age is unknown), naming its worst
    /// partition, else one passing line for all.
    /// - Parameters:
    ///   - partitions: the lag figures, as `regionbridge lag` measures them (the bridge's own topics are left out here).
    ///   - maxLagSeconds: `drill.max_lag_seconds`.
    ///   - targetRegion: named in the causes.
    package static func checks(_ partitions: [PartitionLag], maxLagSeconds: Double, targetRegion: String) -> [DrillCheck] {
        let topics = TopicLag.group(partitions).filter { !$0.isBridgeTopic }
        guard !topics.isEmpty else {
            return [DrillCheck(.rpo, "lag", "no source partition is selected by topics.include", .skip)]
        }
        let limit = "max \(Figures.seconds(maxLagSeconds))"
        var failed: [DrillCheck] = []
        for topic in topics {
            let over = topic.partitions.filter { $0.recordsBehind > 0 && ($0.secondsBehind.map { $0 > maxLagSeconds } ?? true) }
            guard !over.isEmpty, let worst = topic.worst else { continue }
            let records = Figures.count(topic.recordsBehind, "record")
            let age = worst.secondsBehind.map { "\(Figures.seconds($0)) behind \(worst.secondsBasis?.phrase ?? "")".trimmingCharacters(in: .whitespaces) }
                ?? "of unknown age (the oldest pending record has no timestamp)"
            let spread = "\(over.count) of \(Figures.count(topic.partitions.count, "partition")) over the limit"
            failed.append(DrillCheck(
                .rpo, "lag \(topic.topic)", "\(records); worst \(worst.source) \(age) (\(limit)); \(spread)", .fail,
                cause: "\(records) not in \(targetRegion) yet; worst \(worst.source) \(age) (\(limit)); \(spread)",
                action: FirstStep(.backlog, "copy the backlog of \(topic.topic) (\(records), worst \(worst.source))")))
        }
        if !failed.isEmpty { return failed }
        let data = topics.flatMap(\.partitions)
        let total = data.reduce(Int64(0)) { $0 + $1.recordsBehind }
        let worst = data.max { ($0.secondsBehind ?? 0, $0.recordsBehind) < ($1.secondsBehind ?? 0, $1.recordsBehind) }!
        let basis = worst.secondsBasis.map { " \($0.phrase)" } ?? ""
        let figure = total == 0
            ? "0 records behind on every partition (\(limit))"
            : "\(Figures.count(total, "record")) behind; worst \(worst.source): \(Figures.seconds(worst.secondsBehind ?? 0))\(basis) (\(limit))"
        return [DrillCheck(.rpo, "lag of \(Figures.count(data.count, "partition"))", figure, .pass)]
    }

    /// Liveness lines for the bridge's own topics among the measured partitions (its heartbeat topic, replicated
    /// while heartbeats are on): machinery, not data, so never a failure of RPO; a copy that is behind warns.
    package static func bridgeTopics(_ partitions: [PartitionLag], targetRegion: String) -> [DrillCheck] {
        TopicLag.group(partitions).filter(\.isBridgeTopic).map { topic in
            let subject = "copy of \(topic.topic)"
            guard topic.recordsBehind > 0 else {
                return DrillCheck(.liveness, subject, "caught up in \(topic.targetTopic)", .pass)
            }
            let behind = "\(Figures.count(topic.recordsBehind, "record")), " + LagWords.behind(topic.secondsBehind, bases: topic.bases)
            return DrillCheck(.liveness, subject, behind, .warn,
                              cause: "the bridge's own \(topic.topic) is \(behind) in \(targetRegion): not data at risk, but the bridge is not copying it")
        }
    }

    /// The line when lag could not be measured (a cluster did not answer).
    package static func unmeasured(_ reason: String) -> DrillCheck {
        DrillCheck(.rpo, "lag", "not measured", .fail, cause: "cannot measure lag: \(reason)")
    }
}
