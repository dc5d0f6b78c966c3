import Formats
import Foundation
import Kafka

/// The lag of a pair's partitions for a person: grouped per topic with the worst partition named, the bridge's
/// own topics apart (liveness, not data), every seconds figure marked with its basis. Shared by the table,
/// Markdown and HTML forms of `lag`, `drill` and `reconcile`.
package enum LagText {
    /// Two lines that fit 80 columns: `ledger -> us-east.ledger`, then
    /// `  behind: 20000 records on 6 of 6 partitions; worst ledger/3, 104 s*` (the mark of ``SecondsBasis/mark``)
    /// or `  caught up on 6 partitions`.
    package static func topicLines(_ topic: TopicLag) -> [String] {
        let head = "\(topic.topic) -> \(topic.targetTopic)"
        guard topic.recordsBehind > 0 else { return [head, "  caught up on \(LagWords.count(topic.partitions.count, "partition"))"] }
        var line = "  behind: \(LagWords.count(topic.recordsBehind, "record")) on \(topic.partitionsBehind) of \(LagWords.count(topic.partitions.count, "partition"))"
        if let worst = topic.worst {
            let seconds = worst.secondsBehind.map { LagWords.roughSeconds($0) + (worst.secondsBasis?.mark ?? "") } ?? "age unknown"
            line += "; worst \(worst.source), \(seconds)"
        }
        return [head, line]
    }

    /// Columns of a topic's partitions in a terminal; narrow enough for 80 columns (the topic line names the topics).
    package static let partitionHeader = ["PARTITION", "LOG-START", "SOURCE-END", "TARGET-END", "LAST-COPIED", "BEHIND", "SECONDS"]

    /// One row per partition: offsets, records behind, seconds behind with the basis mark (``SecondsBasis/mark``).
    package static func partitionRows(_ topic: TopicLag) -> [[String]] {
        topic.partitions.map { lag in
            [String(lag.source.partition), String(lag.sourceLogStart), String(lag.sourceEnd), lag.targetEnd.map(String.init) ?? "-",
             lag.lastCopied.map(String.init) ?? "-", String(lag.recordsBehind), LagWords.secondsCell(lag)]
        }
    }

    /// Lines for a terminal: each data topic's line and its partitions, then the bridge's own topics under
    /// `BRIDGE TOPICS`, then the legend of the seconds mark when a marked figure is shown.
    package static func lines(_ partitions: [PartitionLag]) -> [String] {
        let topics = TopicLag.group(partitions)
        var out: [String] = []
        func block(_ topic: TopicLag) {
            out += topicLines(topic) + [TextTable.render([partitionHeader] + partitionRows(topic)).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")]
        }
        for topic in topics where !topic.isBridgeTopic { block(topic) }
        let bridge = topics.filter(\.isBridgeTopic)
        if !bridge.isEmpty {
            out += ["", "BRIDGE TOPICS (liveness: the bridge's own, not data)"]
            bridge.forEach(block)
        }
        if partitions.contains(where: { $0.secondsBasis == .createTime && $0.recordsBehind > 0 }) { out += ["", SecondsBasis.legend] }
        return out
    }

    /// The columns of the per-topic summary in Markdown and HTML.
    package static let topicHeader = ["TOPIC", "TARGET", "RECORDS-BEHIND", "SECONDS-BEHIND", "BASIS", "WORST PARTITION", "PARTITIONS BEHIND"]

    /// One row per topic, the data topics first, then the bridge's own (their topic marked `(bridge)`).
    package static func topicRows(_ partitions: [PartitionLag]) -> [[String]] {
        let topics = TopicLag.group(partitions)
        return (topics.filter { !$0.isBridgeTopic } + topics.filter(\.isBridgeTopic)).map { topic in
            let seconds = topic.secondsBehind.map { JSONValue.seconds($0) } ?? "?"
            let basis = SecondsBasis.allCases.filter(topic.bases.contains).map(\.phrase).joined(separator: ", ")
            return [topic.topic + (topic.isBridgeTopic ? " (bridge, liveness)" : ""), topic.targetTopic, String(topic.recordsBehind), seconds,
                    basis.isEmpty ? "-" : basis, topic.worst.map(\.source.description) ?? "-",
                    "\(topic.partitionsBehind) of \(topic.partitions.count)"]
        }
    }

    /// A partition's basis for a table cell: `log-append time`, `record timestamp`, or `-`.
    package static func basisCell(_ lag: PartitionLag) -> String {
        switch lag.secondsBasis {
        case .logAppendTime?: "log-append time"
        case .createTime?: "record timestamp"
        case nil: "-"
        }
    }
}
