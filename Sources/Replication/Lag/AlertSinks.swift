import Foundation
import Kafka
import Logging
import Synchronization
import Topology

/// A sink could not take alert events.
public struct AlertSinkError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, naming the sink.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Where alert events go.
public protocol AlertSink: Sendable {
    /// Hands over events, in order. Must not block for long.
    func deliver(_ events: [AlertEvent]) throws(AlertSinkError)
    /// Waits up to `timeout` for events handed over to be stored, then releases resources.
    func close(timeout: Duration)
}

extension AlertSink {
    public func close(timeout: Duration) {}
}

/// Appends each event as one line of JSON to a file (`run --alerts-file FILE`), creating it if needed.
public final class JSONLinesAlertSink: AlertSink {
    /// The file written to.
    public let path: String
    private let handle: Mutex<FileHandle>

    /// Opens `path` for appending.
    /// - Throws: ``AlertSinkError`` when the file cannot be created or opened.
    public init(path: String) throws(AlertSinkError) {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw AlertSinkError("cannot create alerts file \(path)")
            }
        }
        do {
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try file.seekToEnd()
            handle = Mutex(file)
        } catch {
            throw AlertSinkError("cannot open alerts file \(path): \(error.localizedDescription)")
        }
    }

    public func deliver(_ events: [AlertEvent]) throws(AlertSinkError) {
        guard !events.isEmpty else { return }
        let text = events.map { $0.jsonLine + "\n" }.joined()
        let failure: String? = handle.withLock { file in
            do {
                try file.write(contentsOf: Data(text.utf8))
                return nil
            } catch {
                return error.localizedDescription
            }
        }
        if let failure { throw AlertSinkError("cannot write alerts file \(path): \(failure)") }
    }

    public func close(timeout: Duration) {
        handle.withLock { try? $0.close() }
    }
}

/// Writes each event as one JSON record to the target cluster's topic `regionbridge.<pair>.alerts`
/// (partition 0, key `<alert>/<topic/partition or cluster>`), creating the topic with one partition
/// before the first write (and again after a failed attempt).
public final class KafkaAlertSink: AlertSink {
    /// The topic written to.
    public let topic: String
    private let state: Mutex<(producer: KafkaProducer, admin: KafkaAdmin, topicReady: Bool, pending: [AlertEvent])>
    /// Events kept while the topic cannot be created (target down); the oldest are dropped past this.
    private static let pendingLimit = 10_000
    private let timeout: Duration
    private let logger: Logger
    private let sequence = Atomic<UInt64>(0)

    /// The alerts topic of a pair: `regionbridge.<pair>.alerts`.
    public static func topic(for topology: Topology) -> String { topology.internalTopicPrefix + "alerts" }

    /// Creates the clients; no request is made until the first delivery.
    /// - Parameter timeout: how long creating the topic may take. Default 5 s.
    /// - Throws: ``AlertSinkError`` when a client cannot be created (bad properties).
    public init(topology: Topology, timeout: Duration = .seconds(5), logger: Logger) throws(AlertSinkError) {
        topic = Self.topic(for: topology)
        self.timeout = timeout
        self.logger = logger
        let configuration = topology.target.kafkaConfiguration(pair: topology.pair, job: "alerts")
        do {
            let admin = try KafkaAdmin(configuration: configuration, logger: logger)
            let producer = try KafkaProducer(configuration: configuration, overrides: ["linger.ms": "0"], logger: logger)
            state = Mutex((producer, admin, false, []))
        } catch {
            throw AlertSinkError("cannot write alerts to topic \(topic): \(error)")
        }
    }

    public func deliver(_ events: [AlertEvent]) throws(AlertSinkError) {
        let failure: String? = state.withLock { state in
            // Events wait here until the topic exists, so that an outage of the target loses none.
            state.pending += events
            if state.pending.count > Self.pendingLimit { state.pending.removeFirst(state.pending.count - Self.pendingLimit) }
            if !state.topicReady {
                do {
                    let errors = try state.admin.createTopics([NewTopic(name: topic, partitions: 1)], timeout: timeout)
                    if let error = errors[topic], error.code != .topicAlreadyExists { return "cannot create the topic: \(error)" }
                    state.topicReady = true
                } catch {
                    return "cannot create the topic: \(error)"
                }
            }
            let events = state.pending
            state.pending = []
            for event in events {
                let key = event.partition.map { "\(event.alert.rawValue)/\($0)" }
                    ?? "\(event.alert.rawValue)/\(event.cluster?.rawValue ?? "")"
                do {
                    try state.producer.send(
                        topic: topic, partition: 0, key: Array(key.utf8), value: Array(event.jsonLine.utf8), headers: [],
                        timestamp: Int64((event.at.timeIntervalSince1970 * 1000).rounded(.down)),
                        id: sequence.add(1, ordering: .relaxed).newValue)
                } catch {
                    return "\(error)"
                }
            }
            let reports = state.producer.poll(timeout: .zero)
            if let error = reports.deliveries.compactMap(\.error).first { return "\(error)" }
            return nil
        }
        if let failure { throw AlertSinkError("cannot write alerts to topic \(topic): \(failure)") }
    }

    public func close(timeout: Duration) {
        state.withLock { state in
            let deadline = ContinuousClock.now + timeout
            while state.producer.queueLength > 0, ContinuousClock.now < deadline {
                for report in state.producer.poll(timeout: .milliseconds(50)).deliveries {
                    if let error = report.error { logger.warning("alert not written to \(topic): \(error)") }
                }
            }
            if state.producer.queueLength > 0 {
                logger.warning("\(state.producer.queueLength) alert(s) not written to \(topic) within \(timeout)")
            }
        }
    }
}
