import ArgumentParser
import Drill
import Foundation
import Replication

/// `regionbridge drill`: could the pair fail over right now, and what would it cost? Read-only.
struct DrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Checks, read-only, whether the pair could fail over now against the DR standard: READY or NOT READY with every cause.",
        discussion: """
            Checks RPO now (records and seconds behind per partition against drill.max_lag_seconds, and with a reconcile: \
            section the committed payments and amount missing from the target), the RTO estimate (the backlog at the \
            throughput measured over --sample, plus the failover dry run, against drill.rto), consumer failover (whether \
            failover --apply would succeed for each group, and the offsets it would commit), target parity (topics, \
            partitions, retention.ms, cleanup.policy, max.message.bytes, min.insync.replicas, the bridge's own topics), the \
            failback path (a valid reverse-pair topology in the same folder, or --failback) and liveness (both clusters; \
            heartbeats when they exist). It changes nothing in either cluster or in Postgres. \
            Exit codes: 0 READY; 8 NOT READY (every cause is printed); 2 usage or configuration error; 1 the drill \
            could not run (a Kafka client could not be created, the report could not be written).
            """)

    @OptionGroup var options: TopologyOptions

    @Option(name: .customLong("group"), help: "A consumer group to check (repeatable). Default: the source's groups the topology's groups: filter selects.")
    var groups: [String] = []

    @Option(help: "The failback (reverse pair) topology. Default: the file in the same folder whose regions are this pair's, swapped.")
    var failback: String?

    @Option(help: "Report format: table, json, markdown or html.")
    var format: DrillFormat = .table

    @Option(help: "Write the report to this file instead of stdout (the verdict line still goes to stdout).")
    var output: String?

    @Option(help: "How long the copy throughput is sampled for the RTO estimate, e.g. 10s (the other checks run meanwhile).")
    var sample: DurationArgument = DurationArgument(argument: "10s")!

    @Option(help: "Reconcile window: how far back payments are checked, e.g. 24h.")
    var since: DurationArgument = DurationArgument(argument: "24h")!

    @Option(help: "Reconcile grace period: how long a committed payment may take to reach the target, e.g. 30s.")
    var grace: DurationArgument = DurationArgument(argument: "30s")!

    @Option(help: "Timeout of one Kafka request, e.g. 10s.")
    var requestTimeout: DurationArgument = DurationArgument(argument: "10s")!

    func validate() throws {
        guard since.duration > grace.duration else {
            throw ValidationError("--since (\(since.duration)) must be longer than --grace (\(grace.duration)): the reconcile window would be empty")
        }
        guard requestTimeout.duration > .zero else { throw ValidationError("--request-timeout must be greater than zero") }
        guard sample.duration >= .seconds(1) else { throw ValidationError("--sample must be at least 1s: the copy rate is measured over it") }
    }

    func run() throws {
        let topology = try options.load()
        let logger = options.bootstrapLogging()
        let report: DrillReport
        do {
            let runner = try DrillRunner(
                clients: ClusterClients(topology: topology, logger: logger), topologyFile: options.topology,
                options: DrillOptions(
                    groups: groups.isEmpty ? nil : groups, failback: failback, sample: sample.duration, since: since.duration,
                    grace: grace.duration, requestTimeout: requestTimeout.duration),
                logger: logger)
            report = runner.run()
        } catch {
            throw CommandFailure(exitCode: .runtime, message: error.message)
        }
        let text = format.render(report)
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure(exitCode: .runtime, message: "cannot write the report to \(output): \(error.localizedDescription)")
            }
            print(report.headline)
        } else {
            print(text)
        }
        if !report.verdict.ready {
            throw ArgumentParser.ExitCode(ExitCode.notReady.code)
        }
    }
}

extension DrillFormat: ExpressibleByArgument {}
