import Failover
import Formats
import Foundation
import Kafka
import Monitoring
import Replication

/// The forms a reconcile report is written in; all carry the same facts.
package enum ReportFormat: String, Sendable, CaseIterable {
    case table, json, markdown, html

    package func render(_ report: ReconcileReport) -> String {
        switch self {
        case .table: TableReport.render(report)
        case .json: JSONReport.render(report)
        case .markdown: MarkdownReport.render(report)
        case .html: HTMLReport.render(report)
        }
    }
}

/// Cells shared by the table, Markdown and HTML forms.
enum ReportRows {
    static let countHeader = ["CLASS", "COUNT", "MEANING"]

    static func counts(_ report: ReconcileReport) -> [[String]] {
        [["committed in window", String(report.committed), "payments committed in the window"],
         ["in target", String(report.inTarget), "of those, with a record in \(report.targetRegion)"]]
            + FindingKind.allCases.map { [$0.rawValue, String(report.findings.count($0)), $0.meaning] }
    }

    static let partitionHeader = ["SOURCE", "TARGET", "LOG-START", "SOURCE-END", "TARGET-END", "LAST-REPLICATED", "RECORDS-BEHIND", "SECONDS-BEHIND", "BASIS"]

    static func partitions(_ report: ReconcileReport) -> [[String]] {
        report.partitions.map { lag in
            [lag.source.description, lag.target.description, String(lag.sourceLogStart), String(lag.sourceEnd),
             lag.targetEnd.map(String.init) ?? "-", lag.lastCopied.map(String.init) ?? "-", String(lag.recordsBehind),
             lag.secondsBehind.map { JSONValue.seconds($0) } ?? "-", LagText.basisCell(lag)]
        }
    }

    static let groupHeader = ["GROUP", "SOURCE", "SOURCE-OFFSET", "TARGET", "TARGET-OFFSET", "TO-REPLICATE"]

    static func groups(_ report: ReconcileReport) -> [[String]] {
        report.groups.map {
            [$0.group, "\($0.topic)/\($0.partition)", String($0.sourceOffset), "\($0.targetTopic)/\($0.partition)",
             String($0.targetOffset), String($0.toReplicate)]
        }
    }

    static let findingHeader = ["CLASS", "EVENT-ID", "COMMITTED-AT", "WHERE", "DETAIL"]

    static func findings(_ report: ReconcileReport) -> [[String]] {
        report.shownFindings.map {
            [$0.kind.rawValue, $0.eventID, $0.committedAt.map { ISOTime.string(milliseconds: $0) } ?? "-", $0.location ?? "-", $0.detail]
        }
    }

    static func window(_ report: ReconcileReport) -> String {
        "payments committed from \(ISOTime.string(report.windowStart)) to \(ISOTime.string(report.windowEnd)) "
            + "(cut-off \(ISOTime.string(report.until)) minus \(JSONValue.seconds(report.grace)) s grace)"
    }

    static func scan(_ report: ReconcileReport) -> String {
        "scanned \(report.sourceRecordsScanned) new source and \(report.targetRecordsScanned) new target records "
            + "(\(report.withoutEventID) without an event id) in \(JSONValue.seconds(report.scanSeconds)) s; total \(JSONValue.seconds(report.totalSeconds)) s"
    }

    /// Why the partitions and groups are not shown: the source was unreachable, so they were not read.
    static func replicationNotRead(_ report: ReconcileReport) -> String? {
        report.source.unreachable == nil ? nil : "not read: the source cluster \(report.sourceRegion) is unreachable"
    }

    static func shownLine(_ report: ReconcileReport) -> String {
        "showing \(report.shownFindings.count) of \(report.totalFindings), at most \(report.findings.limit) per class"
    }
}

