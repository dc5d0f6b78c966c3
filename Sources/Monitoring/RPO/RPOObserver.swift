import Replication

/// What the continuous reconciliation (`reconcile.continuous`) reports: the hooks behind the RPO metrics and the
/// `rpo_violation` and `postgres_unreachable` alerts. Like ``ReplicationObserver``'s methods, cheap, never blocking
/// on I/O, callable from any thread.
package protocol RPOObserver: Sendable {
    /// The continuous reconciliation finished a check.
    func rpoChecked(_ result: RPOCheckResult)
    /// Whether the continuous reconciliation's last statements reached Postgres (false: cannot connect, or a query failed).
    func postgresReachable(_ reachable: Bool)
    /// Whether this instance holds the pair's RPO watch now (group mode: the instance that leads the group; single
    /// mode: always, from the first check on). One that lets it go reports no more checks.
    func watchHeld(_ held: Bool)
}

extension RPOObserver {
    package func watchHeld(_ held: Bool) {}
}

/// Passes every report on to several RPO observers, in order.
package struct RPOObserverGroup: RPOObserver {
    /// The observers reported to.
    package let observers: [any RPOObserver]

    /// Creates a group.
    package init(_ observers: [any RPOObserver]) { self.observers = observers }

    package func rpoChecked(_ result: RPOCheckResult) {
        for observer in observers { observer.rpoChecked(result) }
    }
    package func postgresReachable(_ reachable: Bool) {
        for observer in observers { observer.postgresReachable(reachable) }
    }
    package func watchHeld(_ held: Bool) {
        for observer in observers { observer.watchHeld(held) }
    }
}
