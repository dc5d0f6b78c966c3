/// A topic's partitions as the cluster's metadata shows them.
package struct TopicMetadata: Sendable, Equatable {
    /// Topic name.
    package var name: String
    /// Partition ids, sorted.
    package var partitions: [Int32]
    /// Why the topic's metadata is incomplete, if it is.
    package var errorName: String?

    /// Creates topic metadata.
    package init(name: String, partitions: [Int32], errorName: String? = nil) {
        self.name = name
        self.partitions = partitions
        self.errorName = errorName
    }
}

/// A topic to create.
package struct NewTopic: Sendable, Equatable {
    /// Topic name.
    package var name: String
    /// Partition count.
    package var partitions: Int
    /// Replication factor; -1 lets the broker choose its default.
    package var replicationFactor: Int
    /// Topic configuration entries (`retention.ms`, `cleanup.policy`, ...).
    package var configs: [String: String]

    /// Creates a description of a topic to create.
    package init(name: String, partitions: Int, replicationFactor: Int = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// One entry of a topic's configuration.
package struct TopicConfigEntry: Sendable, Equatable {
    /// Where a configuration value comes from.
    package enum Source: Sendable, Equatable {
        /// Set on the topic itself.
        case topic
        /// A broker's or the cluster's default.
        case brokerOrDefault
        /// Unknown to the client.
        case unknown
    }
    /// Entry name.
    package var name: String
    /// Entry value; `nil` when unset or sensitive.
    package var value: String?
    /// Where the value comes from.
    package var source: Source
    /// The broker marks it as sensitive.
    package var isSensitive: Bool
    /// The entry cannot be changed.
    package var isReadOnly: Bool

    /// Creates a configuration entry.
    package init(name: String, value: String?, source: Source, isSensitive: Bool = false, isReadOnly: Bool = false) {
        self.name = name
        self.value = value
        self.source = source
        self.isSensitive = isSensitive
        self.isReadOnly = isReadOnly
    }
}
