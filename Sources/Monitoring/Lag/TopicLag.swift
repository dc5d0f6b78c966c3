import Formats
import Foundation
import Kafka

/// What a seconds-behind figure is measured from: the clock that stamped the oldest record not yet copied.
///
/// Decided by the record's timestamp type as the broker returned it (librdkafka's numeric timestamp type),
/// never by a topic name.
package enum SecondsBasis: String, Sendable, Equatable, CaseIterable {
    /// The broker stamped the record when it appended it (`message.timestamp.type=LogAppendTime`): the broker's clock.
    case logAppendTime = "log_append_time"
    /// The record's own timestamp, set by its producer (`CreateTime`): a producer clock, which may be off, and
    /// records produced with an old timestamp read as older than they are.
    case createTime = "create_time"

    /// The basis of a fetched record's timestamp.
    package init(_ kind: KafkaTimestamp.Kind) {
        switch kind {
        case .logAppendTime: self = .logAppendTime
        case .createTime: self = .createTime
        }
    }

    /// Words for a figure: `by log-append time`, `by record timestamp`.
    package var phrase: String {
        switch self {
        case .logAppendTime: "by log-append time"
        case .createTime: "by record timestamp"
        }
    }

    /// The mark a table puts after a seconds cell: nothing for log-append time, `*` for the record's own timestamp.
    package var mark: String {
        switch self {
        case .logAppendTime: ""
        case .createTime: "*"
        }
    }

    /// The legend of ``mark``, for the line under a table that shows a marked figure.
    package static let legend = "* by the record's own timestamp (producer's clock); unmarked: log-append time"
}

/// The bridge's own topics: machinery of the bridge, not the platform's data.
///
/// `regionbridge.<pair>.heartbeats`, `.alerts`, `.checkpoints` and `.offset-syncs`, and their copies in another
/// cluster named by `topics.rename` with a region prefix (`us-east.regionbridge.<pair>.heartbeats`). Reports show
/// them under liveness, never as data at risk.
package enum BridgeTopic {
    /// The kinds of topic the bridge writes.
    package static let kinds = ["heartbeats", "alerts", "checkpoints", "offset-syncs"]

    /// Whether `topic` is one of the bridge's own topics, or a prefixed copy of one.
    package static func matches(_ topic: String) -> Bool {
        let parts = topic.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, let kind = parts.last, kinds.contains(String(kind)) else { return false }
        // `regionbridge` opens the name, or follows one or more region prefixes; a pair name follows it.
        guard let at = parts.firstIndex(of: "regionbridge"), at < parts.count - 2 else { return false }
        return parts[..<at].allSatisfy { !$0.isEmpty } && parts[(at + 1)..<(parts.count - 1)].allSatisfy { !$0.isEmpty }
    }
}

