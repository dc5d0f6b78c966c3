import CRdKafka
import Logging

/// The outcome of one produced record.
package struct DeliveryReport: Sendable {
    /// The id given to `send`.
    package var id: UInt64
    /// Topic written to.
    package var topic: String
    /// Partition written to.
    package var partition: Int32
    /// Offset the broker assigned; meaningful only without `error`.
    package var offset: Int64
    /// Why the record was not written, if it was not.
    package var error: KafkaError?
    /// The record's timestamp (milliseconds since the epoch), if it has one.
    package var timestamp: Int64?
    /// Key plus value bytes.
    package var size: Int
}

/// One delivery report, read in place by ``KafkaProducer/poll(timeout:deliveries:errors:)``.
package struct Delivery {
    /// The id given when the record was queued.
    package let id: UInt64
    /// Partition written to.
    package let partition: Int32
    /// Offset the broker assigned; -1 when the write succeeded but the offset is not known (a retried request
    /// answered with DUPLICATE_SEQUENCE_NUMBER because the first attempt was written, for example).
    package let offset: Int64
    /// Key plus value bytes.
    package let size: Int
    /// Why the record was not written, if it was not (the underlying error when the producer turned fatal).
    package let error: KafkaError?
    let topicHandle: OpaquePointer?
    private let message: UnsafePointer<rd_kafka_message_t>

    init(message: UnsafePointer<rd_kafka_message_t>, client: RDKafkaClient) {
        let m = message.pointee
        id = UInt64(UInt(bitPattern: m._private))
        partition = m.partition
        offset = m.offset
        size = m.len + m.key_len
        topicHandle = m.rkt
        self.message = message
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            error = nil
        } else {
            error = m.err == RD_KAFKA_RESP_ERR__FATAL ? (client.fatalError() ?? .rdkafka(m.err)) : .rdkafka(m.err)
        }
    }

    /// The record's timestamp (milliseconds since the epoch), if it has one.
    package var timestamp: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let value = rd_kafka_message_timestamp(message, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : value
    }

    /// The topic written to, read from librdkafka.
    package var topicName: String { topicHandle.map { String(cString: rd_kafka_topic_name($0)) } ?? "" }
}

/// A topic of one producer, resolved once (``KafkaProducer/topic(named:)``).
package struct ProducerTopic: @unchecked Sendable {
    // @unchecked Sendable: an immutable handle owned by its producer, which librdkafka lets any thread use.
    /// The topic's name.
    package let name: String
    let handle: OpaquePointer
}

/// What one `poll` of the producer returned.
package struct ProducerEvents: Sendable {
    /// Delivery reports, in the order librdkafka produced them (per partition: send order).
    package var deliveries: [DeliveryReport] = []
    /// Client-level errors (all brokers down, fatal idempotence errors, ...).
    package var errors: [KafkaError] = []
}

