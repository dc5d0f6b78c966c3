/// The exit codes of every `regionbridge` command, documented once: the README's "Exit codes" table lists
/// exactly these (a test compares them).
///
package enum ExitCode: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// Done: caught up, stopped by SIGTERM/SIGINT after draining, or the command's work finished (for
    /// `reconcile`: RPO=0 holds).
    case done = 0
    /// Runtime error: a cluster or Postgres unreachable, a target topic that cannot be created or grown, a fatal
    /// client error, a query that failed.
    case runtime = 1
    /// Usage or configuration error: a bad topology file, a bad option; a cluster that refuses the bridge (its TLS
    /// certificate, the client certificate, SASL credentials, a permission), or a Kafka client that cannot be made
    /// from the properties. Waiting does not mend these.
    case usage = 2
    /// `reconcile`: RPO=0 violated, a committed payment is missing from the target or differs from its row;
    /// `wait-replicated`: the record is not in the target by the timeout.
    case rpoViolated = 3
    /// Refused: `failover` or `failback` found a group active where it would move it, a position not yet
    /// replicated, or no checkpoint; nothing was committed.
    case refused = 4
    /// Source records were deleted before they were copied; the message names the partition and offset range.
    case sourceGap = 5
    /// The target refused a record (too large, not authorised, ...); the message names the source record.
    case refusedRecord = 6
    /// The target lost records the bridge had written; the message names the partition and offsets.
    case targetLostData = 7
    /// `drill`: the pair is NOT READY to fail over cleanly now; every cause is printed.
    case notReady = 8

    /// The code as the process returns it.
    package var code: Int32 { rawValue }

    /// `<code> (<name>)`, e.g. `5 (source gap)`.
    package var description: String {
        let name = switch self {
        case .done: "done"
        case .runtime: "runtime error"
        case .usage: "usage error"
        case .rpoViolated: "RPO violated"
        case .refused: "refused"
        case .sourceGap: "source gap"
        case .refusedRecord: "refused record"
        case .targetLostData: "target lost data"
        case .notReady: "drill NOT READY"
        }
        return "\(rawValue) (\(name))"
    }
}
