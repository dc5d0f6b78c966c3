/// A topic's partitions as the cluster's metadata shows them.
public struct TopicMetadata: Sendable, Equatable {
    /// Topic name.
    public var name: String
    /// Partition ids, sorted.
    public var partitions: [Int32]
    /// Why the topic's metadata is incomplete, if it is.
    public var errorName: String?

    /// Creates topic metadata.
    public init(name: String, partitions: [Int32], errorName: String? = nil) {
        self.name = name
        self.partitions = partitions
        self.errorName = errorName
    }
}

/// A topic to create.
public struct NewTopic: Sendable, Equatable {
    /// Topic name.
    public var name: String
    /// Partition count.
    public var partitions: Int
    /// Replication factor; -1 lets the broker choose its default.
    public var replicationFactor: Int
    /// Topic configuration entries (`retention.ms`, `cleanup.policy`, ...).
    public var configs: [String: String]

    /// Creates a description of a topic to create.
    public init(name: String, partitions: Int, replicationFactor: Int = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// One entry of a topic's configuration.
public struct TopicConfigEntry: Sendable, Equatable {
    /// Where a configuration value comes from.
    public enum Source: Sendable, Equatable {
        /// Set on the topic itself.
        case topic
        /// A broker's or the cluster's default.
        case brokerOrDefault
        /// Unknown to the client.
        case unknown
    }
    /// Entry name.
    public var name: String
    /// Entry value; `nil` when unset or sensitive.
    public var value: String?
    /// Where the value comes from.
    public var source: Source
    /// The broker marks it as sensitive.
    public var isSensitive: Bool
    /// The entry cannot be changed.
    public var isReadOnly: Bool

    /// Creates a configuration entry.
    public init(name: String, value: String?, source: Source, isSensitive: Bool = false, isReadOnly: Bool = false) {
        self.name = name
        self.value = value
        self.source = source
        self.isSensitive = isSensitive
        self.isReadOnly = isReadOnly
    }
}
