import Foundation
import Monitoring

/// The verdict as a person reads it in one breath: READY or NOT READY, what is at risk (committed payments and
/// their amount), how far behind the data is (per topic: records, seconds with their basis, the worst partition)
/// and the first thing to do. The bridge's own topics never count here.
package enum DrillHeadline {
    /// `NOT READY: pair P cannot fail over to eu-west now; at risk: ...; behind: ...; first: ... (n of m checks failed)`.
    package static func line(_ report: DrillReport) -> String {
        let verdict = report.verdict
        let parts = [
            "at risk: \(risk(report))",
            "behind: \(behind(report))",
            "first: \(first(verdict))",
        ]
        if verdict.ready {
            let noted = verdict.warnings.isEmpty ? "" : ", \(Figures.count(verdict.warnings.count, "warning"))"
            return "READY: pair \(report.pair) could fail over to \(report.targetRegion) now; " + parts.joined(separator: "; ")
                + " (all \(verdict.checkCount) checks pass or do not apply\(noted))"
        }
        return "NOT READY: pair \(report.pair) cannot fail over to \(report.targetRegion) now; " + parts.joined(separator: "; ")
            + " (\(verdict.causes.count) of \(verdict.checkCount) checks failed)"
    }

    /// The committed payments at risk, from the reconcile of the window.
    static func risk(_ report: DrillReport) -> String {
        guard let payments = report.payments else {
            let check = report.checks.first { $0.area == .rpo && $0.subject == "committed payments" }
            return check?.status == .skip ? "payments not checked (no reconcile: section)" : "payments unknown (the reconcile could not run)"
        }
        guard payments.missing > 0 || payments.mismatched > 0 else {
            return "no committed payment (\(payments.inTarget) of \(payments.committed) in \(report.targetRegion))"
        }
        var parts: [String] = []
        if payments.missing > 0 {
            let amount = payments.missingAmounts.isEmpty ? "" : ", \(Figures.amounts(payments.missingAmounts)),"
            parts.append("\(Figures.count(payments.missing, "committed payment"))\(amount) not in \(report.targetRegion)")
        }
        if payments.mismatched > 0 {
            parts.append("\(Figures.count(payments.mismatched, "payment")) that \(payments.mismatched == 1 ? "differs" : "differ") there")
        }
        return parts.joined(separator: " and ")
    }

    /// The data topics behind, furthest first.
    static func behind(_ report: DrillReport) -> String {
        guard !report.partitions.isEmpty else { return "not measured" }
        return LagWords.dataBehind(TopicLag.group(report.partitions))
    }

    /// The most urgent failed check's step; `nothing to do` when ready.
    static func first(_ verdict: DrillVerdict) -> String {
        guard !verdict.ready else { return "nothing to do" }
        let steps = verdict.causes.enumerated().map { index, check in
            (check.action?.rank ?? FirstStep.Rank.other.rawValue, index, check.action?.text ?? "\(check.subject): \(check.cause ?? check.figure)")
        }
        // One line, whatever the cause holds (a Postgres error or a topology's problems run over several).
        return steps.min { ($0.0, $0.1) < ($1.0, $1.1) }!.2.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
    }
}
