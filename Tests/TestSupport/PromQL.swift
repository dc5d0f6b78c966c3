import Foundation

/// Just enough of PromQL to find the metric names an expression reads, so that dashboards and alert rules can be
/// checked against what the bridge serves.
package enum PromQL {
    /// Words that are operators or modifiers, never metric names.
    private static let keywords: Set<String> = [
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
    ]

    /// The metric names `expression` selects: every identifier that is not a function or aggregation (followed by
    /// `(`), a keyword, a label (inside `{...}` or a grouping clause), a string, a duration or a Grafana variable.
    package static func metricNames(in expression: String) -> Set<String> {
        var text = expression
        for pattern in [
            #""(?:[^"\\]|\\.)*""#, #"'(?:[^'\\]|\\.)*'"#, "`[^`]*`",  // strings
            #"\{[^}]*\}"#,  // label matchers
            #"\[[^\]]*\]"#,  // ranges and subqueries
            #"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#,  // grouping labels
            #"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"#,  // Grafana variables
        ] {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        var names: Set<String> = []
        let identifier = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*"#)
        let range = NSRange(text.startIndex..., in: text)
        for match in identifier.matches(in: text, range: range) {
            let token = String(text[Range(match.range, in: text)!])
            let after = text[Range(match.range, in: text)!.upperBound...].drop { $0 == " " || $0 == "\n" || $0 == "\t" }
            if after.first == "(" || keywords.contains(token.lowercased()) { continue }
            names.insert(token)
        }
        return names
    }

    /// The metric names a Prometheus text exposition serves: every series name, and for each `# TYPE X histogram`
    /// (or `summary`) also `X_bucket`, `X_sum` and `X_count`, and `X` itself.
    package static func servedNames(in exposition: String) -> Set<String> {
        var names: Set<String> = []
        for line in exposition.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count >= 4 else { continue }
                let name = String(parts[2])
                names.insert(name)
                if parts[3] == "histogram" || parts[3] == "summary" {
                    names.formUnion([name + "_bucket", name + "_sum", name + "_count"])
                }
            } else if !line.hasPrefix("#") {
                let name = line.prefix { $0 != "{" && $0 != " " }
                if !name.isEmpty { names.insert(String(name)) }
            }
        }
        return names
    }

    /// Every PromQL expression of a Grafana dashboard: each panel target's `expr` (rows' nested panels included)
    /// and each query variable's query.
    package static func dashboardExpressions(_ dashboard: [String: Any]) -> [String] {
        var expressions: [String] = []
        func visit(_ panels: [[String: Any]]) {
            for panel in panels {
                for target in panel["targets"] as? [[String: Any]] ?? [] {
                    if let expr = target["expr"] as? String { expressions.append(expr) }
                }
                visit(panel["panels"] as? [[String: Any]] ?? [])
            }
        }
        visit(dashboard["panels"] as? [[String: Any]] ?? [])
        for variable in (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? [] where variable["type"] as? String == "query" {
            let query = (variable["query"] as? [String: Any])?["query"] as? String ?? variable["query"] as? String
            if let query {
                // label_values(metric, label): the metric is the selector.
                expressions.append(query.replacingOccurrences(of: #"label_values\(([^,]*),[^)]*\)"#, with: "$1", options: .regularExpression))
            }
        }
        return expressions
    }
}
