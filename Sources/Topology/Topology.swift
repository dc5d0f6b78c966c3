import Foundation

/// Names of topics the bridge itself owns start with this; such topics are never replicated.
let bridgeTopicPrefix = "regionbridge."

/// One replication direction: a source cluster, a target cluster and the topics copied between them.
///
/// Its description, `dump` and `Mirror` never show a secret: cluster properties that hold one are ``Secret``s
/// (see ``ClusterProperties``), and so is the Postgres connection string of ``ReconcileSettings``.
package struct Topology: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Name of the region pair, e.g. `us-east-to-eu-west`; used inside Kafka topic names.
    package var pair: String { didSet { selectBridgeTopics() } }
    /// The cluster records are read from.
    package var source: ClusterEndpoint
    /// The cluster records are written to.
    package var target: ClusterEndpoint
    /// Which topics are replicated and how they are named in the target. The heartbeat topic is always
    /// selected while heartbeats are on (``TopicSelection/selects(_:)``), whatever the patterns say.
    package var topics: TopicSelection { didSet { selectBridgeTopics() } }
    /// Which consumer groups' offsets are translated into the target, and how often.
    package var groups: GroupSelection
    /// When replication lag raises alerts (`lag:`; optional, defaults in ``LagSettings``).
    package var lag: LagSettings
    /// Where metrics and health are served (`metrics:`; optional, defaults in ``MetricsSettings``).
    package var metrics: MetricsSettings
    /// Whether one process or a group of processes runs the pair (`instances:`; optional, defaults in ``InstanceSettings``).
    package var instances: InstanceSettings
    /// How `regionbridge reconcile` checks committed payments against the target (`reconcile:`; optional).
    package var reconcile: ReconcileSettings?
    /// What `regionbridge drill` holds the pair to (`drill:`; optional, defaults in ``DrillSettings``).
    package var drill: DrillSettings
    /// How often the bridge writes heartbeats (`heartbeats:`; optional, defaults in ``HeartbeatSettings``).
    package var heartbeats: HeartbeatSettings { didSet { selectBridgeTopics() } }

    /// Creates a topology from its parts, without validation (see ``TopologyLoader``).
    package init(
        pair: String, source: ClusterEndpoint, target: ClusterEndpoint, topics: TopicSelection,
        groups: GroupSelection = GroupSelection(), lag: LagSettings = LagSettings(), metrics: MetricsSettings = MetricsSettings(),
        instances: InstanceSettings = InstanceSettings(), reconcile: ReconcileSettings? = nil, drill: DrillSettings = DrillSettings(),
        heartbeats: HeartbeatSettings = HeartbeatSettings()
    ) {
        self.pair = pair
        self.source = source
        self.target = target
        self.topics = topics
        self.groups = groups
        self.lag = lag
        self.metrics = metrics
        self.instances = instances
        self.reconcile = reconcile
        self.drill = drill
        self.heartbeats = heartbeats
        selectBridgeTopics()
    }

    /// Keeps the heartbeat topic selected (while heartbeats are on) whatever `topics` says.
    private mutating func selectBridgeTopics() {
        let wanted: Set<String> = heartbeats.isEnabled ? [heartbeatTopic] : []
        if topics.bridgeTopics != wanted { topics.bridgeTopics = wanted }
    }

    /// The source topic the bridge writes heartbeats to: `regionbridge.<pair>.heartbeats`.
    package var heartbeatTopic: String { "\(internalTopicPrefix)heartbeats" }

    /// The heartbeat topic's copy in the target, named by `topics.rename` like any replicated topic:
    /// `<source region>.regionbridge.<pair>.heartbeats` with `prefix`.
    package var heartbeatCopyTopic: String { topics.rename.targetTopic(for: heartbeatTopic, sourceRegion: source.region) }

    /// The consumer group in the source through which instances share the pair (group mode), and the
    /// `group.id` the single-instance consumer names: `regionbridge.<pair>`.
    package var consumerGroup: String { "\(bridgeTopicPrefix)\(pair)" }

    /// The compacted topic in the target where the bridge records (source offset, target offset) pairs.
    package var offsetSyncsTopic: String { "\(internalTopicPrefix)offset-syncs" }

    /// The compacted topic in the target where the bridge records each group's translated positions.
    package var checkpointsTopic: String { "\(internalTopicPrefix)checkpoints" }

    /// Prefix of the names of the bridge's own topics in the target cluster: `regionbridge.<pair>.`.
    package var internalTopicPrefix: String {
        "\(bridgeTopicPrefix)\(pair)."
    }

    /// Every secret the topology holds (secret cluster properties, the Postgres connection string), so that
    /// output can be scrubbed of their values.
    package var secrets: [Secret] {
        source.properties.secrets + target.properties.secrets + (reconcile.map { [$0.postgresDSN] } ?? [])
    }

    /// The pair, both clusters and the topic patterns; secrets as `******`.
    package var description: String {
        "Topology(pair: \(pair), source: \(source), target: \(target), topics: \(topics.include), mode: \(instances.mode.rawValue)"
            + (reconcile.map { ", reconcile: \($0)" } ?? "") + ")"
    }

    package var debugDescription: String { description }
}

