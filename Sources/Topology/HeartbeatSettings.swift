/// How often the bridge writes heartbeats: the `heartbeats:` section of a topology file.
///
/// ```yaml
/// heartbeats:
///   interval: 5s          # default 5s; 0 turns them off
/// ```
///
/// Every `interval` the bridge writes a small record to the source topic `regionbridge.<pair>.heartbeats`
/// (``Topology/heartbeatTopic``), replicates it like any other topic (its copy is ``Topology/heartbeatCopyTopic``)
/// and watches the age of the newest heartbeat in the target.
package struct HeartbeatSettings: Sendable, Equatable {
    /// Time between two heartbeats; `.zero` turns heartbeats off. Default 5 s.
    package var interval: Duration

    /// Creates heartbeat settings; the defaults are those of a file without a `heartbeats:` section.
    package init(interval: Duration = .seconds(5)) {
        self.interval = interval
    }

    /// Whether heartbeats are written and watched (`interval` above zero).
    package var isEnabled: Bool { interval > .zero }
}
