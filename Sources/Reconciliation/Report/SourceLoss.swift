/// What a report says when the source region could not be read (a regional loss): the findings then rest on the
/// event index's last scan of the source and on the target.
enum SourceLoss {
    /// The warnings of a run whose source did not answer.
    /// - Parameter describeReplication: whether lag and group positions were asked for (and so skipped).
    static func warnings(_ report: ReconcileReport, describeReplication: Bool) -> [String] {
        guard let error = report.source.unreachable, let line = report.sourceUnreachableLine else { return [] }
        var warnings = [
            "\(line) (\(error)); committed payments not in \(report.targetRegion) that the event index never saw in the source "
                + "are \(FindingKind.unknownAtSource.rawValue)",
        ]
        if report.rpoZero {
            warnings.append(
                "every committed payment of the window is in \(report.targetRegion), so the unreachable source does not fail the proof")
        }
        if describeReplication {
            warnings.append("lag and group positions were not read: the source cluster \(report.sourceRegion) is unreachable")
        }
        return warnings
    }
}
