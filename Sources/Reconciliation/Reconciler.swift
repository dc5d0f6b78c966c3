import Failover
import Formats
import Foundation
import Kafka
import Logging
import Monitoring
import Postgres
import Replication
import Topology

/// The window and options of one reconciliation.
package struct ReconcileOptions: Sendable {
    /// How far back from `until` payments are checked. Default 24 h.
    package var since: Duration
    /// The cut-off; payments committed after `until − grace` are not checked yet. Default: now.
    package var until: Date?
    /// How long a committed payment has to reach the target before its absence counts. Default 30 s.
    package var grace: Duration
    /// Drop the event index of this pair and scan every partition from its log start.
    package var rescan: Bool
    /// Timeout of one Kafka request, and the longest a scan may go without progress. Default 10 s.
    package var requestTimeout: Duration
    /// Write nothing to Postgres (`regionbridge drill`): read the stored event index, keep this run's scan in
    /// temporary tables, in one READ ONLY transaction that is rolled back. Default false.
    package var readOnly: Bool
    /// Add the pair's lag and its groups' translated positions to the report. Default true.
    package var describeReplication: Bool

    package init(since: Duration = .seconds(86_400), until: Date? = nil, grace: Duration = .seconds(30), rescan: Bool = false,
                requestTimeout: Duration = .seconds(10), readOnly: Bool = false, describeReplication: Bool = true) {
        self.since = since
        self.until = until
        self.grace = grace
        self.rescan = rescan
        self.requestTimeout = requestTimeout
        self.readOnly = readOnly
        self.describeReplication = describeReplication
    }
}

