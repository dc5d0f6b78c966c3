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
        // A long pair of names (the bridge's own topics) puts the target on a line of its own.
        let head = topic.topic.count + topic.targetTopic.count + 4 > 80 ? "\(topic.topic)\n  -> \(topic.targetTopic)" : "\(topic.topic) -> \(topic.targetTopic)"
        guard topic.recordsBehind > 0 else { return [head, "  caught up on \(LagWords.count(topic.partitions.count, "partition"))"] }
        var line = "  behind: \(LagWords.count(topic.recordsBehind, "record")) on \(topic.partitionsBehind) of \(LagWords.count(topic.partitions.count, "partition"))"
        if let worst = topic.worst {
            let seconds = worst.secondsBehind.map { LagWords.roughSeconds($0) + (worst.secondsBasis?.mark ?? "") } ?? "age unknown"
            line += topic.partitions.count == 1 ? "; \(seconds)" : "; worst \(worst.source), \(seconds)"
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
        if let legend = legend(partitions) { out += ["", legend] }
        return out
    }

    /// The columns of the per-topic summary in Markdown and HTML.
    package static let topicHeader = ["TOPIC", "TARGET", "RECORDS-BEHIND", "SECONDS-BEHIND", "BASIS", "WORST PARTITION", "PARTITIONS BEHIND"]

    /// One row per data topic, or with `bridgeTopics` one per topic of the bridge's own (liveness, not data).
    package static func topicRows(_ partitions: [PartitionLag], bridgeTopics: Bool = false) -> [[String]] {
        TopicLag.group(partitions).filter { $0.isBridgeTopic == bridgeTopics }.map { topic in
            let seconds = topic.secondsBehind.map { JSONValue.seconds($0) } ?? "?"
            let basis = SecondsBasis.allCases.filter(topic.bases.contains).map(\.phrase).joined(separator: ", ")
            return [topic.topic, topic.targetTopic, String(topic.recordsBehind), seconds,
                    basis.isEmpty ? "-" : basis, topic.worst.map(\.source.description) ?? "-",
                    "\(topic.partitionsBehind) of \(topic.partitions.count)"]
        }
    }

    /// The legend of the seconds mark, when one of the partitions behind is measured by its record's own timestamp.
    package static func legend(_ partitions: [PartitionLag]) -> String? {
        partitions.contains { $0.secondsBasis == .createTime && $0.recordsBehind > 0 } ? SecondsBasis.legend : nil
    }

    /// The sections of an HTML report for lag: per data topic, the chart (`chart`, given the data partitions), the
    /// bridge's own topics under liveness, and the legend of the seconds mark.
    package static func htmlSections(_ partitions: [PartitionLag], table: ([String], [[String]]) -> String, chart: ([PartitionLag]) -> String) -> [String] {
        var sections = ["<h2>Lag per topic</h2>", table(topicHeader, topicRows(partitions))]
        sections += ["<h2>Lag per partition</h2>", HTMLText.wide(chart(partitions.filter { !BridgeTopic.matches($0.source.topic) }))]
        let bridge = topicRows(partitions, bridgeTopics: true)
        if !bridge.isEmpty {
            sections += ["<h2>Bridge topics (liveness, not data)</h2>", table(topicHeader, bridge)]
        }
        if let legend = legend(partitions) { sections.append("<p class=\"legend\">\(HTMLText.escape(legend))</p>") }
        return sections
    }

    /// The sections of a Markdown report for lag: per data topic, the bridge's own topics under liveness, the legend.
    package static func markdownSections(_ partitions: [PartitionLag], table: ([String], [[String]]) -> String) -> [String] {
        var out = ["## Lag per topic", "", table(topicHeader, topicRows(partitions)), ""]
        let bridge = topicRows(partitions, bridgeTopics: true)
        if !bridge.isEmpty { out += ["## Bridge topics (liveness, not data)", "", table(topicHeader, bridge), ""] }
        if let legend = legend(partitions) { out += [legend.replacingOccurrences(of: "*", with: "\\*"), ""] }
        return out
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
