import Failover
import Formats
import Foundation
import Monitoring
import Replication
import Topology

/// Everything one drill found: the checks and the verdict they give, with the figures behind them.
/// Rendered by ``DrillFormat``.
package struct DrillReport: Sendable {
    /// The topology's names.
    package var pair: String
    package var sourceRegion: String
    package var targetRegion: String
    /// When the drill ran.
    package var generatedAt: Date
    /// What the pair is held to (`drill:`).
    package var settings: DrillSettings
    /// Every check, in report order.
    package var checks: [DrillCheck]
    /// The lag of every selected partition at the end of the sample (empty when it could not be measured).
    package var partitions: [PartitionLag]
    /// What `failover --apply` would commit, per group and partition.
    package var positions: [GroupPartitionPosition]
    /// The RTO estimate's measurements; nil when lag could not be measured.
    package var rto: RTOEstimate?
    /// What the reconcile of the window found; nil without a `reconcile:` section or when it failed.
    package var payments: PaymentFigures?
    /// How long the drill took, in seconds.
    package var seconds: Double

    /// Creates a report.
    package init(
        pair: String, sourceRegion: String, targetRegion: String, generatedAt: Date = Date(), settings: DrillSettings,
        checks: [DrillCheck], partitions: [PartitionLag] = [], positions: [GroupPartitionPosition] = [], rto: RTOEstimate? = nil,
        payments: PaymentFigures? = nil, seconds: Double = 0
    ) {
        self.pair = pair
        self.sourceRegion = sourceRegion
        self.targetRegion = targetRegion
        self.generatedAt = generatedAt
        self.settings = settings
        self.checks = checks.enumerated().sorted { ($0.element.area, $0.offset) < ($1.element.area, $1.offset) }.map(\.element)
        self.partitions = partitions
        self.positions = positions
        self.rto = rto
        self.payments = payments
        self.seconds = seconds
    }

    /// READY when no check failed.
    package var verdict: DrillVerdict { DrillVerdict(checks) }

    /// The verdict as one line, naming the first causes (the JSON `verdict`, as it always was).
    package var verdictLine: String { verdict.line(pair: pair, targetRegion: targetRegion) }

    /// The verdict for a person, the first line of every form but JSON (there it is `headline`): what is at risk,
    /// how far behind, what to do first (``DrillHeadline``).
    package var headline: String { DrillHeadline.line(self) }

    /// 0 for READY, 8 for NOT READY.
    package var exitCode: Int32 { verdict.exitCode }

    /// `pair P (us-east -> eu-west) at T; rto 15m, max_lag_seconds 60; the drill took 2.5 s`.
    var context: String {
        "pair \(pair) (\(sourceRegion) -> \(targetRegion)) at \(ISOTime.string(generatedAt)); "
            + "rto \(Figures.span(settings.rto.seconds)), max_lag_seconds \(JSONValue.seconds(settings.maxLagSeconds)); "
            + "the drill took \(Figures.seconds(seconds)) and changed nothing"
    }
}
