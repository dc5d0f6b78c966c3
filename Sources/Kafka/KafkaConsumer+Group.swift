import CRdKafka

/// A change the group coordinator made to this consumer's assignment.
package enum RebalanceEvent: Sendable {
    /// Partitions newly given to this consumer.
    case assigned([TopicPartition])
    /// Partitions taken away. `lost` when the consumer had already dropped out of the group (its session
    /// expired, for example while the process was paused), so another member may own them already.
    case revoked([TopicPartition], lost: Bool)
    /// The group reported an error instead of an assignment.
    case failed(KafkaError)
}

/// Decides where newly assigned partitions start: it returns a start for each partition it takes, and may
/// leave out a partition it cannot take now. For other events its answer is ignored.
///
/// It is called on the thread that calls `KafkaConsumer.poll` or `close`, inside that call, and must return
/// before the consumer goes on; it may block (to fence earlier writers, or read the target).
package typealias RebalanceHandler = (RebalanceEvent) -> [(TopicPartition, StartOffset)]

/// Receives librdkafka's rebalance callback and applies the handler's answer (incremental assign or unassign).
///
/// librdkafka calls it only from inside `rd_kafka_consume_batch_queue` and `rd_kafka_consumer_close`, on the
/// caller's thread, so the handler needs no locking of its own. The client keeps this object alive.
final class RebalanceBox {
    private let handler: RebalanceHandler

    init(handler: @escaping RebalanceHandler) {
        self.handler = handler
    }

    /// librdkafka's rebalance callback (installed by ``ClientCallbacks``).
    func rebalance(
        _ handle: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    ) {
        let partitions = list.map(Self.partitions) ?? []
        let cooperative = rd_kafka_rebalance_protocol(handle).map { String(cString: $0) } == "COOPERATIVE"
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let starts = handler(.assigned(partitions))
            let chosen = KafkaConsumer.makeList(starts.map { ($0.0, KafkaConsumer.rawOffset($0.1)) })
            defer { rd_kafka_topic_partition_list_destroy(chosen) }
            if cooperative {
                if let error = rd_kafka_incremental_assign(handle, chosen) {
                    _ = handler(.failed(KafkaError.consuming(error)))
                }
            } else {
                _ = rd_kafka_assign(handle, chosen)
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            _ = handler(.revoked(partitions, lost: rd_kafka_assignment_lost(handle) != 0))
            if cooperative {
                if let list, let error = rd_kafka_incremental_unassign(handle, list) { rd_kafka_error_destroy(error) }
            } else {
                _ = rd_kafka_assign(handle, nil)
            }
        default:
            _ = handler(.failed(.rdkafka(err)))
            if !cooperative { _ = rd_kafka_assign(handle, nil) }
        }
    }

    private static func partitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            return TopicPartition(String(cString: element.topic), element.partition)
        }
    }
}
