import Formats
import Foundation
import Kafka
import Monitoring
import Replication
import Topology

/// One self-contained HTML file, verdict first: inline CSS and an inline SVG lag chart, no external assets.
enum DrillHTML {
    static func render(_ report: DrillReport) -> String {
        func table(_ header: [String], _ rows: [[String]], statusColumn: Int? = nil) -> String {
            let head = header.map { "<th>\(escape($0))</th>" }.joined()
            let body = rows.map { row in
                "<tr>" + row.enumerated().map { index, cell in
                    index == statusColumn ? "<td class=\"\(escape(cell.lowercased()))\">\(escape(cell))</td>" : "<td>\(escape(cell))</td>"
                }.joined() + "</tr>"
            }.joined(separator: "\n")
            return HTMLText.wide("<table>\n<thead><tr>\(head)</tr></thead>\n<tbody>\n\(body)\n</tbody>\n</table>")
        }
        func list(_ items: [String]) -> String {
            "<ul>\n" + items.map { "<li>\(escape($0).replacingOccurrences(of: "\n", with: "<br>"))</li>" }.joined(separator: "\n") + "\n</ul>"
        }
        let verdict = report.verdict
        var sections = [
            "<h1>DR readiness drill of \(escape(report.pair))</h1>",
            HTMLText.verdict(report.headline, ok: verdict.ready),
            "<p>\(escape(report.context))</p>",
        ]
        if !verdict.causes.isEmpty { sections += ["<h2>Causes</h2>", list(DrillRows.causes(verdict.causes))] }
        sections += report.partitions.isEmpty
            ? ["<h2>Lag per topic</h2>", "<p>Not measured.</p>"]
            : LagText.htmlSections(report.partitions, table: { table($0, $1) }, chart: {
                LagSecondsChart.svg($0, maxLagSeconds: report.settings.maxLagSeconds)
            })
        sections += ["<h2>Checks</h2>", table(DrillRows.checkHeader, DrillRows.checks(report), statusColumn: 0)]
        if !verdict.warnings.isEmpty { sections += ["<h2>Warnings</h2>", list(DrillRows.causes(verdict.warnings))] }
        sections += ["<h2>Partitions</h2>",
                     report.partitions.isEmpty ? "<p>Not measured.</p>" : table(DrillRows.partitionHeader, DrillRows.partitions(report))]
        sections += ["<h2>Groups</h2>",
                     report.positions.isEmpty ? "<p>No group to move.</p>" : table(DrillRows.groupHeader, DrillRows.groups(report))]
        return HTMLText.page(title: "RegionBridge DR drill: \(report.pair) \(verdict.label)", sections: sections)
    }

    static func escape(_ text: String) -> String { HTMLText.escape(text) }
}

/// A horizontal bar chart of seconds behind per partition with the `max_lag_seconds` limit drawn, as inline SVG.
enum LagSecondsChart {
    static func svg(_ partitions: [PartitionLag], maxLagSeconds: Double) -> String {
        guard !partitions.isEmpty else { return "<p>Not measured.</p>" }
        // Labels take what the longest needs (about 7 px a character at 11 px), so that a phone sees the bars.
        let longest = partitions.map(\.source.description.count).max() ?? 0
        let barHeight = 18, gap = 6, labelWidth = min(220, max(60, longest * 7 + 8)), barWidth = 420, valueWidth = 260, top = 16
        let height = top + partitions.count * (barHeight + gap) + gap
        let largest = max(maxLagSeconds * 1.25, partitions.compactMap(\.secondsBehind).max() ?? 0, 1)
        func x(_ seconds: Double) -> Int { labelWidth + Int(Double(barWidth) * min(seconds, largest) / largest) }
        let limitX = x(maxLagSeconds)
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + valueWidth)\" height=\"\(height)\" "
                + "role=\"img\" aria-label=\"seconds behind per partition\">",
            "<line x1=\"\(limitX)\" y1=\"\(top - 4)\" x2=\"\(limitX)\" y2=\"\(height)\" stroke=\"#8a1010\" stroke-dasharray=\"4 3\"/>",
            "<text x=\"\(limitX + 4)\" y=\"11\">max_lag_seconds \(JSONValue.seconds(maxLagSeconds))</text>",
        ]
        for (index, lag) in partitions.enumerated() {
            let y = top + gap + index * (barHeight + gap)
            let seconds = lag.secondsBehind
            let over = seconds.map { $0 > maxLagSeconds } ?? (lag.recordsBehind > 0)
            let width = (seconds ?? 0) == 0 ? 0 : max(2, x(seconds ?? 0) - labelWidth)
            let color = over ? "#c0392b" : (lag.recordsBehind == 0 ? "#3a9a3a" : "#d2a01e")
            let label = seconds.map { Figures.seconds($0) + (lag.secondsBasis?.mark ?? "") } ?? "? s"
            parts.append("<text x=\"0\" y=\"\(y + 13)\">\(DrillHTML.escape(lag.source.description))</text>")
            parts.append("<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(width)\" height=\"\(barHeight)\" fill=\"\(color)\"/>")
            parts.append("<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 13)\">\(label) behind, \(Figures.count(lag.recordsBehind, "record"))</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
