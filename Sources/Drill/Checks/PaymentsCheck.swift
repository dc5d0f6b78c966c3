import Foundation
import Reconciliation

/// What one (read-only) reconcile of the window found, as far as the drill needs it.
package struct PaymentFigures: Sendable, Equatable {
    /// Committed payments in the window.
    package var committed: Int
    /// Of those, with a record in the target.
    package var inTarget: Int
    /// Committed, in the source, not in the target.
    package var notReplicated: Int
    /// Committed, in neither region.
    package var neverPublished: Int
    /// Committed, not in the target, and the source was unreachable while the event index never saw it there.
    package var unknownAtSource: Int
    /// In the target with a field that differs from the committed row.
    package var mismatched: Int
    /// Amounts of the missing payments per currency, as text (`12.50`; see `ReconcileReport.missingAmounts`).
    package var missingAmounts: [String: String]
    /// Up to a few findings that break RPO=0, as `event id (class)`.
    package var examples: [String]
    /// The checked window, `[from, to)`.
    package var from: Date
    package var to: Date

    /// Creates the figures.
    package init(
        committed: Int, inTarget: Int, notReplicated: Int = 0, neverPublished: Int = 0, unknownAtSource: Int = 0, mismatched: Int = 0,
        missingAmounts: [String: String] = [:], examples: [String] = [], from: Date, to: Date
    ) {
        self.committed = committed
        self.inTarget = inTarget
        self.notReplicated = notReplicated
        self.neverPublished = neverPublished
        self.unknownAtSource = unknownAtSource
        self.mismatched = mismatched
        self.missingAmounts = missingAmounts
        self.examples = examples
        self.from = from
        self.to = to
    }

    /// Committed payments missing from the target.
    package var missing: Int { notReplicated + neverPublished + unknownAtSource }
}

/// RPO now, from the system of record: every payment committed in the window (older than the grace period)
/// must be in the target with its committed values.
package enum PaymentsCheck {
    /// The line for one reconcile of the window.
    /// - Parameters:
    ///   - figures: what it found; nil when it did not run.
    ///   - failure: why it could not run, if it could not (Postgres unreachable, the query failed).
    ///   - configured: whether the topology has a `reconcile:` section.
    package static func check(_ figures: PaymentFigures?, failure: String?, configured: Bool, targetRegion: String) -> DrillCheck {
        guard configured else {
            return DrillCheck(.rpo, "committed payments", "not configured (the topology has no reconcile: section)", .skip)
        }
        if let failure {
            return DrillCheck(.rpo, "committed payments", "not checked", .fail, cause: "cannot prove RPO=0: \(failure)",
                              action: FirstStep(.payments, "make the reconcile run to prove RPO=0: \(failure)"))
        }
        guard let figures else {
            return DrillCheck(.rpo, "committed payments", "not checked", .fail, cause: "cannot prove RPO=0: reconcile did not run")
        }
        let amount = figures.missingAmounts.isEmpty ? "" : " (amount \(Figures.amounts(figures.missingAmounts)))"
        guard figures.missing > 0 || figures.mismatched > 0 else {
            return DrillCheck(
                .rpo, "committed payments", "\(figures.inTarget) of \(figures.committed) committed in the window are in \(targetRegion); 0 missing",
                .pass)
        }
        var parts: [String] = []
        if figures.missing > 0 {
            parts.append("\(Figures.count(figures.missing, "committed payment")) not in \(targetRegion)\(amount): "
                + "\(figures.notReplicated) not replicated, \(figures.neverPublished) never published"
                + (figures.unknownAtSource > 0 ? ", \(figures.unknownAtSource) unknown at the unreachable source" : ""))
        }
        if figures.mismatched > 0 {
            parts.append("\(Figures.count(figures.mismatched, "payment")) in \(targetRegion) with a field that differs from the committed row")
        }
        let examples = figures.examples.isEmpty ? "" : " (\(figures.examples.joined(separator: ", ")))"
        return DrillCheck(
            .rpo, "committed payments", "\(figures.missing) missing\(amount), \(figures.mismatched) differ, of \(figures.committed) committed",
            .fail, cause: "RPO=0 violated: " + parts.joined(separator: "; ") + examples, action: step(figures, targetRegion: targetRegion))
    }

    /// What to do first about the payments: copy the ones the source holds, have the publisher send the ones it
    /// never did, then look at the ones that differ.
    static func step(_ figures: PaymentFigures, targetRegion: String) -> FirstStep {
        func named(_ kind: FindingKind) -> String {
            let ids = figures.examples.compactMap { example -> String? in
                let parts = example.split(separator: " ")
                return parts.count == 2 && parts[1] == kind.rawValue[...] ? String(parts[0]) : nil
            }
            return ids.isEmpty ? "" : " (\(ids.joined(separator: ", ")))"
        }
        if figures.notReplicated > 0 {
            return FirstStep(.payments, "copy the \(Figures.count(figures.notReplicated, "payment")) that the source holds and \(targetRegion) does not\(named(.notReplicated))")
        }
        if figures.neverPublished > 0 {
            return FirstStep(.payments, "have the publisher send the \(Figures.count(figures.neverPublished, "committed payment")) it never published\(named(.neverPublished))")
        }
        if figures.unknownAtSource > 0 {
            return FirstStep(.payments, "find out from the source whether the \(Figures.count(figures.unknownAtSource, "payment")) unknown there were published\(named(.unknownAtSource))")
        }
        return FirstStep(.payments, "compare the \(Figures.count(figures.mismatched, "payment")) that differ in \(targetRegion) with their committed rows\(named(.mismatch))")
    }
}
