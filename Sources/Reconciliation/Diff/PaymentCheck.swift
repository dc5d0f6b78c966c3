import Topology

/// Which cluster a record was read from.
package enum ClusterSide: Int, Sendable, Equatable {
    case source = 0
    case target = 1
}

/// One record carrying a payment's event, in the source or the target.
package struct EventCopy: Sendable, Equatable {
    package var side: ClusterSide
    package var topic: String
    package var partition: Int32
    package var offset: Int64
    /// For a target record, the source offset its provenance header names (nil when it has none).
    package var sourceOffset: Int64?
    /// The compared fields, in ``ReconcileSettings/compare`` order.
    package var fields: [String?]

    package init(side: ClusterSide, topic: String, partition: Int32, offset: Int64, sourceOffset: Int64? = nil, fields: [String?] = []) {
        self.side = side
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.sourceOffset = sourceOffset
        self.fields = fields
    }

    /// `topic/partition@offset`.
    package var location: String { "\(topic)/\(partition)@\(offset)" }
}

/// A row of the committed query: a payment Postgres has committed.
package struct CommittedPayment: Sendable, Equatable {
    package var eventID: String
    /// `committed_at`, in milliseconds since 1970.
    package var committedAt: Int64
    /// The compared columns, in ``ReconcileSettings/compare`` order.
    package var values: [String?]
    /// The amount column's text (see ``ReconcileSettings/amountColumn``); nil when NULL or when no amount is configured.
    package var amount: String?
    /// The currency column's text; nil when NULL or when no currency is configured.
    package var currency: String?

    package init(eventID: String, committedAt: Int64, values: [String?] = [], amount: String? = nil, currency: String? = nil) {
        self.eventID = eventID
        self.committedAt = committedAt
        self.values = values
        self.amount = amount
        self.currency = currency
    }
}

/// The classes of what reconciliation finds.
package enum FindingKind: String, Sendable, CaseIterable, Comparable {
    /// Committed, in the source, not in the target: the bridge has not copied it. Breaks RPO=0.
    case notReplicated = "not_replicated"
    /// Committed, in neither cluster: the publisher never sent it. Breaks RPO=0 (the DR region lacks it).
    case neverPublished = "never_published"
    /// Committed, not in the target, and the source was unreachable while the event index never saw it there:
    /// it cannot be told whether it was never published or published after the last scan. Breaks RPO=0.
    case unknownAtSource = "unknown_at_source"
    /// In the target with a compared field that differs from the committed row: corruption. Breaks RPO=0.
    case mismatch
    /// More than one record for the event in the target.
    case duplicate
    /// A record in the source with no committed row: a rolled-back payment, or a publisher fault.
    case orphan

    /// Whether a finding of this class means RPO=0 does not hold (exit 3).
    package var breaksRPO: Bool {
        switch self {
        case .notReplicated, .neverPublished, .unknownAtSource, .mismatch: true
        case .duplicate, .orphan: false
        }
    }

    /// One line for reports.
    package var meaning: String {
        switch self {
        case .notReplicated: "committed and in the source, but not replicated to the target (RPO violation)"
        case .neverPublished: "committed but never published to the source (publisher fault)"
        case .unknownAtSource: "not in the target; the source was unreachable, so it cannot be told whether it was never published or published after the last scan"
        case .mismatch: "a field of the record differs from the committed row (corruption)"
        case .duplicate: "more than one record for the event in the target"
        case .orphan: "an event in the source with no committed row (rolled back, or a publisher fault)"
        }
    }

    package static func < (lhs: FindingKind, rhs: FindingKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One thing reconciliation found about one event.
package struct Finding: Sendable, Equatable {
    package var kind: FindingKind
    package var eventID: String
    /// When the payment was committed (milliseconds since 1970); nil for orphans.
    package var committedAt: Int64?
    /// Where the evidence is (`topic/partition@offset`, comma-separated), or nil when nowhere.
    package var location: String?
    /// What exactly is wrong, for an operator.
    package var detail: String

    package init(kind: FindingKind, eventID: String, committedAt: Int64?, location: String?, detail: String) {
        self.kind = kind
        self.eventID = eventID
        self.committedAt = committedAt
        self.location = location
        self.detail = detail
    }
}

/// The verdict on one committed payment, from the records that carry its event.
package enum PaymentCheck {
    /// What is wrong with `payment`, given every record of its event in both clusters; empty when it is
    /// in the target once, with the committed values.
    /// - Parameter sourceReachable: false when this run could not read the source: `copies` then holds only the
    ///   source records an earlier scan indexed, so a payment in neither is ``FindingKind/unknownAtSource``,
    ///   not ``FindingKind/neverPublished``.
    package static func check(_ payment: CommittedPayment, copies: [EventCopy], compare: [FieldComparison], sourceReachable: Bool = true) -> [Finding] {
        let inTarget = copies.filter { $0.side == .target }
        let inSource = copies.filter { $0.side == .source }
        var findings: [Finding] = []
        func finding(_ kind: FindingKind, _ where_: [EventCopy], _ detail: String) {
            let location = where_.isEmpty ? nil : where_.map(\.location).joined(separator: ", ")
            findings.append(Finding(kind: kind, eventID: payment.eventID, committedAt: payment.committedAt, location: location, detail: detail))
        }
        if inTarget.isEmpty {
            if inSource.isEmpty && !sourceReachable {
                finding(.unknownAtSource, [], "not in the target; the source was unreachable and the event index never saw it there")
            } else if inSource.isEmpty {
                finding(.neverPublished, [], "no record with this event id in the source or the target")
            } else {
                finding(.notReplicated, inSource, "in the source at \(inSource.map(\.location).joined(separator: ", ")); not in the target")
            }
        }
        if inTarget.count > 1 {
            let sourceOffsets = inTarget.compactMap(\.sourceOffset)
            let copiedTwice = Set(sourceOffsets).count < sourceOffsets.count
            finding(.duplicate, inTarget, copiedTwice
                ? "\(inTarget.count) records in the target; the same source record was copied more than once"
                : "\(inTarget.count) records in the target, copied from \(inSource.count) published in the source")
        }
        // The DR copy is what matters; when there is none, say whether the published record was already wrong.
        for copy in inTarget.isEmpty ? inSource : inTarget {
            let differences = compare.indices.compactMap { index -> String? in
                let record = index < copy.fields.count ? copy.fields[index] : nil
                let row = index < payment.values.count ? payment.values[index] : nil
                return FieldValue.matches(record: record, row: row)
                    ? nil : "\(compare[index].field): record \(record ?? "(none)"), row \(compare[index].column) \(row ?? "NULL")"
            }
            if !differences.isEmpty {
                finding(.mismatch, [copy], differences.joined(separator: "; "))
                break
            }
        }
        return findings
    }
}

/// Counts of every class, with the first examples of each kept for the report.
package struct FindingTally: Sendable, Equatable {
    /// How many examples of each class are kept.
    package let limit: Int
    package private(set) var counts: [FindingKind: Int] = [:]
    package private(set) var examples: [FindingKind: [Finding]] = [:]

    package init(limit: Int = 100) {
        self.limit = limit
    }

    package mutating func add(_ finding: Finding) {
        counts[finding.kind, default: 0] += 1
        if examples[finding.kind, default: []].count < limit {
            examples[finding.kind, default: []].append(finding)
        }
    }

    package func count(_ kind: FindingKind) -> Int { counts[kind] ?? 0 }

    /// Findings that break RPO=0.
    package var violations: Int { counts.filter { $0.key.breaksRPO }.values.reduce(0, +) }
}
