import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import TestSupport
import XCTest
import Yams

/// The Grafana dashboard and the PrometheusRule cannot drift from the code: every metric name their queries
/// read is served at /metrics by a running bridge (copying, measuring lag, syncing groups, and counting an error).
final class DashboardMetricsOnTansuTests: TwoRegionTestCase {
    private func scrape(_ port: Int) async -> String {
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        guard let (data, _) = try? await session.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Served only with `reconcile.continuous` (RPOWatchOnTansuTests scrapes them from a bridge that has it).
    static let reconciliationMetrics: Set<String> = [
        "regionbridge_rpo_payments_at_risk", "regionbridge_rpo_amount_at_risk", "regionbridge_rpo_oldest_at_risk_seconds",
        "regionbridge_rpo_verified_until_timestamp_seconds", "regionbridge_rpo_check_duration_seconds",
        "regionbridge_rpo_last_success_timestamp_seconds", "regionbridge_postgres_reachable",
    ]

    func testEveryMetricTheDashboardAndTheRuleReadIsServed() async throws {
        try sourceClient.createTopic("payments", partitions: 2)
        try sourceClient.produce((0..<20).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0)]) })
        let port = try freeLoopbackPort()
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], extra: "metrics:\n  listen: \"127.0.0.1:\(port)\"\n")
        // A short request timeout, so that the lost source below is counted as an error within seconds.
        let process = try bridge.start(["--request-timeout", "2s"])
        defer { _ = process.stop(gracePeriod: .seconds(10)) }

        var served: Set<String> = []
        var body = ""
        let wanted = ["regionbridge_records_replicated_total", "regionbridge_replication_latency_seconds_bucket", "regionbridge_lag_seconds",
                      "regionbridge_last_group_sync_timestamp_seconds", "regionbridge_heartbeat_age_seconds",
                      "regionbridge_end_to_end_latency_seconds_bucket"]
        let deadline = ContinuousClock.now + .seconds(60)
        while !wanted.allSatisfy(served.contains) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            body = await scrape(port)
            served = PromQL.servedNames(in: body)
        }
        XCTAssertTrue(wanted.allSatisfy(served.contains), "copying, lag, group sync and heartbeats are served; last scrape:\n\(body)\n\(process.stderrText)")
        // Errors are counted by kind once they happen: lose the source.
        source.kill()
        while !served.contains("regionbridge_errors_total") && ContinuousClock.now < deadline + .seconds(30) {
            try await Task.sleep(for: .milliseconds(200))
            body = await scrape(port)
            served = PromQL.servedNames(in: body)
        }
        XCTAssertTrue(body.contains(#"regionbridge_errors_total{pair="us-east-to-eu-west",kind="#), body)

        let dashboard = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: RepoPaths.root.appendingPathComponent("deploy/grafana/regionbridge-dashboard.json")))
                as? [String: Any])
        let expressions = PromQL.dashboardExpressions(dashboard)
        XCTAssertGreaterThan(expressions.count, 10)
        // The continuous reconciliation's metrics need Postgres: RPOWatchOnTansuTests checks that a bridge serves those.
        served.formUnion(Self.reconciliationMetrics)
        for expression in expressions {
            let names = PromQL.metricNames(in: expression)
            XCTAssertFalse(names.isEmpty, expression)
            XCTAssertEqual(names.subtracting(served), [], "not served by the bridge, used by the dashboard in: \(expression)")
        }
        let rule = try XCTUnwrap(try Yams.load(yaml: String(contentsOf: RepoPaths.root.appendingPathComponent("deploy/kubernetes/prometheus-rule.yaml"), encoding: .utf8)) as? [String: Any])
        let rules = ((rule["spec"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        XCTAssertFalse(rules.isEmpty)
        for expression in rules.compactMap({ $0["expr"] as? String }) {
            XCTAssertEqual(PromQL.metricNames(in: expression).subtracting(served), [], "not served by the bridge, used by the PrometheusRule in: \(expression)")
        }
    }
}