enum TableReport {
    static func render(_ report: ReconcileReport) -> String {
        var out = [report.headline]
        if let line = report.sourceUnreachableLine { out.append(line) }
        out += [
            "pair \(report.pair) (\(report.sourceRegion) -> \(report.targetRegion)); \(ReportRows.window(report))",
            ReportRows.scan(report), "",
            TextTable.render([ReportRows.countHeader] + ReportRows.counts(report), width: 80), "",
            "VALUE AT RISK", TextWrap.wrap(RiskProse.headline(report)),
        ]
        out += RiskProse.classes(report).map { TextWrap.wrap($0, first: "- ", rest: "  ") }
        out += [
            TextTable.render([RiskProse.header] + RiskProse.rows(report)), "",
            "LAG PER TOPIC", ReportRows.replicationNotRead(report).map { "(\($0))" } ?? LagText.lines(report.partitions).joined(separator: "\n"), "",
            "GROUPS", ReportRows.replicationNotRead(report).map { "(\($0))" }
                ?? (report.groups.isEmpty ? "(no selected group has committed offsets)" : TextTable.render([ReportRows.groupHeader] + ReportRows.groups(report))),
            "",
            "FINDINGS (\(ReportRows.shownLine(report)))",
            report.shownFindings.isEmpty ? "(none)" : TextTable.render([ReportRows.findingHeader] + ReportRows.findings(report), width: 80),
        ]
        if !report.warnings.isEmpty {
            out += ["", "WARNINGS"] + report.warnings.map { TextWrap.wrap($0, first: "- ", rest: "  ") }
        }
        return out.joined(separator: "\n")
    }
}

