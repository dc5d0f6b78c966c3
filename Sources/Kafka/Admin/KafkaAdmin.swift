import CRdKafka
import Logging

/// Topic administration and cluster metadata for one cluster.
///
/// Every call blocks the calling thread until the cluster answers or the timeout passes.
package final class KafkaAdmin: @unchecked Sendable {
    // @unchecked Sendable: only the thread-safe librdkafka handle is stored.
    private let client: RDKafkaClient

    var handle: OpaquePointer { client.handle }

    /// Creates an admin client.
    /// - Throws: `KafkaError` when a property is rejected or the client cannot be created.
    package init(configuration: KafkaClientConfiguration, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient.make(kind: .producer, configuration: configuration, defaults: [:], logger: logger)
    }

    /// Every topic in the cluster with its partitions.
    ///
    /// A cluster that refuses the client (its certificate, the client's credentials) is named within a fraction of
    /// a second, not after `timeout`: the request runs on a thread of its own while the client's errors are watched.
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/connectionRefused`` and its ``KafkaError/refusal``
    ///   when the cluster refused this client, the request's own error otherwise.
    package func topics(timeout: Duration) throws(KafkaError) -> [TopicMetadata] {
        client.drainLogs()
        let (err, answer) = try MetadataRequest(client: client, timeout: timeout).wait(checking: throwIfRefused)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata = answer?.pointer else {
            try throwIfRefused()
            throw .rdkafka(err, message: "cannot read cluster metadata: \(String(cString: rd_kafka_err2str(err)))")
        }
        client.refusals.clear()
        return withExtendedLifetime(answer) {
            (0..<Int(metadata.pointee.topic_cnt)).map { index in
                let topic = metadata.pointee.topics[index]
                let partitions = (0..<Int(topic.partition_cnt)).map { topic.partitions[$0].id }.sorted()
                let errorName = topic.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : String(cString: rd_kafka_err2name(topic.err))
                return TopicMetadata(name: String(cString: topic.topic), partitions: partitions, errorName: errorName)
            }.sorted { $0.name < $1.name }
        }
    }

    /// Throws the refusal the client met lately, if any (serving its error callbacks first).
    private func throwIfRefused() throws(KafkaError) {
        rd_kafka_poll(client.handle, 0)
        client.drainLogs()
        if let refusal = client.refusals.current { throw .refused(refusal) }
    }

    /// Creates topics; returns the error of each topic that could not be created (an existing topic included).
    package func createTopics(_ topics: [NewTopic], timeout: Duration) throws(KafkaError) -> [String: KafkaError] {
        guard !topics.isEmpty else { return [:] }
        var errstr = [CChar](repeating: 0, count: 512)
        var handles: [OpaquePointer?] = []
        defer { handles.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            guard let handle = rd_kafka_NewTopic_new(
                topic.name, Int32(topic.partitions), Int32(topic.replicationFactor), &errstr, errstr.count) else {
                throw KafkaError(code: .librdkafka, message: "bad topic \(topic.name): \(errstr.nulTerminatedString)")
            }
            handles.append(handle)
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(handle, key, value)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .rdkafka(err, message: "bad config \(key) for \(topic.name)") }
            }
        }
        return try adminRequest(timeout: timeout, expect: RD_KAFKA_EVENT_CREATETOPICS_RESULT) { options, queue in
            rd_kafka_CreateTopics(client.handle, &handles, handles.count, options, queue)
        } read: { event in
            var count = 0
            let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
            return Self.topicErrors(results, count)
        }
    }

    /// Deletes a topic and every record in it.
    /// - Throws: `KafkaError` when the cluster does not answer or refuses the deletion.
    package func deleteTopic(_ topic: String, timeout: Duration) throws(KafkaError) {
        var handle: OpaquePointer? = rd_kafka_DeleteTopic_new(topic)
        defer { rd_kafka_DeleteTopic_destroy(handle) }
        let errors = try adminRequest(timeout: timeout, expect: RD_KAFKA_EVENT_DELETETOPICS_RESULT) { options, queue in
            rd_kafka_DeleteTopics(client.handle, &handle, 1, options, queue)
        } read: { event in
            var count = 0
            let results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count)
            return Self.topicErrors(results, count)
        }
        if let error = errors[topic] { throw error }
    }

    /// Raises the partition count of a topic to `totalCount`.
    package func createPartitions(topic: String, totalCount: Int, timeout: Duration) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        var handle: OpaquePointer? = rd_kafka_NewPartitions_new(topic, totalCount, &errstr, errstr.count)
        guard handle != nil else {
            throw KafkaError(code: .librdkafka, message: "bad partition count for \(topic): \(errstr.nulTerminatedString)")
        }
        defer { rd_kafka_NewPartitions_destroy(handle) }
        let errors = try adminRequest(timeout: timeout, expect: RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT) { options, queue in
            rd_kafka_CreatePartitions(client.handle, &handle, 1, options, queue)
        } read: { event in
            var count = 0
            let results = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event), &count)
            return Self.topicErrors(results, count)
        }
        if let error = errors[topic] { throw error }
    }

    /// A topic's configuration entries.
    package func describeTopicConfig(_ topic: String, timeout: Duration) throws(KafkaError) -> [TopicConfigEntry] {
        var resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)
        defer { rd_kafka_ConfigResource_destroy(resource) }
        let entries: [[TopicConfigEntry]] = try adminRequest(timeout: timeout, expect: RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT) { options, queue in
            rd_kafka_DescribeConfigs(client.handle, &resource, 1, options, queue)
        } read: { event in
            var count = 0
            let results = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &count)
            return (0..<count).map { index -> [TopicConfigEntry] in
                let res = results![index]
                var entryCount = 0
                let configs = rd_kafka_ConfigResource_configs(res, &entryCount)
                return (0..<entryCount).map { i in
                    let entry = configs![i]
                    let source: TopicConfigEntry.Source
                    switch rd_kafka_ConfigEntry_source(entry) {
                    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG: source = .topic
                    case RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG: source = .unknown
                    default: source = .brokerOrDefault
                    }
                    return TopicConfigEntry(
                        name: String(cString: rd_kafka_ConfigEntry_name(entry)),
                        value: rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) },
                        source: source,
                        isSensitive: rd_kafka_ConfigEntry_is_sensitive(entry) != 0,
                        isReadOnly: rd_kafka_ConfigEntry_is_read_only(entry) != 0)
                }
            }
        }
        return entries.first ?? []
    }

    /// The end offset of many partitions in one ListOffsets round (per leader), as a `read_committed` reader
    /// sees it (the last stable offset). Partitions the cluster answered with an error are left out.
    ///
    /// Some Kafka-compatible brokers answer with the last batch's base offset plus one instead of the end (tansu):
    /// treat the answer as a lower bound there.
    package func endOffsets(_ partitions: [TopicPartition], timeout: Duration) throws(KafkaError) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = KafkaConsumer.makeList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_SPEC_LATEST.rawValue)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return try adminRequest(timeout: timeout, expect: Int32(RD_KAFKA_EVENT_LISTOFFSETS_RESULT)) { options, queue in
            if let error = rd_kafka_AdminOptions_set_isolation_level(options, RD_KAFKA_ISOLATION_LEVEL_READ_COMMITTED) {
                rd_kafka_error_destroy(error)
            }
            rd_kafka_ListOffsets(client.handle, list, options, queue)
        } read: { event in
            var count = 0
            var ends: [TopicPartition: Int64] = [:]
            guard let infos = rd_kafka_ListOffsets_result_infos(rd_kafka_event_ListOffsets_result(event), &count) else { return ends }
            for index in 0..<count {
                guard let element = rd_kafka_ListOffsetsResultInfo_topic_partition(infos[index]),
                      element.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR, element.pointee.offset >= 0 else { continue }
                ends[TopicPartition(String(cString: element.pointee.topic), element.pointee.partition)] = element.pointee.offset
            }
            return ends
        }
    }

    /// Low and high watermarks as the partition leader answers them (ListOffsets).
    package func queryWatermarks(_ partition: TopicPartition, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        try client.queryWatermarks(topic: partition.topic, partition: partition.partition, timeout: timeout)
    }

    private static func topicErrors(_ results: UnsafeMutablePointer<OpaquePointer?>?, _ count: Int) -> [String: KafkaError] {
        var errors: [String: KafkaError] = [:]
        for index in 0..<count {
            let result = results![index]
            let err = rd_kafka_topic_result_error(result)
            guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let name = String(cString: rd_kafka_topic_result_name(result))
            let text = rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(err))
            errors[name] = .rdkafka(err, message: "\(name): \(text)")
        }
        return errors
    }

    /// Runs one admin request on a temporary queue and reads its result event.
    func adminRequest<T>(
        timeout: Duration, expect: Int32,
        send: (OpaquePointer?, OpaquePointer?) -> Void,
        read: (OpaquePointer) -> T
    ) throws(KafkaError) -> T {
        client.drainLogs()
        let queue = rd_kafka_queue_new(client.handle)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_ANY)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.milliseconds, &errstr, errstr.count)
        send(options, queue)
        // Waits in steps, reading the client's errors between them: a cluster that refuses the client is named
        // within about a second, not after `timeout` (the request stays in flight meanwhile).
        let deadline = ContinuousClock.now + timeout + .seconds(1)
        var answer: OpaquePointer?
        while answer == nil {
            let rest = deadline - ContinuousClock.now
            guard rest > .zero else { break }
            answer = rd_kafka_queue_poll(queue, min(rest, .milliseconds(500)).milliseconds)
            if answer == nil { try throwIfRefused() }
        }
        guard let event = answer else {
            try throwIfRefused()
            throw KafkaError(code: .timedOut, message: "the cluster did not answer within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if KafkaError.Code(err) == .timedOut || err == RD_KAFKA_RESP_ERR__TRANSPORT { try throwIfRefused() }
            throw .rdkafka(err, message: rd_kafka_event_error_string(event).map { String(cString: $0) })
        }
        client.refusals.clear()
        guard rd_kafka_event_type(event) == expect else {
            throw KafkaError(code: .librdkafka, message: "unexpected admin result event \(rd_kafka_event_type(event))")
        }
        return read(event)
    }
}
