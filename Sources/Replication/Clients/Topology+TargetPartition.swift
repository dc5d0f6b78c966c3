import Kafka
import Topology

extension Topology {
    /// The target partition a source partition is copied to (the same partition of its renamed topic).
    package func targetPartition(of source: TopicPartition) -> TopicPartition {
        TopicPartition(topics.rename.targetTopic(for: source.topic, sourceRegion: self.source.region), source.partition)
    }
}
