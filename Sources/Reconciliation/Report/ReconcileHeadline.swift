import Monitoring

/// The verdict of a reconciliation as a person reads it in one breath: whether RPO=0 holds, what is at risk
/// (payments and their amount, by class), how far behind the replicated data is (per topic: records, seconds with
/// their basis, the worst partition) and the first thing to do. The bridge's own topics never count here.
enum ReconcileHeadline {
    /// `RPO=0 VIOLATED: at risk: ...; behind: ...; first: ...`.
    static func line(_ report: ReconcileReport) -> String {
        let label = report.rpoZero ? "RPO=0 holds" : "RPO=0 VIOLATED"
        return "\(label): at risk: \(risk(report)); behind: \(behind(report)); first: \(first(report))"
    }

    /// The payments at risk, their amount and their classes.
    static func risk(_ report: ReconcileReport) -> String {
        let risk = report.valueAtRisk
        guard report.findings.violations > 0 else {
            return report.committed == 0
                ? "nothing, no payment was committed in the window"
                : "nothing, all \(report.committed) committed payments are in \(report.targetRegion)"
        }
        // Every payment at risk once (a payment can be in two classes); the classes say why.
        let payments = max(risk.total.payments, 1)
        var subject = payments == 1 ? "1 payment" : "\(payments) payments"
        if risk.amountConfigured {
            let amounts = AmountText.list(risk.total.amounts)
            if !amounts.isEmpty { subject += ", \(amounts)," }
        }
        let differ = report.findings.count(.mismatch) > 0
        let missing = report.findings.count(.notReplicated) + report.findings.count(.neverPublished) + report.findings.count(.unknownAtSource) > 0
        let what = missing && differ
            ? "missing from \(report.targetRegion) or differing there"
            : (differ ? "differing in \(report.targetRegion) from the committed row" : "not in \(report.targetRegion)")
        let classes = ValueAtRisk.classes.compactMap { kind -> String? in
            let count = report.findings.count(kind)
            guard count > 0 else { return nil }
            switch kind {
            case .notReplicated: return "\(count) not replicated"
            case .neverPublished: return "\(count) never published"
            case .unknownAtSource: return "\(count) unknown at the unreachable source"
            case .mismatch: return "\(count) \(count == 1 ? "differs" : "differ")"
            case .duplicate, .orphan: return nil
            }
        }
        return "\(subject) \(what) (\(classes.joined(separator: ", ")); of \(report.committed) committed)"
    }

    /// The data topics behind, furthest first; `not read` when the source did not answer.
    static func behind(_ report: ReconcileReport) -> String {
        if report.source.unreachable != nil { return "not read (the source cluster \(report.sourceRegion) does not answer)" }
        guard !report.partitions.isEmpty else { return "not read" }
        return LagWords.dataBehind(TopicLag.group(report.partitions))
    }

    /// The first thing to do: reach a source that does not answer, copy what the source holds, have the publisher
    /// send what it never did, then look at the payments that differ; with RPO=0 holding, nothing (or the backlog).
    static func first(_ report: ReconcileReport) -> String {
        func ids(_ kind: FindingKind) -> String {
            let shown = (report.findings.examples[kind] ?? []).prefix(3).map(\.eventID)
            let more = report.findings.count(kind) - shown.count
            return shown.isEmpty ? "" : " (\(shown.joined(separator: ", "))\(more > 0 ? " and \(more) more" : ""))"
        }
        func payments(_ count: Int) -> String { count == 1 ? "1 payment" : "\(count) payments" }
        let findings = report.findings
        if report.source.unreachable != nil, findings.count(.unknownAtSource) > 0 {
            let unknown = findings.count(.unknownAtSource)
            return "reach the source cluster \(report.sourceRegion) (it does not answer) to tell whether the "
                + "\(payments(unknown)) unknown there \(unknown == 1 ? "was" : "were") published\(ids(.unknownAtSource))"
        }
        if findings.count(.notReplicated) > 0 {
            return "get the bridge to copy the \(payments(findings.count(.notReplicated))) that \(report.sourceRegion) holds and "
                + "\(report.targetRegion) does not\(ids(.notReplicated))"
        }
        if findings.count(.neverPublished) > 0 {
            return "have the publisher send the \(payments(findings.count(.neverPublished))) it committed but never published\(ids(.neverPublished))"
        }
        if findings.count(.mismatch) > 0 {
            return "compare the \(payments(findings.count(.mismatch))) that differ in \(report.targetRegion) with their committed rows\(ids(.mismatch))"
        }
        let backlog = TopicLag.group(report.partitions).filter { !$0.isBridgeTopic && $0.recordsBehind > 0 }
        if let furthest = backlog.max(by: { ($0.secondsBehind ?? .infinity) < ($1.secondsBehind ?? .infinity) }) {
            return "nothing for the committed payments; the bridge has \(LagWords.count(backlog.reduce(0) { $0 + $1.recordsBehind }, "record")) "
                + "to copy, \(furthest.topic) furthest behind"
        }
        return "nothing to do"
    }
}
