import ArgumentParser
import Drill
import Failover
import Formats
import Foundation
import Kafka
import Logging
import Reconciliation
import Replication
import Topology

/// `regionbridge failback`: returns consumer groups from the DR region to the recovered region, exactly where they left off.
struct FailbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failback",
        abstract: "Moves consumer groups back to the recovered source region at the exact positions they reached on the copies.",
        discussion: """
            Run it with the forward topology (source = the region that was lost and answers again). For each group and \
            partition, the group's committed offset on the copy in the target is translated back through the \
            regionbridge.source headers to the position right after the last source record it processed, and committed on \
            the original topic in the source. When the reverse pair's topology is found (--reverse, or the file in the same \
            folder whose regions are this pair's, swapped), the group's positions on the target's own topics are also moved \
            to their copies in the source, as failover does for that pair. Without --apply it only shows what it would \
            commit, and how many records in the source were never replicated (with a reconcile: section, the committed \
            payments among them). It refuses (exit 4) a group with active members in either region, a position on a copy \
            whose records were deleted, and a reverse-pair position that is not copied yet; offsets never move backwards. \
            Exit codes: 0 done (or dry run); 1 a cluster unreachable; 2 usage or configuration error; 4 refused.
            """)

    @OptionGroup var options: TopologyOptions

    @Option(name: .customLong("group"), help: "A consumer group to move back (repeatable).")
    var groups: [String]

    @Option(help: "The reverse pair's topology. Default: the file in the same folder whose regions are this pair's, swapped.")
    var reverse: String?

    @Flag(help: "Commit the translated offsets.")
    var apply = false

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    @Option(help: "Reconcile window for naming committed payments among the never-replicated records, e.g. 72h. Default: at least 24h, and back to one hour before the oldest such record.")
    var since: DurationArgument?

    @Option(help: "Timeout of one Kafka request, e.g. 10s.")
    var requestTimeout: DurationArgument = DurationArgument(argument: "10s")!

    func validate() throws {
        guard !groups.isEmpty else { throw ValidationError("name at least one --group") }
        guard requestTimeout.duration > .zero else { throw ValidationError("--request-timeout must be greater than zero") }
        if let since, since.duration <= .zero { throw ValidationError("--since must be greater than zero") }
    }

    func run() throws {
        let topology = try options.load()
        let logger = options.bootstrapLogging()
        let reversePair = try findReversePair(topology)
        let clients = ClusterClients(topology: topology, logger: logger)
        let timeout = requestTimeout.duration
        var output = FailbackOutput(topology: topology, reverseFile: reversePair?.file)
        let failback: ConsumerFailback
        var reverseFailover: ConsumerFailover?
        do {
            failback = try ConsumerFailback(clients: clients, timeout: timeout, logger: logger)
            let plan = try failback.plan(groups: groups)
            output.plan = plan
            output.refusals = plan.refusals
            if let reversePair {
                // The reverse pair's clients: the same two clusters with the roles swapped, a set of their own.
                let failover = try ConsumerFailover(
                    clients: ClusterClients(topology: reversePair.topology, logger: logger), timeout: timeout, logger: logger)
                reverseFailover = failover
                let missing = try failover.positionsWithoutCopy(groups: groups)
                if missing.isEmpty {
                    do {
                        output.reversePositions = try failover.plan(groups: groups)
                        output.refusals += ConsumerFailback.sharedPartitions(
                            own: plan.positions.filter { $0.sourceOffset != nil }.map { ($0.group, $0.topic, $0.partition) },
                            reverse: output.reversePositions.map { ($0.group, $0.targetTopic, $0.partition) })
                    } catch let refusal as FailoverRefusal {
                        output.refusals += refusal.reasons
                    }
                } else {
                    output.refusals += missing.map { "reverse pair (\(reversePair.file)): \($0)" }
                }
            }
        } catch {
            throw CommandFailure(exitCode: (error as? ReplicationError)?.exitCode ?? .runtime, message: "\(error)")
        }
        output.refusals = output.refusals.reduce(into: []) { kept, reason in if !kept.contains(reason) { kept.append(reason) } }
        output.payments = namePayments(clients, plan: output.plan, logger: logger)

        if !output.refusals.isEmpty {
            print(output.render(format))
            throw CommandFailure(exitCode: .refused, message: "refused:\n\(output.refusals.joined(separator: "\n"))")
        }
        guard apply else {
            output.summary = "dry run: nothing committed; run again with --apply"
            print(output.render(format))
            return
        }
        do {
            try failback.apply(output.plan.positions)
            if let reverseFailover { try reverseFailover.apply(output.reversePositions) }
        } catch let refusal as FailoverRefusal {
            throw CommandFailure(exitCode: .refused, message: "refused:\n\(refusal)")
        } catch {
            throw CommandFailure(exitCode: (error as? ReplicationError)?.exitCode ?? .runtime, message: "\(error)")
        }
        let moved = output.plan.positions.filter(\.moves).count
        let kept = output.plan.positions.count - moved
        var summary = "committed \(moved) offset(s) on \(topology.source.region)'s own topics; \(kept) left as they were"
        if let reversePair {
            let reverseMoved = output.reversePositions.filter(\.moves).count
            summary += "; committed \(reverseMoved) offset(s) on the \(reversePair.topology.source.region).* copies in \(topology.source.region); "
                + "\(output.reversePositions.count - reverseMoved) left as they were"
        }
        output.summary = summary
        output.applied = true
        print(output.render(format))
    }

    /// The reverse pair's topology, if there is one: `--reverse` (which must validate) or the file in the same folder.
    private func findReversePair(_ topology: Topology) throws(CommandFailure) -> (file: String, topology: Topology)? {
        switch FailbackSearch.find(forward: topology, file: options.topology, named: reverse, environment: ProcessInfo.processInfo.environment) {
        case .found(let file, let reverseTopology):
            guard reverseTopology.source.region == topology.target.region, reverseTopology.target.region == topology.source.region else {
                throw CommandFailure(
                    exitCode: .usage,
                    message: "reverse pair topology \(file) copies \(reverseTopology.source.region) -> \(reverseTopology.target.region), not \(topology.target.region) -> \(topology.source.region)")
            }
            return (file, reverseTopology)
        case .invalid(let file, let problems):
            throw CommandFailure(exitCode: .usage, message: "reverse pair topology \(file) does not validate:\n\(problems)")
        case .missing:
            return nil
        }
    }

    /// The committed payments among the never-replicated records, from a read-only reconcile; `nil` without a
    /// `reconcile:` section or without such records in its topics.
    private func namePayments(_ clients: ClusterClients, plan: FailbackPlan, logger: Logger) -> FailbackPayments? {
        guard let settings = clients.topology.reconcile else { return nil }
        let records = plan.notReplicated.filter { settings.topics.contains($0.key.topic) }.values.reduce(0, +)
        guard records > 0 else { return nil }
        var window = since?.duration ?? .seconds(86_400)
        if since == nil, let oldest = plan.oldestNotReplicated {
            window = max(window, .seconds(Int64(max(0, Date().timeIntervalSince(oldest)).rounded(.up)) + 3_600))
        }
        do {
            let report = try Reconciler(
                clients: clients,
                options: ReconcileOptions(
                    since: window, grace: .zero, requestTimeout: requestTimeout.duration, readOnly: true, describeReplication: false),
                logger: logger
            ).run()
            let found = report.findings.examples[.notReplicated] ?? []
            return FailbackPayments(
                records: records, committed: report.findings.count(.notReplicated),
                named: found.map { ($0.eventID, $0.location ?? "") }, windowStart: report.windowStart, error: nil)
        } catch {
            return FailbackPayments(records: records, committed: 0, named: [], windowStart: nil, error: error.message)
        }
    }
}

