import Foundation

/// A number of payments and their amounts, summed exactly per currency.
package struct PaymentsAtRisk: Sendable, Equatable {
    /// How many payments.
    package private(set) var payments = 0
    /// Their amounts per currency; the key is `""` when a row has no currency (NULL, or no currency column).
    package private(set) var amounts: [String: AmountSum] = [:]
    /// Payments whose amount is NULL or not a plain decimal: counted in ``payments``, not summed.
    package private(set) var withoutAmount = 0

    /// None.
    package init() {}

    /// Adds one payment.
    /// - Parameters:
    ///   - amount: the row's amount text; nil when NULL or when no amount column is configured.
    ///   - counted: whether an amount column is configured (only then does a missing amount count as one).
    package mutating func add(amount: String?, currency: String?, counted: Bool) {
        payments += 1
        guard counted else { return }
        var sum = amounts[currency ?? "", default: AmountSum()]
        if let amount, sum.add(amount) {
            amounts[currency ?? ""] = sum
        } else {
            withoutAmount += 1
        }
    }
}

/// The value at risk of one reconciliation: per class that breaks RPO=0, the payments and their amounts per
/// currency, and the total over distinct payments (a payment in two classes, e.g. not replicated and already
/// wrong in the source, counts once in the total).
package struct ValueAtRisk: Sendable, Equatable {
    /// The classes that break RPO=0, in report order.
    package static let classes: [FindingKind] = FindingKind.allCases.filter(\.breaksRPO)

    /// Whether the reconcile section names an amount column (`reconcile.amount`, or a compared `amount`).
    package var amountConfigured: Bool
    /// Per class that breaks RPO=0; a class with nothing at risk has no entry.
    package private(set) var byClass: [FindingKind: PaymentsAtRisk] = [:]
    /// Every payment at risk once.
    package private(set) var total = PaymentsAtRisk()

    /// Nothing at risk yet.
    package init(amountConfigured: Bool = false) {
        self.amountConfigured = amountConfigured
    }

    /// Adds one payment with what was found about it; nothing when no finding breaks RPO=0.
    package mutating func add(_ payment: CommittedPayment, findings: [Finding]) {
        let kinds = Set(findings.map(\.kind).filter(\.breaksRPO))
        guard !kinds.isEmpty else { return }
        for kind in kinds {
            byClass[kind, default: PaymentsAtRisk()].add(amount: payment.amount, currency: payment.currency, counted: amountConfigured)
        }
        total.add(amount: payment.amount, currency: payment.currency, counted: amountConfigured)
    }

    /// The payments at risk of one class (none for a class that does not break RPO=0).
    package func of(_ kind: FindingKind) -> PaymentsAtRisk { byClass[kind] ?? PaymentsAtRisk() }
}

/// Amounts as payment teams read them: `EUR 2,001.25`.
package enum AmountText {
    /// `sum` with a comma every three digits of its whole part: `2001.25` → `2,001.25`, `-1234567` → `-1,234,567`.
    package static func grouped(_ sum: AmountSum) -> String {
        let plain = sum.description
        let negative = plain.hasPrefix("-")
        let unsigned = negative ? String(plain.dropFirst()) : plain
        let parts = unsigned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        var whole = Array(parts[0])
        var index = whole.count - 3
        while index > 0 {
            whole.insert(",", at: index)
            index -= 3
        }
        return (negative ? "-" : "") + String(whole) + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// Every currency's sum, currencies in alphabetical order (the one without a currency first), each
    /// `EUR 2,001.25`, joined with `and` for two and commas for more; `""` when there is none.
    package static func list(_ amounts: [String: AmountSum]) -> String {
        let items = amounts.sorted { $0.key < $1.key }.map { currency, sum in
            currency.isEmpty ? grouped(sum) : "\(currency) \(grouped(sum))"
        }
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        case 2: return "\(items[0]) and \(items[1])"
        default: return items.dropLast().joined(separator: ", ") + " and " + items.last!
        }
    }
}

/// The value at risk in words, for the top of the reports.
enum RiskProse {
    /// `2 payments, EUR 2,001.25,` (`1 payment` without an amount column), with how many have no readable amount.
    static func subject(_ risk: PaymentsAtRisk, amountConfigured: Bool) -> String {
        var text = risk.payments == 1 ? "1 payment" : "\(risk.payments) payments"
        guard amountConfigured else { return text }
        var amounts = AmountText.list(risk.amounts)
        if risk.withoutAmount > 0 {
            let unreadable = "\(risk.withoutAmount) without a readable amount"
            amounts = amounts.isEmpty ? unreadable : "\(amounts) (and \(unreadable))"
        }
        if !amounts.isEmpty { text += ", \(amounts)," }
        return text
    }

    /// The headline: what is at risk in the target region, or that nothing is.
    static func headline(_ report: ReconcileReport) -> String {
        let risk = report.valueAtRisk
        guard risk.total.payments > 0 else {
            if report.committed == 0 { return "Nothing at risk: no payment was committed in the window." }
            return "Nothing at risk: all \(report.committed) committed payments of the window are in \(report.targetRegion) with their committed values."
        }
        let one = risk.total.payments == 1
        let subject = subject(risk.total, amountConfigured: risk.amountConfigured)
        if risk.of(.mismatch).payments == 0 {
            return "At risk: \(subject) \(one ? "is" : "are") not in \(report.targetRegion)."
        }
        return "At risk: \(subject) \(one ? "is" : "are") missing from \(report.targetRegion) or \(one ? "differs" : "differ") there from the committed row."
    }

    /// One sentence per class with payments at risk, in class order.
    static func classes(_ report: ReconcileReport) -> [String] {
        let risk = report.valueAtRisk
        return ValueAtRisk.classes.compactMap { kind in
            let entry = risk.of(kind)
            guard entry.payments > 0 else { return nil }
            let one = entry.payments == 1
            let subject = subject(entry, amountConfigured: risk.amountConfigured)
            let target = report.targetRegion, source = report.sourceRegion
            switch kind {
            case .notReplicated:
                return "\(subject) \(one ? "is" : "are") in \(source) but not in \(target): not replicated (\(kind.rawValue))."
            case .neverPublished:
                return "\(subject) \(one ? "is" : "are") not in \(target): never published to \(source) (\(kind.rawValue))."
            case .unknownAtSource:
                return "\(subject) \(one ? "is" : "are") not in \(target); \(source) was unreachable, so it cannot be told whether "
                    + "\(one ? "it was" : "they were") never published or published after the last scan (\(kind.rawValue))."
            case .mismatch:
                return "\(subject) \(one ? "has" : "have") a field that differs from the committed row (\(kind.rawValue))."
            case .duplicate, .orphan:
                return nil
            }
        }
    }

    /// The rows of the value-at-risk table: one per class that breaks RPO=0, then the total.
    static let header = ["CLASS", "PAYMENTS", "AMOUNT"]

    static func rows(_ report: ReconcileReport) -> [[String]] {
        let risk = report.valueAtRisk
        func amount(_ entry: PaymentsAtRisk) -> String {
            guard risk.amountConfigured else { return "-" }
            var text = AmountText.list(entry.amounts)
            if entry.withoutAmount > 0 { text += (text.isEmpty ? "" : " ") + "(\(entry.withoutAmount) without amount)" }
            return text.isEmpty ? "0" : text
        }
        return ValueAtRisk.classes.map { [$0.rawValue, String(risk.of($0).payments), amount(risk.of($0))] }
            + [["total", String(risk.total.payments), amount(risk.total)]]
    }
}
