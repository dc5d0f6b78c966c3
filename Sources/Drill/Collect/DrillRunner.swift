import Failover
import Foundation
import Kafka
import Logging
import Monitoring
import Reconciliation
import Replication
import Topology

/// Runs the drill against the two clusters (and Postgres): reads what each check needs and hands it to the pure
/// checks. It only reads: no topic is created, no offset committed, nothing written to Postgres (reconcile runs
/// in a READ ONLY transaction that is rolled back, see ``ReconcileOptions/readOnly``).
///
/// The throughput sample for the RTO estimate is two lag measurements `sample` apart; the other checks run in
/// between, so the drill takes about `max(sample, time of the checks)`.
///
/// Blocks the calling thread; not for concurrent use.
package final class DrillRunner {
    private let clients: ClusterClients
    private var topology: Topology { clients.topology }
    private let topologyFile: String
    private let options: DrillOptions
    private let logger: Logger
    private let environment: [String: String]
    private let sourceAdmin: KafkaAdmin
    private let targetAdmin: KafkaAdmin
    private let lagReader: LagReader
    private let failover: ConsumerFailover

    /// Takes the admin clients and makes the readers; nothing is contacted yet.
    /// - Parameters:
    ///   - clients: the command's shared clients (the pair and its admin clients); ask metadata fresh (`metadataMaxAge`
    ///     zero): the drill measures how long each cluster takes to answer.
    ///   - topologyFile: where `topology` was read from; its folder is searched for the failback topology.
    ///   - environment: values for `${VAR}` references in the failback topology.
    /// - Throws: ``DrillError`` when a client cannot be created (bad properties).
    package init(
        clients: ClusterClients, topologyFile: String, options: DrillOptions, logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DrillError) {
        self.clients = clients
        self.topologyFile = topologyFile
        self.options = options
        self.logger = logger
        self.environment = environment
        do {
            sourceAdmin = try clients.admin(.source)
            targetAdmin = try clients.admin(.target)
        } catch {
            throw DrillError("cannot create Kafka clients: \(error)")
        }
        do {
            lagReader = LagReader(clients: clients, timeout: options.requestTimeout)
            failover = try ConsumerFailover(clients: clients, timeout: options.requestTimeout, logger: logger)
        } catch {
            throw DrillError(error.message)
        }
    }

    /// Runs every check and returns the report; a cluster or Postgres that does not answer is a failed check,
    /// not an error.
    package func run() -> DrillReport {
        let started = ContinuousClock.now
        let generatedAt = Date()
        var checks: [DrillCheck] = []

        // Liveness, and the metadata every other check starts from.
        let source = metadata(sourceAdmin)
        let target = metadata(targetAdmin)
        let sourceFailure = source.failure
        let targetFailure = target.failure
        let clusters = sourceFailure.map { "the source cluster \(topology.source.region) does not answer (\($0))" }
            ?? targetFailure.map { "the target cluster \(topology.target.region) does not answer (\($0))" }

        // The first lag measurement opens the throughput sample.
        let sampleStarted = ContinuousClock.now
        var first: LagReport?
        if clusters == nil { first = try? lagReader.report() }

        // Target parity and the bridge's own topics.
        if let sourceTopics = source.topics, let targetTopics = target.topics {
            checks += parity(sourceTopics, targetTopics)
        } else {
            checks.append(DrillCheck(.parity, "replicated topics", "not compared", .fail, cause: "cannot compare the topics: \(clusters ?? "")"))
        }

        // Consumer failover, timed: `failover --apply` repeats this dry run before it commits.
        let failoverStarted = ContinuousClock.now
        let (groups, selection) = consumerGroups(sourceReachable: sourceFailure == nil, targetTopics: target.topics)
        let failoverSeconds = (ContinuousClock.now - failoverStarted).seconds
        if targetFailure != nil {
            checks.append(DrillCheck(.failover, "consumer groups", "not checked", .fail,
                                     cause: "cannot check the groups: the target cluster \(topology.target.region) does not answer"))
        } else {
            checks += FailoverCheck.checks(
                groups, syncInterval: topology.groups.syncInterval, sourceRegion: topology.source.region,
                targetRegion: topology.target.region, selection: selection)
        }

        // Committed payments: one read-only reconcile of the window.
        let (payments, paymentsFailure, reconcileWarnings) = reconcile()
        checks.append(PaymentsCheck.check(payments, failure: paymentsFailure, configured: topology.reconcile != nil, targetRegion: topology.target.region))
        checks += reconcileWarnings.map { DrillCheck(.rpo, "committed payments", "reconcile warning", .warn, cause: $0) }

        // Failback path.
        let candidate = FailbackSearch.find(forward: topology, file: topologyFile, named: options.failback, environment: environment)
        checks.append(FailbackCheck.check(
            forward: topology, candidate: candidate, sourceTopics: source.topics?.map(\.name), targetTopics: target.topics?.map(\.name)))

        // Liveness and heartbeats.
        let heartbeatTopic = DrillTopics.heartbeats(topology)
        let heartbeats = target.topics?.first { $0.name == heartbeatTopic }.map { newestHeartbeat($0) } ?? .notConfigured
        checks += LivenessCheck.checks(
            source: (topology.source.region, topology.source.bootstrapServers, sourceFailure, source.seconds),
            target: (topology.target.region, topology.target.bootstrapServers, targetFailure, target.seconds),
            heartbeats: heartbeats, heartbeatTopic: heartbeatTopic, maxAgeSeconds: topology.drill.maxLagSeconds)

        // The second lag measurement closes the sample: RPO now, and the RTO estimate.
        var partitions: [PartitionLag] = []
        var estimate: RTOEstimate?
        if let clusters {
            checks.append(LagCheck.unmeasured(clusters))
            checks.append(DrillCheck(.rto, "time to fail over", "unknown", .fail, cause: "cannot estimate the RTO: \(clusters)"))
        } else {
            let remaining = options.sample - (ContinuousClock.now - sampleStarted)
            if remaining > .zero { Thread.sleep(forTimeInterval: remaining.seconds) }
            do {
                let second = try lagReader.report()
                let sampled = (ContinuousClock.now - sampleStarted).seconds
                partitions = second.partitions
                checks += LagCheck.checks(partitions, maxLagSeconds: topology.drill.maxLagSeconds, targetRegion: topology.target.region)
                checks += LagCheck.bridgeTopics(partitions, targetRegion: topology.target.region)
                // The backlog and the copy rate are the data's: the bridge's own topics are not part of a failover.
                let data = second.partitions.filter { !BridgeTopic.matches($0.source.topic) }
                let measured = RTOEstimate(
                    backlogRecords: data.reduce(0) { $0 + $1.recordsBehind }, copiedInSample: first.map { Self.copied(from: $0, to: second) } ?? 0,
                    sampleSeconds: first == nil ? 0 : sampled, failoverSeconds: failoverSeconds,
                    groups: groups.count, rtoSeconds: topology.drill.rto.seconds)
                estimate = measured
                checks.append(measured.check)
            } catch {
                checks.append(LagCheck.unmeasured(error.message))
                checks.append(DrillCheck(.rto, "time to fail over", "unknown", .fail, cause: "cannot estimate the RTO: \(error.message)"))
            }
        }
        return DrillReport(
            pair: topology.pair, sourceRegion: topology.source.region, targetRegion: topology.target.region, generatedAt: generatedAt,
            settings: topology.drill, checks: checks, partitions: partitions, positions: groups.flatMap(\.positions), rto: estimate,
            payments: payments, seconds: (ContinuousClock.now - started).seconds)
    }

    /// Source records of the data (not the bridge's own topics) the target gained between two lag measurements:
    /// the advance of each partition's next offset to copy.
    static func copied(from first: LagReport, to second: LagReport) -> Int64 {
        let before = Dictionary(first.partitions.map { ($0.source, LagMath.nextToCopy(sourceLogStart: $0.sourceLogStart, lastCopied: $0.lastCopied)) },
                                uniquingKeysWith: { a, _ in a })
        return second.partitions.reduce(0) { total, lag in
            guard !BridgeTopic.matches(lag.source.topic), let start = before[lag.source] else { return total }
            return total + max(0, LagMath.nextToCopy(sourceLogStart: lag.sourceLogStart, lastCopied: lag.lastCopied) - start)
        }
    }

    // MARK: Reading

    private func metadata(_ admin: KafkaAdmin) -> (topics: [TopicMetadata]?, failure: String?, seconds: Double) {
        let started = ContinuousClock.now
        do {
            let topics = try admin.topics(timeout: options.requestTimeout)
            return (topics, nil, (ContinuousClock.now - started).seconds)
        } catch {
            return (nil, "\(error)", (ContinuousClock.now - started).seconds)
        }
    }

    private func parity(_ sourceTopics: [TopicMetadata], _ targetTopics: [TopicMetadata]) -> [DrillCheck] {
        let inTarget = Dictionary(targetTopics.filter { $0.errorName == nil }.map { ($0.name, $0.partitions.count) }, uniquingKeysWith: { a, _ in a })
        var facts: [TopicParityFacts] = []
        // The bridge's own topics (its heartbeats, replicated while heartbeats are on) are liveness, not data.
        for topic in sourceTopics where topic.errorName == nil && topology.topics.selects(topic.name) && !BridgeTopic.matches(topic.name) {
            let targetName = topology.topics.rename.targetTopic(for: topic.name, sourceRegion: topology.source.region)
            var topicFacts = TopicParityFacts(
                source: topic.name, target: targetName, sourcePartitions: topic.partitions.count, targetPartitions: inTarget[targetName])
            if topicFacts.targetPartitions != nil {
                do {
                    topicFacts.sourceConfig = try configs(sourceAdmin, topic.name)
                } catch {
                    topicFacts.configFailure = "cannot describe \(topic.name) in \(topology.source.region): \(error)"
                }
                do {
                    topicFacts.targetConfig = try configs(targetAdmin, targetName)
                } catch {
                    topicFacts.configFailure = topicFacts.configFailure ?? "cannot describe \(targetName) in \(topology.target.region): \(error)"
                }
            }
            facts.append(topicFacts)
        }
        var checks = ParityCheck.topics(facts, sourceRegion: topology.source.region, targetRegion: topology.target.region)
        if checks.isEmpty {
            checks.append(DrillCheck(.parity, "replicated topics", "no source topic is selected by topics.include", .skip))
        }
        return checks + ParityCheck.bridgeTopics(existing: Set(inTarget.keys), topology: topology)
    }

    private func configs(_ admin: KafkaAdmin, _ topic: String) throws(KafkaError) -> [String: String] {
        var result: [String: String] = [:]
        for entry in try admin.describeTopicConfig(topic, timeout: options.requestTimeout) {
            if let value = entry.value, !entry.isSensitive { result[entry.name] = value }
        }
        return result
    }

    /// The selected groups' facts, and how they were selected (for the line shown when there is none).
    private func consumerGroups(sourceReachable: Bool, targetTopics: [TopicMetadata]?) -> ([GroupFacts], String) {
        guard let targetTopics else { return ([], "the target does not answer") }
        var names: [String]
        let selection: String
        if let named = options.groups {
            names = named
            selection = "--group"
        } else if topology.groups.include.isEmpty {
            return ([], "group sync is off (groups.include: []) and no --group was named")
        } else if sourceReachable {
            do {
                names = try failover.selectedGroups()
            } catch {
                return ([GroupFacts(group: "(all)", activeMembers: nil, positions: [], live: false, checkpointAge: nil, failure: error.message)], "")
            }
            selection = "no group in \(topology.source.region) matches groups.include and has committed offsets"
        } else {
            return ([GroupFacts(
                group: "(all)", activeMembers: nil, positions: [], live: false, checkpointAge: nil,
                failure: "cannot list the groups of \(topology.source.region), which does not answer: name them with --group")], "")
        }
        names = Array(Set(names)).sorted()
        // The newest checkpoint of every group and partition, when the bridge wrote any.
        var checkpoints: [String: [GroupPartitionPosition]] = [:]
        var checkpointFailure: String?
        if targetTopics.contains(where: { $0.name == topology.checkpointsTopic }) {
            do {
                checkpoints = Dictionary(grouping: try failover.checkpointPositions(groups: names), by: \.group)
            } catch {
                checkpointFailure = error.message
            }
        }
        let now = Date()
        var facts: [GroupFacts] = []
        for group in names {
            var entry = GroupFacts(group: group, activeMembers: nil, positions: [], live: sourceReachable, checkpointAge: nil)
            let saved = checkpoints[group] ?? []
            let times = saved.compactMap { Self.checkpointTime($0.basis) }
            if !saved.isEmpty, times.count == saved.count, let oldest = times.min() {
                entry.checkpointAge = max(0, now.timeIntervalSince(oldest))
            }
            do {
                entry.activeMembers = try failover.activeMembers(group)
                if sourceReachable {
                    do {
                        entry.positions = try failover.translate(group: group)
                    } catch where error.kind == .sourceUnavailable {
                        logger.warning("source \(topology.source.region) did not answer for group \(group) (\(error)); using its checkpoints")
                        entry.live = false
                        entry.positions = saved
                    }
                } else {
                    entry.positions = saved
                    if saved.isEmpty, let checkpointFailure { entry.failure = "cannot read its checkpoints: \(checkpointFailure)" }
                }
            } catch {
                entry.failure = error.message
            }
            facts.append(entry)
        }
        return (facts, selection)
    }

    /// The time in a position's basis `checkpoint <ISO-8601 time>`.
    static func checkpointTime(_ basis: String) -> Date? {
        guard basis.hasPrefix("checkpoint ") else { return nil }
        let text = String(basis.dropFirst("checkpoint ".count))
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return ISO8601DateFormatter().date(from: text) ?? fractional.date(from: text)
    }

    private func reconcile() -> (PaymentFigures?, String?, [String]) {
        guard topology.reconcile != nil else { return (nil, nil, []) }
        do {
            let reconciler = try Reconciler(
                clients: clients,
                options: ReconcileOptions(
                    since: options.since, grace: options.grace, requestTimeout: options.requestTimeout, readOnly: true,
                    describeReplication: false),
                logger: logger)
            let report = try reconciler.run()
            let examples = report.shownFindings.filter(\.kind.breaksRPO).prefix(5).map { "\($0.eventID) \($0.kind.rawValue)" }
            return (PaymentFigures(
                committed: report.committed, inTarget: report.inTarget, notReplicated: report.findings.count(.notReplicated),
                neverPublished: report.findings.count(.neverPublished), unknownAtSource: report.findings.count(.unknownAtSource),
                mismatched: report.findings.count(.mismatch),
                missingAmounts: report.missingAmounts.mapValues(\.description), examples: Array(examples), from: report.windowStart, to: report.windowEnd),
                    nil, report.warnings)
        } catch {
            return (nil, error.message, [])
        }
    }

    /// The age of the newest record in the heartbeat topic, over its partitions.
    private func newestHeartbeat(_ topic: TopicMetadata) -> HeartbeatFacts {
        do {
            let consumer = try KafkaConsumer(
                configuration: clients.configuration(.target, job: "drill"),
                groupID: "regionbridge.\(topology.pair).drill",
                defaults: ["fetch.wait.max.ms": "10"], overrides: ["enable.partition.eof": "true", "enable.auto.commit": "false"], logger: logger)
            defer { consumer.close() }
            var newest: Int64?
            for partition in topic.partitions {
                let tp = TopicPartition(topic.name, partition)
                let (low, high) = try consumer.queryWatermarks(tp, timeout: options.requestTimeout)
                guard high > low else { continue }
                try consumer.assign([(tp, .offset(max(low, high - 1)))])
                defer { try? consumer.unassign([tp]) }
                let deadline = ContinuousClock.now + options.requestTimeout
                reading: while ContinuousClock.now < deadline {
                    let batch = consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
                    for record in batch.records where record.topic == tp.topic && record.partition == partition {
                        if let at = record.timestamp?.milliseconds { newest = max(newest ?? at, at) }
                    }
                    if batch.ends.contains(where: { $0.0 == tp }) { break reading }
                    if let error = batch.errors.first(where: { $0.partition == tp || $0.partition == nil && $0.error.isFatal }) {
                        return .unreadable("\(tp): \(error.error)")
                    }
                }
            }
            guard let newest else { return .age(nil) }
            return .age(max(0, Date().timeIntervalSince1970 - Double(newest) / 1000))
        } catch {
            return .unreadable("\(error)")
        }
    }
}
