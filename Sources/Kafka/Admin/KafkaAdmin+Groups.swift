import CRdKafka

/// A consumer group as the group coordinator describes it.
package struct ConsumerGroupDescription: Sendable, Equatable {
    /// Group id.
    package var groupID: String
    /// Members now in the group; 0 when nobody consumes.
    package var memberCount: Int
    /// The coordinator's state name, e.g. `Stable`, `Empty`, `Dead`.
    package var state: String
}

extension KafkaAdmin {
    /// Ids of every consumer group the cluster knows.
    package func consumerGroups(timeout: Duration) throws(KafkaError) -> [String] {
        try adminRequest(timeout: timeout, expect: RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT) { options, queue in
            rd_kafka_ListConsumerGroups(handle, options, queue)
        } read: { event in
            let result = rd_kafka_event_ListConsumerGroups_result(event)
            var count = 0
            let listings = rd_kafka_ListConsumerGroups_result_valid(result, &count)
            return (0..<count).map { String(cString: rd_kafka_ConsumerGroupListing_group_id(listings![$0])) }.sorted()
        }
    }

    /// Describes groups: how many members each has now.
    package func describeConsumerGroups(_ groups: [String], timeout: Duration) throws(KafkaError) -> [ConsumerGroupDescription] {
        guard !groups.isEmpty else { return [] }
        let copies = groups.map { group -> UnsafeMutablePointer<CChar> in
            let bytes = Array(group.utf8CString)
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
            copy.initialize(from: bytes, count: bytes.count)
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        var pointers = copies.map { UnsafePointer<CChar>?($0) }
        let described: Result<[ConsumerGroupDescription], KafkaError> =
            try adminRequest(timeout: timeout, expect: RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT) { options, queue in
                rd_kafka_DescribeConsumerGroups(handle, &pointers, pointers.count, options, queue)
            } read: { event in
                var count = 0
                let results = rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(event), &count)
                var descriptions: [ConsumerGroupDescription] = []
                for index in 0..<count {
                    let group = results![index]
                    let id = String(cString: rd_kafka_ConsumerGroupDescription_group_id(group))
                    if let error = rd_kafka_ConsumerGroupDescription_error(group) {
                        let err = rd_kafka_error_code(error)
                        return .failure(.rdkafka(err, message: "group \(id): \(String(cString: rd_kafka_error_string(error)))"))
                    }
                    descriptions.append(ConsumerGroupDescription(
                        groupID: id, memberCount: rd_kafka_ConsumerGroupDescription_member_count(group),
                        state: String(cString: rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(group)))))
                }
                return .success(descriptions)
            }
        return try described.get()
    }

    /// A group's committed offsets; every partition it committed when `partitions` is `nil`.
    package func committedOffsets(group: String, partitions: [TopicPartition]? = nil, timeout: Duration) throws(KafkaError) -> [TopicPartition: Int64] {
        let list = partitions.map { KafkaConsumer.makeList($0.map { ($0, RDKafkaConstants.offsetInvalid) }) }
        defer { list.map { rd_kafka_topic_partition_list_destroy($0) } }
        var request: OpaquePointer? = rd_kafka_ListConsumerGroupOffsets_new(group, list)
        defer { rd_kafka_ListConsumerGroupOffsets_destroy(request) }
        return try groupOffsetsRequest(group: group, timeout: timeout, expect: RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT) { options, queue in
            rd_kafka_ListConsumerGroupOffsets(handle, &request, 1, options, queue)
        } results: { event, count in
            rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(event), count)
        }
    }

    /// Commits offsets for a group that has no active members (the broker refuses otherwise).
    package func commitOffsets(group: String, _ offsets: [TopicPartition: Int64], timeout: Duration) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = KafkaConsumer.makeList(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        var request: OpaquePointer? = rd_kafka_AlterConsumerGroupOffsets_new(group, list)
        defer { rd_kafka_AlterConsumerGroupOffsets_destroy(request) }
        _ = try groupOffsetsRequest(group: group, timeout: timeout, expect: RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT) { options, queue in
            rd_kafka_AlterConsumerGroupOffsets(handle, &request, 1, options, queue)
        } results: { event, count in
            rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(event), count)
        }
    }

    private func groupOffsetsRequest(
        group: String, timeout: Duration, expect: Int32, send: (OpaquePointer?, OpaquePointer?) -> Void,
        results: (OpaquePointer, UnsafeMutablePointer<Int>) -> UnsafeMutablePointer<OpaquePointer?>?
    ) throws(KafkaError) -> [TopicPartition: Int64] {
        let read: Result<[TopicPartition: Int64], KafkaError> = try adminRequest(timeout: timeout, expect: expect, send: send) { event in
            var count = 0
            guard let groups = results(event, &count), count > 0, let first = groups[0] else { return .success([:]) }
            if let error = rd_kafka_group_result_error(first) {
                return .failure(.rdkafka(rd_kafka_error_code(error), message: "group \(group): \(String(cString: rd_kafka_error_string(error)))"))
            }
            var offsets: [TopicPartition: Int64] = [:]
            guard let list = rd_kafka_group_result_partitions(first) else { return .success([:]) }
            for index in 0..<Int(list.pointee.cnt) {
                let element = list.pointee.elems[index]
                let tp = TopicPartition(String(cString: element.topic), element.partition)
                if element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    return .failure(.rdkafka(element.err, message: "group \(group) \(tp): \(String(cString: rd_kafka_err2str(element.err)))"))
                }
                if element.offset >= 0 { offsets[tp] = element.offset }
            }
            return .success(offsets)
        }
        return try read.get()
    }
}
