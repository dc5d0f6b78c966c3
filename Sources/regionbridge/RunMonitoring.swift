import Kafka
import Logging
import Monitoring
import Replication
import ServiceLifecycle
import Topology

/// What `run` puts next to the bridge in its ServiceGroup: the metrics and health server at
/// `metrics.listen`, the alerter (alert events to the target's `regionbridge.<pair>.alerts` topic and,
/// with `--alerts-file`, a JSON-lines file) and a probe that watches both clusters and measures lag.
struct RunMonitoring {
    /// Everything that wants the engine's reports: metrics, alerts and readiness.
    let observer: any ReplicationObserver
    /// Everything that wants the continuous reconciliation's reports: RPO metrics and alerts.
    let rpoObserver: any RPOObserver
    /// Set `running(true)` while the pair runs.
    let readiness: BridgeReadiness
    /// The engine publishes the target's acknowledged positions here; `/v1/replicated` waits on them.
    let positions: ReplicatedPositions
    /// The services to run next to the bridge.
    let services: [any Service]

    /// Builds the monitoring side of a run.
    /// - Throws: ``CommandFailure`` (exit 2) when the alerts file cannot be opened or the target's client properties are bad.
    /// - Parameter state: the engine's; in group mode only the instance it says leads speaks for the pair (pair-level
    ///   alerts, taken over from the alerts topic when the lead moves), and `regionbridge_pair_voice` says which.
    static func make(
        topology: Topology, clients: ClusterClients, state: ReplicationState, alertsFile: String?, logger: Logger
    ) throws(CommandFailure) -> RunMonitoring {
        let prometheus = PrometheusSetup()
        let readiness = BridgeReadiness()
        let metrics = BridgeMetrics(pair: topology.pair, factory: prometheus.factory)
        var sinks: [any AlertSink] = []
        var unresolved: [AlertEvent] = []
        do {
            // The local file first: it never waits for the target (the topic sink may, while the target is down).
            if let alertsFile {
                let file = try JSONLinesAlertSink(path: alertsFile)
                unresolved = file.firingAtOpen
                sinks.append(file)
            }
            sinks.append(try KafkaAlertSink(clients: clients, logger: logger))
        } catch {
            throw CommandFailure(exitCode: ExitCode.usage, message: error.message)
        }
        // What an earlier run (killed, say) fired and did not resolve, as its alerts file says, resolves in this one.
        let alerter = LagAlerter(settings: topology.lag, pair: topology.pair, sinks: sinks, restoring: unresolved, logger: logger)
        if topology.instances.mode == .group {
            alerter.followVoice({ state.leadsGroupSync }, openAlerts: { () throws(AlertSinkError) in
                try KafkaAlertSink.firing(clients: clients, timeout: .seconds(10))
            })
        }
        let observer = ObserverGroup([metrics, alerter, readiness])
        let rpoObserver = RPOObserverGroup([RPOMetrics(pair: topology.pair, factory: prometheus.factory), alerter])
        let positions = ReplicatedPositions()
        let replicated = ReplicatedEndpoint(positions: positions, metrics: SyncWaitMetrics(pair: topology.pair, factory: prometheus.factory))
        let server = MetricsServer(
            host: topology.metrics.host, port: topology.metrics.port,
            routes: prometheus.routes(
                isReady: { readiness.isReady }, replicated: replicated, beforeScrape: {
                    metrics.kafkaClients(KafkaClientCensus.total)
                    metrics.pairVoice(state.leadsGroupSync)
                }),
            logger: logger)
        // The engine reports lag itself (once a second, also while the target stops answering); the probe only
        // watches whether both clusters answer.
        let probe = MonitorProbe(clients: clients, observer: observer, measuresLag: false, logger: logger)
        let endpoint = NonFatal(service: server, what: "metrics and health endpoint at \(topology.metrics.listen)", logger: logger)
        return RunMonitoring(observer: observer, rpoObserver: rpoObserver, readiness: readiness, positions: positions, services: [endpoint, alerter, probe])
    }
}

/// Runs a service whose failure must not stop replication: the failure is logged as an error and the
/// service then waits for the group's shutdown.
struct NonFatal<Wrapped: Service>: Service, CustomStringConvertible {
    let service: Wrapped
    let what: String
    let logger: Logger

    /// The wrapped service's description (configuration-free, like every service's here).
    var description: String { "NonFatal(\(String(describing: service)))" }

    func run() async throws {
        do {
            try await service.run()
        } catch {
            logger.error("\(what) failed; replication goes on without it: \(error)")
            try? await gracefulShutdown()
        }
    }
}
