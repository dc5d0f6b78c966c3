/// What `regionbridge drill` holds the pair to: the `drill:` section of a topology file, the disaster-recovery
/// standard's recovery time objective and the largest lag that still counts as ready.
///
/// ```yaml
/// drill:
///   rto: 15m               # default 15m; the estimated time to fail over must not exceed it
///   max_lag_seconds: 60    # default 60; a partition further behind than this is not ready
/// ```
package struct DrillSettings: Sendable, Equatable {
    /// The recovery time objective: the replication of the current backlog plus the failover steps must fit
    /// in it. Default 15 minutes.
    package var rto: Duration
    /// Seconds behind above which a partition makes the pair not ready. Default 60; 0 demands no lag at all.
    package var maxLagSeconds: Double

    /// Creates drill settings; the defaults are those of a file without a `drill:` section.
    package init(rto: Duration = .seconds(900), maxLagSeconds: Double = 60) {
        self.rto = rto
        self.maxLagSeconds = maxLagSeconds
    }
}
