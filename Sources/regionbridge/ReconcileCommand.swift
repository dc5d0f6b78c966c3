import ArgumentParser
import Replication
import Foundation
import Reconciliation

/// `regionbridge reconcile`: proves that every payment Postgres committed is in the target region.
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Checks every payment committed in Postgres against the records in both regions (RPO=0 proof).",
        discussion: """
            Uses the topology's reconcile: section. Payments committed in [until - since, until - grace) must each be in the \
            target region with the committed values; each missing one is classified as not_replicated (in the source only) or \
            never_published (in neither region). Mismatched fields, duplicates in the target and orphan events (no committed \
            row) are reported too. The report opens with the value at risk: payments and their amounts per currency \
            (reconcile.amount, reconcile.currency) for each class that breaks RPO=0. Scanned records are indexed in Postgres \
            (reconcile.state_schema), so a repeated run reads only new records. When the source cluster does not answer \
            (no broker reachable, or its metadata request times out after --request-timeout), reconcile answers from \
            Postgres, the target and the index: a missing payment the index saw in the source is not_replicated, any other \
            unknown_at_source, and the report says how old the knowledge of the source is. Progress goes to stderr. \
            Exit codes: 0 RPO=0 holds (also with the source unreachable, with a warning); 3 a committed payment is missing \
            from the target or differs; 2 usage or configuration error; 1 Postgres or the target unreachable, the source \
            failing otherwise than unreachable, or the query failed.
            """)

    @OptionGroup var options: TopologyOptions

    @Option(help: "How far back from --until payments are checked, e.g. 15m, 24h.")
    var since: DurationArgument = DurationArgument(argument: "24h")!

    @Option(help: "The cut-off time, ISO-8601 (e.g. 2026-11-25T12:00:00Z). Default: now.")
    var until: TimeArgument?

    @Option(help: "How long a committed payment may take to reach the target before its absence counts, e.g. 30s.")
    var grace: DurationArgument = DurationArgument(argument: "30s")!

    @Option(help: "Report format: table, json, markdown or html.")
    var format: ReportFormat = .table

    @Option(help: "Write the report to this file instead of stdout (the verdict line still goes to stdout).")
    var output: String?

    @Flag(help: "Drop this pair's event index and scan every partition from its log start.")
    var rescan = false

    @Option(help: "Timeout of one Kafka request, and the longest a scan may go without progress, e.g. 10s.")
    var requestTimeout: DurationArgument = DurationArgument(argument: "10s")!

    func run() throws {
        let topology = try options.load()
        let logger = options.bootstrapLogging()
        let report: ReconcileReport
        do {
            // One admin client per cluster; the topic lists are asked once and reused for the run's minute or so.
            let reconciler = try Reconciler(
                clients: ClusterClients(topology: topology, metadataMaxAge: .seconds(60), logger: logger),
                options: ReconcileOptions(
                    since: since.duration, until: until?.date, grace: grace.duration, rescan: rescan, requestTimeout: requestTimeout.duration),
                logger: logger,
                progress: { FileHandle.standardError.write(Data("\($0)\n".utf8)) })
            report = try reconciler.run()
        } catch {
            throw CommandFailure(exitCode: error.exitCode, message: error.message)
        }
        let text = format.render(report)
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure(exitCode: ExitCode.runtime, message: "cannot write the report to \(output): \(error.localizedDescription)")
            }
            print(report.headline)
        } else {
            print(text)
        }
        if report.exitCode != .done {
            throw ArgumentParser.ExitCode(report.exitCode.code)
        }
    }
}

extension ReportFormat: ExpressibleByArgument {}

/// An ISO-8601 time such as `2026-11-25T12:00:00Z` or `2026-11-25T12:00:00.250+01:00`.
struct TimeArgument: ExpressibleByArgument {
    var date: Date

    init?(argument: String) {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: argument) ?? fractional.date(from: argument) else { return nil }
        self.date = date
    }
}