/// How to reach one Kafka cluster. Its description, `dump` and `Mirror` show secret properties as `******`.
package struct ClusterEndpoint: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Region name, matching `[a-z0-9-]+`.
    package var region: String
    /// Comma-separated `host:port` list, as written.
    package var bootstrapServers: String
    /// Extra librdkafka properties (`security.protocol`, `sasl.*`, `ssl.*`, ...), with `${VAR}` already expanded;
    /// secret ones are held as ``Secret``s.
    package var properties: ClusterProperties

    /// Creates an endpoint from its parts.
    package init(region: String, bootstrapServers: String, properties: ClusterProperties = [:]) {
        self.region = region
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }

    /// The bootstrap servers split on `,`, trimmed, lowercased, sorted and de-duplicated, for
    /// comparing clusters. `localhost` and `127.0.0.1` are deliberately not merged.
    package var normalizedBootstrapServers: [String] {
        Set(bootstrapServers.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty })
            .sorted()
    }

    /// `<region> [<bootstrap servers>]` and the properties, secrets as `******`.
    package var description: String {
        "\(region) [\(bootstrapServers)]" + (properties.isEmpty ? "" : " \(properties)")
    }

    package var debugDescription: String { "ClusterEndpoint(\(description))" }
}

/// How a source topic's name maps to the target topic's name.
package enum RenamePolicy: String, Sendable, Equatable, CaseIterable {
    /// The target topic is `<sourceRegion>.<topic>`, so replicated topics never collide with local ones.
    case prefix
    /// The target topic has the same name as the source topic.
    case identity

    /// The name of the target topic that `sourceTopic` from `sourceRegion` is replicated into.
    package func targetTopic(for sourceTopic: String, sourceRegion: String) -> String {
        switch self {
        case .prefix: "\(sourceRegion).\(sourceTopic)"
        case .identity: sourceTopic
        }
    }
}

/// Which source topics are replicated and how their target topics are created.
package struct TopicSelection: Sendable, Equatable {
    /// Regular expressions (ICU syntax, as written) of which a topic's whole name must match one.
    package var include: [String] {
        get { filter.include.sources }
        set { filter.include = PatternSet(newValue) }
    }
    /// Regular expressions (ICU syntax, as written) of which a topic's whole name must match none.
    package var exclude: [String] {
        get { filter.exclude.sources }
        set { filter.exclude = PatternSet(newValue) }
    }
    /// How target topics are named.
    package var rename: RenamePolicy
    /// Replication factor of created target topics; `-1` means the broker default.
    package var replicationFactor: Int
    /// How often the source is scanned for new topics and partitions.
    package var discoveryInterval: Duration
    /// The bridge's own topics that are replicated anyway (the pair's heartbeat topic while heartbeats are on);
    /// kept by ``Topology``.
    package internal(set) var bridgeTopics: Set<String> = []

    private var filter: NameFilter

    /// Creates a selection; the patterns are compiled once, here. A pattern that does not compile
    /// matches nothing (``TopologyLoader`` reports such patterns as issues).
    package init(
        include: [String],
        exclude: [String] = [],
        rename: RenamePolicy = .prefix,
        replicationFactor: Int = -1,
        discoveryInterval: Duration = .seconds(5)
    ) {
        filter = NameFilter(include: include, exclude: exclude)
        self.rename = rename
        self.replicationFactor = replicationFactor
        self.discoveryInterval = discoveryInterval
    }

    /// Equal when the patterns, rename policy, replication factor and discovery interval are: ``bridgeTopics``
    /// follows from the topology that holds the selection, not from the `topics:` section.
    package static func == (lhs: TopicSelection, rhs: TopicSelection) -> Bool {
        lhs.filter == rhs.filter && lhs.rename == rhs.rename && lhs.replicationFactor == rhs.replicationFactor
            && lhs.discoveryInterval == rhs.discoveryInterval
    }

    /// Whether `topic` is replicated: its whole name matches an include pattern and no exclude
    /// pattern. Kafka-internal topics (`__*`) and the bridge's own (`regionbridge.*`) never are, except the
    /// pair's heartbeat topic while heartbeats are on, which always is (``bridgeTopics``).
    package func selects(_ topic: String) -> Bool {
        if bridgeTopics.contains(topic) { return true }
        guard !topic.hasPrefix("__"), !topic.hasPrefix(bridgeTopicPrefix) else { return false }
        return filter.selects(topic)
    }
}

/// Which consumer groups have their committed offsets translated into the target cluster.
package struct GroupSelection: Sendable, Equatable {
    /// Regular expressions over group ids (whole-id match). Default: every group (`.*`). Empty: no group sync.
    package var include: [String] {
        get { filter.include.sources }
        set { filter.include = PatternSet(newValue) }
    }
    /// Regular expressions over group ids that are never synced. Default: the bridge's own (`regionbridge\\..*`).
    package var exclude: [String] {
        get { filter.exclude.sources }
        set { filter.exclude = PatternSet(newValue) }
    }
    /// How often offsets are synced. Default: 10 s.
    package var syncInterval: Duration

    private var filter: NameFilter

    /// Creates a selection with the documented defaults.
    package init(include: [String] = [".*"], exclude: [String] = ["regionbridge\\..*"], syncInterval: Duration = .seconds(10)) {
        filter = NameFilter(include: include, exclude: exclude)
        self.syncInterval = syncInterval
    }

    /// Whether the group's offsets are synced.
    package func selects(_ group: String) -> Bool {
        filter.selects(group)
    }
}
