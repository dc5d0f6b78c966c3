import CRdKafka
import Logging

/// What one `poll` returned: records in partition order, partitions that reached their end, and errors.
public struct ConsumerBatch: Sendable {
    /// Records, in offset order within each partition.
    public var records: [KafkaRecord] = []
    /// Partitions that reached the end of the log, with the offset they reached (the high watermark then).
    public var ends: [(TopicPartition, Int64)] = []
    /// Errors, for one partition or for the whole client.
    public var errors: [ConsumerError] = []

    /// `true` when nothing was returned.
    public var isEmpty: Bool { records.isEmpty && ends.isEmpty && errors.isEmpty }
}

/// An error the consumer reported, possibly for one partition.
public struct ConsumerError: Error, Sendable {
    /// The partition it concerns, if any.
    public var partition: TopicPartition?
    /// The offset it concerns, if any.
    public var offset: Int64?
    /// The error.
    public var error: KafkaError

    /// The fetch position was outside the partition's log (`auto.offset.reset=error`).
    public var isOffsetOutOfRange: Bool {
        error.rawCode == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET.rawValue
            || error.rawCode == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE.rawValue
    }
}

/// A Kafka consumer with manually assigned partitions.
///
/// It never commits and never picks a start offset by itself: every partition is assigned
/// with an explicit position, and reading outside the log is reported as an error
/// (`auto.offset.reset=error`) instead of silently jumping.
public final class KafkaConsumer: @unchecked Sendable {
    // @unchecked Sendable: the handle is thread-safe (librdkafka); `topicNames` is only used by `poll`,
    // which callers must not run concurrently (documented there).
    private let client: RDKafkaClient
    private let queue: OpaquePointer
    private var topicNames: [OpaquePointer: String] = [:]