/// An idempotent producer (`enable.idempotence=true`, `acks=all`) that reports every delivery.
///
/// Records are identified by an integer id passed as librdkafka's opaque pointer.
package final class KafkaProducer: @unchecked Sendable {
    // @unchecked Sendable: the handle is thread-safe (librdkafka); `topics` and `names` are touched only by
    // `send` and `poll`, which callers must call from one thread at a time (documented there).
    private let client: RDKafkaClient
    private let mainQueue: OpaquePointer
    private var topics: [String: OpaquePointer] = [:]
    private var names: [OpaquePointer: String] = [:]

    /// Defaults for producers; callers' properties override them, except idempotence and acks.
    ///
    /// Batching: up to 10,000 records or 1 MB per partition batch, sent after at most `linger.ms` (5 ms) when the
    /// batch does not fill. librdkafka sends one partition per produce request, and idempotence allows five requests
    /// in flight per connection, so with many partitions per broker or a distant target what is in flight is five
    /// batches: a 5 ms linger lets them grow (2 ms gave 0.55 of the local rate at an 80 ms round trip, 5 ms 0.7
    /// to 1). Memory: at most 64 MB or 100,000 records wait in the queue (`queue.buffering.max.*`); past that,
    /// sending waits (back-pressure) instead of growing.
    package static let defaultProperties: [String: String] = [
        "linger.ms": "5",
        "batch.num.messages": "10000",
        "batch.size": "1000000",
        "queue.buffering.max.messages": "100000",
        "queue.buffering.max.kbytes": "65536",
        "message.max.bytes": "104857600",
        "compression.type": "none",
        "message.timeout.ms": "0",
        "retry.backoff.ms": "100",
    ]

    /// Settings that keep the write path exactly-once and in order; they always win.
    package static let requiredProperties: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "max.in.flight.requests.per.connection": "5",
        "enable.gapless.guarantee": "true",
    ]

    /// Creates a producer.
    /// - Parameters:
    ///   - configuration: the cluster and user properties.
    ///   - defaults: properties that change this producer's defaults; user properties still win over them.
    ///   - overrides: properties that win over defaults and user properties (not over the required ones).
    ///   - transactionalID: makes the producer transactional with this `transactional.id`; call
    ///     `initTransactions` before the first transaction. Default none.
    ///   - logger: where librdkafka's log lines go.
    /// - Throws: `KafkaError` when a property is rejected or the client cannot be created.
    package init(
        configuration: KafkaClientConfiguration, defaults: [String: String] = [:], overrides: [String: String] = [:],
        transactionalID: String? = nil, logger: Logger
    ) throws(KafkaError) {
        var required = Self.requiredProperties
        if let transactionalID { required["transactional.id"] = transactionalID }
        client = try RDKafkaClient.make(
            kind: .producer, configuration: configuration, defaults: Self.defaultProperties.merging(defaults) { $1 },
            overrides: overrides.merging(required) { $1 },
            events: Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR), logger: logger)
        mainQueue = rd_kafka_queue_get_main(client.handle)
    }

    /// Makes this producer transactional (`transactional.id`) and fences earlier producers with the same id.
    ///
    /// Blocks until the transaction coordinator answers.
    package func initTransactions(timeout: Duration) throws(KafkaError) {
        if let error = rd_kafka_init_transactions(client.handle, timeout.milliseconds) { throw KafkaError.consuming(error) }
    }

    /// Starts a transaction (after `initTransactions`).
    package func beginTransaction() throws(KafkaError) {
        if let error = rd_kafka_begin_transaction(client.handle) { throw KafkaError.consuming(error) }
    }

    /// Commits the open transaction, flushing its records first. Blocks until done.
    package func commitTransaction(timeout: Duration) throws(KafkaError) {
        if let error = rd_kafka_commit_transaction(client.handle, timeout.milliseconds) { throw KafkaError.consuming(error) }
    }

    /// Aborts the open transaction. Blocks until done, at most `timeout`.
    ///
    /// librdkafka purges the transaction's records not yet acknowledged and finishes the abort only once their
    /// delivery reports have been served. Those reports would wait for the thread that polls this producer, which
    /// is the one blocked here, so the abort is asked in steps and between them the reports (all of the aborted
    /// transaction: the records are not in the target) are served and dropped.
    package func abortTransaction(timeout: Duration) throws(KafkaError) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let step = min(.milliseconds(200), max(.zero, deadline - .now))
            guard let pointer = rd_kafka_abort_transaction(client.handle, step.milliseconds) else { return }
            let error = KafkaError.consuming(pointer)
            guard error.code == .timedOut, ContinuousClock.now < deadline else { throw error }
            while let event = rd_kafka_queue_poll(mainQueue, 0) { rd_kafka_event_destroy(event) }
        }
    }

    /// Kept alive while librdkafka may write to it.
    private var readySignal: ReadySignal?

    /// Makes `signal` wake its waiter whenever delivery reports or client errors become ready to poll.
    package func signal(_ signal: ReadySignal) {
        signal.watch(mainQueue)
        readySignal = signal
    }

    deinit {
        if readySignal != nil { ReadySignal.unwatch(mainQueue) }
        rd_kafka_queue_destroy(mainQueue)
        for topic in topics.values { rd_kafka_topic_destroy(topic) }
    }

    private func topicHandle(_ name: String) throws(KafkaError) -> OpaquePointer {
        if let handle = topics[name] { return handle }
        guard let handle = rd_kafka_topic_new(client.handle, name, nil) else {
            throw .rdkafka(rd_kafka_last_error(), message: "cannot open topic \(name)")
        }
        topics[name] = handle
        names[handle] = name
        return handle
    }

    /// A target topic resolved once, for ``forward(_:to:partition:header:value:id:)``.
    ///
    /// Valid as long as this producer.
    package func topic(named name: String) throws(KafkaError) -> ProducerTopic {
        ProducerTopic(name: name, handle: try topicHandle(name))
    }

    /// Queues a consumed record for sending, read straight from librdkafka's message: key and value are copied
    /// once, inside librdkafka, into the record it sends (`RD_KAFKA_MSG_F_COPY`); the source headers, parsed once,
    /// are detached from the consumed message and handed over with one header added (no copy); the timestamp is
    /// kept. Nothing passes through Swift arrays. The result arrives later as a delivery report with `id`.
    ///
    /// The consumed message may be released as soon as this returns. When queueing fails, the message can be
    /// forwarded again: librdkafka parses its headers anew from the record.
    /// - Throws: `KafkaError` with code ``KafkaError/Code/queueFull`` when the local queue is full: poll
    ///   deliveries and forward again. Call from one thread at a time.
    package func forward(
        _ message: ConsumedMessage, to topic: ProducerTopic, partition: Int32, header name: String,
        value: UnsafeRawBufferPointer, id: UInt64
    ) throws(KafkaError) {
        let m = message.pointer.pointee
        var source: OpaquePointer?
        let headers: OpaquePointer
        if rd_kafka_message_detach_headers(message.pointer, &source) == RD_KAFKA_RESP_ERR_NO_ERROR, let source {
            headers = source
        } else {
            headers = rd_kafka_headers_new(1)
        }
        _ = rd_kafka_header_add(headers, name, -1, value.baseAddress, value.count)
        let timestamp = message.timestampMilliseconds
        // A null key or value stays null; an empty one keeps its (non-null) pointer and stays empty.
        let error = produce(
            topic: topic.handle, partition: partition, key: m.key, keyCount: m.key_len, value: m.payload,
            valueCount: m.len, headers: headers, timestamp: timestamp, id: id)
        if let error {
            rd_kafka_headers_destroy(headers)  // not taken over when produceva fails
            throw KafkaError.consuming(error)
        }
    }

    /// Hands every delivery report and client error that is ready to `deliveries` and `errors`, in the order
    /// librdkafka produced them (per partition: send order), waiting at most `timeout` for the first.
    /// Builds no arrays and no topic names: for the copy loop.
    ///
    /// Blocks the calling thread; call from one thread at a time. Stops at the first error either closure throws.
    package func poll<E: Error>(
        timeout: Duration, deliveries: (Delivery) throws(E) -> Void, errors: (KafkaError) throws(E) -> Void
    ) throws(E) {
        client.drainLogs()
        var wait = timeout.milliseconds
        while let event = rd_kafka_queue_poll(mainQueue, wait) {
            wait = 0
            defer { rd_kafka_event_destroy(event) }
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_DR:
                while let message = rd_kafka_event_message_next(event) {
                    try deliveries(Delivery(message: message, client: client))
                }
            case RD_KAFKA_EVENT_ERROR:
                let err = rd_kafka_event_error(event)
                let text = String(cString: rd_kafka_event_error_string(event))
                client.refusals.noteError(err, text)
                if rd_kafka_event_error_is_fatal(event) != 0 {
                    try errors(client.fatalError() ?? .rdkafka(err, message: text, isFatal: true))
                } else {
                    try errors(.rdkafka(err, message: text, isRetriable: true))
                }
            default:
                break
            }
        }
    }

    /// Queues one record for sending; the result arrives later as a `DeliveryReport` with `id`.
    ///
    /// Throws `KafkaError` with code ``KafkaError/Code/queueFull`` when the local queue is full: poll and retry.
    /// Call from one thread at a time.
    package func send(
        topic: String, partition: Int32, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader],
        timestamp: Int64?, id: UInt64
    ) throws(KafkaError) {
        let rkt = try topicHandle(topic)
        let list = rd_kafka_headers_new(headers.count)!
        for header in headers {
            if let value = header.value {
                value.withUnsafeBytes { _ = rd_kafka_header_add(list, header.name, -1, $0.baseAddress, $0.count) }
            } else {
                _ = rd_kafka_header_add(list, header.name, -1, nil, 0)
            }
        }
        let error = withBytes(key) { keyPointer, keyCount in
            withBytes(value) { valuePointer, valueCount in
                produce(
                    topic: rkt, partition: partition, key: keyPointer, keyCount: keyCount, value: valuePointer,
                    valueCount: valueCount, headers: list, timestamp: timestamp, id: id)
            }
        }
        if let error {
            rd_kafka_headers_destroy(list)  // not taken over when produceva fails
            throw KafkaError.consuming(error)
        }
    }

    /// One `rd_kafka_produceva` call: librdkafka copies key and value (`RD_KAFKA_MSG_F_COPY`) and takes over
    /// `headers` unless it returns an error.
    private func produce(
        topic: OpaquePointer, partition: Int32, key: UnsafeMutableRawPointer?, keyCount: Int,
        value: UnsafeMutableRawPointer?, valueCount: Int, headers: OpaquePointer, timestamp: Int64?, id: UInt64
    ) -> OpaquePointer? {
        withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { vus in
            vus.initialize(repeating: rd_kafka_vu_t())
            vus[0].vtype = RD_KAFKA_VTYPE_RKT; vus[0].u.rkt = topic
            vus[1].vtype = RD_KAFKA_VTYPE_PARTITION; vus[1].u.i32 = partition
            vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS; vus[2].u.i = RDKafkaConstants.msgFlagCopy
            vus[3].vtype = RD_KAFKA_VTYPE_KEY; vus[3].u.mem.ptr = key; vus[3].u.mem.size = keyCount
            vus[4].vtype = RD_KAFKA_VTYPE_VALUE; vus[4].u.mem.ptr = value; vus[4].u.mem.size = valueCount
            vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE; vus[5].u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(id))
            vus[6].vtype = RD_KAFKA_VTYPE_HEADERS; vus[6].u.headers = headers
            var count = 7
            if let timestamp {
                vus[7].vtype = RD_KAFKA_VTYPE_TIMESTAMP; vus[7].u.i64 = timestamp
                count = 8
            }
            return rd_kafka_produceva(client.handle, vus.baseAddress, count)
        }
    }

    /// Collects delivery reports (with their topic names) and client errors, waiting at most `timeout` for the first.
    ///
    /// Blocks the calling thread; call from one thread at a time.
    package func poll(timeout: Duration) -> ProducerEvents {
        var events = ProducerEvents()
        poll(timeout: timeout) { (delivery: Delivery) in
            events.deliveries.append(DeliveryReport(
                id: delivery.id, topic: delivery.topicHandle.flatMap { names[$0] } ?? delivery.topicName, partition: delivery.partition,
                offset: delivery.offset, error: delivery.error, timestamp: delivery.timestamp, size: delivery.size))
        } errors: { events.errors.append($0) }
        return events
    }

    /// Records queued or in flight, plus delivery reports not yet polled.
    package var queueLength: Int { Int(rd_kafka_outq_len(client.handle)) }

    /// The fatal error the producer hit, if any.
    package var fatalError: KafkaError? { client.fatalError() }
}

nonisolated(unsafe) private let emptyByte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// Gives librdkafka a pointer that is `nil` only for a `nil` array, so an empty key stays empty, not null.
private func withBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeMutableRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { buffer in
        body(buffer.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) } ?? emptyByte, buffer.count)
    }
}
