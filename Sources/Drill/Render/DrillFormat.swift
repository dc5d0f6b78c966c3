import Failover
import Formats
import Foundation
import Kafka
import Monitoring
import Replication
import Topology

/// The forms a drill report is written in; all carry the same facts.
package enum DrillFormat: String, Sendable, CaseIterable {
    /// Text for a terminal: the verdict line, the checks, the causes, the partitions and the groups.
    case table
    /// One JSON object, keys sorted, `version` 1.
    case json
    /// The same sections in Markdown.
    case markdown
    /// One self-contained HTML file, verdict first, with an inline SVG lag chart.
    case html

    /// The report in this form.
    package func render(_ report: DrillReport) -> String {
        switch self {
        case .table: DrillTable.render(report)
        case .json: DrillJSON.render(report)
        case .markdown: DrillMarkdown.render(report)
        case .html: DrillHTML.render(report)
        }
    }
}

/// Cells shared by the table, Markdown and HTML forms.
enum DrillRows {
    static let checkHeader = ["RESULT", "AREA", "CHECK", "FIGURE"]

    static func checks(_ report: DrillReport) -> [[String]] {
        report.checks.map { [$0.status.label, $0.area.rawValue, $0.subject, $0.figure] }
    }

    static func causes(_ checks: [DrillCheck]) -> [String] {
        checks.map { "\($0.area.rawValue), \($0.subject): \($0.cause ?? $0.figure)" }
    }

    static let partitionHeader = ["SOURCE", "TARGET", "SOURCE-END", "LAST-COPIED", "RECORDS-BEHIND", "SECONDS-BEHIND", "BASIS"]

    static func partitions(_ report: DrillReport) -> [[String]] {
        report.partitions.map { lag in
            [lag.source.description, lag.target.description, String(lag.sourceEnd), lag.lastCopied.map(String.init) ?? "-",
             String(lag.recordsBehind), lag.secondsBehind.map { JSONValue.seconds($0) } ?? "?", LagText.basisCell(lag)]
        }
    }

    static let groupHeader = ["GROUP", "SOURCE", "SOURCE-OFFSET", "TARGET", "WOULD-COMMIT", "COMMITTED-IN-TARGET", "TO-REPLICATE", "BASIS"]

    static func groups(_ report: DrillReport) -> [[String]] {
        report.positions.map {
            [$0.group, "\($0.topic)/\($0.partition)", String($0.sourceOffset), "\($0.targetTopic)/\($0.partition)", String($0.targetOffset),
             $0.committedInTarget.map(String.init) ?? "-", String($0.toReplicate), $0.basis]
        }
    }
}

enum DrillTable {
    static func render(_ report: DrillReport) -> String {
        let verdict = report.verdict
        var out = [report.headline, report.context]
        // Prose wrapped at 80 columns between words; the verdict line stays one line (scripts and --output read it).
        func bullet(_ text: String) -> String {
            text.split(separator: "\n").map { TextWrap.wrap(String($0), first: "- ", rest: "  ") }.joined(separator: "\n  ")
        }
        if !verdict.causes.isEmpty { out += ["", "CAUSES"] + DrillRows.causes(verdict.causes).map(bullet) }
        if !verdict.warnings.isEmpty { out += ["", "WARNINGS"] + DrillRows.causes(verdict.warnings).map(bullet) }
        out += ["", "LAG PER TOPIC"] + (report.partitions.isEmpty ? ["(not measured)"] : LagText.lines(report.partitions))
        out += ["", "CHECKS", DrillTable.checks(report)]
        out += ["", "GROUPS",
                report.positions.isEmpty ? "(no group to move)" : TextTable.render([DrillTable.groupHeader] + DrillTable.groups(report))]
        return out.joined(separator: "\n")
    }

    /// The groups for a terminal, narrower than Markdown's: `topic/partition@offset` in the source and what would be
    /// committed in the target.
    static let groupHeader = ["GROUP", "SOURCE", "WOULD-COMMIT", "IN-TARGET", "TO-COPY", "BASIS"]

    static func groups(_ report: DrillReport) -> [[String]] {
        report.positions.map {
            [$0.group, "\($0.topic)/\($0.partition)@\($0.sourceOffset)", "\($0.targetTopic)/\($0.partition)@\($0.targetOffset)",
             $0.committedInTarget.map(String.init) ?? "-", String($0.toReplicate), $0.basis]
        }
    }

    /// The checks for a terminal: a short line per check (result, area, subject) and its figure indented under
    /// it, so that a long figure wraps on its own line in 80 columns instead of pushing a four-column table apart.
    static func checks(_ report: DrillReport) -> String {
        report.checks.map { check in
            "\(check.status.label.padding(toLength: 4, withPad: " ", startingAt: 0))  \(check.area.rawValue): \(check.subject)\n"
                + TextWrap.wrap(check.figure, first: "      ", rest: "      ")
        }.joined(separator: "\n")
    }
}