/// The lag of one topic: its partitions' figures summed, and its worst partition named.
package struct TopicLag: Sendable, Equatable {
    /// The source topic.
    package var topic: String
    /// Its target topic.
    package var targetTopic: String
    /// Its partitions, in partition order.
    package var partitions: [PartitionLag]

    /// Groups partition figures per source topic, topics in name order.
    package static func group(_ partitions: [PartitionLag]) -> [TopicLag] {
        Dictionary(grouping: partitions, by: \.source.topic).map { topic, lags in
            TopicLag(topic: topic, targetTopic: lags[0].target.topic, partitions: lags.sorted { $0.source.partition < $1.source.partition })
        }.sorted { $0.topic < $1.topic }
    }

    /// Whether this is one of the bridge's own topics (``BridgeTopic``).
    package var isBridgeTopic: Bool { BridgeTopic.matches(topic) }

    /// Records behind, summed.
    package var recordsBehind: Int64 { partitions.reduce(0) { $0 + $1.recordsBehind } }

    /// Partitions with records behind.
    package var partitionsBehind: Int { partitions.filter { $0.recordsBehind > 0 }.count }

    /// The partition furthest behind: most seconds behind, then most records; a partition whose age is unknown
    /// ranks by records after those with a known age. Nil when nothing is behind.
    package var worst: PartitionLag? {
        partitions.filter { $0.recordsBehind > 0 }.max { a, b in
            (a.secondsBehind ?? -1, a.recordsBehind) < (b.secondsBehind ?? -1, b.recordsBehind)
        }
    }

    /// The largest known seconds behind; 0 when caught up, nil when records are behind and no age is known.
    package var secondsBehind: Double? {
        guard recordsBehind > 0 else { return 0 }
        return partitions.compactMap { $0.recordsBehind > 0 ? $0.secondsBehind : nil }.max()
    }

    /// Partitions with records behind whose age is unknown (the oldest pending record has no timestamp).
    package var unknownAge: Int { partitions.filter { $0.recordsBehind > 0 && $0.secondsBehind == nil }.count }

    /// The bases of the seconds figures of the partitions behind.
    package var bases: Set<SecondsBasis> { Set(partitions.compactMap { $0.recordsBehind > 0 ? $0.secondsBasis : nil }) }

    /// `ledger 20000 records, 104 s behind by record timestamp, worst ledger/3`, or `ledger caught up`.
    package var phrase: String {
        guard recordsBehind > 0 else { return "\(topic) caught up" }
        var text = "\(topic) \(LagWords.count(recordsBehind, "record"))"
        text += ", " + LagWords.behind(secondsBehind, bases: bases)
        if partitions.count > 1, let worst { text += ", worst \(worst.source)" }
        if unknownAge > 0 && secondsBehind != nil { text += " (\(LagWords.count(unknownAge, "partition")) of unknown age)" }
        return text
    }
}

/// Words shared by the lag, drill and reconcile reports.
package enum LagWords {
    /// `1 record`, `20000 records`.
    package static func count(_ value: some BinaryInteger, _ noun: String) -> String {
        "\(value) \(noun)\(value == 1 ? "" : "s")"
    }

    /// Seconds for a headline: whole seconds from 10 s on, else up to one decimal: `104 s`, `2.5 s`.
    package static func roughSeconds(_ value: Double) -> String {
        value >= 10 ? "\(Int(value.rounded())) s" : "\(JSONValue.seconds((value * 10).rounded() / 10)) s"
    }

    /// `104 s behind by record timestamp`; `age unknown` when no age is known; both bases named when they mix.
    package static func behind(_ seconds: Double?, bases: Set<SecondsBasis>) -> String {
        guard let seconds else { return "age unknown (no timestamp)" }
        let basis = SecondsBasis.allCases.filter(bases.contains).map(\.phrase).joined(separator: " and ")
        return "\(roughSeconds(seconds)) behind" + (basis.isEmpty ? "" : " \(basis)")
    }

    /// A seconds cell: three decimals and the basis mark (`103.939*`), `?` when unknown.
    package static func secondsCell(_ lag: PartitionLag) -> String {
        guard let seconds = lag.secondsBehind else { return "?" }
        return JSONValue.seconds(seconds) + (lag.secondsBasis?.mark ?? "")
    }

    /// What the data topics' lag comes to in one phrase: the topics behind, furthest first (at most `limit`
    /// named), or `0 records behind`.
    package static func dataBehind(_ topics: [TopicLag], limit: Int = 2) -> String {
        let behind = topics.filter { !$0.isBridgeTopic && $0.recordsBehind > 0 }
            .sorted { ($0.secondsBehind ?? .infinity, $0.recordsBehind) > ($1.secondsBehind ?? .infinity, $1.recordsBehind) }
        guard !behind.isEmpty else {
            let partitions = topics.filter { !$0.isBridgeTopic }.reduce(0) { $0 + $1.partitions.count }
            return "0 records behind on \(count(partitions, "partition"))"
        }
        let named = behind.prefix(limit).map(\.phrase).joined(separator: "; ")
        return behind.count > limit ? "\(named); and \(count(behind.count - limit, "more topic")) behind" : named
    }
}
