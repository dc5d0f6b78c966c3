import Foundation
import Monitoring

/// How long a failover would take now: the time to replicate the current backlog at the throughput measured
/// over a short sample, plus the failover steps (the dry run of every selected group, which `failover --apply`
/// repeats before it commits), compared with `drill.rto`.
package struct RTOEstimate: Sendable, Equatable {
    /// Source records not yet in the target now; nil when lag could not be measured.
    package var backlogRecords: Int64?
    /// Source records the target gained during the sample.
    package var copiedInSample: Int64
    /// How long the sample lasted.
    package var sampleSeconds: Double
    /// The measured failover steps (the dry run of every selected group).
    package var failoverSeconds: Double
    /// How many groups the failover steps moved.
    package var groups: Int
    /// `drill.rto`, in seconds.
    package var rtoSeconds: Double

    /// Creates an estimate from its measurements.
    package init(backlogRecords: Int64?, copiedInSample: Int64, sampleSeconds: Double, failoverSeconds: Double, groups: Int, rtoSeconds: Double) {
        self.backlogRecords = backlogRecords
        self.copiedInSample = copiedInSample
        self.sampleSeconds = sampleSeconds
        self.failoverSeconds = failoverSeconds
        self.groups = groups
        self.rtoSeconds = rtoSeconds
    }

    /// Records copied per second during the sample; nil when the sample had no length.
    package var throughput: Double? {
        sampleSeconds > 0 ? Double(copiedInSample) / sampleSeconds : nil
    }

    /// Seconds to replicate the backlog: 0 without one, infinity when it did not move during the sample, nil when
    /// the backlog or (with a backlog) the copy rate is unknown.
    package var replicationSeconds: Double? {
        guard let backlog = backlogRecords else { return nil }
        guard backlog > 0 else { return 0 }
        guard let throughput else { return nil }
        return throughput > 0 ? Double(backlog) / throughput : .infinity
    }

    /// The estimate: replication plus the failover steps; nil when unknown.
    package var totalSeconds: Double? {
        replicationSeconds.map { $0 + failoverSeconds }
    }

    /// The check line.
    package var check: DrillCheck {
        let limit = "rto \(Figures.span(rtoSeconds))"
        let steps = "failover dry run of \(Figures.count(groups, "group")) \(Figures.seconds(failoverSeconds))"
        guard let backlog = backlogRecords else {
            return DrillCheck(.rto, "time to fail over", "unknown (\(limit))", .fail,
                              cause: "cannot estimate the RTO: the backlog could not be measured")
        }
        guard let replication = replicationSeconds, let total = totalSeconds else {
            return DrillCheck(.rto, "time to fail over", "unknown: \(Figures.count(backlog, "record")) behind (\(limit))", .fail,
                              cause: "cannot estimate the RTO: the copy rate could not be sampled (the first lag reading failed)")
        }
        let rate = throughput.map { "\(Int64($0.rounded())) records/s" } ?? "not measured"
        guard replication.isFinite else {
            return DrillCheck(
                .rto, "time to fail over", "unbounded: \(Figures.count(backlog, "record")) behind, 0 copied in \(Figures.seconds(sampleSeconds)) (\(limit))",
                .fail,
                cause: "the backlog of \(Figures.count(backlog, "record")) did not move during the \(Figures.seconds(sampleSeconds)) sample: is the bridge running?",
                action: FirstStep(.notCopying, "the bridge is not copying (0 records moved in \(LagWords.roughSeconds(sampleSeconds))): start it or read its log"))
        }
        let backlogPart = backlog == 0
            ? "no backlog"
            : "backlog \(Figures.count(backlog, "record")) at \(rate) (\(Figures.span(replication)))"
        let figure = "\(Figures.span(total)) = \(backlogPart) + \(steps) (\(limit))"
        guard total <= rtoSeconds else {
            return DrillCheck(.rto, "time to fail over", figure, .fail,
                              cause: "estimated \(Figures.span(total)) to fail over, over the rto of \(Figures.span(rtoSeconds))",
                              action: FirstStep(.backlog, "shrink the backlog of \(Figures.count(backlog, "record")): at \(rate) it takes \(Figures.span(replication))"))
        }
        return DrillCheck(.rto, "time to fail over", figure, .pass)
    }
}
