import Formats
import Foundation
import Kafka
import Logging
import Replication
import Topology

/// One heartbeat: the record the bridge writes to `regionbridge.<pair>.heartbeats` in the source every
/// `heartbeats.interval`, and finds again, copied, in the target.
///
/// Its value is one line of JSON, keys in this order:
/// `{"pair":"us-east-to-eu-west","source_region":"us-east","written_at_ms":1767225600000}`; its key is the
/// source region and its timestamp the write time too (so that a reader that only looks at timestamps, like
/// `regionbridge drill`, finds the same age).
package struct HeartbeatRecord: Sendable, Equatable {
    /// The region pair.
    package var pair: String
    /// The region the heartbeat was written in.
    package var sourceRegion: String
    /// When it was written, in milliseconds since 1970 (UTC).
    package var writtenAtMilliseconds: Int64

    /// Creates a heartbeat.
    package init(pair: String, sourceRegion: String, writtenAtMilliseconds: Int64) {
        self.pair = pair
        self.sourceRegion = sourceRegion
        self.writtenAtMilliseconds = writtenAtMilliseconds
    }

    /// The record's value: one line of JSON.
    package var value: [UInt8] {
        let object = JSONObject([
            ("pair", .string(pair)),
            ("source_region", .string(sourceRegion)),
            ("written_at_ms", .integer(writtenAtMilliseconds)),
        ])
        return Array(JSONValue.object(object).render(pretty: false, indent: "").utf8)
    }

    /// Reads a heartbeat back from a record's value; nil for anything else.
    package init?(value: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
              let pair = object["pair"] as? String, let region = object["source_region"] as? String,
              let written = (object["written_at_ms"] as? NSNumber)?.int64Value
        else { return nil }
        self.init(pair: pair, sourceRegion: region, writtenAtMilliseconds: written)
    }

    /// When a copied record was written: its heartbeat's `written_at_ms`, or, for a value that is not a
    /// heartbeat of `pair`, its timestamp; nil when it has neither.
    package static func writtenAt(_ record: KafkaRecord, pair: String) -> Int64? {
        if let value = record.value, let heartbeat = HeartbeatRecord(value: value), heartbeat.pair == pair {
            return heartbeat.writtenAtMilliseconds
        }
        return record.timestamp?.milliseconds
    }
}

/// The age of the newest heartbeat in a topic, as read from its partitions' tails.
package struct HeartbeatReading: Sendable, Equatable {
    /// The topic read (the copy in the target, for `regionbridge lag`).
    package var topic: String
    /// The newest heartbeat's write time, milliseconds since 1970; nil when the topic exists and holds none.
    package var newestWrittenAt: Int64?
    /// Whether the topic exists.
    package var exists: Bool

    /// Creates a reading.
    package init(topic: String, newestWrittenAt: Int64?, exists: Bool) {
        self.topic = topic
        self.newestWrittenAt = newestWrittenAt
        self.exists = exists
    }

    /// Seconds between the newest heartbeat's write and `now`, never negative; nil without a heartbeat.
    package func age(at now: Date) -> Double? {
        newestWrittenAt.map { max(0, now.timeIntervalSince1970 - Double($0) / 1000) }
    }
}

/// Reads the newest heartbeat of a topic from its partitions' tails, from one cluster alone.
package enum HeartbeatTail {
    /// Reads the last record of each partition of `topic` in `cluster` (up to the end of the log, found by
    /// fetching), with a consumer made for the read and the command's shared admin client.
    /// - Throws: `KafkaError` when the cluster cannot be read.
    package static func read(
        topic: String, in cluster: ClusterRole, clients: ClusterClients, timeout: Duration, logger: Logger
    ) throws(KafkaError) -> HeartbeatReading {
        let pair = clients.topology.pair
        let configuration = clients.configuration(cluster, job: "lag")
        guard let metadata = try clients.topics(cluster, timeout: timeout).first(where: { $0.name == topic }), metadata.errorName == nil else {
            return HeartbeatReading(topic: topic, newestWrittenAt: nil, exists: false)
        }
        let consumer = try KafkaConsumer(
            configuration: configuration, groupID: "\(bridgeGroupPrefix)\(pair).heartbeats", overrides: ["enable.partition.eof": "true"],
            logger: logger)
        defer { consumer.close() }
        var newest: Int64?
        for partition in metadata.partitions {
            let tp = TopicPartition(topic, partition)
            let (low, high) = try consumer.queryWatermarks(tp, timeout: timeout)
            guard high > low else { continue }
            try consumer.assign([(tp, .offset(max(low, high - 1)))])
            defer { try? consumer.unassign([tp]) }
            let deadline = ContinuousClock.now + timeout
            reading: while true {
                guard ContinuousClock.now < deadline else {
                    throw KafkaError(code: .timedOut, message: "cannot read the end of \(tp) within \(timeout)")
                }
                let batch = consumer.poll(maxRecords: 100, timeout: .milliseconds(100))
                for record in batch.records where record.topic == topic && record.partition == partition {
                    if let at = HeartbeatRecord.writtenAt(record, pair: pair) { newest = max(newest ?? at, at) }
                }
                if batch.ends.contains(where: { $0.0 == tp }) { break reading }
                if let error = batch.errors.first(where: { $0.partition == tp || $0.partition == nil && $0.error.isFatal }) {
                    throw error.error
                }
            }
        }
        return HeartbeatReading(topic: topic, newestWrittenAt: newest, exists: true)
    }
}

/// `regionbridge.`: the prefix of the bridge's consumer groups.
let bridgeGroupPrefix = "regionbridge."