    /// Defaults for consumers; callers' properties override them.
    public static let defaultProperties: [String: String] = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "error",
        "enable.partition.eof": "true",
        "isolation.level": "read_committed",
        "fetch.wait.max.ms": "100",
        "queued.max.messages.kbytes": "65536",
        "topic.metadata.refresh.interval.ms": "10000",
    ]

    /// Creates a consumer.
    /// - Parameters:
    ///   - configuration: the cluster and user properties.
    ///   - groupID: `group.id`; required by librdkafka for consumers, never used to commit here.
    ///   - overrides: properties that win over both defaults and user properties.
    ///   - rebalance: for a consumer that `subscribe`s: where each partition the group assigns starts, and what
    ///     to do when partitions are taken away. Without it a subscribing consumer starts at committed offsets.
    ///   - logger: where librdkafka's log lines go.
    /// - Throws: `KafkaError` when a property is rejected or the client cannot be created.
    public init(
        configuration: KafkaClientConfiguration, groupID: String, overrides: [String: String] = [:],
        rebalance: RebalanceHandler? = nil, logger: Logger
    ) throws(KafkaError) {
        var defaults = Self.defaultProperties
        defaults["group.id"] = groupID
        let box = rebalance.map(RebalanceBox.init(handler:))
        client = try RDKafkaClient.make(
            kind: .consumer, configuration: configuration, defaults: defaults, overrides: overrides, logger: logger,
            configure: { box?.install(on: $0) }, retained: box)
        rd_kafka_poll_set_consumer(client.handle)
        queue = rd_kafka_queue_get_consumer(client.handle)
    }

    deinit {
        rd_kafka_queue_destroy(queue)
    }

    /// Adds partitions to the assignment, each starting at its given position.
    public func assign(_ partitions: [(TopicPartition, StartOffset)]) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = Self.makeList(partitions.map { ($0.0, Self.rawOffset($0.1)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_incremental_assign(client.handle, list) {
            throw KafkaError.consuming(error)
        }
    }

    /// Joins the consumer group (`group.id`) for these topics; the group coordinator assigns partitions.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = Self.makeList(topics.map { (TopicPartition($0, -1), RDKafkaConstants.offsetInvalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err, message: "cannot subscribe to \(topics): \(String(cString: rd_kafka_err2str(err)))") }
    }

    /// Commits offsets (the next offset to read, per partition) for the group, waiting for the answer.
    ///
    /// Blocks the calling thread.
    public func commit(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = Self.makeList(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(client.handle, list, 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err, message: "commit failed: \(String(cString: rd_kafka_err2str(err)))") }
        try Self.firstError(in: list)
    }

    /// Removes partitions from the assignment.
    public func unassign(_ partitions: [TopicPartition]) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = Self.makeList(partitions.map { ($0, RDKafkaConstants.offsetInvalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_incremental_unassign(client.handle, list) {
            throw KafkaError.consuming(error)
        }
    }

    /// Moves the read position of assigned partitions.
    public func seek(_ partitions: [(TopicPartition, StartOffset)], timeout: Duration = .seconds(10)) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = Self.makeList(partitions.map { ($0.0, Self.rawOffset($0.1)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_seek_partitions(client.handle, list, timeout.milliseconds) {
            throw KafkaError.consuming(error)
        }
        try Self.firstError(in: list)
    }

    /// Stops fetching the partitions until `resume`; buffered records are kept.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try changeFlow(partitions, pause: true)
    }

    /// Resumes fetching paused partitions.
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try changeFlow(partitions, pause: false)
    }

    private func changeFlow(_ partitions: [TopicPartition], pause: Bool) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = Self.makeList(partitions.map { ($0, RDKafkaConstants.offsetInvalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = pause ? rd_kafka_pause_partitions(client.handle, list) : rd_kafka_resume_partitions(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err) }
    }

    /// Reads up to `maxRecords` records, waiting at most `timeout` for the first.
    ///
    /// Blocks the calling thread: call it from a dedicated thread, and from one thread at a time.
    public func poll(maxRecords: Int, timeout: Duration) -> ConsumerBatch {
        client.drainLogs()
        var batch = ConsumerBatch()
        var messages = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: maxRecords)
        let count = rd_kafka_consume_batch_queue(queue, timeout.milliseconds, &messages, maxRecords)
        guard count > 0 else { return batch }
        batch.records.reserveCapacity(count)
        for index in 0..<count {
            guard let message = messages[index] else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            let topic = m.rkt.map(topicName) ?? ""
            let tp = TopicPartition(topic, m.partition)
            switch m.err {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                batch.records.append(KafkaRecord(
                    topic: topic, partition: m.partition, offset: m.offset,
                    key: RDKafkaMessage.bytes(m.key, m.key_len),
                    value: RDKafkaMessage.bytes(m.payload, m.len),
                    headers: RDKafkaMessage.headers(message),
                    timestamp: RDKafkaMessage.timestamp(message)))
            case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                batch.ends.append((tp, m.offset))
            default:
                let text = rd_kafka_message_errstr(message).map { String(cString: $0) }
                let fatal = m.err == RD_KAFKA_RESP_ERR__FATAL ? client.fatalError() : nil
                batch.errors.append(ConsumerError(
                    partition: m.rkt == nil ? nil : tp, offset: m.rkt == nil ? nil : m.offset,
                    error: fatal ?? .rdkafka(m.err, message: text)))
            }
        }
        return batch
    }

    private func topicName(_ rkt: OpaquePointer) -> String {
        if let name = topicNames[rkt] { return name }
        let name = String(cString: rd_kafka_topic_name(rkt))
        topicNames[rkt] = name
        return name
    }

    /// Low and high watermarks as the partition leader answers them now (a ListOffsets request).
    ///
    /// Some Kafka-compatible brokers answer the high watermark wrongly here; prefer
    /// `cachedWatermarks` after a fetch has reached the end of the partition.
    public func queryWatermarks(_ partition: TopicPartition, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        try client.queryWatermarks(topic: partition.topic, partition: partition.partition, timeout: timeout)
    }

    /// Low and high watermarks from the last fetch response for the partition, if there was one.
    public func cachedWatermarks(_ partition: TopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// Leaves the group (if any) and stops fetching. Blocks while librdkafka shuts down.
    public func close() {
        _ = rd_kafka_consumer_close(client.handle)
        client.drainLogs()
    }

    static func rawOffset(_ start: StartOffset) -> Int64 {
        switch start {
        case .beginning: return RDKafkaConstants.offsetBeginning
        case .end: return RDKafkaConstants.offsetEnd
        case .offset(let offset): return offset
        }
    }

    static func makeList(_ entries: [(TopicPartition, Int64)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(entries.count))!
        for (tp, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            element.pointee.offset = offset
        }
        return list
    }

    static func firstError(in list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) {
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            if element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw .rdkafka(element.err, message: "\(String(cString: element.topic))/\(element.partition): \(String(cString: rd_kafka_err2str(element.err)))")
            }
        }
    }
}
