/// What a drill looks at, in the order the report shows it.
package enum DrillArea: String, Sendable, CaseIterable, Comparable {
    /// Records and seconds behind, and committed payments missing from the target.
    case rpo = "RPO now"
    /// The time to replicate the backlog plus the failover steps, against `drill.rto`.
    case rto = "RTO estimate"
    /// Whether `failover --apply` would succeed for each selected group, and what it would commit.
    case failover = "Consumer failover"
    /// Target topics and their configuration against the source's, and the bridge's own topics.
    case parity = "Target parity"
    /// The reverse pair's topology.
    case failback = "Failback path"
    /// Both clusters answer; heartbeat age when heartbeats exist.
    case liveness = "Liveness"

    /// A stable lower-case key for JSON: `rpo`, `rto`, `failover`, `parity`, `failback`, `liveness`.
    package var key: String {
        switch self {
        case .rpo: "rpo"
        case .rto: "rto"
        case .failover: "failover"
        case .parity: "parity"
        case .failback: "failback"
        case .liveness: "liveness"
        }
    }

    package static func < (lhs: DrillArea, rhs: DrillArea) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The outcome of one check.
package enum CheckStatus: String, Sendable, Equatable, CaseIterable {
    /// Meets the standard.
    case pass
    /// Meets it, but an operator should know something (the verdict is unchanged).
    case warn
    /// Does not meet it: the pair is NOT READY.
    case fail
    /// Not applicable here (not configured, nothing to check).
    case skip

    /// `PASS`, `WARN`, `FAIL` or `SKIP`.
    package var label: String { rawValue.uppercased() }
}

/// One line of the drill: what was checked, its figure, and its outcome with the cause when it is not a pass.
package struct DrillCheck: Sendable, Equatable {
    /// The area the check belongs to.
    package var area: DrillArea
    /// What was checked: a partition, a topic, a group, a file, a cluster.
    package var subject: String
    /// The measured figure, e.g. `0 records, 0 s behind (max 60 s)`.
    package var figure: String
    /// Pass, warn, fail or skip.
    package var status: CheckStatus
    /// Why it failed or warns, naming the topic, partition, group, file or key concerned; nil for a pass.
    package var cause: String?
    /// What to do about a failure, and how urgent it is against the others; nil: the cause says it.
    package var action: FirstStep?

    /// Creates a check line.
    package init(_ area: DrillArea, _ subject: String, _ figure: String, _ status: CheckStatus, cause: String? = nil, action: FirstStep? = nil) {
        self.area = area
        self.subject = subject
        self.figure = figure
        self.status = status
        self.cause = cause
        self.action = action
    }
}

/// The first thing to do about a failed check; the verdict line names the most urgent one.
package struct FirstStep: Sendable, Equatable {
    /// Urgency: lower comes first (``Rank``).
    package var rank: Int
    /// An imperative an operator can act on.
    package var text: String

    /// Creates a step.
    package init(_ rank: Rank, _ text: String) {
        self.rank = rank.rawValue
        self.text = text
    }

    /// How urgent a step is: a cluster that does not answer first, then a bridge that does not copy, then the
    /// payments, the backlog, the groups, the topics and the failback path.
    package enum Rank: Int, Sendable {
        case clusterDown = 0, notCopying, payments, backlog, failover, parity, failback, other
    }
}
