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
/// (partition 0, key `<alert>/<cluster or topic/partition>`), creating the topic with one partition when missing.
public final class KafkaAlertSink: AlertSink {
    /// The topic written to.
    public let topic: String
    private let producer: Mutex<KafkaProducer>
    private let logger: Logger
    private let sequence = Atomic<UInt64>(0)

    /// The alerts topic of a pair: `regionbridge.<pair>.alerts`.
    public static func topic(for topology: Topology) -> String { topology.internalTopicPrefix + "alerts" }

    /// Connects to the target cluster and makes sure the alerts topic exists.
    /// - Throws: ``AlertSinkError`` when the client cannot be created or the topic cannot be created.
    public init(topology: Topology, timeout: Duration = .seconds(10), logger: Logger) throws(AlertSinkError) {
        topic = Self.topic(for: topology)
        self.logger = logger
        let configuration = KafkaClientConfiguration(
            bootstrapServers: topology.target.bootstrapServers, properties: topology.target.properties,
            clientID: "regionbridge-\(topology.pair)-alerts")
        do {
            let admin = try KafkaAdmin(configuration: configuration, logger: logger)
            let errors = try admin.createTopics([NewTopic(name: topic, partitions: 1)], timeout: timeout)
            if let error = errors[topic], error.code != .topicAlreadyExists {
                throw AlertSinkError("cannot create alerts topic \(topic): \(error)")
            }
            producer = Mutex(try KafkaProducer(configuration: configuration, overrides: ["linger.ms": "0"], logger: logger))
        } catch let error as AlertSinkError {
            throw error
        } catch {
            throw AlertSinkError("cannot write alerts to topic \(topic): \(error)")
        }
    }

    public func deliver(_ events: [AlertEvent]) throws(AlertSinkError) {
        let failure: String? = producer.withLock { producer in
            for event in events {
                let key = event.partition.map { "\(event.alert.rawValue)/\($0)" }
                    ?? "\(event.alert.rawValue)/\(event.cluster?.rawValue ?? "")"
                do {
                    try producer.send(
                        topic: topic, partition: 0, key: Array(key.utf8), value: Array(event.jsonLine.utf8), headers: [],
                        timestamp: Int64((event.at.timeIntervalSince1970 * 1000).rounded(.down)),
                        id: sequence.add(1, ordering: .relaxed).newValue)
                } catch {
                    return "\(error)"
                }
            }
            let reports = producer.poll(timeout: .zero)
            if let failed = reports.deliveries.first(where: { $0.error != nil }), let error = failed.error {
                return "\(error)"
            }
            return nil
        }
        if let failure { throw AlertSinkError("cannot write alerts to topic \(topic): \(failure)") }
    }

    public func close(timeout: Duration) {
        producer.withLock { producer in
            let deadline = ContinuousClock.now + timeout
            while producer.queueLength > 0, ContinuousClock.now < deadline {
                for report in producer.poll(timeout: .milliseconds(50)).deliveries {
                    if let error = report.error { logger.warning("alert not written to \(topic): \(error)") }
                }
            }
            if producer.queueLength > 0 {
                logger.warning("\(producer.queueLength) alert(s) not written to \(topic) within \(timeout)")
            }
        }
    }
}
