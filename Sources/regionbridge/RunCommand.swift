import ArgumentParser
import Failover
import Formats
import Foundation
import Kafka
import Logging
import Monitoring
import Replication
import ServiceLifecycle
import Synchronization
import Topology
import UnixSignals

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replicates the pair's topics until stopped (SIGTERM/SIGINT drain the writes in flight and exit 0).")

    @OptionGroup var options: TopologyOptions

    @Flag(help: "Exit 0 once every source partition is copied up to its end and every write is acknowledged.")
    var untilCaughtUp = false

    @Option(name: .customLong("accept-gap"), help: ArgumentHelp(
        "Copy on from the log start of TOPIC/PARTITION when source records were deleted before they were copied (repeatable).",
        valueName: "TOPIC/PARTITION"))
    var acceptGaps: [String] = []

    @Option(help: "Timeout of one metadata, admin or tail request, e.g. 30s.")
    var requestTimeout: DurationArgument = DurationArgument(argument: "30s")!

    @Option(help: "How long shutdown waits for writes in flight, e.g. 30s.")
    var drainTimeout: DurationArgument = DurationArgument(argument: "30s")!

    @Option(help: "How long a cluster that does not answer at start is waited for before exiting 1, e.g. 2m (0s: exit at once).")
    var startTimeout: DurationArgument = DurationArgument(argument: "2m")!

    @Option(help: ArgumentHelp("Also append alert events to FILE as JSON lines.", valueName: "FILE"))
    var alertsFile: String?

    func run() async throws {
        let topology = try options.load()
        var replication = ReplicationOptions()
        replication.untilCaughtUp = untilCaughtUp
        replication.requestTimeout = requestTimeout.duration
        replication.drainTimeout = drainTimeout.duration
        replication.startTimeout = startTimeout.duration
        for text in acceptGaps {
            guard let slash = text.lastIndex(of: "/"), let partition = Int32(text[text.index(after: slash)...]),
                  slash != text.startIndex
            else {
                throw CommandFailure(exitCode: ExitCode.usage, message: "--accept-gap \(text): expected TOPIC/PARTITION, e.g. payment-events/0")
            }
            replication.acceptGaps.insert(TopicPartition(String(text[..<slash]), partition))
        }
        let logger = options.bootstrapLogging()
        // One admin client per cluster for every part of the run (engine, group sync, probe, alerts, heartbeats, watch).
        let clients = ClusterClients(topology: topology, logger: logger)
        // Whether this instance speaks for the pair (group mode: while it leads the group), shared by every part.
        let state = ReplicationState(leading: topology.instances.mode != .group)
        let monitoring = try RunMonitoring.make(topology: topology, clients: clients, state: state, alertsFile: alertsFile, logger: logger)
        replication.observer = monitoring.observer
        replication.positions = monitoring.positions
        let engine = ReplicationEngine(topology: topology, options: replication, clients: clients, state: state, logger: logger)
        let result = Mutex<[PartitionSummary]>([])
        // The consumer-group offset sync runs next to the engine, fed by its state; only when groups are selected.
        var groupSync: GroupOffsetSync?
        if !topology.groups.include.isEmpty {
            do {
                groupSync = try GroupOffsetSync(
                    topology: topology, state: state, clients: clients, timeout: requestTimeout.duration, observer: monitoring.observer,
                    logger: logger)
            } catch {
                throw CommandFailure(exitCode: error.exitCode, message: error.message)
            }
        }
        let service = BridgeService(engine: engine, companion: groupSync) { summaries in result.withLock { $0 = summaries } }
        // Heartbeats, on threads of their own (never the copy loop); not in a one-shot --until-caught-up copy.
        var heartbeats: [any Service] = []
        if topology.heartbeats.isEnabled, !untilCaughtUp {
            heartbeats = [
                NonFatal(service: HeartbeatWriter(clients: clients, leads: { state.leadsGroupSync }, logger: logger),
                         what: "heartbeat writer", logger: logger),
                NonFatal(service: HeartbeatReader(clients: clients, observer: monitoring.observer, logger: logger),
                         what: "heartbeat reader", logger: logger),
            ]
        }
        // Continuous reconciliation (reconcile.continuous), on a thread of its own; Postgres never holds up the copy.
        let watch = RPOWatchService.make(
            clients: clients, untilCaughtUp: untilCaughtUp, positions: monitoring.positions, state: state, observer: monitoring.observer,
            rpoObserver: monitoring.rpoObserver, logger: logger)
        let reconciling: [any Service] = watch.map { [NonFatal(service: $0, what: "continuous reconciliation", logger: logger)] } ?? []
        monitoring.readiness.running(true)
        let group = ServiceGroup(configuration: .init(
            // Graceful shutdown goes from the last service to the first: the bridge drains before monitoring stops.
            services: (monitoring.services + heartbeats + reconciling).map { .init(service: $0) }
                + [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                         failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch let error as ReplicationError {
            throw CommandFailure(exitCode: error.exitCode, message: error.message)
        }
        let summaries = result.withLock { $0 }
        print(SummaryTable.render(summaries))
    }
}

/// The per-partition table `run` prints on stdout when it finishes.
enum SummaryTable {
    static func render(_ summaries: [PartitionSummary]) -> String {
        var rows = [["SOURCE", "TARGET", "COPIED", "LAST-SOURCE-OFFSET", "SOURCE-END"]]
        for summary in summaries {
            rows.append([
                summary.source.description, summary.target.description, String(summary.copied),
                summary.lastCopiedOffset.map(String.init) ?? "-", summary.sourceEnd.map(String.init) ?? "-",
            ])
        }
        return TextTable.render(rows)
    }
}
