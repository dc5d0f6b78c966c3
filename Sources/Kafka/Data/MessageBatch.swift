import CRdKafka

/// The messages one `KafkaConsumer.poll(into:timeout:)` took from librdkafka, still in librdkafka's memory.
///
/// A batch is made once and reused for every poll: its pointer storage is allocated once. The messages stay
/// valid until the next poll into the batch, `release()`, or the batch's end, which destroy them. A
/// ``ConsumedMessage`` read from the batch must not be kept beyond that.
///
/// Not thread-safe: one thread polls into a batch and reads it.
package final class MessageBatch {
    let storage: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    /// Most messages one poll takes.
    package let capacity: Int
    /// Messages in the batch now.
    package internal(set) var count = 0

    /// Creates an empty batch.
    /// - Parameter capacity: most messages one poll takes; at least 1.
    package init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
        storage.initialize(repeating: nil, count: self.capacity)
    }

    deinit {
        release()
        storage.deallocate()
    }

    /// The message at `index` (`0..<count`); valid until the batch is released or polled into again.
    package subscript(index: Int) -> ConsumedMessage {
        precondition(index >= 0 && index < count, "message \(index) of a batch of \(count)")
        return ConsumedMessage(pointer: storage[index]!)
    }

    /// Destroys the messages; the batch is empty afterwards.
    package func release() {
        for index in 0..<count {
            if let message = storage[index] { rd_kafka_message_destroy(message) }
            storage[index] = nil
        }
        count = 0
    }
}

/// One message of a ``MessageBatch``: a record, the end of a partition, or an error, read in place.
///
/// A view of librdkafka's message: nothing is copied until a caller asks for a Swift value
/// (``record(topic:)``). Valid only while its batch holds it.
package struct ConsumedMessage {
    let pointer: UnsafeMutablePointer<rd_kafka_message_t>

    /// Partition number.
    package var partition: Int32 { pointer.pointee.partition }

    /// Offset: of the record; for a partition end, the offset reached (the high watermark then).
    package var offset: Int64 { pointer.pointee.offset }

    /// `nil` for a record; what happened otherwise (``KafkaError/Code/partitionEOF`` for the end of a partition).
    package var errorCode: KafkaError.Code? {
        pointer.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.Code(pointer.pointee.err)
    }

    /// `true` for a record (not a partition end or an error).
    package var isRecord: Bool { pointer.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR }

    /// `true` when the message belongs to a topic (errors of the whole client do not).
    var hasTopic: Bool { pointer.pointee.rkt != nil }

    /// The record's timestamp in milliseconds, when it has one.
    package var timestampMilliseconds: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ms = rd_kafka_message_timestamp(pointer, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ms
    }

    /// Key plus value bytes.
    package var size: Int { pointer.pointee.key_len + pointer.pointee.len }

    /// `true` when a header called `name` has a value that starts with `prefix` (read in place).
    package func hasHeader(named name: String, valuePrefix prefix: [UInt8]) -> Bool {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(pointer, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return false }
        var index = 0
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get(list, index, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            index += 1
            guard let value, size >= prefix.count else { continue }
            if UnsafeRawBufferPointer(start: value, count: prefix.count).elementsEqual(prefix) { return true }
        }
        return false
    }

    /// The error's text, for a message that carries an error.
    var errorText: String? { rd_kafka_message_errstr(pointer).map { String(cString: $0) } }

    /// The record copied into Swift values.
    package func record(topic: String) -> KafkaRecord {
        let m = pointer.pointee
        return KafkaRecord(
            topic: topic, partition: m.partition, offset: m.offset,
            key: RDKafkaMessage.bytes(m.key, m.key_len),
            value: RDKafkaMessage.bytes(m.payload, m.len),
            headers: RDKafkaMessage.headers(pointer),
            timestamp: RDKafkaMessage.timestamp(pointer))
    }
}
