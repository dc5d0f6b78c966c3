import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization
import Topology

/// Turns lag and reachability reports into alert events (``LagAlertRules``) and hands them to sinks.
///
/// A ``ReplicationObserver``: give it what the engine reports; that only updates the rules and queues
/// events, it does no I/O. ``evaluate()`` lets time pass and hands queued events to the sinks; running
/// it as a `Service` does that once a tick, so alerts fire on time even when reports stop (e.g. the
/// engine is stuck) and sink I/O never happens on the engine's thread.
/// A sink that fails is logged and does not stop the others.
public final class LagAlerter: ReplicationObserver, Service {
    private let rules: Mutex<LagAlertRules>
    private let pending = Mutex<[AlertEvent]>([])
    private let sinks: [any AlertSink]
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let tick: Duration

    /// Creates an alerter.
    /// - Parameters:
    ///   - settings: thresholds and hold time (`lag:` in the topology).
    ///   - pair: the pair named in events.
    ///   - sinks: where events go, in order.
    ///   - tick: how often `run` lets time pass. Default 1 s.
    ///   - now: the clock; default the system's.
    ///   - logger: where sink failures (and every event, at notice level) are logged.
    public init(
        settings: LagSettings, pair: String, sinks: [any AlertSink], tick: Duration = .seconds(1),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        rules = Mutex(LagAlertRules(settings: settings, pair: pair))
        self.sinks = sinks
        self.tick = tick
        self.now = now
        self.logger = logger
    }

    public func lag(partition: TopicPartition, records: Int64, seconds: Double) {
        let time = now()
        enqueue(rules.withLock { $0.observe(partition, records: records, seconds: seconds, at: time) })
    }

    public func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {
        let time = now()
        enqueue(rules.withLock { $0.observe(cluster: cluster, reachable: reachable, at: time) })
    }

    /// Lets time pass to now, then hands every queued event to the sinks, in order.
    public func evaluate() {
        let time = now()
        enqueue(rules.withLock { $0.evaluate(at: time) })
        publish(pending.withLock { queued in
            defer { queued.removeAll() }
            return queued
        })
    }

    /// Evaluates once per tick until graceful shutdown, then closes the sinks.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            evaluate()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.tick) }
        }
        evaluate()
        for sink in sinks { sink.close(timeout: .seconds(5)) }
    }

    private func enqueue(_ events: [AlertEvent]) {
        guard !events.isEmpty else { return }
        pending.withLock { $0 += events }
    }

    private func publish(_ events: [AlertEvent]) {
        guard !events.isEmpty else { return }
        for event in events { logger.notice("alert \(event.jsonLine)") }
        for sink in sinks {
            do { try sink.deliver(events) } catch { logger.error("\(error)") }
        }
    }
}
