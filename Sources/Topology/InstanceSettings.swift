/// How many processes run the pair: the `instances:` section of a topology file.
///
/// ```yaml
/// instances:
///   mode: single            # default; single: one process copies every partition
///                           # group: any number of processes share the pair through the consumer group
///                           #        regionbridge.<pair> in the source, with fenced transactional writers
///   session_timeout: 10s    # default 10s; group only: how long a silent instance keeps its partitions
///   commit_interval: 100ms  # default 100ms; group only: how often each partition's transaction is committed
/// ```
package struct InstanceSettings: Sendable, Equatable {
    /// How the pair's partitions are owned.
    package enum Mode: String, Sendable, Equatable, CaseIterable {
        /// One process owns every partition; writes go through one idempotent producer.
        case single
        /// Processes join the consumer group `regionbridge.<pair>` in the source (cooperative-sticky); each
        /// partition is written by its own transactional producer, which fences every earlier owner.
        case group
    }

    /// How the pair's partitions are owned. Default `single`.
    package var mode: Mode
    /// Group mode: the consumer group session timeout, after which a silent instance's partitions move. Default 10 s.
    package var sessionTimeout: Duration
    /// Group mode: how often each owned partition's open transaction is committed. Default 100 ms.
    package var commitInterval: Duration

    /// Creates instance settings; the defaults are those of a file without an `instances:` section.
    package init(mode: Mode = .single, sessionTimeout: Duration = .seconds(10), commitInterval: Duration = .milliseconds(100)) {
        self.mode = mode
        self.sessionTimeout = sessionTimeout
        self.commitInterval = commitInterval
    }
}
