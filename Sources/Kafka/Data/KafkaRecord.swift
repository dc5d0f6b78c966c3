/// One record header. Kafka allows a header without a value (`nil`), distinct from an empty one.
package struct KafkaHeader: Sendable, Hashable {
    /// Header name.
    package var name: String
    /// Header value bytes; `nil` for a null value.
    package var value: [UInt8]?

    /// Creates a header.
    package init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// A record's timestamp and what set it.
package struct KafkaTimestamp: Sendable, Hashable {
    /// Who set the timestamp.
    package enum Kind: Sendable, Hashable { case createTime, logAppendTime }
    /// Milliseconds since the Unix epoch.
    package var milliseconds: Int64
    /// Who set it.
    package var kind: Kind

    /// Creates a timestamp.
    package init(milliseconds: Int64, kind: Kind) {
        self.milliseconds = milliseconds
        self.kind = kind
    }
}

/// A record read from a partition, with its bytes copied out of librdkafka.
package struct KafkaRecord: Sendable, Hashable {
    /// Topic the record was read from.
    package var topic: String
    /// Partition number.
    package var partition: Int32
    /// Offset in the partition.
    package var offset: Int64
    /// Key bytes; `nil` for a null key (not the same as an empty key).
    package var key: [UInt8]?
    /// Value bytes; `nil` for a null value (a tombstone).
    package var value: [UInt8]?
    /// Headers in order, duplicates kept.
    package var headers: [KafkaHeader]
    /// Timestamp, when the record has one.
    package var timestamp: KafkaTimestamp?

    /// Creates a record.
    package init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestamp: KafkaTimestamp? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// The value of the last header called `name`, if any.
    package func lastHeader(named name: String) -> KafkaHeader? {
        headers.last { $0.name == name }
    }
}

/// A topic and partition.
package struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Topic name.
    package var topic: String
    /// Partition number.
    package var partition: Int32

    /// Creates a topic-partition.
    package init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    package var description: String { "\(topic)/\(partition)" }

    package static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// Where a consumer starts reading a partition.
package enum StartOffset: Sendable, Hashable {
    /// The log start offset.
    case beginning
    /// The end of the log (only new records).
    case end
    /// An exact offset.
    case offset(Int64)
    /// `n` records before the end of the log (as librdkafka finds the end when it starts reading).
    case beforeEnd(Int64)
}
