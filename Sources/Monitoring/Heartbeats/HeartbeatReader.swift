import Foundation
import Kafka
import Logging
import Replication
import ServiceLifecycle
import Topology

/// Follows the heartbeat topic's copy in the target (``Topology/heartbeatCopyTopic``) and reports, once a tick,
/// the age of the newest heartbeat seen there (``ReplicationObserver/heartbeatAge(seconds:)``), and for each new
/// heartbeat the time from its write in the source to the reader seeing it in the target
/// (``ReplicationObserver/heartbeatLatency(seconds:)``).
///
/// Until a heartbeat is seen the age counts from the reader's start (so that a bridge whose heartbeats never
/// arrive raises `heartbeat_stale` too). It starts at the last record of each partition, so a restarted bridge
/// finds the newest heartbeat at once; the records found that way give no latency sample.
/// A `Service` on a thread of its own (`regionbridge-heartbeat-reader`).
package struct HeartbeatReader: Service, CustomStringConvertible {
    private let clients: ClusterClients
    private var topology: Topology { clients.topology }
    private let observer: any ReplicationObserver
    private let tick: Duration
    private let timeout: Duration
    private let logger: Logger

    /// Creates a reader.
    /// - Parameters:
    ///   - clients: the command's shared clients (the target's admin client; the reader has a consumer of its own).
    ///   - tick: how often the age is reported. Default 1 s.
    ///   - timeout: of one metadata or offsets request. Default 5 s.
    package init(clients: ClusterClients, observer: any ReplicationObserver, tick: Duration = .seconds(1), timeout: Duration = .seconds(5), logger: Logger) {
        self.clients = clients
        self.observer = observer
        self.tick = tick
        self.timeout = timeout
        self.logger = logger
    }

    /// `HeartbeatReader(pair: <pair>)`: no configuration.
    package var description: String { "HeartbeatReader(pair: \(topology.pair))" }

    /// Reads until graceful shutdown or cancellation.
    /// - Throws: `KafkaError` when the target's client properties are bad.
    package func run() async throws {
        guard topology.heartbeats.isEnabled else { return }
        let reading = try HeartbeatFollowing(clients: clients, timeout: timeout, logger: logger)
        let (stop, observer, tick) = (StopSignal(), observer, tick)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                // A step can block up to `timeout` on a cluster that does not answer; a shutdown waits 0.5 s for it.
                await onDedicatedThread(name: "regionbridge-heartbeat-reader", until: stop, grace: .milliseconds(500)) {
                    let clock = ContinuousClock()
                    var next = clock.now
                    while !stop.isStopped {
                        reading.step(observer: observer)
                        if clock.now >= next {
                            observer.heartbeatAge(seconds: reading.age(at: Date()))
                            next = clock.now + tick
                        }
                    }
                }
            } onGracefulShutdown: {
                stop.stop()
            }
        } onCancel: {
            stop.stop()
        }
    }
}

/// The reader's consumer and what it saw; used from one thread at a time.
final class HeartbeatFollowing: @unchecked Sendable {
    // @unchecked Sendable: only the reader's dedicated thread uses it.
    private let topology: Topology
    private let topic: String
    private let timeout: Duration
    private let logger: Logger
    private let admin: KafkaAdmin
    private let consumer: KafkaConsumer
    private let started = Date()
    /// The newest write time seen, milliseconds since 1970.
    private var newest: Int64?
    /// Per assigned partition, the offset from which records are new (those before were there at assignment).
    private var newFrom: [Int32: Int64] = [:]
    private var nextLook = ContinuousClock.now
    private var failing = false

    init(clients: ClusterClients, timeout: Duration, logger: Logger) throws(KafkaError) {
        let topology = clients.topology
        self.topology = topology
        topic = topology.heartbeatCopyTopic
        self.timeout = timeout
        self.logger = logger
        admin = try clients.admin(.target)
        consumer = try KafkaConsumer(
            configuration: clients.configuration(.target, job: "heartbeat-reader"), groupID: "\(bridgeGroupPrefix)\(topology.pair).heartbeats",
            defaults: ["fetch.wait.max.ms": "100"], overrides: ["auto.offset.reset": "earliest", "enable.partition.eof": "false"],
            logger: logger)
    }

    deinit { consumer.close() }

    /// Seconds since the newest heartbeat seen was written, or since the reader started when none was.
    func age(at now: Date) -> Double {
        let since = newest.map { Double($0) / 1000 } ?? started.timeIntervalSince1970
        return max(0, now.timeIntervalSince1970 - since)
    }

    /// Assigns the copy's partitions once it exists, then reads for up to about 200 ms.
    func step(observer: any ReplicationObserver) {
        guard !newFrom.isEmpty else {
            if ContinuousClock.now >= nextLook { assign() }
            Thread.sleep(forTimeInterval: newFrom.isEmpty ? 0.2 : 0)
            return
        }
        let batch = consumer.poll(maxRecords: 100, timeout: .milliseconds(200))
        let now = Date().timeIntervalSince1970
        for record in batch.records where record.topic == topic {
            guard let written = HeartbeatRecord.writtenAt(record, pair: topology.pair) else { continue }
            if record.offset >= newFrom[record.partition] ?? 0 {
                observer.heartbeatLatency(seconds: max(0, now - Double(written) / 1000))
            }
            newest = max(newest ?? written, written)
        }
        for failure in batch.errors {
            switch failure.error.code {
            case .unknownTopicOrPartition, .offsetOutOfRange:
                // The copy was deleted, or its records expired: start over from its tail.
                report("reading heartbeats from \(topic) in \(topology.target.region): \(failure.error); reading it again from its end")
                try? consumer.unassign(newFrom.keys.map { TopicPartition(topic, $0) })
                newFrom = [:]
                nextLook = ContinuousClock.now + .seconds(1)
                return
            default:
                logger.debug("reading heartbeats from \(topic) in \(topology.target.region): \(failure.error)")
            }
        }
    }

    /// Finds the copy's partitions and reads each from its last record.
    private func assign() {
        nextLook = ContinuousClock.now + .seconds(2)
        do {
            guard let metadata = try admin.topics(timeout: timeout).first(where: { $0.name == topic }), metadata.errorName == nil,
                  !metadata.partitions.isEmpty
            else {
                logger.debug("no heartbeat topic \(topic) in \(topology.target.region) yet")
                return
            }
            var starts: [(TopicPartition, StartOffset)] = []
            var newFrom: [Int32: Int64] = [:]
            for partition in metadata.partitions {
                let tp = TopicPartition(topic, partition)
                let (low, high) = try consumer.queryWatermarks(tp, timeout: timeout)
                starts.append((tp, .offset(max(low, high - 1))))
                newFrom[partition] = high
            }
            try consumer.assign(starts)
            self.newFrom = newFrom
            if failing {
                failing = false
                logger.notice("heartbeats are read from \(topic) in \(topology.target.region) again")
            }
        } catch {
            report("cannot read heartbeat topic \(topic) in \(topology.target.region): \(error)")
        }
    }

    /// The first failure of a streak is a warning; the retries are logged at debug level.
    private func report(_ message: String) {
        logger.log(level: failing ? .debug : .warning, "\(message)")
        failing = true
    }
}
