import Failover
import Formats
import Foundation
import Kafka
import Monitoring
import Replication

/// Everything one reconciliation found: the verdict, the counts, the state of every partition and group,
/// and the findings. Rendered by ``ReportFormat``; the JSON form is stable (see README, "Reconcile report JSON").
package struct ReconcileReport: Sendable {
    package var pair: String
    package var sourceRegion: String
    package var targetRegion: String
    /// Payments committed in `[windowStart, windowEnd)` are checked.
    package var windowStart: Date
    package var windowEnd: Date
    /// The cut-off: `windowEnd` is `until` minus the grace period.
    package var until: Date
    /// Seconds a committed payment has to reach the target before its absence counts.
    package var grace: Double
    /// When the report was made.
    package var generatedAt = Date()

    /// Committed payments in the window.
    package var committed = 0
    /// Of those, how many have at least one record in the target.
    package var inTarget = 0
    /// Findings by class, with the first 100 of each.
    package var findings = FindingTally()
    /// The amounts of the committed payments missing from the target (`not_replicated`, `never_published` and
    /// `unknown_at_source`), summed per currency: the `reconcile.amount` column (without it, a compared column or
    /// field named `amount`), keyed by the currency column (`""` without one). Empty when nothing is missing or no
    /// amount is configured.
    package var missingAmounts: [String: AmountSum] = [:]
    /// Per class that breaks RPO=0, the payments and their amounts per currency, and the total.
    package var valueAtRisk = ValueAtRisk()
    /// Whether this run could read the source, and how old the report's knowledge of it is.
    package var source = SourceKnowledge()

    /// Records read in this run (new since the last run).
    package var sourceRecordsScanned = 0
    package var targetRecordsScanned = 0
    /// Records read that carry no event id.
    package var withoutEventID = 0
    package var scanSeconds: Double = 0
    package var totalSeconds: Double = 0
    /// Things an operator should know that are not findings.
    package var warnings: [String] = []

    /// Per-partition replication state of the pair.
    package var partitions: [PartitionLag] = []
    /// Selected groups' source positions and their exact translation into the target.
    package var groups: [GroupPartitionPosition] = []

    package init(pair: String, sourceRegion: String, targetRegion: String, windowStart: Date, windowEnd: Date, until: Date, grace: Double) {
        self.pair = pair
        self.sourceRegion = sourceRegion
        self.targetRegion = targetRegion
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.until = until
        self.grace = grace
    }

    /// True when every committed payment of the window is in the target with the committed values.
    package var rpoZero: Bool { findings.violations == 0 }

    /// `RPO=0 holds` or `RPO=0 VIOLATED`, with the number of violations.
    package var verdict: String {
        rpoZero ? "RPO=0 holds: all \(committed) committed payments are in \(targetRegion)"
            : "RPO=0 VIOLATED: \(findings.violations) of \(committed) committed payments are missing from \(targetRegion) or differ"
    }

    /// The verdict for a person, the first line of every form but JSON (there it is `headline`): what is at risk,
    /// how far behind, what to do first (``ReconcileHeadline``).
    package var headline: String { ReconcileHeadline.line(self) }

    /// Process exit code: 0 when RPO=0 holds, 3 when it does not.
    package var exitCode: ExitCode { rpoZero ? .done : .rpoViolated }

    /// Every kept finding, class by class.
    package var shownFindings: [Finding] {
        FindingKind.allCases.flatMap { findings.examples[$0] ?? [] }
    }

    /// All findings, counted.
    package var totalFindings: Int { findings.counts.values.reduce(0, +) }
}

/// What a report knows of the source cluster.
package struct SourceKnowledge: Sendable, Equatable {
    /// Why this run could not read the source (librdkafka's message); nil when it could.
    package var unreachable: String?
    /// When the newest scan of the source that the report rests on began: every record the source held then is
    /// in the event index. This run's scan when the source answered; nil when no scan is known.
    package var scannedAt: Date?

    /// Reachable, nothing scanned yet.
    package init(unreachable: String? = nil, scannedAt: Date? = nil) {
        self.unreachable = unreachable
        self.scannedAt = scannedAt
    }

    /// Whole seconds from ``scannedAt`` to `now` (never negative); nil without a scan.
    package func ageSeconds(at now: Date) -> Int? {
        scannedAt.map { Int(max(0, now.timeIntervalSince($0)).rounded(.down)) }
    }
}

extension ReconcileReport {
    /// `source us-east unreachable: knowledge of the source is from <ISO time> (<n> s old)`; nil when the source answered.
    package var sourceUnreachableLine: String? {
        guard source.unreachable != nil else { return nil }
        guard let at = source.scannedAt, let age = source.ageSeconds(at: generatedAt) else {
            return "source \(sourceRegion) unreachable: the event index holds no scan of it, so nothing is known of the source"
        }
        return "source \(sourceRegion) unreachable: knowledge of the source is from \(ISOTime.string(at)) (\(age) s old)"
    }
}
