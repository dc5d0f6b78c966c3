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
    private let holdFor: Duration
    /// Group mode: who speaks for the pair (``followVoice(_:openAlerts:)``); nil: this instance always does.
    private let voice = Mutex<Voice?>(nil)
    /// This instance raises the pair-level alerts now (always, unless it follows a voice).
    private let speaks = Atomic<Bool>(true)

    /// How a group-mode instance learns whether it speaks for the pair, and what the pair's feed says is firing.
    private struct Voice {
        let isVoice: @Sendable () -> Bool
        let openAlerts: @Sendable () throws(AlertSinkError) -> [AlertEvent]
        /// A take-over reads the feed now.
        var takingOver = false
    }

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
        self.holdFor = settings.holdFor
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

    /// Group mode: only the instance for which `isVoice` says so raises the pair-level alerts (`cluster_unreachable`,
    /// `heartbeat_stale`, `rpo_violation`, `postgres_unreachable`); every other instance ignores their observations,
    /// so one event makes one page however many instances run. Partition lag alerts stay with each partition's owner.
    ///
    /// `isVoice` is asked once a tick. When it turns true, the alerts the pair's feed says are firing (`openAlerts`:
    /// what the previous voice fired and did not resolve; read on a thread of its own, and pair-level observations
    /// are ignored until it answered) are taken over: they fire on without a new event, and resolve here once their
    /// condition clears. When it turns false, this instance drops its pair-level alerts without an event: the next
    /// voice takes them over. Pair-level alerts restored from `--alerts-file` are dropped at once (the feed's topic
    /// holds what the group said).
    package func followVoice(_ isVoice: @escaping @Sendable () -> Bool, openAlerts: @escaping @Sendable () throws(AlertSinkError) -> [AlertEvent]) {
        voice.withLock { $0 = Voice(isVoice: isVoice, openAlerts: openAlerts) }
        speaks.store(false, ordering: .relaxed)
        dropPairAlerts()
    }

    /// Whether this instance raises the pair-level alerts now.
    package var speaksForPair: Bool { speaks.load(ordering: .relaxed) }

    package func heartbeatAge(seconds: Double) {
        guard speaksForPair else { return }
        let time = now()
        enqueue(rules.withLock { $0.observe(heartbeatAge: seconds, at: time) })
    }

    package func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {
        guard speaksForPair else { return }
        let time = now()
        enqueue(rules.withLock { $0.observe(cluster: cluster, reachable: reachable, at: time) })
    }

    package func clusterRefuses(_ cluster: ClusterRole, _ refusal: ConnectionRefusal?) {
        rules.withLock { $0.note(refusal, of: cluster) }
    }

    package func rpoChecked(_ result: RPOCheckResult) {
        guard speaksForPair else { return }
        enqueue(rpoRules.withLock { $0.observe(result) })
    }

    package func postgresReachable(_ reachable: Bool) {
        guard speaksForPair else { return }
        let time = now()
        enqueue(rpoRules.withLock { $0.observe(postgresReachable: reachable, at: time) })
    }

    /// Lets time pass to now, then hands every queued event to the sinks, in order. Sinks are called on every
    /// evaluation, also without new events, so that one that failed can deliver what it kept.
    ///
    /// Blocks while a sink does I/O: call it from a thread that may block (``run()`` uses its own).
    package func evaluate() {
        settleVoice()
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

    /// Group mode: takes the pair-level alerts over when this instance became the pair's voice, drops them when it
    /// no longer is.
    private func settleVoice() {
        guard let voice = voice.withLock({ $0 }), !voice.takingOver else { return }
        let isVoice = voice.isVoice()
        guard isVoice != speaksForPair else { return }
        guard isVoice else {
            speaks.store(false, ordering: .relaxed)
            dropPairAlerts()
            logger.notice("this instance no longer speaks for pair \(pair): the instance that leads the group raises its pair-level alerts")
            return
        }
        self.voice.withLock { $0?.takingOver = true }
        // Reading the feed waits for the target (up to its timeout while it does not answer): on a thread of its
        // own, so the other alerts keep their tick and a shutdown waits for nothing.
        let thread = Thread { [self] in
            var open: [AlertEvent] = []
            do {
                open = try voice.openAlerts().filter { $0.alert.isPairLevel }
            } catch {
                logger.warning("\(error); a pair-level alert firing now may fire a second time")
            }
            let time = now()
            rules.withLock { $0.restore(firing: open, at: time) }
            rpoRules.withLock { $0.restore(firing: open, at: time) }
            speaks.store(true, ordering: .relaxed)
            self.voice.withLock { $0?.takingOver = false }
            let taken = open.map { "\($0.alert.rawValue)\($0.cluster.map { " (\($0.rawValue))" } ?? "")" }
            logger.notice("this instance speaks for pair \(pair) now (pair-level alerts and the RPO watch); open alerts taken over: \(taken.isEmpty ? "none" : taken.joined(separator: ", "))")
        }
        thread.name = "regionbridge-alerts-voice"
        thread.start()
    }

    private func dropPairAlerts() {
        rules.withLock { $0.dropPairAlerts() }
        rpoRules.withLock { $0 = RPOAlertRules(pair: pair, holdFor: holdFor) }
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
