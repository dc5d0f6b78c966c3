import CRdKafka

/// An error from librdkafka or from the Kafka client layer.
///
/// Carries librdkafka's numeric code and text, whether the error is fatal to the
/// client instance or worth retrying, and the place that raised it.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in a form callers can switch on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String
        /// A librdkafka or broker error; inspect `KafkaError.rawCode`.
        public static let librdkafka = Code(name: "librdkafka")
        /// A configuration property was rejected.
        public static let configuration = Code(name: "configuration")
        /// A client handle could not be created.
        public static let clientCreation = Code(name: "clientCreation")
        /// An operation did not finish within its timeout.
        public static let timedOut = Code(name: "timedOut")
        /// The broker does not support the request.
        public static let unsupported = Code(name: "unsupported")
        /// A topic or partition does not exist.
        public static let unknownTopicOrPartition = Code(name: "unknownTopicOrPartition")
        /// A topic that should be created exists already.
        public static let topicAlreadyExists = Code(name: "topicAlreadyExists")
        /// The client has been closed.
        public static let closed = Code(name: "closed")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// librdkafka's `rd_kafka_resp_err_t` value (0 when not from librdkafka).
    public var rawCode: Int32
    /// librdkafka's name for `rawCode`, e.g. `MSG_SIZE_TOO_LARGE`.
    public var rawName: String
    /// A human-readable message, free of secrets.
    public var message: String
    /// The client instance cannot be used any more.
    public var isFatal: Bool
    /// Trying again may succeed.
    public var isRetriable: Bool
    /// The open transaction failed and must be aborted before the producer can go on.
    public var requiresAbort = false
    /// Source location that raised the error.
    public var file: String
    /// Source line that raised the error.
    public var line: UInt

    /// Creates an error.
    public init(
        code: Code, rawCode: Int32 = 0, rawName: String = "", message: String,
        isFatal: Bool = false, isRetriable: Bool = false,
        file: String = #fileID, line: UInt = #line
    ) {
        self.code = code
        self.rawCode = rawCode
        self.rawName = rawName
        self.message = message
        self.isFatal = isFatal
        self.isRetriable = isRetriable
        self.file = file
        self.line = line
    }

    public var description: String {
        rawName.isEmpty ? message : "\(message) [\(rawName)]"
    }

    /// A newer producer with the same `transactional.id` has taken over: this one may never write again.
    public var isFenced: Bool {
        ["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "_FENCED"].contains(rawName)
            || message.contains("PRODUCER_FENCED") || message.contains("INVALID_PRODUCER_EPOCH")
    }
}

extension KafkaError {
    /// Maps a librdkafka response code.
    static func rdkafka(
        _ err: rd_kafka_resp_err_t, message: String? = nil, isFatal: Bool = false,
        isRetriable: Bool = false, file: String = #fileID, line: UInt = #line
    ) -> KafkaError {
        let text = String(cString: rd_kafka_err2str(err))
        let code: Code
        switch err {
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: code = .timedOut
        case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION,
             RD_KAFKA_RESP_ERR_INVALID_REQUEST: code = .unsupported
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
             RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: code = .unknownTopicOrPartition
        case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: code = .topicAlreadyExists
        default: code = .librdkafka
        }
        return KafkaError(
            code: code, rawCode: err.rawValue, rawName: String(cString: rd_kafka_err2name(err)),
            message: message ?? text, isFatal: isFatal, isRetriable: isRetriable, file: file, line: line)
    }

    /// Takes over an `rd_kafka_error_t` and destroys it.
    static func consuming(_ error: OpaquePointer, file: String = #fileID, line: UInt = #line) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        var result = KafkaError.rdkafka(
            rd_kafka_error_code(error), message: String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0, isRetriable: rd_kafka_error_is_retriable(error) != 0,
            file: file, line: line)
        result.requiresAbort = rd_kafka_error_txn_requires_abort(error) != 0
        return result
    }
}
