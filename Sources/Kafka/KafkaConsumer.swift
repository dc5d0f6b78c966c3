import CRdKafka
import Logging

/// What one `poll` returned: records in partition order, partitions that reached their end, and errors.
package struct ConsumerBatch: Sendable {
    /// Records, in offset order within each partition.
    package var records: [KafkaRecord] = []
    /// Partitions that reached the end of the log, with the offset they reached (the high watermark then).
    package var ends: [(TopicPartition, Int64)] = []
    /// Errors, for one partition or for the whole client.
    package var errors: [ConsumerError] = []

    /// `true` when nothing was returned.
    package var isEmpty: Bool { records.isEmpty && ends.isEmpty && errors.isEmpty }
}

/// An error the consumer reported, possibly for one partition.
package struct ConsumerError: Error, Sendable {
    /// The partition it concerns, if any.
    package var partition: TopicPartition?
    /// The offset it concerns, if any.
    package var offset: Int64?
    /// The error.
    package var error: KafkaError

    /// The fetch position was outside the partition's log (`auto.offset.reset=error`).
    package var isOffsetOutOfRange: Bool { error.code == .offsetOutOfRange }
}

/// A Kafka consumer with manually assigned partitions.
///
/// It never commits and never picks a start offset by itself: every partition is assigned
/// with an explicit position, and reading outside the log is reported as an error
/// (`auto.offset.reset=error`) instead of silently jumping.
package final class KafkaConsumer: @unchecked Sendable {
    // @unchecked Sendable: the handle is thread-safe (librdkafka); `topics` and `copyBatch` are only used by
    // `poll` and the calls that read its messages, which callers must not run concurrently (documented there).
    private let client: RDKafkaClient
    private let queue: OpaquePointer
    private let topics: ConsumedTopics
    private var copyBatch: MessageBatch?

    /// Defaults for consumers; callers' properties override them.
    ///
    /// Fetching: a broker holds a fetch that finds nothing at most `fetch.wait.max.ms` (10 ms), so a reader that
    /// reads up to the end of a partition learns it has arrived there within about that. (The copy loop, which
    /// follows partitions for ever, sets 100 ms: see `ReplicationEngine`. Every reader sets its wait as a default, so
    /// a cluster's `properties` can change it, e.g. for a broker that answers no fetch with so short a wait, as a
    /// tansu broker does once scanning a partition takes longer than the wait.) Prefetch is bounded for memory: at most 16 MB waits in the consumer's queue
    /// (`queued.max.messages.kbytes`, for all partitions together) and one fetch brings at most 16 MB
    /// (`fetch.max.bytes`; 1 MB per partition). When the queue is over that, fetching pauses for
    /// `fetch.queue.backoff.ms` (5 ms; librdkafka's default of 1 s left the copy loop waiting with an empty queue).
    package static let defaultProperties: [String: String] = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "error",
        "enable.partition.eof": "true",
        "isolation.level": "read_committed",
        "fetch.wait.max.ms": "10",
        "fetch.queue.backoff.ms": "5",
        "fetch.max.bytes": "16777216",
        "queued.max.messages.kbytes": "16384",
        "queued.min.messages": "1000000",
        "topic.metadata.refresh.interval.ms": "10000",
    ]

    /// Creates a consumer.
    /// - Parameters:
    ///   - configuration: the cluster and user properties.
    ///   - groupID: `group.id`; required by librdkafka for consumers, never used to commit here.
    ///   - defaults: properties that change this consumer's defaults; user properties still win over them.
    ///   - overrides: properties that win over both defaults and user properties.
    ///   - rebalance: for a consumer that `subscribe`s: where each partition the group assigns starts, and what
    ///     to do when partitions are taken away. Without it a subscribing consumer starts at committed offsets.
    ///   - logger: where librdkafka's log lines go.
    /// - Throws: `KafkaError` when a property is rejected or the client cannot be created.
    package init(
        configuration: KafkaClientConfiguration, groupID: String, defaults: [String: String] = [:],
        overrides: [String: String] = [:], rebalance: RebalanceHandler? = nil, logger: Logger
    ) throws(KafkaError) {
        var defaults = Self.defaultProperties.merging(defaults) { $1 }
        defaults["group.id"] = groupID
        let topics = ConsumedTopics()
        let box = rebalance.map { handler in
            RebalanceBox { event in
                topics.assignmentChanged()
                return handler(event)
            }
        }
        client = try RDKafkaClient.make(
            kind: .consumer, configuration: configuration, defaults: defaults, overrides: overrides, logger: logger,
            rebalance: box)
        self.topics = topics
        rd_kafka_poll_set_consumer(client.handle)
        queue = rd_kafka_queue_get_consumer(client.handle)
    }

    deinit {
        if readySignal != nil { ReadySignal.unwatch(queue) }
        rd_kafka_queue_destroy(queue)
    }

    /// Kept alive while librdkafka may write to it.
    private var readySignal: ReadySignal?

    /// Makes `signal` wake its waiter whenever records, partition ends, errors or rebalances become ready to poll.
    /// Read with `poll(into:timeout: .zero)` until a poll returns fewer messages than the batch holds.
    package func signal(_ signal: ReadySignal) {
        signal.watch(queue)
        readySignal = signal
    }

    /// Adds partitions to the assignment, each starting at its given position.
    ///
    /// A position relative to the log (beginning, end) needs the partition's leader for its offset lookup; when the
    /// consumer does not know the leader yet, librdkafka retries that lookup only after 500 ms. So the topics'
    /// metadata is read first (one request), which makes a new consumer start at once.
    package func assign(_ partitions: [(TopicPartition, StartOffset)]) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let logical = Set(partitions.filter { if case .offset = $0.1 { return false } else { return true } }.map(\.0.topic))
        for topic in logical.sorted() { learnLeaders(of: topic) }
        let list = Self.makeList(partitions.map { ($0.0, Self.rawOffset($0.1)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        topics.assignmentChanged()
        if let error = rd_kafka_incremental_assign(client.handle, list) {
            throw KafkaError.consuming(error)
        }
    }

    /// Reads a topic's metadata (its partitions' leaders) into the client; failures are left to the fetch to report.
    private func learnLeaders(of topic: String, timeout: Duration = .seconds(5)) {
        guard let handle = rd_kafka_topic_new(client.handle, topic, nil) else { return }
        defer { rd_kafka_topic_destroy(handle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        if rd_kafka_metadata(client.handle, 0, handle, &metadata, timeout.milliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
            rd_kafka_metadata_destroy(metadata)
        }
    }

    /// Joins the consumer group (`group.id`) for these topics; the group coordinator assigns partitions.
    package func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = Self.makeList(topics.map { (TopicPartition($0, -1), RDKafkaConstants.offsetInvalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err, message: "cannot subscribe to \(topics): \(String(cString: rd_kafka_err2str(err)))") }
    }

    /// Commits offsets (the next offset to read, per partition) for the group, waiting for the answer.
    ///
    /// Blocks the calling thread.
    package func commit(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = Self.makeList(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(client.handle, list, 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err, message: "commit failed: \(String(cString: rd_kafka_err2str(err)))") }
        try Self.firstError(in: list)
    }

    /// Removes partitions from the assignment.
    package func unassign(_ partitions: [TopicPartition]) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = Self.makeList(partitions.map { ($0, RDKafkaConstants.offsetInvalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        topics.assignmentChanged()
        if let error = rd_kafka_incremental_unassign(client.handle, list) {
            throw KafkaError.consuming(error)
        }
    }

    /// Moves the read position of assigned partitions.
    ///
    /// With a zero `timeout` the seek is queued and this returns at once: records fetched from the old position
    /// are no longer delivered after it returns (librdkafka's version barrier), and a failure of the seek itself
    /// comes later as a consumer error.
    package func seek(_ partitions: [(TopicPartition, StartOffset)], timeout: Duration = .seconds(10)) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = Self.makeList(partitions.map { ($0.0, Self.rawOffset($0.1)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_seek_partitions(client.handle, list, timeout.milliseconds) {
            throw KafkaError.consuming(error)
        }
        try Self.firstError(in: list, ignoring: timeout == .zero ? RD_KAFKA_RESP_ERR__IN_PROGRESS : RD_KAFKA_RESP_ERR_NO_ERROR)
    }

    /// Stops fetching the partitions until `resume`; buffered records are kept.
    package func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try changeFlow(partitions, pause: true)
    }

    /// Resumes fetching paused partitions.
    package func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try changeFlow(partitions, pause: false)
    }

    /// Reads each partition from its offset on: seeks it there (without waiting) and resumes fetching it.
    package func readFrom(_ positions: [(TopicPartition, StartOffset)]) throws(KafkaError) {
        try seek(positions, timeout: .zero)
        try resume(positions.map(\.0))
    }

    private func changeFlow(_ partitions: [TopicPartition], pause: Bool) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = Self.makeList(partitions.map { ($0, RDKafkaConstants.offsetInvalid) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = pause ? rd_kafka_pause_partitions(client.handle, list) : rd_kafka_resume_partitions(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err) }
    }

    /// Reads up to `maxRecords` records, waiting at most `timeout` for the first, copied into Swift values.
    ///
    /// Blocks the calling thread: call it from a dedicated thread, and from one thread at a time.
    package func poll(maxRecords: Int, timeout: Duration) -> ConsumerBatch {
        if copyBatch?.capacity != maxRecords { copyBatch = MessageBatch(capacity: maxRecords) }
        let messages = copyBatch!
        poll(into: messages, timeout: timeout)
        defer { messages.release() }
        var batch = ConsumerBatch()
        batch.records.reserveCapacity(messages.count)
        for index in 0..<messages.count {
            let message = messages[index]
            if message.isRecord {
                batch.records.append(message.record(topic: topicName(of: message)))
            } else if let end = partitionEnd(message) {
                batch.ends.append(end)
            } else {
                batch.errors.append(error(of: message))
            }
        }
        return batch
    }

    /// Takes the messages that are ready into `batch` (releasing what it held), waiting at most `timeout` for the
    /// first one and not at all for the rest: a caller that is behind gets full batches, and one that keeps up
    /// is not held back waiting to fill a batch.
    ///
    /// Blocks the calling thread: call it from a dedicated thread, and from one thread at a time. Rebalance
    /// callbacks run inside this call.
    package func poll(into batch: MessageBatch, timeout: Duration) {
        batch.release()
        client.drainLogs()
        var count = rd_kafka_consume_batch_queue(queue, 0, batch.storage, batch.capacity)
        if count <= 0, timeout > .zero, let first = rd_kafka_consume_queue(queue, timeout.milliseconds) {
            batch.storage[0] = first
            let rest = batch.capacity > 1 ? rd_kafka_consume_batch_queue(queue, 0, batch.storage + 1, batch.capacity - 1) : 0
            count = 1 + max(0, rest)
        }
        batch.count = max(0, count)
    }

    /// The name of the topic a message came from.
    package func topicName(of message: ConsumedMessage) -> String {
        topics.name(of: message)
    }

    /// A small number for the topic a message came from, fixed for the consumer's life (the first topic seen is 0,
    /// -1 for a message of no topic), resolved without reading the name after the first message of each topic.
    /// ``topicName(index:)`` names it.
    package func topicIndex(of message: ConsumedMessage) -> Int {
        topics.index(of: message)
    }

    /// The topic behind a ``topicIndex(of:)``.
    package func topicName(index: Int) -> String {
        topics.names[index]
    }

    /// The partition and offset a partition-end message reports, or `nil` for any other message.
    package func partitionEnd(_ message: ConsumedMessage) -> (TopicPartition, Int64)? {
        guard message.errorCode == .partitionEOF, message.hasTopic else { return nil }
        return (TopicPartition(topicName(of: message), message.partition), message.offset)
    }

    /// The error an error message carries, with its partition when it concerns one.
    package func error(of message: ConsumedMessage) -> ConsumerError {
        let m = message.pointer.pointee
        let fatal = m.err == RD_KAFKA_RESP_ERR__FATAL ? client.fatalError() : nil
        let partition = message.hasTopic ? TopicPartition(topicName(of: message), m.partition) : nil
        client.refusals.noteError(m.err, message.errorText ?? "")
        return ConsumerError(
            partition: partition, offset: partition == nil ? nil : m.offset,
            error: fatal ?? .rdkafka(m.err, message: message.errorText))
    }

    /// Low and high watermarks as the partition leader answers them now (a ListOffsets request).
    ///
    /// Some Kafka-compatible brokers answer the high watermark wrongly here; prefer
    /// `cachedWatermarks` after a fetch has reached the end of the partition.
    package func queryWatermarks(_ partition: TopicPartition, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        try client.queryWatermarks(topic: partition.topic, partition: partition.partition, timeout: timeout)
    }

    /// What refused this consumer lately (a certificate, credentials, a permission), until something succeeds.
    package var refusal: ConnectionRefusal? { client.refusals.current }

    /// Low and high watermarks from the last fetch response for the partition, if there was one.
    package func cachedWatermarks(_ partition: TopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// Leaves the group (if any) and stops fetching. Blocks while librdkafka shuts down.
    package func close() {
        _ = rd_kafka_consumer_close(client.handle)
        client.drainLogs()
    }

    static func rawOffset(_ start: StartOffset) -> Int64 {
        switch start {
        case .beginning: return RDKafkaConstants.offsetBeginning
        case .end: return RDKafkaConstants.offsetEnd
        case .offset(let offset): return offset
        case .beforeEnd(let count): return RDKafkaConstants.offsetTailBase - max(0, count)
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

    static func firstError(
        in list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, ignoring ignored: rd_kafka_resp_err_t = RD_KAFKA_RESP_ERR_NO_ERROR
    ) throws(KafkaError) {
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            if element.err != RD_KAFKA_RESP_ERR_NO_ERROR && element.err != ignored {
                throw .rdkafka(element.err, message: "\(String(cString: element.topic))/\(element.partition): \(String(cString: rd_kafka_err2str(element.err)))")
            }
        }
    }
}

/// Names the topics of consumed messages, resolving librdkafka's topic handle once per topic.
///
/// A handle stays valid while any partition of its topic is assigned; the cache of handles is dropped whenever
/// the assignment changes, so a handle freed and reused for another topic is never taken for the old one.
final class ConsumedTopics: @unchecked Sendable {
    // @unchecked Sendable: used only by the thread that polls the consumer (rebalance callbacks run inside poll).
    private(set) var names: [String] = []
    private var indexByName: [String: Int] = [:]
    private var indexByHandle: [OpaquePointer: Int] = [:]
    private var lastHandle: OpaquePointer?
    private var lastIndex = 0

    func index(of message: ConsumedMessage) -> Int {
        guard let rkt = message.pointer.pointee.rkt else { return -1 }
        if rkt == lastHandle { return lastIndex }
        let index: Int
        if let known = indexByHandle[rkt] {
            index = known
        } else {
            let name = String(cString: rd_kafka_topic_name(rkt))
            if let known = indexByName[name] {
                index = known
            } else {
                index = names.count
                names.append(name)
                indexByName[name] = index
            }
            indexByHandle[rkt] = index
        }
        lastHandle = rkt
        lastIndex = index
        return index
    }

    func name(of message: ConsumedMessage) -> String {
        let index = index(of: message)
        return index < 0 ? "" : names[index]
    }

    func assignmentChanged() {
        indexByHandle.removeAll(keepingCapacity: true)
        lastHandle = nil
    }
}
