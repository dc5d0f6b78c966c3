import Foundation

/// How `regionbridge drill` runs; every field has the command's default.
public struct DrillOptions: Sendable {
    /// The groups to check; nil: the source's groups that the topology's `groups:` filter selects.
    public var groups: [String]?
    /// The failback topology; nil: looked for among the topology files in the same folder.
    public var failback: String?
    /// How long the copy throughput is sampled for the RTO estimate. Default 10 s; the other checks run meanwhile.
    public var sample: Duration
    /// The reconcile window: payments committed in `[now − since, now − grace)`. Defaults 24 h and 30 s.
    public var since: Duration
    public var grace: Duration
    /// Timeout of one metadata, admin or read request. Default 10 s.
    public var requestTimeout: Duration

    /// Creates options with the command's defaults.
    public init(
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
public struct DrillError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The process exit code: 1.
    public var exitCode: Int32 { 1 }

    /// Creates an error with its message.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
