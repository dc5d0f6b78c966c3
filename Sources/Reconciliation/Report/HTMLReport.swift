import Formats
import Foundation
import Kafka
import Monitoring
import Replication

/// One self-contained HTML file: inline CSS and an inline SVG chart of lag per partition, no external assets.
enum HTMLReport {
    static func render(_ report: ReconcileReport) -> String {
        func table(_ header: [String], _ rows: [[String]]) -> String {
            let head = header.map { "<th>\(escape($0))</th>" }.joined()
            let body = rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n")
            return HTMLText.wide("<table>\n<thead><tr>\(head)</tr></thead>\n<tbody>\n\(body)\n</tbody>\n</table>")
        }
        let notRead = ReportRows.replicationNotRead(report).map { _ in "<p>Not read: the source cluster \(escape(report.sourceRegion)) is unreachable.</p>" }
        // The verdict line first (what is at risk, how far behind, what to do first), then the value at risk in words, then the evidence.
        var sections = [
            "<h1>Reconciliation of \(escape(report.pair))</h1>",
            HTMLText.verdict(report.headline, ok: report.rpoZero),
        ]
        sections.append("<p class=\"risk\">\(escape(RiskProse.headline(report)))</p>")
        let sentences = RiskProse.classes(report)
        if !sentences.isEmpty {
            sections.append("<ul class=\"risk\">" + sentences.map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
        }
        if let line = report.sourceUnreachableLine {
            sections.append("<p class=\"bad\">\(escape(line))</p>")
        }
        sections += [
            "<p>\(escape(report.sourceRegion)) → \(escape(report.targetRegion)); \(escape(ReportRows.window(report)))<br>\(escape(ReportRows.scan(report)))</p>",
            "<h2>Value at risk</h2>", table(RiskProse.header, RiskProse.rows(report)),
            "<h2>Counts</h2>", table(ReportRows.countHeader, ReportRows.counts(report)),
        ]
        sections += notRead.map { ["<h2>Lag per topic</h2>", $0] } ?? LagText.htmlSections(report.partitions, table: { table($0, $1) }, chart: LagChart.svg)
        sections += [
            "<h2>Partitions</h2>", notRead ?? table(ReportRows.partitionHeader, ReportRows.partitions(report)),
            "<h2>Groups</h2>",
            notRead ?? (report.groups.isEmpty ? "<p>No selected group has committed offsets.</p>" : table(ReportRows.groupHeader, ReportRows.groups(report))),
            "<h2>Findings</h2>", "<p>\(escape(ReportRows.shownLine(report)))</p>",
            report.shownFindings.isEmpty ? "<p>None.</p>" : table(ReportRows.findingHeader, ReportRows.findings(report)),
        ]
        if !report.warnings.isEmpty {
            sections += ["<h2>Warnings</h2>", "<ul>" + report.warnings.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"]
        }
        return HTMLText.page(title: "RegionBridge reconciliation: \(report.pair)", sections: sections)
    }

    static func escape(_ text: String) -> String { HTMLText.escape(text) }
}

/// A horizontal bar chart of records behind per partition, as inline SVG.
enum LagChart {
    static func svg(_ partitions: [PartitionLag]) -> String {
        guard !partitions.isEmpty else { return "<p>No partitions.</p>" }
        // Labels take what the longest needs (about 7 px a character at 11 px), so that a phone sees the bars.
        let longest = partitions.map(\.source.description.count).max() ?? 0
        let barHeight = 18, gap = 6, labelWidth = min(220, max(60, longest * 7 + 8)), barWidth = 420, valueWidth = 200
        let height = partitions.count * (barHeight + gap) + gap
        let largest = max(1, partitions.map(\.recordsBehind).max() ?? 1)
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + valueWidth)\" height=\"\(height)\" "
                + "role=\"img\" aria-label=\"records behind per partition\">",
        ]
        for (index, lag) in partitions.enumerated() {
            let y = gap + index * (barHeight + gap)
            let width = lag.recordsBehind == 0 ? 0 : max(2, Int(Double(barWidth) * Double(lag.recordsBehind) / Double(largest)))
            let color = lag.recordsBehind == 0 ? "#3a9a3a" : "#d2691e"
            let seconds = lag.secondsBehind.map { "\(JSONValue.seconds($0)) s\(lag.secondsBasis?.mark ?? "")" } ?? "? s"
            parts.append("<text x=\"0\" y=\"\(y + 13)\">\(HTMLReport.escape(lag.source.description))</text>")
            parts.append("<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(width)\" height=\"\(barHeight)\" fill=\"\(color)\"/>")
            parts.append("<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 13)\">\(lag.recordsBehind) records, \(seconds) behind</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
