import Foundation
import Kafka
import TestSupport
import XCTest
import Yams

/// The shipped PrometheusRule, checked by promtool and evaluated by a real Prometheus (Debian's `prometheus`)
/// that scrapes a running bridge's `/metrics` every second, while the target broker is frozen with SIGSTOP.
final class PrometheusOnTansuTests: TwoRegionTestCase {
    func testPromtoolAcceptsTheShippedRulesAndTheyCoverEveryAlertOfTheFeed() throws {
        let rules = try shippedPrometheusRules()
        let checked = try runProcess(try RepoPaths.promtool, ["check", "rules", rules.path], timeout: .seconds(30))
        XCTAssertEqual(checked.exitCode, 0, checked.stdout + checked.stderr)
        XCTAssertTrue(checked.stdout.contains("SUCCESS: 7 rules found"), checked.stdout)
        // Every alert of the feed (replication_lag warning and critical, cluster_unreachable, heartbeat_stale, rpo_violation,
        // postgres_unreachable) has its rule.
        let text = try String(contentsOf: rules, encoding: .utf8)
        for metric in ["regionbridge_lag_seconds) > 5", "regionbridge_lag_seconds) > 60", "regionbridge_cluster_reachable) == 0",
                       "regionbridge_heartbeat_age_seconds) > 60", "regionbridge_rpo_oldest_at_risk_seconds) > 60",
                       "regionbridge_postgres_reachable) == 0"] {
            XCTAssertTrue(text.contains(metric), "no rule on \(metric):\n\(text)")
        }
    }

    /// During a target outage longer than the critical threshold both lag alerts fire in Prometheus, and after
    /// the thaw both resolve, with the bridge running throughout.
    func testAFrozenTargetFiresBothLagAlertsInPrometheusAndBothResolve() throws {
        try sourceClient.createTopic("payments", partitions: 3)
        let metricsPort = try freeLoopbackPort()
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}",
            extra: "lag: {warn_seconds: 2, critical_seconds: 4, for: 1s}\nmetrics: {listen: \"127.0.0.1:\(metricsPort)\"}")
        let load = try BackgroundProcess(RepoPaths.loadgen, ["--bootstrap", source.bootstrap, "--topic", "payments", "--records", "12000", "--rate", "200"])
        defer { load.kill() }
        let process = try BackgroundProcess(RepoPaths.regionbridge, ["run", "--topology", bridge.topologyURL.path, "--request-timeout", "5s"])
        defer { process.kill() }
        let prometheus = try PrometheusServer(
            rulesFile: try shippedPrometheusRules(warn: 2, critical: 4, holdFor: "1s"), targets: ["127.0.0.1:\(metricsPort)"])

        let lagAlerts = { () throws -> [String: String] in
            var states: [String: String] = [:]
            for alert in try prometheus.alerts() where alert.labels["alertname"]?.hasPrefix("RegionBridgeLag") == true {
                let name = alert.labels["alertname"]!
                states[name] = states[name] == "firing" ? "firing" : alert.state
            }
            return states
        }
        // Scraped and copying, nothing firing (the heartbeat topic, replicated too, has a lag series of its own).
        try waitUntil("prometheus scrapes the bridge's lag", timeout: .seconds(60)) {
            (try? prometheus.query("count(regionbridge_lag_seconds{topic=\"payments\"})")) == 3 && ((try? lagAlerts()) ?? ["?": "?"]).isEmpty
        }
        XCTAssertTrue(process.isRunning, process.stderrText)

        target.freeze()
        let frozenAt = ContinuousClock.now
        var seen: [String: String] = [:]
        while ContinuousClock.now - frozenAt < .seconds(12) || seen.values.filter({ $0 == "firing" }).count < 2 {
            guard ContinuousClock.now - frozenAt < .seconds(40) else { break }
            for (name, state) in (try? lagAlerts()) ?? [:] where seen[name] != "firing" { seen[name] = state }
            Thread.sleep(forTimeInterval: 0.5)
        }
        target.thaw()
        XCTAssertEqual(seen["RegionBridgeLagWarning"], "firing", "lag during the outage: \(String(describing: try? prometheus.query("max(regionbridge_lag_seconds)"))); \(seen)")
        XCTAssertEqual(seen["RegionBridgeLagCritical"], "firing", "lag during the outage: \(String(describing: try? prometheus.query("max(regionbridge_lag_seconds)"))); \(seen)")
        XCTAssertTrue(process.isRunning, "the bridge exited during the outage (\(process.waitForExit(timeout: .zero).map(String.init) ?? "?")):\n\(process.stderrText.suffix(3000))")

        try waitUntil("both lag alerts resolved after the thaw", timeout: .seconds(60)) { ((try? lagAlerts()) ?? ["?": "?"]).isEmpty }
        XCTAssertTrue(process.isRunning, "the bridge exited after the outage:\n\(process.stderrText.suffix(3000))")
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, String(process.stderrText.suffix(3000)))
    }
}

extension XCTestCase {
    /// The `spec` of the PrometheusRule as a plain Prometheus rules file (`groups:`). With `warn`, `critical` and
    /// `holdFor`, the lag thresholds and every rule's `for` are rewritten for a short test.
    func shippedPrometheusRules(warn: Int? = nil, critical: Int? = nil, holdFor: String? = nil) throws -> URL {
        let text = try String(contentsOf: RepoPaths.root.appendingPathComponent("deploy/kubernetes/prometheus-rule.yaml"), encoding: .utf8)
        let document = try XCTUnwrap(try Yams.load(yaml: text) as? [String: Any])
        let spec = try XCTUnwrap(document["spec"] as? [String: Any])
        var groups = try XCTUnwrap(spec["groups"] as? [[String: Any]])
        for index in groups.indices {
            var rules = try XCTUnwrap(groups[index]["rules"] as? [[String: Any]])
            for ruleIndex in rules.indices {
                if let holdFor { rules[ruleIndex]["for"] = holdFor }
                guard let expr = rules[ruleIndex]["expr"] as? String, expr.contains("regionbridge_lag_seconds)"),
                      let severity = (rules[ruleIndex]["labels"] as? [String: Any])?["severity"] as? String,
                      let threshold = severity == "warning" ? warn : critical
                else { continue }
                rules[ruleIndex]["expr"] = expr.replacing(/> \d+$/, with: "> \(threshold)")
            }
            groups[index]["rules"] = rules
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regionbridge-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("rules.yaml")
        try Yams.dump(object: ["groups": groups]).write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
