import ArgumentParser
import Formats
import Foundation
import Kafka
import Monitoring
import Replication
import Topology

/// `regionbridge lag`: how much the target region would lose right now, per partition.
struct LagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "Shows how far the target is behind the source, per partition, from the two clusters alone.",
        discussion: """
            Works while the bridge is down. RECORDS-BEHIND counts offsets after the last copied one up to the \
            source log end (transaction markers there make it overstate by their number); SECONDS-BEHIND is now \
            minus the source timestamp of the oldest record not yet copied, 0 when caught up. With heartbeats on, \
            the age of the newest heartbeat in the target's copy of regionbridge.<pair>.heartbeats is shown too, \
            read from the target alone: it says whether replication is alive even when the source is idle. \
            --format json prints the document described in docs/lag-json.md (one compact line per refresh with --watch). \
            Exit codes: 0 done; 1 a cluster could not be read; 2 usage or configuration error.
            """)

    /// Output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @OptionGroup var options: TopologyOptions

    @Option(help: "Output format: table or json.")
    var format: Format = .table

    @Flag(help: "Redraw every --interval until Ctrl-C.")
    var watch = false

    @Option(help: "How often --watch refreshes, e.g. 2s.")
    var interval: DurationArgument = DurationArgument(argument: "2s")!

    @Option(help: "Timeout of one metadata request or partition read, e.g. 10s.")
    var requestTimeout: DurationArgument = DurationArgument(argument: "10s")!

    func run() throws {
        let topology = try options.load()
        let logger = options.bootstrapLogging()
        let clients = ClusterClients(topology: topology, logger: logger)
        let reader = LagReader(clients: clients, timeout: requestTimeout.duration)
        let maxLag = topology.drill.maxLagSeconds
        let report = { () throws(ReplicationError) -> LagReport in
            var report = try reader.report()
            if topology.heartbeats.isEnabled {
                do {
                    report.heartbeat = try HeartbeatTail.read(
                        topic: topology.heartbeatCopyTopic, in: .target, clients: clients,
                        timeout: requestTimeout.duration, logger: logger)
                } catch {
                    throw ReplicationError(.targetUnavailable, "cannot read heartbeat topic \(topology.heartbeatCopyTopic) in the target cluster \(topology.target.region): \(error)")
                }
            }
            return report
        }
        guard watch else {
            do {
                let report = try report()
                print(format == .json ? report.json(maxLagSeconds: maxLag) : LagTable.render(report, maxLagSeconds: maxLag))
            } catch {
                throw CommandFailure(exitCode: error.exitCode, message: error.message)
            }
            return
        }
        let seconds = interval.duration.seconds
        while true {
            let text: String
            do {
                let report = try report()
                text = format == .json ? report.json(pretty: false, maxLagSeconds: maxLag) : LagTable.render(report, maxLagSeconds: maxLag)
            } catch {
                text = "regionbridge lag: \(error.message) (retrying every \(interval.duration))"
            }
            // Written unbuffered, so each refresh shows at once (also through a pipe).
            let screen = format == .json
                ? text + "\n"
                : "\u{1B}[H\u{1B}[2J" + text + "\n\n(refreshing every \(interval.duration); Ctrl-C to stop)\n"
            FileHandle.standardOutput.write(Data(screen.utf8))
            Thread.sleep(forTimeInterval: seconds)
        }
    }
}

/// The table `regionbridge lag` prints: the headline, the totals, each topic with its partitions (the bridge's
/// own topics apart), the heartbeat last.
enum LagTable {
    static func render(_ report: LagReport, maxLagSeconds: Double) -> String {
        let at = ISO8601DateFormatter().string(from: report.at)
        let summary = "pair \(report.pair) (\(report.sourceRegion) -> \(report.targetRegion)) at \(at): "
            + "\(report.totalRecordsBehind) records behind, at most \(String(format: "%.3f", report.maxSecondsBehind)) s"
        // The heartbeat comes last, so that the headline stays the first line.
        return ([report.headline(maxLagSeconds: maxLagSeconds), summary, ""] + LagText.lines(report.partitions)).joined(separator: "\n")
            + heartbeatLine(report)
    }

    /// A newline and `heartbeat: ...`, or nothing when heartbeats are off.
    static func heartbeatLine(_ report: LagReport) -> String {
        guard let heartbeat = report.heartbeat else { return "" }
        guard heartbeat.exists else { return "\nheartbeat: no \(heartbeat.topic) in \(report.targetRegion) yet" }
        guard let age = heartbeat.age(at: report.at), let written = heartbeat.newestWrittenAt else {
            return "\nheartbeat: none in \(heartbeat.topic)"
        }
        return "\nheartbeat: newest in \(heartbeat.topic) written \(ISOTime.string(milliseconds: written)), \(String(format: "%.3f", age)) s old"
    }
}
