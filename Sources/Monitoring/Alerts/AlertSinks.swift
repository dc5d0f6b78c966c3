import Foundation
import Kafka
import Logging
import Replication
import Synchronization
import Topology

/// A sink could not take alert events.
package struct AlertSinkError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, naming the sink.
    package var message: String

    /// Creates an error.
    package init(_ message: String) { self.message = message }

    package var description: String { message }
}

/// Where alert events go.
package protocol AlertSink: Sendable {
    /// Hands over events, in order. May block for a bounded time (``LagAlerter`` calls it on its own thread).
    /// It is called on every tick, also with no events: a sink that kept events it could not hand over
    /// tries them again then (before `events`); with nothing kept and no events it does nothing.
    func deliver(_ events: [AlertEvent]) throws(AlertSinkError)
    /// The next deliveries are the last ones, at shutdown: a sink starts no slow set-up for them (creating a
    /// topic on a cluster that may not answer) and hands over only what it can at once.
    func willClose()
    /// Waits up to `timeout` for events handed over to be stored, then releases resources.
    func close(timeout: Duration)
}

extension AlertSink {
    package func willClose() {}
    package func close(timeout: Duration) {}
}

/// Appends each event as one line of JSON to a file (`run --alerts-file FILE`), creating it if needed.
package final class JSONLinesAlertSink: AlertSink {
    /// The file written to.
    package let path: String
    private let handle: Mutex<FileHandle>

    /// Alerts the file says are firing: for each (alert, severity, partition or cluster, pair), the last event when
    /// it is a `firing` one. What an earlier run of the bridge fired and never resolved (it was killed), for
    /// ``LagAlerter`` to take over so that every alert that fired resolves.
    package let firingAtOpen: [AlertEvent]

    /// Opens `path` for appending.
    /// - Throws: ``AlertSinkError`` when the file cannot be created or opened.
    package init(path: String) throws(AlertSinkError) {
        self.path = path
        firingAtOpen = Self.firing(in: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
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

    /// The alerts whose last event in `text` (JSON lines) is `firing`, in file order; lines that are no alert
    /// event are skipped.
    static func firing(in text: String) -> [AlertEvent] {
        var last: [String: (index: Int, event: AlertEvent)] = [:]
        for (index, line) in text.split(separator: "\n").enumerated() {
            guard let event = AlertEvent(jsonLine: String(line)) else { continue }
            let key = "\(event.alert.rawValue)|\(event.severity.rawValue)|\(event.pair)|\(event.cluster?.rawValue ?? "")|\(event.partition?.description ?? "")"
            last[key] = (index, event)
        }
        return last.values.filter { $0.event.state == .firing }.sorted { $0.index < $1.index }.map(\.event)
    }

    package func deliver(_ events: [AlertEvent]) throws(AlertSinkError) {
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

    package func close(timeout: Duration) {
        handle.withLock { try? $0.close() }
    }
}

/// Writes each event as one JSON record to the target cluster's topic `regionbridge.<pair>.alerts`
/// (partition 0, key `<alert>/<topic/partition or cluster>`), creating the topic with one partition
/// before the first write (and again after a failed attempt, at most once per `retryInterval`).
///
/// No event is lost while the target is down or a send fails part-way: events stay pending until the
/// producer has taken them, and are tried again, in order, on the next delivery. Blocking calls (creating
/// the topic, waiting for acknowledgements on close) run without holding the sink's lock.
package final class KafkaAlertSink: AlertSink {
    private struct State {
        let producer: KafkaProducer
        var topicReady = false
        /// A thread is creating the topic now (without the lock); others only queue.
        var creating = false
        /// Shutting down: the topic is not created any more (``willClose()``).
        var closing = false
        /// No new attempt to create the topic before this.
        var nextAttempt = ContinuousClock.now
        /// Events not yet taken by the producer, oldest first.
        var pending: [AlertEvent] = []
        /// Events taken by the producer and not yet acknowledged, by send id, with when they were taken.
        var inFlight: [UInt64: (event: AlertEvent, since: ContinuousClock.Instant)] = [:]
    }

    /// The topic written to.
    package let topic: String
    private let state: Mutex<State>
    private let admin: KafkaAdmin
    /// Events kept while the topic cannot be created (target down); the oldest are dropped past this.
    private static let pendingLimit = 10_000
    private let timeout: Duration
    private let retryInterval: Duration
    private let logger: Logger
    private let sequence = Atomic<UInt64>(0)

    /// The alerts topic of a pair: `regionbridge.<pair>.alerts`.
    package static func topic(for topology: Topology) -> String { topology.internalTopicPrefix + "alerts" }

    /// Creates the producer; no request is made until the first delivery.
    /// - Parameters:
    ///   - clients: the command's shared clients (the target's admin client creates the topic).
    ///   - timeout: how long creating the topic may take. Default 5 s.
    ///   - retryInterval: the least time between two attempts to create the topic. Default 10 s.
    /// - Throws: ``AlertSinkError`` when a client cannot be created (bad properties).
    package init(clients: ClusterClients, timeout: Duration = .seconds(5), retryInterval: Duration = .seconds(10), logger: Logger) throws(AlertSinkError) {
        topic = Self.topic(for: clients.topology)
        self.timeout = timeout
        self.retryInterval = retryInterval
        self.logger = logger
        do {
            admin = try clients.admin(.target)
            let producer = try KafkaProducer(configuration: clients.configuration(.target, job: "alerts"), overrides: ["linger.ms": "0"], logger: logger)
            state = Mutex(State(producer: producer))
        } catch {
            throw AlertSinkError("cannot write alerts to topic \(topic): \(error)")
        }
    }

    /// The alerts the pair's alerts topic says are firing (the last event of each is `firing`), read from its last
    /// `window` events: what the instance that spoke for the pair before fired and did not resolve, for the one
    /// that speaks for it now to take over (group mode). None when the topic does not exist yet.
    /// - Throws: ``AlertSinkError`` when the target cannot be read.
    package static func firing(clients: ClusterClients, timeout: Duration, window: Int64 = 10_000) throws(AlertSinkError) -> [AlertEvent] {
        let topic = topic(for: clients.topology)
        do {
            guard try clients.topics(.target, timeout: timeout).contains(where: { $0.name == topic && $0.errorName == nil }) else { return [] }
            let partition = TopicPartition(topic, 0)
            let reader = try clients.reader(.target, job: "alerts", timeout: timeout)
            let (low, end) = try reader.bounds(of: partition)
            guard end > low else { return [] }
            let lines = try reader.records(in: partition, from: max(low, end - window)).compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } }
            return JSONLinesAlertSink.firing(in: lines.joined(separator: "\n"))
        } catch {
            throw AlertSinkError("cannot read the open alerts of topic \(topic): \(error)")
        }
    }

    package func willClose() {
        state.withLock { $0.closing = true }
    }

    /// Events not yet taken by the producer (kept for the next delivery).
    package var pendingCount: Int { state.withLock { $0.pending.count } }

    package func deliver(_ events: [AlertEvent]) throws(AlertSinkError) {
        // 1. Queue the events; decide whether this call creates the topic.
        let mustCreate: Bool? = state.withLock { state -> Bool? in
            state.pending += events
            if state.pending.count > Self.pendingLimit {
                let dropped = state.pending.count - Self.pendingLimit
                state.pending.removeFirst(dropped)
                logger.warning("\(dropped) alert event(s) dropped: more than \(Self.pendingLimit) wait for topic \(topic)")
            }
            guard !state.topicReady, !state.pending.isEmpty else { return false }
            guard !state.creating, ContinuousClock.now >= state.nextAttempt, !state.closing else { return nil }
            state.creating = true
            return true
        }
        // While the topic is not created (an attempt still waits for the target, or the next one is not due) the
        // sink does not deliver: say so, or a caller that logs when a sink "delivers again" would say it at every
        // tick between two failed attempts.
        guard let mustCreate else {
            throw AlertSinkError("cannot write alerts to topic \(topic): it is not created yet, the target has not answered (\(pendingCount) event(s) kept)")
        }
        // 2. Create the topic on a thread of its own (the admin client is thread-safe), waiting at most
        //    `creationWaitSeconds` for it here: a target that does not answer holds the caller (the alert thread, whose
        //    shutdown waits for its tick) that long, not the creation's whole timeout.
        if mustCreate {
            let created = DispatchSemaphore(value: 0)
            let outcome = Mutex<String??>(nil)
            let thread = Thread { [self] in
                let failure = createTopic()
                outcome.withLock { $0 = .some(failure) }
                created.signal()
            }
            thread.name = "regionbridge-alerts-topic"
            thread.start()
            guard created.wait(timeout: .now() + .seconds(Self.creationWaitSeconds)) == .success, let failure = outcome.withLock({ $0 }) else {
                throw AlertSinkError("cannot write alerts to topic \(topic) yet: the target has not answered its creation within \(Self.creationWaitSeconds) s (\(pendingCount) event(s) kept)")
            }
            if let failure { throw AlertSinkError("cannot write alerts to topic \(topic): \(failure) (\(pendingCount) event(s) kept)") }
        }
        // 3. Hand the pending events to the producer (non-blocking calls); keep what it did not take.
        let failure: String? = state.withLock { state in
            guard state.topicReady else { return nil }
            var failure: String?
            var taken = 0
            for event in state.pending {
                let key = event.partition.map { "\(event.alert.rawValue)/\($0)" }
                    ?? "\(event.alert.rawValue)/\(event.cluster?.rawValue ?? "")"
                let id = sequence.add(1, ordering: .relaxed).newValue
                do {
                    try state.producer.send(
                        topic: topic, partition: 0, key: Array(key.utf8), value: Array(event.jsonLine.utf8), headers: [],
                        timestamp: Int64((event.at.timeIntervalSince1970 * 1000).rounded(.down)), id: id)
                } catch {
                    failure = "\(error) (\(state.pending.count - taken) event(s) kept for the next attempt)"
                    break
                }
                state.inFlight[id] = (event, ContinuousClock.now)
                taken += 1
            }
            state.pending.removeFirst(taken)
            if let refused = Self.collect(state.producer.poll(timeout: .zero), &state, logger: logger, topic: topic) ?? failure { return refused }
            // Taken by the producer is not delivered: events the target has not acknowledged for a while (it does
            // not answer) keep the sink failing until it does; the producer keeps them and sends them when it can.
            if let oldest = state.inFlight.values.map(\.since).min(), ContinuousClock.now - oldest > timeout {
                return "\(state.inFlight.count) event(s) not acknowledged by the target for \(ContinuousClock.now - oldest) (kept and sent again)"
            }
            return nil
        }
        if let failure { throw AlertSinkError("cannot write alerts to topic \(topic): \(failure)") }
    }

    /// How long a delivery waits for the topic's creation before it returns, the events kept.
    private static let creationWaitSeconds = 1

    /// Creates the topic (at most `timeout`) and records the outcome; the failure, if any.
    private func createTopic() -> String? {
        var failure: String?
        do {
            let errors = try admin.createTopics([NewTopic(name: topic, partitions: 1)], timeout: timeout)
            if let error = errors[topic], error.code != .topicAlreadyExists { failure = "cannot create the topic: \(error)" }
        } catch {
            failure = "cannot create the topic: \(error)"
        }
        state.withLock { state in
            state.creating = false
            state.topicReady = failure == nil
            if failure != nil { state.nextAttempt = ContinuousClock.now + retryInterval }
        }
        return failure
    }

    /// Handles delivery reports: acknowledged events are done; the first failure is returned (the producer has
    /// no message timeout, so a failed delivery is one the target refused for good).
    private static func collect(_ events: ProducerEvents, _ state: inout State, logger: Logger, topic: String) -> String? {
        var failure: String?
        for report in events.deliveries {
            let event = state.inFlight.removeValue(forKey: report.id)?.event
            if let error = report.error {
                failure = failure ?? "the target refused alert \(event?.jsonLine ?? "#\(report.id)"): \(error)"
            }
        }
        return failure
    }

    /// Waits up to `timeout` for the events handed over to be acknowledged, polling without holding the lock
    /// between polls; names what is left.
    package func close(timeout: Duration) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (waiting, failure) = state.withLock { state -> (Int, String?) in
                let failure = Self.collect(state.producer.poll(timeout: .zero), &state, logger: logger, topic: topic)
                return (state.producer.queueLength, failure)
            }
            if let failure { logger.warning("alert not written to \(topic): \(failure)") }
            if waiting == 0 || ContinuousClock.now >= deadline { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let (left, unsent) = state.withLock { ($0.producer.queueLength, $0.pending.count) }
        if left > 0 || unsent > 0 {
            logger.warning("\(left + unsent) alert(s) not written to \(topic) within \(timeout) (\(unsent) never handed over: the topic could not be created)")
        }
    }
}
