import Foundation

/// Committed payments not (yet) proven in the target: how many, what they are worth, why.
package struct RPOAtRisk: Sendable, Equatable {
    /// How many committed payments.
    package var payments: Int
    /// Sum of their amounts per currency, as decimal text (`"1234.50"`); nil when `reconcile.amount` is not set.
    /// Without `reconcile.currency` the one key is `""`.
    package var amounts: [String: String]?
    /// Their event ids, oldest commit first, at most ``RPOAtRisk/maxEventIDs``.
    package var eventIDs: [String]
    /// Of them, in the source index but at or beyond the partition's `replicatedUpTo`.
    package var notReplicated: Int
    /// Of them, in no indexed source record (while the source answered).
    package var neverPublished: Int
    /// Of them, in no indexed source record while the source did not answer: never published, or published after
    /// the last scan of the source; the source cannot tell.
    package var unknownAtSource: Int

    /// How many event ids an alert names.
    package static let maxEventIDs = 20

    /// Creates a set; the default is the empty one (nothing at risk).
    package init(
        payments: Int = 0, amounts: [String: String]? = nil, eventIDs: [String] = [], notReplicated: Int = 0, neverPublished: Int = 0,
        unknownAtSource: Int = 0
    ) {
        self.payments = payments
        self.amounts = amounts
        self.eventIDs = eventIDs
        self.notReplicated = notReplicated
        self.neverPublished = neverPublished
        self.unknownAtSource = unknownAtSource
    }
}

/// The outcome of one continuous-reconciliation check of the window `[at − lookback, at)`.
package struct RPOCheckResult: Sendable, Equatable {
    /// When the check looked (the window's end).
    package var at: Date
    /// Every committed payment of the window that is not proven in the target (metrics).
    package var atRisk: RPOAtRisk
    /// Of those, the ones committed longer than `max_age` ago: the RPO violation (the alert).
    package var violation: RPOAtRisk
    /// Commit time of the oldest payment at risk; nil when none is.
    package var oldestAtRisk: Date?
    /// Every committed payment of the window up to this commit time is proven in the target.
    package var verifiedUntil: Date
    /// How long the check took, seconds.
    package var durationSeconds: Double

    /// Creates a result.
    package init(at: Date, atRisk: RPOAtRisk, violation: RPOAtRisk, oldestAtRisk: Date?, verifiedUntil: Date, durationSeconds: Double) {
        self.at = at
        self.atRisk = atRisk
        self.violation = violation
        self.oldestAtRisk = oldestAtRisk
        self.verifiedUntil = verifiedUntil
        self.durationSeconds = durationSeconds
    }
}
