import CRdKafka

/// Copying readers for `rd_kafka_message_t`; nothing here outlives the message.
enum RDKafkaMessage {
    static func bytes(_ pointer: UnsafeMutableRawPointer?, _ count: Int) -> [UInt8]? {
        guard let pointer else { return nil }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    static func headers(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var result: [KafkaHeader] = []
        result.reserveCapacity(rd_kafka_header_cnt(list))
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: size)) }
            result.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return result
    }

    static func timestamp(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaTimestamp? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ms = rd_kafka_message_timestamp(message, &type)
        switch type {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: return KafkaTimestamp(milliseconds: ms, kind: .createTime)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: return KafkaTimestamp(milliseconds: ms, kind: .logAppendTime)
        default: return nil
        }
    }
}

/// librdkafka's special offsets and partition values (its macros carry casts Swift cannot import).
enum RDKafkaConstants {
    static let offsetBeginning: Int64 = -2
    static let offsetEnd: Int64 = -1
    static let offsetInvalid: Int64 = -1001
    /// `RD_KAFKA_OFFSET_TAIL(n)` is this minus `n`.
    static let offsetTailBase: Int64 = -2000
    static let msgFlagCopy: Int32 = 0x2
}
