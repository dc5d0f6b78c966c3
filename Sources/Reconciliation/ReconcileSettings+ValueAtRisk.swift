import Topology

extension ReconcileSettings {
    /// The committed query's columns that give each payment's amount and currency for the value at risk:
    /// `reconcile.amount` and `reconcile.currency`; without `amount:`, as before that key existed, the columns of
    /// the compared fields named `amount` and `currency` (by field or by column). nil when there is none.
    package var valueAtRiskColumns: (amount: String?, currency: String?) {
        if let amountColumn { return (amountColumn, currencyColumn) }
        func compared(_ name: String) -> String? {
            compare.first { $0.field == name }?.column ?? compare.first { $0.column == name }?.column
        }
        return (compared("amount"), compared("currency"))
    }
}
