import Foundation
import Kafka
import Logging
import Replication
import ServiceLifecycle
import Synchronization
import Topology

/// Turns lag and reachability reports into alert events (``LagAlertRules``) and hands them to sinks.
///
/// A ``ReplicationObserver``: give it what the engine reports; that only updates the rules and queues
/// events, it does no I/O. ``evaluate()`` lets time pass and hands queued events to the sinks; running
/// it as a `Service` does that once a tick on a thread of its own (`regionbridge-alerts`), so alerts fire
/// on time even when reports stop (e.g. the engine is stuck), and the sinks' blocking I/O (creating the
/// alerts topic, waiting for writes on close) never runs on the engine's thread or the cooperative pool.
/// A sink that fails is logged and does not stop the others; it is given its undelivered events again
/// on the next tick.
package final class LagAlerter: ReplicationObserver, RPOObserver, Service, CustomStringConvertible {
    private let rules: Mutex<LagAlertRules>
    /// `rpo_violation` and `postgres_unreachable` (continuous reconciliation).
    private let rpoRules: Mutex<RPOAlertRules>
    private let pending = Mutex<[AlertEvent]>([])
    private let sinks: [any AlertSink]
    private let failing: Mutex<[Bool]>
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let tick: Duration
    private let pair: String

    /// Creates an alerter.
    /// - Parameters:
    ///   - settings: thresholds and hold time (`lag:` in the topology).
    ///   - pair: the pair named in events.
    ///   - sinks: where events go, in order.
    ///   - tick: how often `run` lets time pass. Default 1 s.
    ///   - now: the clock; default the system's.
    ///   - logger: where sink failures (and every event, at notice level) are logged.
    ///   - restoring: alerts an earlier run fired and did not resolve (``JSONLinesAlertSink/firingAtOpen``): they
    ///     are taken over, and resolve once their condition clears. Default none.
    package init(
        settings: LagSettings, pair: String, sinks: [any AlertSink], tick: Duration = .seconds(1),
        now: @escaping @Sendable () -> Date = { Date() }, restoring: [AlertEvent] = [], logger: Logger
    ) {
        var rules = LagAlertRules(settings: settings, pair: pair)
        var rpoRules = RPOAlertRules(pair: pair, holdFor: settings.holdFor)
        if !restoring.isEmpty {
            rules.restore(firing: restoring, at: now())
            rpoRules.restore(firing: restoring, at: now())
            logger.notice("\(restoring.count) alert(s) fired by an earlier run and not resolved are taken over: they resolve once their condition clears")
        }
        self.rules = Mutex(rules)
        self.rpoRules = Mutex(rpoRules)
        self.sinks = sinks
        failing = Mutex(Array(repeating: false, count: sinks.count))
        self.tick = tick
        self.pair = pair
        self.now = now
        self.logger = logger
    }

    /// `LagAlerter(pair: <pair>)`: no configuration (services are logged with their description).
    package var description: String { "LagAlerter(pair: \(pair))" }

    package func lag(partition: TopicPartition, records: Int64, seconds: Double) {
        let time = now()
        enqueue(rules.withLock { $0.observe(partition, records: records, seconds: seconds, at: time) })
    }

    package func released(partition: TopicPartition) {
        let time = now()
        enqueue(rules.withLock { $0.forget(partition, at: time) })
    }

    package func heartbeatAge(seconds: Double) {
        let time = now()
        enqueue(rules.withLock { $0.observe(heartbeatAge: seconds, at: time) })
    }

    package func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {
        let time = now()
        enqueue(rules.withLock { $0.observe(cluster: cluster, reachable: reachable, at: time) })
    }

    package func clusterRefuses(_ cluster: ClusterRole, _ refusal: ConnectionRefusal?) {
        rules.withLock { $0.note(refusal, of: cluster) }
    }

    package func rpoChecked(_ result: RPOCheckResult) {
        enqueue(rpoRules.withLock { $0.observe(result) })
    }

    package func postgresReachable(_ reachable: Bool) {
        let time = now()
        enqueue(rpoRules.withLock { $0.observe(postgresReachable: reachable, at: time) })
    }

    /// Lets time pass to now, then hands every queued event to the sinks, in order. Sinks are called on every
    /// evaluation, also without new events, so that one that failed can deliver what it kept.
    ///
    /// Blocks while a sink does I/O: call it from a thread that may block (``run()`` uses its own).
    package func evaluate() {
        let time = now()
        enqueue(rules.withLock { $0.evaluate(at: time) })
        enqueue(rpoRules.withLock { $0.evaluate(at: time) })
        publish(pending.withLock { queued in
            defer { queued.removeAll() }
            return queued
        })
    }

    /// Evaluates once per tick on a dedicated thread until graceful shutdown or cancellation, then
    /// evaluates a last time and closes the sinks (on that thread too).
    package func run() async throws {
        let stop = StopSignal()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await onDedicatedThread(name: "regionbridge-alerts") { [self] () throws(ReplicationError) in
                    loop(until: stop)
                }
            } onGracefulShutdown: {
                stop.stop()
            }
        } onCancel: {
            stop.stop()
        }
    }

    /// The alert thread: a tick at a time until `stop`, then a last evaluation and the sinks closed.
    private func loop(until stop: StopSignal) {
        let clock = ContinuousClock()
        while !stop.isStopped {
            evaluate()
            let next = clock.now + tick
            while !stop.isStopped, clock.now < next {
                Thread.sleep(forTimeInterval: min(0.05, max(0, (next - clock.now).seconds)))
            }
        }
        for sink in sinks { sink.willClose() }
        // Alerts taken over from an earlier run for partitions this run never watched would stay firing for ever.
        let time = now()
        enqueue(rules.withLock { $0.resolveUnobservedRestored(at: time) })
        enqueue(rpoRules.withLock { $0.resolveUnobservedRestored(at: time) })
        evaluate()
        for sink in sinks { sink.close(timeout: .seconds(5)) }
    }

    private func enqueue(_ events: [AlertEvent]) {
        guard !events.isEmpty else { return }
        pending.withLock { $0 += events }
    }

    private func publish(_ events: [AlertEvent]) {
        for event in events { logger.notice("alert \(event.jsonLine)") }
        for (index, sink) in sinks.enumerated() {
            do {
                try sink.deliver(events)
                if failing.withLock({ $0[index] }) {
                    failing.withLock { $0[index] = false }
                    logger.notice("alert sink \(index + 1) of \(sinks.count) delivers again")
                }
            } catch {
                // The first failure of a streak is an error; the retries every tick are not repeated at that level.
                let first = failing.withLock { state in
                    defer { state[index] = true }
                    return !state[index]
                }
                logger.log(level: first ? .error : .debug, "\(error)")
            }
        }
    }
}
