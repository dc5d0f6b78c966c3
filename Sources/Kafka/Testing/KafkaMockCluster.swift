import CRdKafka
import Logging

/// librdkafka's in-process mock Kafka cluster, for faults a real test broker cannot produce.
///
/// Any client reaches it over loopback TCP at `bootstrapServers` while this object lives.
/// Unlike some Kafka-compatible brokers it computes offsets (ListOffsets) correctly, but it has
/// no CreateTopics or DescribeConfigs: create topics with `createTopic`.
package final class KafkaMockCluster: @unchecked Sendable {
    // @unchecked Sendable: the mock cluster's functions are thread-safe; nothing else is stored.
    private let client: RDKafkaClient
    private let cluster: OpaquePointer

    /// Kafka API keys that fault injection refers to.
    package enum APIKey: Int16, Sendable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, findCoordinator = 10, initProducerID = 22
    }

    /// Starts a cluster of `brokers` brokers (ids 1...brokers).
    package init(brokers: Int, logger: Logger = Logger(label: "regionbridge.mock")) throws(KafkaError) {
        client = try RDKafkaClient.make(
            kind: .producer, configuration: KafkaClientConfiguration(bootstrapServers: ""),
            defaults: [:], logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(code: .clientCreation, message: "cannot start a mock cluster")
        }
        self.cluster = cluster
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }

    /// Comma-separated broker addresses.
    package var bootstrapServers: String { String(cString: rd_kafka_mock_cluster_bootstraps(cluster)) }

    /// Creates a topic.
    package func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err, message: "mock cluster: cannot create \(name)") }
    }

    /// Moves a partition's leadership to `broker`.
    package func setLeader(_ partition: TopicPartition, broker: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_partition_set_leader(cluster, partition.topic, partition.partition, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err) }
    }

    /// Makes the next requests of `api` fail with these librdkafka error codes, one per request.
    package func pushRequestErrors(_ api: APIKey, errorCodes: [Int32]) {
        let errors = errorCodes.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, errors.count, errors)
    }

    /// Makes every Metadata response report `errorCode` for `topic` (UNKNOWN_TOPIC_OR_PART, 3, is how a deleted
    /// topic looks); the topic's data and its Produce and Fetch answers are unchanged. Code 0 clears it.
    package func setTopicError(_ topic: String, errorCode: Int32) {
        rd_kafka_mock_topic_set_error(cluster, topic, rd_kafka_resp_err_t(rawValue: errorCode))
    }

    /// Drops the errors still waiting to be returned to requests of `api`.
    package func clearRequestErrors(_ api: APIKey) {
        rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
    }

    /// Takes a broker down (connections closed, new ones refused) or brings it back up.
    package func setBroker(_ broker: Int32, up: Bool) throws(KafkaError) {
        let err = up ? rd_kafka_mock_broker_set_up(cluster, broker) : rd_kafka_mock_broker_set_down(cluster, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err) }
    }

    /// Makes `broker` the transaction coordinator of `transactionalID` (taking that broker down then makes the
    /// coordinator, and only it, unreachable for that id).
    package func setTransactionCoordinator(_ transactionalID: String, broker: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_coordinator_set(cluster, "transaction", transactionalID, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err) }
    }

    /// Adds a round-trip delay to every response of `broker`.
    package func setRoundTrip(broker: Int32, milliseconds: Int) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_rtt(cluster, broker, Int32(milliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err) }
    }
}