/// Committed payments among the never-replicated records.
struct FailbackPayments {
    /// Never-replicated records in the reconciled topics.
    var records: Int
    /// Committed payments among them (reconcile's `not_replicated`).
    var committed: Int
    /// The first 100 of them: event id and source location.
    var named: [(eventID: String, location: String)]
    var windowStart: Date?
    /// Why reconcile could not run, if it could not.
    var error: String?
}

/// What `failback` prints.
struct FailbackOutput {
    var topology: Topology
    var reverseFile: String?
    var plan = FailbackPlan()
    var reversePositions: [GroupPartitionPosition] = []
    var refusals: [String] = []
    var payments: FailbackPayments?
    var summary: String?
    var applied = false

    func render(_ format: OutputFormat) -> String {
        switch format {
        case .table: table()
        case .json: json()
        }
    }

    private func table() -> String {
        let (source, target) = (topology.source.region, topology.target.region)
        var rows: [[String]] = [[
            "GROUP", "COPY (\(target))", "COPY-POSITION", "SOURCE (\(source))", "SOURCE-POSITION", "COMMITTED-IN-SOURCE",
            "LAST-REPLICATED", "NOT-REPLICATED", "ACTION",
        ]]
        func text(_ value: Int64?) -> String { value.map { String($0) } ?? "-" }
        for p in plan.positions {
            let row: [String] = [
                p.group, "\(p.copyTopic)/\(p.partition)", String(p.copyPosition), "\(p.topic)/\(p.partition)",
                text(p.sourceOffset), text(p.committedInSource), text(p.lastReplicated), String(p.notReplicated), p.action,
            ]
            rows.append(row)
        }
        var lines = ["copies in \(target) -> \(source) (pair \(topology.pair)):", TextTable.render(rows)]
        if let reverseFile {
            lines += ["", "\(target)'s own topics -> their copies in \(source) (reverse pair, \(reverseFile)):"]
            lines.append(reversePositions.isEmpty ? "(no committed position on the reverse pair's topics)" : PositionTable.render(reversePositions, format: .table))
        } else {
            lines += ["", "no reverse pair topology (\(target) -> \(source)) next to the topology, and none named with --reverse: positions on \(target)'s own topics are not moved"]
        }
        if let payments {
            lines.append("")
            if let error = payments.error {
                lines.append("reconcile: cannot name the committed payments among the \(payments.records) never-replicated record(s): \(error)")
            } else {
                lines.append("reconcile: \(payments.committed) committed payment(s) among the \(payments.records) never-replicated record(s) in \(source)\(payments.named.isEmpty ? "" : ":")")
                lines += payments.named.map { "  \($0.eventID) at \($0.location)" }
                if payments.committed > payments.named.count { lines.append("  ... and \(payments.committed - payments.named.count) more") }
            }
        }
        if let summary { lines += ["", summary] }
        return lines.joined(separator: "\n")
    }