/// Proves, or disproves, that every payment Postgres committed in a window is in the target region.
///
/// 1. Scans the `reconcile.topics` in the source and their replicas in the target, from where the last
///    run stopped, into the event index in Postgres (``EventIndex``).
/// 2. Runs the committed query over `[window start − grace, until)` into a session table. Rows committed
///    in the window `[until − since, until − grace)` are checked; the rest only tell orphans apart.
/// 3. Joins each committed payment of the window to its records in Postgres. Payments that are in the
///    target once with the committed values stay there; the rest stream through ``PaymentCheck`` one at a
///    time. Then the source records of the window that have no committed row (orphans).
/// 4. Reads the pair's lag and its groups' translated positions for the report.
///
/// A source that does not answer (``KafkaError/isUnreachable`` on its metadata request) is not scanned: the
/// payments are checked against the target and what the index saw of the source before, a missing one the index
/// never saw there is ``FindingKind/unknownAtSource``, the report gives the time of the last source scan
/// (``SourceKnowledge``), and step 4 is skipped with a warning.
package final class Reconciler {
    private let clients: ClusterClients
    private var topology: Topology { clients.topology }
    private let settings: ReconcileSettings
    private let options: ReconcileOptions
    private let logger: Logger
    private let progress: (String) -> Void

    /// - Parameters:
    ///   - clients: the command's shared clients (the pair; metadata, lag and group positions go through its admin
    ///     clients; the scanners and readers are the reconciliation's own).
    ///   - progress: receives a line every couple of seconds during long scans (stderr in the CLI).
    /// - Throws: ``ReconcileError`` `.configuration` when the topology has no `reconcile:` section or the
    ///   window is empty.
    package init(clients: ClusterClients, options: ReconcileOptions, logger: Logger, progress: @escaping (String) -> Void = { _ in }) throws(ReconcileError) {
        guard let settings = clients.topology.reconcile else {
            throw ReconcileError(.configuration, "the topology has no reconcile: section (postgres_dsn, committed_query, topics)")
        }
        guard options.since > options.grace else {
            throw ReconcileError(.configuration, "--since (\(options.since)) must be longer than --grace (\(options.grace)): the window would be empty")
        }
        self.clients = clients
        self.settings = settings
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Runs the reconciliation.
    /// - Throws: ``ReconcileError`` `.unreachable` with the server's message when Postgres or the target cannot be
    ///   reached, the source fails otherwise than by being unreachable, or the query fails.
    package func run() throws(ReconcileError) -> ReconcileReport {
        let started = ContinuousClock.now
        let until = options.until ?? Date()
        let windowEnd = until.addingTimeInterval(-options.grace.seconds)
        let windowStart = until.addingTimeInterval(-options.since.seconds)

        let db: PostgresConnection
        do {
            db = try PostgresConnection.connect(settings.postgresDSN.reveal(), logger: logger)
        } catch {
            throw ReconcileError(.unreachable, "cannot connect to Postgres: \(error)")
        }
        let columns = settings.valueAtRiskColumns
        let index = EventIndex(
            db: db, schema: settings.stateSchema, pair: topology.pair, compared: settings.compare,
            amountColumn: columns.amount, currencyColumn: columns.currency)
        var report = ReconcileReport(
            pair: topology.pair, sourceRegion: topology.source.region, targetRegion: topology.target.region,
            windowStart: windowStart, windowEnd: windowEnd, until: until, grace: options.grace.seconds)
        report.valueAtRisk = ValueAtRisk(amountConfigured: columns.amount != nil)

        if options.readOnly {
            try postgres("read the event index in schema \(settings.stateSchema)") {
                try index.prepareReadOnly(fingerprint: fingerprint, ignoreIndex: options.rescan)
            }
        } else {
            try postgres("prepare the event index in schema \(settings.stateSchema)") { try index.prepare() }
        }
        defer { index.finishReadOnly() }
        let scanStarted = ContinuousClock.now
        try scan(into: index, report: &report)
        report.scanSeconds = (ContinuousClock.now - scanStarted).seconds

        try postgres("run committed_query") {
            try index.loadCommitted(
                query: settings.committedQuery, from: windowStart.addingTimeInterval(-options.grace.seconds), to: until)
        }
        var tally = FindingTally()
        let sourceReachable = report.source.unreachable == nil
        let missing: Set<FindingKind> = [.notReplicated, .neverPublished, .unknownAtSource]
        try postgres("compare committed payments with the scanned records") {
            (report.committed, report.inTarget) = try index.checkCommittedPayments(from: windowStart, to: windowEnd)
            try index.forEachSuspectPayment { payment, copies in
                let findings = PaymentCheck.check(payment, copies: copies, compare: settings.compare, sourceReachable: sourceReachable)
                findings.forEach { tally.add($0) }
                report.valueAtRisk.add(payment, findings: findings)
                if findings.contains(where: { missing.contains($0.kind) }), let amount = payment.amount {
                    report.missingAmounts[payment.currency ?? "", default: AmountSum()].add(amount)
                }
            }
            try index.forEachOrphan(from: windowStart, to: windowEnd) { tally.add($0) }
        }
        report.findings = tally
        if !sourceReachable {
            report.warnings += SourceLoss.warnings(report, describeReplication: options.describeReplication)
        } else if options.describeReplication {
            try describeReplication(into: &report)
        }
        report.totalSeconds = (ContinuousClock.now - started).seconds
        return report
    }

    // MARK: Scanning

    /// What the stored index was scanned with; a change starts it over.
    private var fingerprint: String { Self.fingerprint(topology: topology, settings: settings) }

    /// What an index is scanned with, for `settings` of `topology` (shared with ``ContinuousReconciler``, so that
    /// both keep one index).
    static func fingerprint(topology: Topology, settings: ReconcileSettings) -> String {
        [
            "topics=\(settings.topics.sorted().joined(separator: ","))",
            "rename=\(topology.topics.rename.rawValue)", "region=\(topology.source.region)",
            "event_id=\(settings.eventID)", "compare=\(settings.compare.map(\.field).joined(separator: ","))",
        ].joined(separator: ";")
    }

    private func scan(into index: EventIndex, report: inout ReconcileReport) throws(ReconcileError) {
        if options.rescan && options.readOnly {
            report.warnings.append("--rescan: the event index of pair \(topology.pair) was not used; every partition was scanned from its log start")
        } else if options.rescan {
            try postgres("reset the event index") { try index.reset() }
            report.warnings.append("--rescan: the event index of pair \(topology.pair) was dropped; every partition was scanned from its log start")
        }
        let (cursors, changed) = try postgres("read the scan cursors") { try index.cursors(fingerprint: fingerprint) }
        if changed {
            report.warnings.append("the reconcile section changed since the last run; every partition was scanned again from its log start")
        }

        let source = try EventScanner(
            configuration: clients.configuration(.source, job: "reconcile"),
            groupID: "regionbridge.\(topology.pair).reconcile", cluster: "source \(topology.source.region)",
            timeout: options.requestTimeout, logger: logger)
        let target = try EventScanner(
            configuration: clients.configuration(.target, job: "reconcile"),
            groupID: "regionbridge.\(topology.pair).reconcile", cluster: "target \(topology.target.region)",
            timeout: options.requestTimeout, logger: logger)
        let (sourcePartitions, targetPartitions) = try partitions(report: &report)
        // An unreachable source is not scanned: its side of the index stays as the last scan left it.
        let sourceStarts = try starts(sourcePartitions, side: .source, scanner: source, cursors: cursors, report: &report)
        let targetStarts = try starts(targetPartitions, side: .target, scanner: target, cursors: cursors, report: &report)
        let reader = PaymentEventReader(eventID: settings.eventID, compared: settings.compare.map(\.field))
        let sourceTopicOf = Dictionary(uniqueKeysWithValues: settings.topics.map {
            (topology.topics.rename.targetTopic(for: $0, sourceRegion: topology.source.region), $0)
        })

        var lastReport = ContinuousClock.now
        var scanned = (source: 0, target: 0)
        func tick() {
            guard ContinuousClock.now - lastReport >= .seconds(2) else { return }
            lastReport = .now
            progress("reconcile: scanned \(scanned.source) source and \(scanned.target) target records")
        }
        let scanStartedAt = Date()
        do {
            try index.store(startedAt: scanStartedAt) { writer in
                var next: [ScannedPartition: Int64] = [:]
                // Source first: a record copied while the target is read then shows in both, never in neither.
                let sourceEnds = try source.scan(from: sourceStarts, progress: { scanned.source = $0; tick() }) { record in
                    guard let event = reader.event(in: record) else { report.withoutEventID += 1; return }
                    try writer.append(.source, record, sourceOffset: record.offset, event: event)
                }
                let targetEnds = try target.scan(from: targetStarts, progress: { scanned.target = $0; tick() }) { record in
                    guard let event = reader.event(in: record) else { report.withoutEventID += 1; return }
                    let origin = sourceTopicOf[record.topic].map { TopicPartition($0, record.partition) }
                    let provenance = record.lastHeader(named: Provenance.headerName)?.value.flatMap(Provenance.init(headerValue:))
                    let sourceOffset = origin.flatMap { origin in
                        provenance.flatMap {
                            $0.isFrom(region: topology.source.region, topic: origin.topic, partition: origin.partition) ? $0.offset : nil
                        }
                    }
                    try writer.append(.target, record, sourceOffset: sourceOffset, event: event)
                }
                for (partition, end) in sourceEnds { next[ScannedPartition(.source, partition)] = end }
                for (partition, end) in targetEnds { next[ScannedPartition(.target, partition)] = end }
                return next
            }
        } catch let error as ReconcileError {
            throw error
        } catch {
            throw ReconcileError(.unreachable, "cannot store scanned events in Postgres: \(error)")
        }
        report.sourceRecordsScanned = scanned.source
        report.targetRecordsScanned = scanned.target
        if report.source.unreachable == nil {
            report.source.scannedAt = scanStartedAt
        } else {
            report.source.scannedAt = try postgres("read when the source was last scanned") { try index.sourceScannedAt() }
        }
    }

    /// The partitions of the reconciled topics in the source, and of their replicas in the target. A source that
    /// does not answer its metadata request within the request timeout (no broker reachable, or timed out, by
    /// librdkafka's numeric code) is noted in `report.source` and has no partitions; any other failure, and any
    /// failure of the target, throws.
    private func partitions(report: inout ReconcileReport) throws(ReconcileError) -> (source: [TopicPartition], target: [TopicPartition]) {
        func metadata(_ cluster: ClusterRole) -> Result<[String: [Int32]], KafkaError> {
            do throws(KafkaError) {
                var topics: [String: [Int32]] = [:]
                for topic in try clients.topics(cluster, timeout: options.requestTimeout) where topic.errorName == nil {
                    topics[topic.name] = topic.partitions
                }
                return .success(topics)
            } catch {
                return .failure(error)
            }
        }
        func unreachable(_ endpoint: ClusterEndpoint, _ side: String, _ error: KafkaError) -> ReconcileError {
            if let refusal = error.refusal {
                return ReconcileError(.refused, "the \(side) cluster \(endpoint.region) at \(endpoint.bootstrapServers) refuses this client: \(refusal)")
            }
            return ReconcileError(.unreachable, "cannot reach the \(side) cluster \(endpoint.region) at \(endpoint.bootstrapServers): \(error)")
        }
        var sourceTopics: [String: [Int32]] = [:]
        switch metadata(.source) {
        case .success(let topics):
            sourceTopics = topics
        case .failure(let error) where error.isUnreachable:
            logger.warning("source cluster \(topology.source.region) unreachable (\(error)); answering from the event index and the target")
            report.source.unreachable = "\(error)"
        case .failure(let error):
            throw unreachable(topology.source, "source", error)
        }
        let targetTopics: [String: [Int32]]
        switch metadata(.target) {
        case .success(let topics): targetTopics = topics
        case .failure(let error): throw unreachable(topology.target, "target", error)
        }
        var source: [TopicPartition] = []
        var target: [TopicPartition] = []
        for topic in settings.topics {
            if report.source.unreachable == nil {
                guard let partitions = sourceTopics[topic] else {
                    throw ReconcileError(.unreachable, "reconcile.topics names \(topic), which does not exist in the source cluster \(topology.source.region)")
                }
                source += partitions.map { TopicPartition(topic, $0) }
            }
            let replica = topology.topics.rename.targetTopic(for: topic, sourceRegion: topology.source.region)
            target += (targetTopics[replica] ?? []).map { TopicPartition(replica, $0) }
        }
        return (source.sorted(), target.sorted())
    }

    /// Where each partition's scan starts: the stored cursor, or the log start when the log no longer
    /// holds the cursor (said in a warning: committed payments among the lost records look unpublished).
    private func starts(
        _ partitions: [TopicPartition], side: ClusterSide, scanner: EventScanner, cursors: [ScannedPartition: Int64],
        report: inout ReconcileReport
    ) throws(ReconcileError) -> [TopicPartition: Int64] {
        var starts: [TopicPartition: Int64] = [:]
        for partition in partitions {
            let (low, _) = try scanner.watermarks(partition)
            let cursor = cursors[ScannedPartition(side, partition)] ?? 0
            if cursor < low {
                report.warnings.append(
                    "\(side == .source ? "source" : "target") \(partition): offsets \(cursor) to \(low - 1) were deleted before reconcile read them; "
                        + "payments whose only records were there are reported as missing")
            }
            starts[partition] = max(cursor, low)
        }
        return starts
    }

    // MARK: Replication state

    private func describeReplication(into report: inout ReconcileReport) throws(ReconcileError) {
        do throws(ReplicationError) {
            let lag = try LagReader(clients: clients, timeout: options.requestTimeout).report()
            report.partitions = lag.partitions
            let failover = try ConsumerFailover(clients: clients, timeout: options.requestTimeout, logger: logger)
            for group in try failover.selectedGroups() {
                report.groups += try failover.translate(group: group)
            }
        } catch where error.kind == .sourceUnavailable {
            // The source went away after the scan: the payments were still checked, so report without it.
            report.partitions = []
            report.groups = []
            report.warnings.append("lag and group positions were not read: \(error)")
        } catch {
            throw ReconcileError(.unreachable, "cannot read replication state: \(error)")
        }
    }

    /// Runs a Postgres step, turning its errors into ``ReconcileError`` with the server's message.
    private func postgres<T>(_ step: String, _ body: () throws -> T) throws(ReconcileError) -> T {
        do {
            return try body()
        } catch let error as ReconcileError {
            throw error
        } catch {
            throw ReconcileError(.unreachable, "cannot \(step): \(error)")
        }
    }
}
