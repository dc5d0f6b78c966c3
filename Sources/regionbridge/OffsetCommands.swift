import ArgumentParser
import Failover
import Formats
import Foundation
import Replication
import Topology

/// Output formats of the offset commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct TranslateOffsetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate-offsets",
        abstract: "Shows a consumer group's source positions translated exactly into the target cluster.")

    @OptionGroup var options: TopologyOptions

    @Option(help: "The consumer group.")
    var group: String

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    @Option(help: "Timeout of one request, e.g. 10s.")
    var requestTimeout: DurationArgument = DurationArgument(argument: "10s")!

    func run() throws {
        let topology = try options.load()
        let logger = options.bootstrapLogging()
        do {
            let failover = try ConsumerFailover(
                clients: ClusterClients(topology: topology, logger: logger), timeout: requestTimeout.duration, logger: logger)
            print(PositionTable.render(try failover.translate(group: group), format: format))
        } catch {
            throw CommandFailure(exitCode: error.exitCode, message: error.message)
        }
    }
}

struct FailoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Moves consumer groups to the target cluster at their exactly translated positions.",
        discussion: """
            Without --apply it shows what it would commit. It reads the source's committed offsets when the source \
            answers, and the checkpoints the bridge wrote into the target when it does not. It refuses (exit 4) a \
            group with active members in the target, a position whose records are not all replicated yet, and a group \
            without checkpoints. Target offsets never move backwards.
            """)

    @OptionGroup var options: TopologyOptions

    @Option(name: .customLong("group"), help: "A consumer group to move (repeatable).")
    var groups: [String]

    @Flag(help: "Commit the translated offsets in the target cluster.")
    var apply = false

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    @Option(help: "How long to wait for the source before using checkpoints, e.g. 5s.")
    var requestTimeout: DurationArgument = DurationArgument(argument: "5s")!

    func validate() throws {
        guard !groups.isEmpty else { throw ValidationError("name at least one --group") }
    }

    func run() throws {
        let topology = try options.load()
        let logger = options.bootstrapLogging()
        let positions: [GroupPartitionPosition]
        do {
            let failover = try ConsumerFailover(
                clients: ClusterClients(topology: topology, logger: logger), timeout: requestTimeout.duration, logger: logger)
            positions = try failover.plan(groups: groups)
            print(PositionTable.render(positions, format: format))
            if apply {
                try failover.apply(positions)
                let moved = positions.filter(\.moves).count
                print("committed \(moved) offset(s) in \(topology.target.region); \(positions.count - moved) left as they were (already at or past the translation)")
            } else {
                print("dry run: nothing committed; run again with --apply")
            }
        } catch let refusal as FailoverRefusal {
            throw CommandFailure(exitCode: ExitCode.refused, message: "refused:\n\(refusal)")
        } catch {
            throw CommandFailure(exitCode: (error as? ReplicationError)?.exitCode ?? .runtime, message: "\(error)")
        }
    }
}

/// Renders group positions as a table or as JSON.
enum PositionTable {
    static func render(_ positions: [GroupPartitionPosition], format: OutputFormat) -> String {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: (try? encoder.encode(positions)) ?? Data(), as: UTF8.self)
        case .table:
            var rows = [["GROUP", "SOURCE", "SOURCE-OFFSET", "TARGET", "TARGET-OFFSET", "TARGET-END", "TO-REPLICATE", "COMMITTED-IN-TARGET", "BASIS"]]
            for p in positions {
                rows.append([
                    p.group, "\(p.topic)/\(p.partition)", String(p.sourceOffset), "\(p.targetTopic)/\(p.partition)",
                    String(p.targetOffset), p.targetEnd.map(String.init) ?? "-", String(p.toReplicate),
                    p.committedInTarget.map(String.init) ?? "-", p.basis,
                ])
            }
            return TextTable.render(rows)
        }
    }
}
