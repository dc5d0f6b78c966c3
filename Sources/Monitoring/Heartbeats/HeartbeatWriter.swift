import Foundation
import Kafka
import Logging
import Replication
import ServiceLifecycle
import Topology

/// Writes a heartbeat (``HeartbeatRecord``) to the source topic `regionbridge.<pair>.heartbeats` every
/// `heartbeats.interval`, creating the topic with one partition if it is absent.
///
/// A `Service` whose blocking client calls run on a thread of its own (`regionbridge-heartbeats`), never on the
/// engine's copy loop. In group mode only the instance that leads the group sync writes (`leads`). While the
/// previous heartbeat is not yet acknowledged (the source does not answer) no new one is queued, so an outage
/// leaves one heartbeat waiting, not thousands.
package struct HeartbeatWriter: Service, CustomStringConvertible {
    private let clients: ClusterClients
    private var topology: Topology { clients.topology }
    private let leads: @Sendable () -> Bool
    private let timeout: Duration
    private let logger: Logger

    /// Creates a writer.
    /// - Parameters:
    ///   - clients: the command's shared clients (the source's admin client creates the topic).
    ///   - leads: whether this instance writes now (`ReplicationState.leadsGroupSync`); default always.
    ///   - timeout: how long creating the topic may take. Default 10 s.
    package init(clients: ClusterClients, leads: @escaping @Sendable () -> Bool = { true }, timeout: Duration = .seconds(10), logger: Logger) {
        self.clients = clients
        self.leads = leads
        self.timeout = timeout
        self.logger = logger
    }

    /// `HeartbeatWriter(pair: <pair>)`: no configuration (services are logged with their description).
    package var description: String { "HeartbeatWriter(pair: \(topology.pair))" }

    /// Writes until graceful shutdown or cancellation.
    /// - Throws: `KafkaError` when the source's client properties are bad.
    package func run() async throws {
        guard topology.heartbeats.isEnabled else { return }
        let writer = try HeartbeatWriting(clients: clients, leads: leads, timeout: timeout, logger: logger)
        let stop = StopSignal()
        let interval = topology.heartbeats.interval
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                // A tick blocked in creating the topic on a source that does not answer (up to `timeout`) ends by
                // itself, alone: shutdown does not wait for it.
                await onDedicatedThread(name: "regionbridge-heartbeats", until: stop, grace: .seconds(1)) {
                    let clock = ContinuousClock()
                    var next = clock.now
                    while !stop.isStopped {
                        if clock.now >= next {
                            writer.tick()
                            next = clock.now + interval
                        }
                        writer.collect()
                        Thread.sleep(forTimeInterval: min(0.05, max(0, (next - clock.now).seconds)))
                    }
                    writer.close(timeout: .seconds(1))
                }
            } onGracefulShutdown: {
                stop.stop()
            }
        } onCancel: {
            stop.stop()
        }
    }
}

/// The writer's clients and state; used from one thread at a time.
///
/// Its producer is made at the first heartbeat this instance writes: in group mode an instance that never leads
/// never holds one.
final class HeartbeatWriting: @unchecked Sendable {
    // @unchecked Sendable: only the writer's dedicated thread uses it.
    private let clients: ClusterClients
    private let topology: Topology
    private let topic: String
    private let leads: @Sendable () -> Bool
    private let timeout: Duration
    private let logger: Logger
    private let admin: KafkaAdmin
    private var producer: KafkaProducer?
    private var topicReady = false
    private var failing = false
    private var sequence: UInt64 = 0

    init(clients: ClusterClients, leads: @escaping @Sendable () -> Bool, timeout: Duration, logger: Logger) throws(KafkaError) {
        let topology = clients.topology
        self.clients = clients
        self.topology = topology
        topic = topology.heartbeatTopic
        self.leads = leads
        self.timeout = timeout
        self.logger = logger
        admin = try clients.admin(.source)
    }

    /// One heartbeat, if this instance leads and the previous one was acknowledged; creates the topic first.
    func tick() {
        guard leads() else { return }
        if !topicReady {
            do {
                let errors = try admin.createTopics([NewTopic(name: topic, partitions: 1)], timeout: timeout)
                if let error = errors[topic], error.code != .topicAlreadyExists { throw error }
                topicReady = true
            } catch {
                report("cannot create heartbeat topic \(topic) in \(topology.source.region): \(error)")
                return
            }
        }
        if producer == nil {
            do {
                producer = try KafkaProducer(configuration: clients.configuration(.source, job: "heartbeats"), overrides: ["linger.ms": "0"], logger: logger)
            } catch {
                report("cannot create the heartbeat producer for \(topology.source.region): \(error)")
                return
            }
        }
        guard let producer, producer.queueLength == 0 else { return }  // the last one is still on its way
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let heartbeat = HeartbeatRecord(pair: topology.pair, sourceRegion: topology.source.region, writtenAtMilliseconds: now)
        sequence += 1
        do {
            try producer.send(
                topic: topic, partition: 0, key: Array(topology.source.region.utf8), value: heartbeat.value, headers: [],
                timestamp: now, id: sequence)
        } catch {
            report("cannot write a heartbeat to \(topic) in \(topology.source.region): \(error)")
        }
    }

    /// Handles delivery reports.
    func collect() {
        guard let producer else { return }
        for delivery in producer.poll(timeout: .zero).deliveries {
            if let error = delivery.error {
                if error.code == .unknownTopicOrPartition { topicReady = false }  // deleted: create it again
                report("heartbeat not written to \(topic) in \(topology.source.region): \(error)")
            } else if failing {
                failing = false
                logger.notice("heartbeats are written to \(topic) again")
            }
        }
    }

    /// Waits up to `timeout` for the heartbeat in flight.
    func close(timeout: Duration) {
        let deadline = ContinuousClock.now + timeout
        while let producer, producer.queueLength > 0, ContinuousClock.now < deadline {
            collect()
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The first failure of a streak is a warning; the retries are logged at debug level.
    private func report(_ message: String) {
        logger.log(level: failing ? .debug : .warning, "\(message)")
        failing = true
    }
}
