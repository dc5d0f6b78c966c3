import Foundation

/// How `regionbridge drill` runs; every field has the command's default.
package struct DrillOptions: Sendable {
    /// The groups to check; nil: the source's groups that the topology's `groups:` filter selects.
    package var groups: [String]?
    /// The failback topology; nil: looked for among the topology files in the same folder.
    package var failback: String?
    /// How long the copy throughput is sampled for the RTO estimate. Default 10 s; the other checks run meanwhile.
    package var sample: Duration
    /// The reconcile window: payments committed in `[now − since, now − grace)`. Defaults 24 h and 30 s.
    package var since: Duration
    package var grace: Duration
    /// Timeout of one metadata, admin or read request. Default 10 s.
    package var requestTimeout: Duration

    /// Creates options with the command's defaults.
    package init(
        groups: [String]? = nil, failback: String? = nil, sample: Duration = .seconds(10), since: Duration = .seconds(86_400),
        grace: Duration = .seconds(30), requestTimeout: Duration = .seconds(10)
    ) {
        self.groups = groups
        self.failback = failback
        self.sample = sample
        self.since = since
        self.grace = grace
        self.requestTimeout = requestTimeout
    }
}

/// Why the drill could not give a verdict at all (its Kafka clients could not be created).
package struct DrillError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    package var message: String
    /// The process exit code: 1.
    package var exitCode: Int32 { 1 }

    /// Creates an error with its message.
    package init(_ message: String) { self.message = message }

    package var description: String { message }
}
