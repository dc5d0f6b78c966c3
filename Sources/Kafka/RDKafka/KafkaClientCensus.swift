import Synchronization

/// How many librdkafka clients (`rd_kafka_t` handles) this process holds, by `client.id`.
///
/// Each client has its own threads (one per broker, and more) and connections: a command should open one set per
/// cluster and share it, not one per part. The census is what proves it: `run` (one pair per process) exports
/// ``total`` as `regionbridge_kafka_clients`, and tests read it.
package enum KafkaClientCensus {
    private static let live = Mutex<[String: Int]>([:])

    /// Live clients in the process.
    package static var total: Int {
        live.withLock { $0.values.reduce(0, +) }
    }

    /// Live clients by `client.id`, for a log line or a test's message.
    package static func snapshot() -> [String: Int] {
        live.withLock { $0 }
    }

    static func created(_ clientID: String) {
        live.withLock { $0[clientID, default: 0] += 1 }
    }

    static func destroyed(_ clientID: String) {
        live.withLock { live in
            let left = live[clientID, default: 0] - 1
            live[clientID] = left > 0 ? left : nil
        }
    }
}