enum MarkdownReport {
    static func render(_ report: ReconcileReport) -> String {
        func table(_ header: [String], _ rows: [[String]]) -> String {
            func line(_ cells: [String]) -> String {
                "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }.joined(separator: " | ") + " |"
            }
            return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n")
        }
        var out = [
            "# Reconciliation of \(report.pair)", "",
            "**\(report.headline)**", "",
        ]
        if let line = report.sourceUnreachableLine { out += ["**\(line)**", ""] }
        out += [
            "- \(report.sourceRegion) → \(report.targetRegion); \(ReportRows.window(report))",
            "- \(ReportRows.scan(report))", "",
            "## Value at risk", "",
        ]
        out += [RiskProse.headline(report), ""]
        let sentences = RiskProse.classes(report)
        if !sentences.isEmpty { out += sentences.map { "- \($0)" } + [""] }
        out += [
            table(RiskProse.header, RiskProse.rows(report)), "",
            "## Counts", "", table(ReportRows.countHeader, ReportRows.counts(report)), "",
        ]
        out += ReportRows.replicationNotRead(report).map { _ in ["## Lag per topic", "", "Not read: the source cluster \(report.sourceRegion) is unreachable.", ""] }
            ?? LagText.markdownSections(report.partitions, table: table)
        out += [
            "## Partitions", "", ReportRows.replicationNotRead(report).map { _ in "Not read: the source cluster \(report.sourceRegion) is unreachable." }
                ?? table(ReportRows.partitionHeader, ReportRows.partitions(report)), "",
            "## Groups", "",
            ReportRows.replicationNotRead(report).map { _ in "Not read: the source cluster \(report.sourceRegion) is unreachable." }
                ?? (report.groups.isEmpty ? "No selected group has committed offsets." : table(ReportRows.groupHeader, ReportRows.groups(report))), "",
            "## Findings", "", ReportRows.shownLine(report), "",
            report.shownFindings.isEmpty ? "None." : table(ReportRows.findingHeader, ReportRows.findings(report)),
        ]
        if !report.warnings.isEmpty {
            out += ["", "## Warnings", ""] + report.warnings.map { "- \($0)" }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

enum JSONReport {
    static func render(_ report: ReconcileReport) -> String {
        let counts = JSONObject(
            [("committed", JSONValue.integer(Int64(report.committed))), ("in_target", .integer(Int64(report.inTarget)))]
                + FindingKind.allCases.map { ($0.rawValue, JSONValue.integer(Int64(report.findings.count($0)))) })
        let groups = report.groups.map { position in
            JSONValue.object(JSONObject([
                ("group", .string(position.group)),
                ("partition", .integer(Int64(position.partition))),
                ("source_offset", .integer(position.sourceOffset)),
                ("target_offset", .integer(position.targetOffset)),
                ("target_topic", .string(position.targetTopic)),
                ("to_replicate", .integer(position.toReplicate)),
                ("topic", .string(position.topic)),
            ]))
        }
        let findings = report.shownFindings.map { finding in
            JSONValue.object(JSONObject([
                ("breaks_rpo", .bool(finding.kind.breaksRPO)),
                ("class", .string(finding.kind.rawValue)),
                ("committed_at", finding.committedAt.map { .string(ISOTime.string(milliseconds: $0)) } ?? .null),
                ("detail", .string(finding.detail)),
                ("event_id", .string(finding.eventID)),
                ("location", finding.location.map { .string($0) } ?? .null),
            ]))
        }
        let risk = report.valueAtRisk
        func atRisk(_ entry: PaymentsAtRisk) -> JSONValue {
            .object(JSONObject([
                ("amount", risk.amountConfigured
                    ? .object(JSONObject(entry.amounts.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value.description)) })) : .null),
                ("payments", .integer(Int64(entry.payments))),
                ("without_amount", .integer(Int64(entry.withoutAmount))),
            ]))
        }
        let valueAtRisk = JSONObject([
            ("amount_configured", .bool(risk.amountConfigured)),
            ("classes", .object(JSONObject(ValueAtRisk.classes.sorted { $0.rawValue < $1.rawValue }.map { ($0.rawValue, atRisk(risk.of($0))) }))),
            ("total", atRisk(risk.total)),
        ])
        let source = JSONObject([
            ("error", report.source.unreachable.map { .string($0) } ?? .null),
            ("knowledge_age_seconds", report.source.ageSeconds(at: report.generatedAt).map { .integer(Int64($0)) } ?? .null),
            ("knowledge_from", report.source.scannedAt.map { .string(ISOTime.string($0)) } ?? .null),
            ("reachable", .bool(report.source.unreachable == nil)),
        ])
        let root = JSONObject([
            ("counts", .object(counts)),
            ("findings", .array(findings)),
            ("findings_shown", .integer(Int64(report.shownFindings.count))),
            ("findings_total", .integer(Int64(report.totalFindings))),
            ("generated_at", .string(ISOTime.string(report.generatedAt))),
            ("groups", .array(groups)),
            ("headline", .string(report.headline)),
            ("pair", .string(report.pair)),
            ("partitions", .array(report.partitions.map { .object($0.jsonObject) })),
            ("rpo_zero", .bool(report.rpoZero)),
            ("scan", .object(JSONObject([
                ("seconds", .seconds(report.scanSeconds)),
                ("source_records", .integer(Int64(report.sourceRecordsScanned))),
                ("target_records", .integer(Int64(report.targetRecordsScanned))),
                ("total_seconds", .seconds(report.totalSeconds)),
                ("without_event_id", .integer(Int64(report.withoutEventID))),
            ]))),
            ("source", .object(source)),
            ("source_region", .string(report.sourceRegion)),
            ("target_region", .string(report.targetRegion)),
            ("value_at_risk", .object(valueAtRisk)),
            ("verdict", .string(report.verdict)),
            ("version", .integer(1)),
            ("violations", .integer(Int64(report.findings.violations))),
            ("warnings", .array(report.warnings.map { .string($0) })),
            ("window", .object(JSONObject([
                ("from", .string(ISOTime.string(report.windowStart))),
                ("grace_seconds", .seconds(report.grace)),
                ("to", .string(ISOTime.string(report.windowEnd))),
                ("until", .string(ISOTime.string(report.until))),
            ]))),
        ])
        return JSONValue.object(root).render(pretty: true, indent: "")
    }
}
