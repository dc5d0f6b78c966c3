import Foundation
import TestSupport
import XCTest
import Yams

/// The files under deploy/: every YAML parses, the topologies inside ConfigMaps validate with the
/// built binary, and the Deployments, probes, rules and unit agree with what the bridge serves.
final class DeployManifestTests: XCTestCase {
    private let deploy = RepoPaths.root.appendingPathComponent("deploy")

    /// Every file under deploy/ whose name ends in `.yaml` or `.yml`, sorted.
    private func yamlFiles() throws -> [URL] {
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(at: deploy, includingPropertiesForKeys: nil))
        return enumerator.compactMap { $0 as? URL }
            .filter { ["yaml", "yml"].contains($0.pathExtension) }
            .sorted { $0.path < $1.path }
    }

    /// The documents of a (possibly multi-document) YAML file, as dictionaries.
    private func documents(_ file: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: file, encoding: .utf8)
        return try Yams.load_all(yaml: text).map { document in
            try XCTUnwrap(document as? [String: Any], "\(file.lastPathComponent): a document that is not a mapping")
        }
    }

    private func kubernetes(_ name: String) -> URL { deploy.appendingPathComponent("kubernetes/\(name)") }

    func testEveryYAMLFileParses() throws {
        let files = try yamlFiles()
        XCTAssertEqual(files.map { $0.path.replacingOccurrences(of: deploy.path + "/", with: "") }, [
            "kubernetes/eu-west-to-us-east.yaml", "kubernetes/prometheus-rule.yaml", "kubernetes/us-east-to-eu-west.yaml",
        ])
        for file in files {
            let parsed = try documents(file)
            XCTAssertFalse(parsed.isEmpty, file.path)
            for document in parsed {
                XCTAssertNotNil(document["apiVersion"] as? String, file.path)
                XCTAssertNotNil(document["kind"] as? String, file.path)
            }
        }
        XCTAssertEqual(try documents(kubernetes("us-east-to-eu-west.yaml")).map { $0["kind"] as? String }, ["ConfigMap", "Secret", "Deployment", "PodDisruptionBudget", "Service"])
    }

    func testTopologiesInConfigMapsValidateWithTheVariablesTheDeploymentSupplies() throws {
        for pair in ["us-east-to-eu-west", "eu-west-to-us-east"] {
            let parsed = try documents(kubernetes("\(pair).yaml"))
            let configMap = try XCTUnwrap(parsed.first { $0["kind"] as? String == "ConfigMap" })
            let topology = try XCTUnwrap((configMap["data"] as? [String: Any])?["topology.yaml"] as? String)
            let deployment = try XCTUnwrap(parsed.first { $0["kind"] as? String == "Deployment" })
            let container = try XCTUnwrap(containers(deployment).first)

            // Only the variables the Deployment sets (from its Secret) are defined: a ${VAR} it does not supply fails.
            let env = (container["env"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            XCTAssertEqual(env, ["SOURCE_SASL_USERNAME", "SOURCE_SASL_PASSWORD", "TARGET_SASL_USERNAME", "TARGET_SASL_PASSWORD"])
            let secret = try XCTUnwrap(parsed.first { $0["kind"] as? String == "Secret" })
            let secretName = (secret["metadata"] as? [String: Any])?["name"] as? String
            for variable in container["env"] as? [[String: Any]] ?? [] {
                let reference = ((variable["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any])
                XCTAssertEqual(reference?["name"] as? String, secretName)
                let key = try XCTUnwrap(reference?["key"] as? String)
                XCTAssertNotNil((secret["stringData"] as? [String: Any])?[key], "secret key \(key)")
            }

            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = folder.appendingPathComponent("topology.yaml")
            try topology.write(to: file, atomically: true, encoding: .utf8)
            var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            for name in env { environment[name] = "value-of-\(name)" }
            let result = try runProcess(RepoPaths.regionbridge, ["topology", "validate", file.path], environment: environment, timeout: .seconds(30))
            XCTAssertEqual(result.exitCode, 0, "\(pair): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains(": ok: pair \(pair),"), result.stdout)

            let missing = try runProcess(
                RepoPaths.regionbridge, ["topology", "validate", file.path], environment: ["PATH": environment["PATH"]!], timeout: .seconds(30))
            XCTAssertEqual(missing.exitCode, 2, "\(pair): the topology does reference the Secret's variables")
        }
    }

    func testDeploymentsRunSeveralReplicasInGroupModeWithProbesOnTheMetricsPort() throws {
        for pair in ["us-east-to-eu-west", "eu-west-to-us-east"] {
            let parsed = try documents(kubernetes("\(pair).yaml"))
            let deployment = try XCTUnwrap(parsed.first { $0["kind"] as? String == "Deployment" })
            let spec = try XCTUnwrap(deployment["spec"] as? [String: Any])
            XCTAssertGreaterThan(try XCTUnwrap(spec["replicas"] as? Int), 1)
            let strategy = try XCTUnwrap(spec["strategy"] as? [String: Any])
            XCTAssertEqual(strategy["type"] as? String, "RollingUpdate")
            XCTAssertEqual((strategy["rollingUpdate"] as? [String: Any])?["maxUnavailable"] as? Int, 1)

            // A disruption budget keeps at least one replica of the pair running.
            let budget = try XCTUnwrap(parsed.first { $0["kind"] as? String == "PodDisruptionBudget" })
            let budgetSpec = try XCTUnwrap(budget["spec"] as? [String: Any])
            XCTAssertEqual(budgetSpec["minAvailable"] as? Int, 1)
            let podLabels = ((spec["template"] as? [String: Any])?["metadata"] as? [String: Any])?["labels"] as? [String: String]
            XCTAssertEqual((budgetSpec["selector"] as? [String: Any])?["matchLabels"] as? [String: String], podLabels)
            let container = try XCTUnwrap(containers(deployment).first)
            XCTAssertEqual(container["args"] as? [String], ["run", "--topology", "/etc/regionbridge/topology.yaml"])
            XCTAssertEqual((container["ports"] as? [[String: Any]])?.first?["containerPort"] as? Int, 9464)
            XCTAssertEqual(probe(container, "livenessProbe"), "/health/live@metrics")
            XCTAssertEqual(probe(container, "readinessProbe"), "/health/ready@metrics")
            let requests = (container["resources"] as? [String: Any])?["requests"] as? [String: Any]
            XCTAssertEqual(requests?["cpu"] as? String, "500m")
            XCTAssertEqual(requests?["memory"] as? String, "512Mi")

            // The topology listens where the probes and the Service look.
            let configMap = try XCTUnwrap(parsed.first { $0["kind"] as? String == "ConfigMap" })
            let topology = try XCTUnwrap((configMap["data"] as? [String: Any])?["topology.yaml"] as? String)
            let document = try XCTUnwrap(try Yams.load(yaml: topology) as? [String: Any])
            let metrics = try XCTUnwrap(document["metrics"] as? [String: Any])
            XCTAssertEqual(metrics["listen"] as? String, "0.0.0.0:9464")
            // Replicas share the pair only in group mode.
            XCTAssertEqual((document["instances"] as? [String: Any])?["mode"] as? String, "group")
            let service = try XCTUnwrap(parsed.first { $0["kind"] as? String == "Service" })
            let port = ((service["spec"] as? [String: Any])?["ports"] as? [[String: Any]])?.first
            XCTAssertEqual(port?["port"] as? Int, 9464)
            XCTAssertEqual(port?["targetPort"] as? String, "metrics")
            let selector = (service["spec"] as? [String: Any])?["selector"] as? [String: String]
            XCTAssertEqual(selector, podLabels)
            XCTAssertEqual(selector?["app.kubernetes.io/instance"], pair)
        }
    }

    func testPrometheusRuleAlertsOnLagSecondsAtFiveAndSixty() throws {
        let rule = try XCTUnwrap(try documents(kubernetes("prometheus-rule.yaml")).first)
        XCTAssertEqual(rule["kind"] as? String, "PrometheusRule")
        let groups = try XCTUnwrap((rule["spec"] as? [String: Any])?["groups"] as? [[String: Any]])
        let rules = groups.flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        let bySeverity = Dictionary(rules.compactMap { rule -> (String, String)? in
            guard let severity = (rule["labels"] as? [String: Any])?["severity"] as? String,
                  let expr = rule["expr"] as? String, expr.contains("regionbridge_lag_seconds)")
            else { return nil }
            return (severity, expr)
        }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(bySeverity["warning"], "max by (pair, topic, partition) (regionbridge_lag_seconds) > 5")
        XCTAssertEqual(bySeverity["critical"], "max by (pair, topic, partition) (regionbridge_lag_seconds) > 60")
    }

    func testPrometheusRuleAlertsOnRPOViolationAtMaxAgeAndOnPostgresUnreachable() throws {
        let rule = try XCTUnwrap(try documents(kubernetes("prometheus-rule.yaml")).first)
        let groups = try XCTUnwrap((rule["spec"] as? [String: Any])?["groups"] as? [[String: Any]])
        let rules = Dictionary(groups.flatMap { $0["rules"] as? [[String: Any]] ?? [] }.compactMap { rule -> (String, [String: Any])? in
            (rule["alert"] as? String).map { ($0, rule) }
        }, uniquingKeysWith: { a, _ in a })
        let violation = try XCTUnwrap(rules["RegionBridgeRPOViolation"])
        // The default reconcile.continuous.max_age, 60 s; the feed's rpo_violation fires at the same age.
        XCTAssertEqual(violation["expr"] as? String, "max by (pair) (regionbridge_rpo_oldest_at_risk_seconds) > 60")
        XCTAssertEqual((violation["labels"] as? [String: Any])?["severity"] as? String, "critical")
        let postgres = try XCTUnwrap(rules["RegionBridgePostgresUnreachable"])
        XCTAssertEqual(postgres["expr"] as? String, "min by (pair) (regionbridge_postgres_reachable) == 0")
        XCTAssertEqual(postgres["for"] as? String, "30s")
        XCTAssertEqual((postgres["labels"] as? [String: Any])?["severity"] as? String, "critical")
    }

    func testSystemdUnitAndDockerfileRunTheBridge() throws {
        let unit = try String(contentsOf: deploy.appendingPathComponent("systemd/regionbridge@.service"), encoding: .utf8)
        let lines = unit.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("ExecStart=/usr/local/bin/regionbridge run --topology /etc/regionbridge/%i.yaml --alerts-file /var/log/regionbridge/%i-alerts.jsonl"))
        XCTAssertTrue(lines.contains("EnvironmentFile=/etc/regionbridge/%i.env"))
        XCTAssertTrue(lines.contains("RestartPreventExitStatus=2 5 6"))
        for section in ["[Unit]", "[Service]", "[Install]"] { XCTAssertTrue(lines.contains(section), section) }

        let dockerfile = try String(contentsOf: deploy.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let stages = dockerfile.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        XCTAssertEqual(stages, ["FROM debian:bookworm-slim AS librdkafka", "FROM swift:6.3-bookworm AS build", "FROM debian:bookworm-slim"])
        XCTAssertTrue(dockerfile.contains(#"CMD ["run", "--topology", "/etc/regionbridge/topology.yaml"]"#))
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: deploy.appendingPathComponent("build-librdkafka.sh").path))
    }

    private func containers(_ deployment: [String: Any]) -> [[String: Any]] {
        let template = (deployment["spec"] as? [String: Any])?["template"] as? [String: Any]
        return (template?["spec"] as? [String: Any])?["containers"] as? [[String: Any]] ?? []
    }

    /// `path@port` of a container's HTTP probe.
    private func probe(_ container: [String: Any], _ name: String) -> String? {
        guard let get = (container[name] as? [String: Any])?["httpGet"] as? [String: Any] else { return nil }
        return "\(get["path"] ?? "?")@\(get["port"] ?? "?")"
    }
}
