import Foundation
import Monitoring
import Replication
import Topology

/// What the drill read about one replicated topic on both sides.
package struct TopicParityFacts: Sendable, Equatable {
    /// Source topic.
    package var source: String
    /// Its target topic (after `topics.rename`).
    package var target: String
    /// Partitions of the source topic.
    package var sourcePartitions: Int
    /// Partitions of the target topic; nil when it does not exist.
    package var targetPartitions: Int?
    /// Configuration entries of the source topic as DescribeConfigs answered them (nil values left out).
    package var sourceConfig: [String: String]
    /// Configuration entries of the target topic.
    package var targetConfig: [String: String]
    /// Why the configurations could not be read, if they could not.
    package var configFailure: String?

    /// Creates the facts of one topic.
    package init(
        source: String, target: String, sourcePartitions: Int, targetPartitions: Int?, sourceConfig: [String: String] = [:],
        targetConfig: [String: String] = [:], configFailure: String? = nil
    ) {
        self.source = source
        self.target = target
        self.sourcePartitions = sourcePartitions
        self.targetPartitions = targetPartitions
        self.sourceConfig = sourceConfig
        self.targetConfig = targetConfig
        self.configFailure = configFailure
    }
}

/// Target parity: every replicated topic has its target topic, with at least its partitions and the same
/// configuration where it matters for DR; and the bridge's own topics exist.
package enum ParityCheck {
    /// How one configuration entry must compare between source (`s`) and target (`t`).
    package enum Rule: Sendable {
        /// The target keeps records at least as long: `t >= s`, with `-1` meaning forever.
        case atLeastAsLong
        /// The target accepts records at least as large: `t >= s`.
        case atLeast
        /// The same value (a comma-separated list compares as a set).
        case same
    }

    /// The compared entries and their rules.
    package static let compared: [(key: String, rule: Rule)] = [
        ("retention.ms", .atLeastAsLong), ("cleanup.policy", .same), ("max.message.bytes", .atLeast), ("min.insync.replicas", .same),
    ]

    /// The line for one replicated topic.
    package static func topic(_ facts: TopicParityFacts, sourceRegion: String, targetRegion: String) -> DrillCheck {
        let subject = "\(facts.source) -> \(facts.target)"
        guard let targetPartitions = facts.targetPartitions else {
            return DrillCheck(.parity, subject, "missing in \(targetRegion)", .fail,
                              cause: "target topic \(facts.target) does not exist in \(targetRegion) (source \(facts.source) has \(Figures.count(facts.sourcePartitions, "partition")))",
                              action: FirstStep(.parity, "create \(facts.target) in \(targetRegion) with \(Figures.count(facts.sourcePartitions, "partition")) (or run the bridge, which does)"))
        }
        var causes: [String] = []
        var steps: [String] = []
        var warnings: [String] = []
        var unreported: [String] = []
        var figures = ["\(targetPartitions)/\(facts.sourcePartitions) partitions"]
        if targetPartitions < facts.sourcePartitions {
            causes.append("\(facts.target) has \(Figures.count(targetPartitions, "partition")) in \(targetRegion), \(facts.source) has \(facts.sourcePartitions) in \(sourceRegion): "
                + "partitions \(targetPartitions)...\(facts.sourcePartitions - 1) cannot be replicated")
            steps.append("add partitions to \(facts.target) in \(targetRegion): \(targetPartitions) of \(facts.sourcePartitions)")
        }
        if let failure = facts.configFailure {
            causes.append("cannot compare the configuration of \(facts.source) and \(facts.target): \(failure)")
        } else {
            for (key, rule) in compared {
                switch (facts.sourceConfig[key], facts.targetConfig[key]) {
                case (nil, nil):
                    unreported.append(key)
                case (let s?, nil):
                    causes.append("\(key) of \(facts.target) is not reported by \(targetRegion) (\(facts.source): \(s)): cannot show it is the same")
                case (nil, let t?):
                    causes.append("\(key) of \(facts.source) is not reported by \(sourceRegion) (\(facts.target): \(t)): cannot show it is the same")
                case (let s?, let t?):
                    figures.append("\(key) \(t)\(t == s ? "" : " (source \(s))")")
                    if let problem = compare(key, rule, source: s, target: t) {
                        causes.append("\(key) of \(facts.target) is \(t) in \(targetRegion), \(s) for \(facts.source) in \(sourceRegion): \(problem)")
                        steps.append(rule == .same ? "set \(key) of \(facts.target) in \(targetRegion) to \(s) (now \(t))"
                            : "raise \(key) of \(facts.target) in \(targetRegion) to at least \(s) (now \(t))")
                    }
                }
            }
        }
        if !unreported.isEmpty {
            warnings.append("neither cluster reports \(unreported.joined(separator: ", ")) for \(facts.source) and \(facts.target): not compared")
        }
        let figure = figures.joined(separator: "; ")
        if !causes.isEmpty {
            return DrillCheck(.parity, subject, figure, .fail, cause: causes.joined(separator: "; "),
                              action: steps.first.map { FirstStep(.parity, $0) })
        }
        if !warnings.isEmpty { return DrillCheck(.parity, subject, figure, .warn, cause: warnings.joined(separator: "; ")) }
        return DrillCheck(.parity, subject, figure, .pass)
    }

    /// The lines for every replicated topic, the configuration entries that neither cluster reports said once:
    /// a broker that reports no configuration (tansu) would otherwise give the same warning for every topic.
    package static func topics(_ facts: [TopicParityFacts], sourceRegion: String, targetRegion: String) -> [DrillCheck] {
        var lines: [DrillCheck] = []
        var unreported: [String: [String]] = [:]  // the keys, joined -> the topics
        var order: [String] = []
        for topic in facts {
            let keys = topic.targetPartitions == nil || topic.configFailure != nil
                ? [] : compared.map(\.key).filter { topic.sourceConfig[$0] == nil && topic.targetConfig[$0] == nil }
            var line = self.topic(topic, sourceRegion: sourceRegion, targetRegion: targetRegion)
            if !keys.isEmpty {
                let key = keys.joined(separator: ", ")
                if unreported[key] == nil { order.append(key) }
                unreported[key, default: []].append("\(topic.source) -> \(topic.target)")
                if line.status == .warn {
                    line.status = .pass
                    line.cause = nil
                }
                line.figure += "; not reported: \(key)"
            }
            lines.append(line)
        }
        for key in order {
            let topics = unreported[key] ?? []
            let named = topics.prefix(3).joined(separator: ", ") + (topics.count > 3 ? " and \(topics.count - 3) more" : "")
            let cause = topics.count == facts.count && topics.count > 1
                ? "neither cluster reports \(key) for any of the \(topics.count) replicated topics: not compared"
                : "neither cluster reports \(key) for \(named): not compared"
            lines.append(DrillCheck(.parity, "topic configuration", "\(key) not reported for \(Figures.count(topics.count, "topic"))", .warn, cause: cause))
        }
        return lines
    }

    /// Why the target's value falls short of the source's under `rule`, or nil when it does not.
    static func compare(_ key: String, _ rule: Rule, source: String, target: String) -> String? {
        switch rule {
        case .atLeastAsLong:
            guard let s = Int64(source), let t = Int64(target) else { return source == target ? nil : "not comparable" }
            let forever = Int64.max
            let (sv, tv) = (s < 0 ? forever : s, t < 0 ? forever : t)
            return tv < sv ? "shorter in the DR region: records would be deleted there before they are in the source" : nil
        case .atLeast:
            guard let s = Int64(source), let t = Int64(target) else { return source == target ? nil : "not comparable" }
            return t < s ? "smaller in the DR region: a record the source accepts could be refused there" : nil
        case .same:
            let set = { (text: String) in Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
            return set(source) == set(target) ? nil : "differs"
        }
    }

    /// Liveness lines for the bridge's own topics in the target: offset syncs and checkpoints (needed when group
    /// sync is on), alerts (created with the first alert), heartbeats (only when present). They are the bridge's
    /// machinery, not replicated data: shown under liveness, and one not created yet is no warning.
    package static func bridgeTopics(existing: Set<String>, topology: Topology) -> [DrillCheck] {
        let target = topology.target.region
        let groupSync = !topology.groups.include.isEmpty
        var checks: [DrillCheck] = []
        for topic in [topology.offsetSyncsTopic, topology.checkpointsTopic] {
            if existing.contains(topic) {
                checks.append(DrillCheck(.liveness, topic, "exists in \(target)", .pass))
            } else if groupSync {
                checks.append(DrillCheck(.liveness, topic, "missing in \(target)", .fail,
                                         cause: "\(topic) does not exist in \(target): the bridge creates it at its first group sync; without it failover has no checkpoint when the source is lost",
                                         action: FirstStep(.failover, "run the bridge until it syncs the groups once: \(topic) does not exist in \(target)")))
            } else {
                checks.append(DrillCheck(.liveness, topic, "not needed: group sync is off (groups.include: [])", .skip))
            }
        }
        let alerts = DrillTopics.alerts(topology)
        checks.append(existing.contains(alerts)
            ? DrillCheck(.liveness, alerts, "exists in \(target)", .pass)
            : DrillCheck(.liveness, alerts, "not created yet (the bridge creates it with its first alert)", .skip))
        let heartbeats = DrillTopics.heartbeats(topology)
        checks.append(existing.contains(heartbeats)
            ? DrillCheck(.liveness, heartbeats, "exists in \(target)", .pass)
            : DrillCheck(.liveness, heartbeats, "not configured", .skip))
        return checks
    }
}

/// Names of the bridge's own topics in the target cluster that the drill looks for.
package enum DrillTopics {
    /// `regionbridge.<pair>.alerts`.
    package static func alerts(_ topology: Topology) -> String { KafkaAlertSink.topic(for: topology) }
    /// The copy of the source's `regionbridge.<pair>.heartbeats` (``Topology/heartbeatCopyTopic``, e.g.
    /// `us-east.regionbridge.<pair>.heartbeats`): present once the bridge writes heartbeats.
    package static func heartbeats(_ topology: Topology) -> String { topology.heartbeatCopyTopic }
}
