import Kafka
import Monitoring
import Replication

/// RPO now, from the clusters alone: every partition must be at most `drill.max_lag_seconds` behind.
package enum LagCheck {
    /// One failing line per partition over the limit (or whose age is unknown), else one passing line for all.
    /// - Parameters:
    ///   - partitions: the lag figures, as `regionbridge lag` measures them.
    ///   - maxLagSeconds: `drill.max_lag_seconds`.
    ///   - targetRegion: named in the causes.
    package static func checks(_ partitions: [PartitionLag], maxLagSeconds: Double, targetRegion: String) -> [DrillCheck] {
        guard !partitions.isEmpty else {
            return [DrillCheck(.rpo, "lag", "no source partition is selected by topics.include", .skip)]
        }
        let limit = "max \(Figures.seconds(maxLagSeconds))"
        var failed: [DrillCheck] = []
        for lag in partitions {
            let records = Figures.count(lag.recordsBehind, "record")
            guard let seconds = lag.secondsBehind else {
                guard lag.recordsBehind > 0 else { continue }
                failed.append(DrillCheck(
                    .rpo, "lag \(lag.source)", "\(records), ? s behind (\(limit))", .fail,
                    cause: "\(lag.source): \(records) not in \(targetRegion), and the oldest has no timestamp, so its age is unknown"))
                continue
            }
            guard seconds > maxLagSeconds else { continue }
            failed.append(DrillCheck(
                .rpo, "lag \(lag.source)", "\(records), \(Figures.seconds(seconds)) behind (\(limit))", .fail,
                cause: "\(lag.source) is \(Figures.seconds(seconds)) behind (\(limit)): \(records) not in \(targetRegion) yet"))
        }
        if !failed.isEmpty { return failed }
        let total = partitions.reduce(Int64(0)) { $0 + $1.recordsBehind }
        let worst = partitions.max { ($0.secondsBehind ?? 0, $0.recordsBehind) < ($1.secondsBehind ?? 0, $1.recordsBehind) }!
        let figure = total == 0
            ? "0 records behind on every partition (\(limit))"
            : "\(Figures.count(total, "record")) behind; worst \(worst.source): \(Figures.seconds(worst.secondsBehind ?? 0)) (\(limit))"
        return [DrillCheck(.rpo, "lag of \(Figures.count(partitions.count, "partition"))", figure, .pass)]
    }

    /// The line when lag could not be measured (a cluster did not answer).
    package static func unmeasured(_ reason: String) -> DrillCheck {
        DrillCheck(.rpo, "lag", "not measured", .fail, cause: "cannot measure lag: \(reason)")
    }
}
