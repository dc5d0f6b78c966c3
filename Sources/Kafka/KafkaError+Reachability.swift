import CRdKafka

extension KafkaError {
    /// The cluster did not answer: no broker could be reached (`_TRANSPORT`, `_ALL_BROKERS_DOWN`, `_RESOLVE`) or
    /// the request timed out (`_TIMED_OUT`, `REQUEST_TIMED_OUT`). Decided on librdkafka's numeric code, never its text.
    package var isUnreachable: Bool {
        code == .timedOut || Self.unreachableCodes.contains(rawCode)
    }

    private static let unreachableCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__TRANSPORT.rawValue, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue, RD_KAFKA_RESP_ERR__RESOLVE.rawValue,
    ]
}