    private func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let form = JSONForm(
            pair: topology.pair, sourceRegion: topology.source.region, targetRegion: topology.target.region, positions: plan.positions,
            notReplicated: plan.notReplicated.sorted { $0.key < $1.key }.map { entry in
                JSONForm.Partition(topic: entry.key.topic, partition: entry.key.partition, records: entry.value)
            },
            reverseTopology: reverseFile, reversePositions: reversePositions, refusals: refusals, applied: applied,
            payments: payments.map { payments in
                JSONForm.Payments(
                    records: payments.records, committed: payments.committed,
                    named: payments.named.map { JSONForm.Payment(eventID: $0.eventID, location: $0.location) }, error: payments.error)
            })
        return String(decoding: (try? encoder.encode(form)) ?? Data(), as: UTF8.self)
    }

    /// The JSON form (`--format json`); absent values are left out.
    private struct JSONForm: Encodable {
        struct Partition: Encodable { var topic: String; var partition: Int32; var records: Int }
        struct Payment: Encodable {
            var eventID: String
            var location: String
            enum CodingKeys: String, CodingKey { case location, eventID = "event_id" }
        }
        struct Payments: Encodable { var records: Int; var committed: Int; var named: [Payment]; var error: String? }
        var pair: String
        var sourceRegion: String
        var targetRegion: String
        var positions: [FailbackPosition]
        var notReplicated: [Partition]
        var reverseTopology: String?
        var reversePositions: [GroupPartitionPosition]
        var refusals: [String]
        var applied: Bool
        var payments: Payments?

        enum CodingKeys: String, CodingKey {
            case pair, positions, refusals, applied, payments
            case sourceRegion = "source_region"
            case targetRegion = "target_region"
            case notReplicated = "not_replicated"
            case reverseTopology = "reverse_topology"
            case reversePositions = "reverse_positions"
        }
    }
}
