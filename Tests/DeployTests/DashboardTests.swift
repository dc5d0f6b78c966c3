import Foundation
import Monitoring
import Replication
import TestSupport
import XCTest
import Yams

/// deploy/grafana/regionbridge-dashboard.json: valid JSON, importable (the datasource and the pair are
/// variables), every query reading only metrics the bridge exports, and the PrometheusRule using the same names.
/// The integration test DashboardMetricsOnTansuTests checks the same names against a running bridge's /metrics.
final class DashboardTests: XCTestCase {
    private let file = RepoPaths.root.appendingPathComponent("deploy/grafana/regionbridge-dashboard.json")

    private func dashboard() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any], "the dashboard is a JSON object")
    }

    /// The names BridgeMetrics registers, with the histogram's series.
    private let exported: Set<String> = [
        BridgeMetrics.Name.recordsReplicated, BridgeMetrics.Name.bytesReplicated, BridgeMetrics.Name.lagRecords, BridgeMetrics.Name.lagSeconds,
        BridgeMetrics.Name.errors, BridgeMetrics.Name.lastGroupSync, BridgeMetrics.Name.clusterReachable,
        BridgeMetrics.Name.latency + "_bucket", BridgeMetrics.Name.latency + "_sum", BridgeMetrics.Name.latency + "_count",
        BridgeMetrics.Name.heartbeatAge, BridgeMetrics.Name.endToEndLatency + "_bucket",
        RPOMetrics.Name.paymentsAtRisk, RPOMetrics.Name.amountAtRisk, RPOMetrics.Name.oldestAtRisk, RPOMetrics.Name.verifiedUntil,
        RPOMetrics.Name.checkDuration, RPOMetrics.Name.lastSuccess, RPOMetrics.Name.postgresReachable,
    ]

    func testThePromQLReaderFindsMetricNamesOnly() {
        XCTAssertEqual(PromQL.metricNames(in: #"histogram_quantile(0.99, sum by (le, topic) (rate(x_bucket{pair=~"$pair", a="b{c}"}[$__rate_interval])))"#), ["x_bucket"])
        XCTAssertEqual(PromQL.metricNames(in: "time() - max by (pair) (last_sync{pair=~\"$pair\"}) offset 5m"), ["last_sync"])
        XCTAssertEqual(PromQL.metricNames(in: "sum(rate(a_total[1m])) / on (pair) group_left (kind) sum(b) > bool 5 and absent(c)"), ["a_total", "b", "c"])
        XCTAssertEqual(PromQL.servedNames(in: "# TYPE h histogram\nh_bucket{le=\"1\"} 0\n# TYPE g gauge\ng{pair=\"p\"} 1.0\nc 3\n"),
                       ["h", "h_bucket", "h_sum", "h_count", "g", "c"])
    }

    func testTheDashboardIsImportReadyWithDatasourceAndPairVariables() throws {
        let dashboard = try dashboard()
        XCTAssertEqual(dashboard["uid"] as? String, "regionbridge-replication")
        XCTAssertNil(dashboard["id"] as? Int, "an exported id would clash on import")
        let variables = try XCTUnwrap((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]])
        let datasource = try XCTUnwrap(variables.first { $0["name"] as? String == "DS_PROMETHEUS" })
        XCTAssertEqual(datasource["type"] as? String, "datasource")
        XCTAssertEqual(datasource["query"] as? String, "prometheus")
        let pair = try XCTUnwrap(variables.first { $0["name"] as? String == "pair" })
        XCTAssertEqual(pair["type"] as? String, "query")
        XCTAssertEqual(pair["includeAll"] as? Bool, true)
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(panels.count, 7)
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            XCTAssertEqual((panel["datasource"] as? [String: Any])?["uid"] as? String, "${DS_PROMETHEUS}", title)
            let targets = try XCTUnwrap(panel["targets"] as? [[String: Any]], title)
            XCTAssertFalse(targets.isEmpty, title)
            for target in targets {
                XCTAssertEqual((target["datasource"] as? [String: Any])?["uid"] as? String, "${DS_PROMETHEUS}", title)
                let expr = try XCTUnwrap(target["expr"] as? String, title)
                // Every selector is narrowed to the chosen pairs.
                let selectors = expr.components(separatedBy: "regionbridge_").count - 1
                XCTAssertEqual(expr.components(separatedBy: #"{pair=~"$pair"}"#).count - 1, selectors, "\(title): \(expr)")
            }
        }
    }

    func testThePanelsTheIssueAsksForAreThere() throws {
        let expressions = PromQL.dashboardExpressions(try dashboard())
        func has(_ fragment: String) -> Bool { expressions.contains { $0.contains(fragment) } }
        XCTAssertTrue(has("rate(regionbridge_records_replicated_total"), "replication rate")
        XCTAssertTrue(has("rate(regionbridge_bytes_replicated_total"), "bytes")
        XCTAssertTrue(has("max by (pair, topic, partition) (regionbridge_lag_records"), "lag records per partition")
        XCTAssertTrue(has("max by (pair, topic, partition) (regionbridge_lag_seconds"), "lag seconds per partition")
        XCTAssertTrue(has("histogram_quantile(0.5, sum by (le, pair, topic) (rate(regionbridge_replication_latency_seconds_bucket"), "p50")
        XCTAssertTrue(has("histogram_quantile(0.99, sum by (le, pair, topic) (rate(regionbridge_replication_latency_seconds_bucket"), "p99")
        XCTAssertTrue(has("sum by (pair, kind) (increase(regionbridge_errors_total"), "errors by kind")
        XCTAssertTrue(has("time() - max by (pair) (regionbridge_last_group_sync_timestamp_seconds"), "group-sync age")
        XCTAssertTrue(has("max by (pair) (regionbridge_heartbeat_age_seconds"), "heartbeat age")
        XCTAssertTrue(has("histogram_quantile(0.99, sum by (pair, le) (rate(regionbridge_end_to_end_latency_seconds_bucket"), "end-to-end p99")
        XCTAssertTrue(has("max by (pair) (regionbridge_rpo_payments_at_risk"), "payments at risk")
        XCTAssertTrue(has("max by (pair, currency) (regionbridge_rpo_amount_at_risk"), "amount at risk per currency")
        XCTAssertTrue(has("time() - max by (pair) (regionbridge_rpo_verified_until_timestamp_seconds"), "age of the RPO proof")
        XCTAssertTrue(has("min by (pair) (regionbridge_postgres_reachable"), "Postgres reachable")
    }

    func testEveryQueryReadsOnlyExportedMetricsAndTheRuleUsesTheSameNames() throws {
        let used = PromQL.dashboardExpressions(try dashboard()).reduce(into: Set<String>()) { $0.formUnion(PromQL.metricNames(in: $1)) }
        XCTAssertEqual(used.subtracting(exported), [], "metrics the bridge does not export")
        XCTAssertEqual(exported.subtracting(used), [], "exported metrics without a panel")

        let rule = try XCTUnwrap(try Yams.load(yaml: String(contentsOf: RepoPaths.root.appendingPathComponent("deploy/kubernetes/prometheus-rule.yaml"), encoding: .utf8)) as? [String: Any])
        let groups = try XCTUnwrap((rule["spec"] as? [String: Any])?["groups"] as? [[String: Any]])
        let ruleNames = groups.flatMap { $0["rules"] as? [[String: Any]] ?? [] }.compactMap { $0["expr"] as? String }
            .reduce(into: Set<String>()) { $0.formUnion(PromQL.metricNames(in: $1)) }
        XCTAssertFalse(ruleNames.isEmpty)
        XCTAssertEqual(ruleNames.subtracting(used), [], "the rule alerts on metrics the dashboard does not show")
        XCTAssertEqual(ruleNames.subtracting(exported), [], "the rule alerts on metrics the bridge does not export")
    }
}
