import CRdKafka

/// An error from librdkafka or from the Kafka client layer.
///
/// Carries librdkafka's numeric code and text, whether the error is fatal to the
/// client instance or worth retrying, and the place that raised it. Callers decide on ``code``, which is
/// derived from librdkafka's numeric `rd_kafka_resp_err_t` (never from its name), so a misspelt case cannot
/// compile.
package struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in a form callers can switch on.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String
        /// Another librdkafka or broker error; inspect `KafkaError.rawCode`.
        package static let librdkafka = Code(name: "librdkafka")
        /// A configuration property was rejected.
        package static let configuration = Code(name: "configuration")
        /// A client handle could not be created.
        package static let clientCreation = Code(name: "clientCreation")
        /// An operation or request did not finish within its timeout (`_TIMED_OUT`, `REQUEST_TIMED_OUT`).
        package static let timedOut = Code(name: "timedOut")
        /// A record was not acknowledged within `message.timeout.ms` (`_MSG_TIMED_OUT`).
        package static let messageTimedOut = Code(name: "messageTimedOut")
        /// The broker does not support the request.
        package static let unsupported = Code(name: "unsupported")
        /// A topic or partition does not exist.
        package static let unknownTopicOrPartition = Code(name: "unknownTopicOrPartition")
        /// A topic that should be created exists already.
        package static let topicAlreadyExists = Code(name: "topicAlreadyExists")
        /// The client has been closed.
        package static let closed = Code(name: "closed")
        /// The producer's local queue is full (`_QUEUE_FULL`): back-pressure, poll for deliveries and send again.
        package static let queueFull = Code(name: "queueFull")
        /// A newer producer with the same `transactional.id` took over (`PRODUCER_FENCED`,
        /// `INVALID_PRODUCER_EPOCH`, `_FENCED`): this one may never write again.
        package static let fenced = Code(name: "fenced")
        /// The record was purged from the queue or from a request in flight (`_PURGE_QUEUE`, `_PURGE_INFLIGHT`):
        /// after an aborted transaction or when the producer turned fatal. It was not refused.
        package static let purged = Code(name: "purged")
        /// The client instance hit a fatal error (`_FATAL`); the underlying cause is in the fatal error.
        package static let fatal = Code(name: "fatal")
        /// The idempotent producer lost step with the broker's sequence numbers (`OUT_OF_ORDER_SEQUENCE_NUMBER`).
        package static let outOfOrderSequence = Code(name: "outOfOrderSequence")
        /// The broker no longer knows the producer id (`UNKNOWN_PRODUCER_ID`).
        package static let unknownProducerID = Code(name: "unknownProducerID")
        /// The gapless guarantee could not be kept for a record (`_GAPLESS_GUARANTEE`).
        package static let gaplessGuarantee = Code(name: "gaplessGuarantee")
        /// A transactional call was made in the wrong state (`_STATE`, `INVALID_TXN_STATE`).
        package static let invalidState = Code(name: "invalidState")
        /// A consumer reached the end of a partition (`_PARTITION_EOF`).
        package static let partitionEOF = Code(name: "partitionEOF")
        /// A fetch position lies outside the partition's log (`OFFSET_OUT_OF_RANGE`, `_AUTO_OFFSET_RESET`).
        package static let offsetOutOfRange = Code(name: "offsetOutOfRange")
        /// The broker refuses the record itself, and would refuse it again: too large (`MSG_SIZE_TOO_LARGE`,
        /// `RECORD_LIST_TOO_LARGE`), not allowed (`TOPIC_AUTHORIZATION_FAILED`, `POLICY_VIOLATION`), or not valid
        /// there (`INVALID_MSG`, `INVALID_RECORD`, `INVALID_TIMESTAMP`, `UNSUPPORTED_FOR_MESSAGE_FORMAT`).
        package static let recordRefused = Code(name: "recordRefused")
        /// The cluster answers but refuses this client: a certificate, credentials or a permission (see
        /// ``KafkaError/refusal``). Waiting does not mend it.
        package static let connectionRefused = Code(name: "connectionRefused")
        package var description: String { name }

        /// The code for a librdkafka response code.
        init(_ err: rd_kafka_resp_err_t) {
            switch err {
            case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: self = .timedOut
            case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: self = .messageTimedOut
            case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION,
                 RD_KAFKA_RESP_ERR_INVALID_REQUEST: self = .unsupported
            case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
                 RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: self = .unknownTopicOrPartition
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: self = .topicAlreadyExists
            case RD_KAFKA_RESP_ERR__DESTROY: self = .closed
            case RD_KAFKA_RESP_ERR__QUEUE_FULL: self = .queueFull
            case RD_KAFKA_RESP_ERR_PRODUCER_FENCED, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, RD_KAFKA_RESP_ERR__FENCED:
                self = .fenced
            case RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT: self = .purged
            case RD_KAFKA_RESP_ERR__FATAL: self = .fatal
            case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER: self = .outOfOrderSequence
            case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID: self = .unknownProducerID
            case RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE: self = .gaplessGuarantee
            case RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR_INVALID_TXN_STATE: self = .invalidState
            case RD_KAFKA_RESP_ERR__PARTITION_EOF: self = .partitionEOF
            case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE, RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET: self = .offsetOutOfRange
            case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
                 RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_POLICY_VIOLATION, RD_KAFKA_RESP_ERR_INVALID_MSG,
                 RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP, RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
                self = .recordRefused
            default: self = .librdkafka
            }
        }

        private init(name: String) { self.name = name }
    }

    /// What went wrong.
    package var code: Code
    /// librdkafka's `rd_kafka_resp_err_t` value (0 when not from librdkafka).
    package var rawCode: Int32
    /// librdkafka's name for `rawCode`, e.g. `MSG_SIZE_TOO_LARGE` or `_QUEUE_FULL`; for messages only.
    package var rawName: String
    /// A human-readable message, free of secrets.
    package var message: String
    /// The client instance cannot be used any more.
    package var isFatal: Bool
    /// Trying again may succeed.
    package var isRetriable: Bool
    /// The open transaction failed and must be aborted before the producer can go on.
    package var requiresAbort = false
    /// For ``Code/connectionRefused``: what refused the client and what to check.
    package var refusal: ConnectionRefusal?
    /// Source location that raised the error.
    package var file: String
    /// Source line that raised the error.
    package var line: UInt

    /// Creates an error.
    package init(
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

    package var description: String {
        rawName.isEmpty ? message : "\(message) [\(rawName)]"
    }

    /// A newer producer with the same `transactional.id` has taken over: this one may never write again.
    package var isFenced: Bool { code == .fenced }

    /// The cluster refused the client: `refusal` says why.
    package static func refused(_ refusal: ConnectionRefusal, file: String = #fileID, line: UInt = #line) -> KafkaError {
        var error = KafkaError(code: .connectionRefused, message: "\(refusal)", file: file, line: line)
        error.refusal = refusal
        return error
    }
}

extension KafkaError {
    /// Maps a librdkafka response code.
    static func rdkafka(
        _ err: rd_kafka_resp_err_t, message: String? = nil, isFatal: Bool = false,
        isRetriable: Bool = false, file: String = #fileID, line: UInt = #line
    ) -> KafkaError {
        KafkaError(
            code: Code(err), rawCode: err.rawValue, rawName: String(cString: rd_kafka_err2name(err)),
            message: message ?? String(cString: rd_kafka_err2str(err)), isFatal: isFatal, isRetriable: isRetriable,
            file: file, line: line)
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