enum DrillMarkdown {
    static func render(_ report: DrillReport) -> String {
        func table(_ header: [String], _ rows: [[String]]) -> String {
            func line(_ cells: [String]) -> String {
                "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }.joined(separator: " | ") + " |"
            }
            return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n")
        }
        let verdict = report.verdict
        var out = ["# DR readiness drill of \(report.pair)", "", "**\(report.headline)**", "", report.context, ""]
        if !verdict.causes.isEmpty {
            out += ["## Causes", ""] + DrillRows.causes(verdict.causes).map { "- " + $0.replacingOccurrences(of: "\n", with: " ") } + [""]
        }
        out += ["## Checks", "", table(DrillRows.checkHeader, DrillRows.checks(report)), ""]
        if !verdict.warnings.isEmpty {
            out += ["## Warnings", ""] + DrillRows.causes(verdict.warnings).map { "- " + $0 } + [""]
        }
        out += report.partitions.isEmpty ? ["## Lag per topic", "", "Not measured.", ""] : LagText.markdownSections(report.partitions, table: table)
        out += ["## Partitions", "",
                report.partitions.isEmpty ? "Not measured." : table(DrillRows.partitionHeader, DrillRows.partitions(report)), ""]
        out += ["## Groups", "", report.positions.isEmpty ? "No group to move." : table(DrillRows.groupHeader, DrillRows.groups(report))]
        return out.joined(separator: "\n") + "\n"
    }
}

enum DrillJSON {
    static func render(_ report: DrillReport) -> String {
        let checks = report.checks.map { check in
            JSONValue.object(JSONObject([
                ("area", .string(check.area.key)),
                ("action", check.action.map { .string($0.text) } ?? .null),
                ("cause", check.cause.map { .string($0) } ?? .null),
                ("check", .string(check.subject)),
                ("figure", .string(check.figure)),
                ("status", .string(check.status.rawValue)),
            ]))
        }
        let groups = report.positions.map { position in
            JSONValue.object(JSONObject([
                ("basis", .string(position.basis)),
                ("committed_in_target", position.committedInTarget.map { .integer($0) } ?? .null),
                ("group", .string(position.group)),
                ("partition", .integer(Int64(position.partition))),
                ("source_offset", .integer(position.sourceOffset)),
                ("target_offset", .integer(position.targetOffset)),
                ("target_topic", .string(position.targetTopic)),
                ("to_replicate", .integer(position.toReplicate)),
                ("topic", .string(position.topic)),
            ]))
        }
        let payments: JSONValue = report.payments.map { figures in
            .object(JSONObject([
                ("committed", .integer(Int64(figures.committed))),
                ("in_target", .integer(Int64(figures.inTarget))),
                ("mismatch", .integer(Int64(figures.mismatched))),
                ("missing_amounts", .object(JSONObject(figures.missingAmounts.sorted { $0.key < $1.key }.map {
                    ($0.key, JSONValue.string($0.value))
                }))),
                ("never_published", .integer(Int64(figures.neverPublished))),
                ("not_replicated", .integer(Int64(figures.notReplicated))),
                ("unknown_at_source", .integer(Int64(figures.unknownAtSource))),
                ("window", .object(JSONObject([("from", .string(ISOTime.string(figures.from))), ("to", .string(ISOTime.string(figures.to)))]))),
            ]))
        } ?? .null
        let rto: JSONValue = report.rto.map { estimate in
            func finite(_ value: Double?) -> JSONValue { value.flatMap { $0.isFinite ? JSONValue.seconds($0) : nil } ?? .null }
            return .object(JSONObject([
                ("backlog_records", estimate.backlogRecords.map { .integer($0) } ?? .null),
                ("copied_in_sample", .integer(estimate.copiedInSample)),
                ("estimate_seconds", finite(estimate.totalSeconds)),
                ("failover_seconds", .seconds(estimate.failoverSeconds)),
                ("groups", .integer(Int64(estimate.groups))),
                ("records_per_second", finite(estimate.throughput)),
                ("replication_seconds", finite(estimate.replicationSeconds)),
                ("rto_seconds", .seconds(estimate.rtoSeconds)),
                ("sample_seconds", .seconds(estimate.sampleSeconds)),
            ]))
        } ?? .null
        let root = JSONObject([
            ("checks", .array(checks)),
            ("drill_seconds", .seconds(report.seconds)),
            ("exit_code", .integer(Int64(report.exitCode))),
            ("generated_at", .string(ISOTime.string(report.generatedAt))),
            ("groups", .array(groups)),
            ("headline", .string(report.headline)),
            ("max_lag_seconds", .seconds(report.settings.maxLagSeconds)),
            ("pair", .string(report.pair)),
            ("partitions", .array(report.partitions.map { .object($0.jsonObject) })),
            ("payments", payments),
            ("ready", .bool(report.verdict.ready)),
            ("rto", rto),
            ("source_region", .string(report.sourceRegion)),
            ("target_region", .string(report.targetRegion)),
            ("verdict", .string(report.verdictLine)),
            ("version", .integer(1)),
        ])
        return JSONValue.object(root).render(pretty: true, indent: "")
    }
}
