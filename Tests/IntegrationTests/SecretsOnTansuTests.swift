import Foundation
import Kafka
import Monitoring
import Postgres
import TestSupport
import XCTest

/// A secret given through `${VAR}` never appears in anything any command writes, at `--log-level trace`:
/// stdout, stderr, the alerts file and topic, `/metrics`, and the reconcile reports.
final class SecretsOnTansuTests: TwoRegionTestCase {
    /// A value librdkafka accepts for `sasl.password` (and the other secret properties) on a PLAINTEXT connection,
    /// where it is never used, so the bridge works as usual with it.
    private static let secret = "Rb-7f9c2e41d8-S3cret"
    private static let marker = "7f9c2e41d8"

    private var postgres: PostgresCluster!

    override func tearDown() {
        try? postgres?.stop()
        postgres = nil
        super.tearDown()
    }

    /// Every output searched so far, by name, for the failure message.
    private var outputs: [(what: String, text: String)] = []

    private func collect(_ what: String, _ text: String) {
        outputs.append((what, text))
    }

    private func collect(_ what: String, _ result: ProcessResult) {
        collect("\(what) stdout", result.stdout)
        collect("\(what) stderr", result.stderr)
    }

    func testNoCommandShowsTheSecretAtTraceLevel() throws {
        postgres = try PostgresCluster()
        let db = try postgres.paymentsDatabase()
        try db.execute("""
            INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
            SELECT 'pay-' || n, 'acct-1', n + 0.50, 'EUR', 'committed', now() - interval '5 minutes'
            FROM generate_series(0, 299) AS n
            """)
        try sourceClient.createTopic("payments", partitions: 3)
        _ = try sourceClient.produce((0..<300).map { n in
            KafkaRecord(topic: "payments", partition: Int32(n % 3), offset: 0, key: Array("pay-\(n)".utf8),
                        value: Array(#"{"event_id":"pay-\#(n)","amount":\#(n).50,"currency":"EUR"}"#.utf8))
        })
        try sourceClient.commit(group: "app-1", [TopicPartition("payments", 0): 50, TopicPartition("payments", 1): 20])

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regionbridge-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let metricsPort = try freeLoopbackPort()
        let secretProperties = """
                security.protocol: PLAINTEXT
                sasl.username: regionbridge
                sasl.password: "${RB_SECRET}"
                ssl.key.password: "${RB_SECRET}"
                sasl.oauthbearer.client.secret: "${RB_SECRET}"
            """
        let topology = folder.appendingPathComponent("us-east-to-eu-west.yaml")
        try """
            pair: us-east-to-eu-west
            source:
              region: us-east
              bootstrap_servers: "\(source.bootstrap)"
              properties:
            \(secretProperties)
            target:
              region: eu-west
              bootstrap_servers: "\(target.bootstrap)"
              properties:
            \(secretProperties)
            topics:
              include: [payments]
              discovery_interval: 1s
            groups: {include: ["app-.*"], sync_interval: 1s}
            lag: {warn_seconds: 1, critical_seconds: 2, for: 0s}
            metrics: {listen: "127.0.0.1:\(metricsPort)"}
            reconcile:
              postgres_dsn: "\(postgres.dsn(database: "payments")) password=${RB_SECRET}"
              committed_query: "SELECT event_id, committed_at, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2"
              topics: [payments]
              compare: {amount: amount, currency: currency}
              amount: amount
              currency: currency
              continuous: {interval: 1s, lookback: 10m, max_age: 3s}

            """.write(to: topology, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["RB_SECRET"] = Self.secret
        func regionbridge(_ arguments: [String], timeout: Duration = .seconds(120)) throws -> ProcessResult {
            try runProcess(RepoPaths.regionbridge, arguments, environment: environment, timeout: timeout)
        }
        let trace = ["--topology", topology.path, "--log-level", "trace"]

        // topology validate
        let validated = try regionbridge(["topology", "validate", topology.path])
        XCTAssertEqual(validated.exitCode, 0, validated.stderr)
        collect("topology validate", validated)

        // run, with metrics and an alerts file, while the target is frozen for a moment (alerts fire and resolve).
        let alerts = folder.appendingPathComponent("alerts.jsonl")
        let running = try BackgroundProcess(
            RepoPaths.regionbridge, ["run"] + trace + ["--alerts-file", alerts.path, "--request-timeout", "5s"], environment: environment)
        let load = try BackgroundProcess(
            RepoPaths.loadgen, ["--bootstrap", source.bootstrap, "--topic", "payments", "--records", "3000", "--rate", "300", "--first", "1000"])
        try waitUntil("copying") { ((try? targetClient.approximateEnd("us-east.payments", partition: 0)) ?? 0) > 50 }
        target.freeze()
        Thread.sleep(forTimeInterval: 5)
        collect("/metrics during the outage", (try? httpGet("http://127.0.0.1:\(metricsPort)/metrics").body) ?? "")
        target.thaw()
        try waitUntil("alerts fired and resolved", timeout: .seconds(60)) {
            let text = (try? String(contentsOf: alerts, encoding: .utf8)) ?? ""
            return text.contains(#""state":"firing""#) && text.contains(#""state":"resolved""#)
        }
        XCTAssertEqual(load.waitForExit(timeout: .seconds(60)), 0, load.stderrText)
        // The continuous reconciliation connects to Postgres with the DSN holding the secret, and checks.
        try waitUntil("a continuous-reconciliation check", timeout: .seconds(30)) {
            ((try? httpGet("http://127.0.0.1:\(metricsPort)/metrics").body) ?? "").contains("regionbridge_rpo_last_success_timestamp_seconds")
        }
        let metrics = try httpGet("http://127.0.0.1:\(metricsPort)/metrics").body
        XCTAssertTrue(metrics.contains("regionbridge_lag_seconds"), metrics)
        collect("/metrics", metrics)
        XCTAssertEqual(running.stop(gracePeriod: .seconds(30)), 0, String(running.stderrText.suffix(2000)))
        collect("run stdout", running.stdoutText)
        collect("run stderr", running.stderrText)
        // At trace level swift-service-lifecycle logs the services: the test reaches the place the secret leaked from.
        XCTAssertTrue(running.stderrText.contains("MonitorProbe(pair: us-east-to-eu-west)"), String(running.stderrText.prefix(3000)))
        XCTAssertTrue(running.stderrText.contains("RPOWatchService(pair: us-east-to-eu-west)"), String(running.stderrText.prefix(3000)))

        // run --until-caught-up, with metrics and an alerts file
        let caughtUp = try regionbridge(["run"] + trace + ["--until-caught-up", "--alerts-file", alerts.path, "--request-timeout", "10s"])
        XCTAssertEqual(caughtUp.exitCode, 0, String(caughtUp.stderr.suffix(2000)))
        collect("run --until-caught-up", caughtUp)
        collect("alerts file", try String(contentsOf: alerts, encoding: .utf8))
        let alertRecords = try targetClient.readAll("regionbridge.us-east-to-eu-west.alerts", partition: 0)
        XCTAssertFalse(alertRecords.isEmpty)
        collect("alerts topic", alertRecords.map { String(decoding: ($0.key ?? []) + [10] + ($0.value ?? []), as: UTF8.self) }.joined(separator: "\n"))

        // lag, translate-offsets, failover (dry run), in both formats
        for format in ["table", "json"] {
            let lag = try regionbridge(["lag"] + trace + ["--format", format])
            XCTAssertEqual(lag.exitCode, 0, lag.stderr)
            collect("lag \(format)", lag)
            let translated = try regionbridge(["translate-offsets"] + trace + ["--group", "app-1", "--format", format])
            XCTAssertEqual(translated.exitCode, 0, translated.stderr)
            collect("translate-offsets \(format)", translated)
            let failover = try regionbridge(["failover"] + trace + ["--group", "app-1", "--format", format])
            XCTAssertEqual(failover.exitCode, 0, failover.stderr)
            collect("failover \(format)", failover)
        }

        // reconcile in every format: table and json on stdout, markdown and html as report files
        for format in ["table", "json"] {
            let printed = try regionbridge(["reconcile"] + trace + ["--format", format, "--since", "1h"])
            XCTAssertEqual(printed.exitCode, 0, String(printed.stderr.suffix(2000)) + printed.stdout)
            XCTAssertTrue(printed.stdout.contains("RPO=0 holds"), printed.stdout)
            collect("reconcile \(format)", printed)
        }
        for format in ["markdown", "html"] {
            let report = folder.appendingPathComponent("report.\(format)")
            let written = try regionbridge(["reconcile"] + trace + ["--format", format, "--since", "1h", "--output", report.path])
            XCTAssertEqual(written.exitCode, 0, written.stderr)
            collect("reconcile \(format) --output", written)
            let text = try String(contentsOf: report, encoding: .utf8)
            XCTAssertTrue(text.contains("pay-") || text.contains("RPO"), text)
            collect("reconcile report file \(format)", text)
        }
        // A reconcile that fails to reach Postgres names the connection string: without the password.
        try postgres.stop()
        let unreachable = try regionbridge(["reconcile"] + trace)
        XCTAssertEqual(unreachable.exitCode, 1, unreachable.stderr)
        collect("reconcile, Postgres down", unreachable)

        XCTAssertGreaterThan(outputs.map(\.text.count).reduce(0, +), 20_000, "trace output was written")
        for (what, text) in outputs {
            XCTAssertFalse(text.contains(Self.marker), "\(what) shows the secret:\n\(excerpt(text))")
        }
    }

    /// The lines around the first occurrence of the secret.
    private func excerpt(_ text: String) -> String {
        guard let range = text.range(of: Self.marker) else { return "" }
        let start = text.index(range.lowerBound, offsetBy: -600, limitedBy: text.startIndex) ?? text.startIndex
        let end = text.index(range.upperBound, offsetBy: 300, limitedBy: text.endIndex) ?? text.endIndex
        return String(text[start..<end])
    }
}
