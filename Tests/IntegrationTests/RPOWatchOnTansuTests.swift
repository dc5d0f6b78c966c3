import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// `run`'s continuous reconciliation (`reconcile.continuous`) on two tansu brokers and a throwaway Postgres holding
/// the reference payments schema: `rpo_violation` for a payment the publisher withheld, the value at risk while the
/// target is frozen, and `postgres_unreachable` while Postgres is stopped (replication goes on).
final class RPOWatchOnTansuTests: TwoRegionTestCase {
    private var postgres: PostgresCluster!
    private var db: PostgresConnection!
    private var port = 0
    /// Never needed (the test server trusts loopback), never to be printed.
    private let password = "rpoWatchS3cret"

    override func setUpWithError() throws {
        try super.setUpWithError()
        postgres = try PostgresCluster()
        db = try postgres.paymentsDatabase()
        try sourceClient.createTopic("payments", partitions: 3)
        port = try freeLoopbackPort()
    }

    override func tearDown() {
        db = nil
        try? postgres?.stop()
        postgres = nil
        super.tearDown()
    }

    /// Checks every second; a payment missing for 3 s is a violation; `lag.for` 2 s.
    private func fixture(instances: String = "{mode: single}", maxAge: String = "3s", metricsPort: Int? = nil) throws -> BridgeFixture {
        try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}",
            extra: """
                reconcile:
                  postgres_dsn: "\(postgres.dsn(database: "payments")) password=\(password)"
                  committed_query: "SELECT event_id, committed_at, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2"
                  topics: [payments]
                  event_id: key
                  amount: amount
                  currency: currency
                  continuous: {interval: 1s, lookback: 10m, max_age: \(maxAge)}
                lag: {warn_seconds: 30, critical_seconds: 60, for: 2s}
                metrics: {listen: "127.0.0.1:\(metricsPort ?? port)"}
                heartbeats: {interval: 0}
                instances: \(instances)
                """)
    }

    /// Commits payments `pay-<n>` for `range` now (amount n + 0.50 EUR) and, unless `publish` is false, publishes them.
    private func commitPayments(_ range: Range<Int>, publish: Bool = true) throws {
        try db.execute("""
            INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
            SELECT 'pay-' || n, 'acct-' || (n % 7), n + 0.50, 'EUR', 'committed', now()
            FROM generate_series(\(range.lowerBound), \(range.upperBound - 1)) AS n
            """)
        if publish { try publishEvents(range) }
    }

    private func publishEvents(_ range: Range<Int>) throws {
        _ = try sourceClient.produce(range.map { n in
            KafkaRecord(
                topic: "payments", partition: Int32(n % 3), offset: 0, key: Array("pay-\(n)".utf8),
                value: Array(#"{"event_id":"pay-\#(n)","amount":\#(n).50,"currency":"EUR"}"#.utf8))
        })
    }

    /// The value of the first series of `name` whose labels contain `label` (e.g. `currency="EUR"`), nil when absent.
    private func metric(_ name: String, _ label: String = "", port: Int? = nil) -> Double? {
        guard let body = try? httpGet("http://127.0.0.1:\(port ?? self.port)/metrics").body else { return nil }
        return body.split(separator: "\n").first { ($0.hasPrefix(name + "{") || $0.hasPrefix(name + " ")) && (label.isEmpty || $0.contains(label)) }
            .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    /// The alert events of `alert` in the alerts file, parsed.
    private func events(_ alerts: URL, _ alert: String) -> [[String: Any]] {
        let text = (try? String(contentsOf: alerts, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let event = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  event["alert"] as? String == alert else { return nil }
            return event
        }
    }

    private func states(_ alerts: URL, _ alert: String) -> [String] {
        events(alerts, alert).compactMap { $0["state"] as? String }
    }

    private func alertsFile(_ bridge: BridgeFixture) -> URL {
        bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("alerts.jsonl")
    }

    func testAWithheldPaymentFiresRPOViolationNamingItAfterMaxAgeAndResolvesOnceReplicated() throws {
        try commitPayments(0..<4)
        try commitPayments(4..<5, publish: false)  // the publisher withholds pay-4
        let committedText = try db.query("SELECT extract(epoch FROM committed_at)::float8 FROM payments WHERE event_id = 'pay-4'").rows.first?[0] ?? nil
        let committedAt = try XCTUnwrap(committedText.flatMap(Double.init))
        let bridge = try fixture()
        let alerts = alertsFile(bridge)
        let process = try bridge.start(["--alerts-file", alerts.path])
        defer { _ = process.stop(gracePeriod: .seconds(30)) }

        try waitUntil("rpo_violation fires", timeout: .seconds(30)) { states(alerts, "rpo_violation") == ["firing"] }
        let firing = events(alerts, "rpo_violation")[0]
        XCTAssertEqual(firing["severity"] as? String, "critical")
        XCTAssertEqual(firing["pair"] as? String, "us-east-to-eu-west")
        XCTAssertEqual(firing["payments"] as? Int, 1)
        XCTAssertEqual(firing["amount"] as? [String: String], ["EUR": "4.50"])
        XCTAssertEqual(firing["event_ids"] as? [String], ["pay-4"])
        XCTAssertEqual(firing["classes"] as? [String: Int], ["not_replicated": 0, "never_published": 1])
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let firedAt = try XCTUnwrap((firing["at"] as? String).flatMap { fractional.date(from: $0) ?? ISO8601DateFormatter().date(from: $0) }, "\(firing)")
        XCTAssertGreaterThanOrEqual(firedAt.timeIntervalSince1970, committedAt + 3 - 0.001, "not before max_age")
        XCTAssertEqual(metric("regionbridge_rpo_payments_at_risk"), 1)
        XCTAssertEqual(metric("regionbridge_rpo_amount_at_risk", #"currency="EUR""#), 4.5)
        XCTAssertEqual(metric("regionbridge_rpo_verified_until_timestamp_seconds") ?? 0, committedAt, accuracy: 0.002)
        XCTAssertGreaterThan(metric("regionbridge_rpo_oldest_at_risk_seconds") ?? 0, 3)
        // Every metric the dashboard and the PrometheusRule read from the continuous reconciliation is served.
        let served = PromQL.servedNames(in: (try? httpGet("http://127.0.0.1:\(port)/metrics").body) ?? "")
        XCTAssertEqual(DashboardMetricsOnTansuTests.reconciliationMetrics.subtracting(served), [])

        // Published at last: replicated, and the violation resolves.
        try publishEvents(4..<5)
        try waitUntil("rpo_violation resolves", timeout: .seconds(30)) { states(alerts, "rpo_violation") == ["firing", "resolved"] }
        let resolved = events(alerts, "rpo_violation")[1]
        XCTAssertEqual(resolved["payments"] as? Int, 0)
        XCTAssertEqual(resolved["amount"] as? [String: String], [:])
        XCTAssertEqual(resolved["event_ids"] as? [String], [])
        XCTAssertEqual(resolved["classes"] as? [String: Int], ["not_replicated": 0, "never_published": 0])
        try waitUntil("nothing at risk", timeout: .seconds(10)) { metric("regionbridge_rpo_payments_at_risk") == 0 }
        XCTAssertEqual(metric("regionbridge_rpo_amount_at_risk", #"currency="EUR""#), 0)
        XCTAssertEqual(metric("regionbridge_rpo_oldest_at_risk_seconds"), 0)
        XCTAssertEqual(states(alerts, "postgres_unreachable"), [])

        // A manual reconcile next to the running watch: started while the pair's index lock is held (as during a
        // check), it waits for it, then both use the one index and neither spoils the other's answer.
        let holder = try postgres.connect(database: "payments")
        _ = try holder.query("SELECT pg_advisory_lock(hashtext('regionbridge.reconcile.regionbridge.us-east-to-eu-west'))")
        let manual = try BackgroundProcess(RepoPaths.regionbridge, [
            "reconcile", "--topology", bridge.topologyURL.path, "--format", "json", "--since", "10m", "--grace", "1s",
        ])
        Thread.sleep(forTimeInterval: 2)
        XCTAssertTrue(manual.isRunning, "reconcile waits for the lock")
        _ = try holder.query("SELECT pg_advisory_unlock(hashtext('regionbridge.reconcile.regionbridge.us-east-to-eu-west'))")
        XCTAssertEqual(manual.waitForExit(timeout: .seconds(60)), 0, manual.stdoutText + manual.stderrText)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(manual.stdoutText.utf8)) as? [String: Any])
        let counts = report["counts"] as? [String: Int] ?? [:]
        XCTAssertEqual(counts["committed"], 5, manual.stdoutText)
        XCTAssertEqual(counts["in_target"], 5, manual.stdoutText)
        let checked = metric("regionbridge_rpo_last_success_timestamp_seconds") ?? 0
        try waitUntil("a check after the manual reconcile", timeout: .seconds(15)) {
            (metric("regionbridge_rpo_last_success_timestamp_seconds") ?? 0) > checked
        }
        XCTAssertEqual(metric("regionbridge_rpo_payments_at_risk"), 0)
        XCTAssertEqual(states(alerts, "rpo_violation"), ["firing", "resolved"])
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        XCTAssertFalse(process.stderrText.contains(password) || process.stdoutText.contains(password))
    }

    func testAHungPostgresBackendRaisesPostgresUnreachableThroughTheWatchdogAndReplicationGoesOn() throws {
        try commitPayments(0..<3)
        let bridge = try fixture()
        let alerts = alertsFile(bridge)
        let process = try bridge.start(["--alerts-file", alerts.path])
        defer { _ = process.stop(gracePeriod: .seconds(30)) }
        try waitUntil("a successful check", timeout: .seconds(30)) { metric("regionbridge_rpo_last_success_timestamp_seconds") != nil }
        // The watch's own backend process (only that one) stops answering, its host still answering TCP: neither
        // the statement timeout nor keepalives can end the wait.
        let backend = try XCTUnwrap(db.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'regionbridge-rpo-watch'").rows.first?[0].flatMap { $0 }.flatMap(Int32.init))
        XCTAssertEqual(kill(backend, SIGSTOP), 0)
        var continued = false
        defer { if !continued { kill(backend, SIGCONT) } }
        try publishEvents(3..<12)
        // Statement timeout 30 s + 5 s, then lag.for 2 s.
        try waitUntil("postgres_unreachable fires", timeout: .seconds(50)) { states(alerts, "postgres_unreachable") == ["firing"] }
        XCTAssertEqual(metric("regionbridge_postgres_reachable"), 0)
        XCTAssertTrue(process.stderrText.contains("Postgres has not answered a statement for 35.0 seconds"), process.stderrText)
        XCTAssertEqual(try (0..<3).map { try targetClient.readAll("us-east.payments", partition: Int32($0), timeout: .seconds(10)).count }.reduce(0, +), 12,
                       "replication went on")
        XCTAssertEqual(kill(backend, SIGCONT), 0)
        continued = true
        try waitUntil("postgres_unreachable resolves", timeout: .seconds(30)) { states(alerts, "postgres_unreachable") == ["firing", "resolved"] }
        XCTAssertEqual(metric("regionbridge_postgres_reachable"), 1)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
    }

    func testACheckStuckOnAHungBackendDoesNotHoldUpShutdown() throws {
        try commitPayments(0..<3)
        let process = try fixture().start()
        defer { _ = process.stop(gracePeriod: .seconds(30)) }
        try waitUntil("a successful check", timeout: .seconds(30)) { metric("regionbridge_rpo_last_success_timestamp_seconds") != nil }
        let backend = try XCTUnwrap(db.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'regionbridge-rpo-watch'").rows.first?[0].flatMap { $0 }.flatMap(Int32.init))
        XCTAssertEqual(kill(backend, SIGSTOP), 0)
        defer { kill(backend, SIGCONT) }
        Thread.sleep(forTimeInterval: 3)  // the next check (interval 1 s) now waits on the stopped backend
        // Without the 5 s bound the process would wait for the check for ever, and be killed after the grace period.
        XCTAssertEqual(process.stop(gracePeriod: .seconds(20)), 0, process.stderrText)
    }

    /// Two instances in group mode: the one that leads the group checks every partition (those the other copies
    /// read from the target), and is the only one to fire `rpo_violation`; killed, the other takes the watch and the
    /// open alert over from the alerts topic and resolves it once the payment is replicated: one firing, one
    /// resolution, in the feed and in the files together. The payments are committed once both instances copy (a
    /// payment committed before would be at risk, rightly, for as long as the group takes to form), and `max_age` is
    /// 8 s so that a slow copy on a loaded machine is not a violation.
    func testInGroupModeTheLeaderWatchesEveryPartitionAndTheNextLeaderTakesTheOpenViolationOver() throws {
        let group = "{mode: group, session_timeout: 6s, commit_interval: 100ms}"
        let ports = [port, try freeLoopbackPort()]
        let bridges = try ports.map { try fixture(instances: group, maxAge: "8s", metricsPort: $0) }
        let files = bridges.map(alertsFile)
        let instances = try bridges.indices.map { try bridges[$0].start(["--alerts-file", files[$0].path]) }
        defer { for instance in instances { _ = instance.stop(gracePeriod: .seconds(30)) } }
        func owns(_ index: Int) -> Bool {
            instances[index].stderrText.split(separator: "\n").last { $0.contains(" partition(s): ") && $0.contains("owns ") }?.contains("payments/") == true
        }
        func voices() -> [Double?] { ports.map { metric("regionbridge_pair_voice", port: $0) } }
        try waitUntil("both instances copy partitions and one speaks for the pair", timeout: .seconds(60)) {
            owns(0) && owns(1) && voices().compactMap { $0 }.sorted() == [0, 1]
        }
        try commitPayments(0..<6)
        try waitUntil("the published payments copied", timeout: .seconds(30)) {
            try (0..<3).map { try targetClient.readAll("us-east.payments", partition: Int32($0), timeout: .seconds(10)).count }.reduce(0, +) == 6
        }
        try commitPayments(6..<7, publish: false)  // the publisher withholds pay-6
        let leader = try XCTUnwrap(voices().firstIndex { $0 == 1 })
        let other = 1 - leader
        let checked = metric("regionbridge_rpo_last_success_timestamp_seconds", port: ports[leader]) ?? 0
        try waitUntil("a check with the partitions shared out", timeout: .seconds(30)) {
            (metric("regionbridge_rpo_last_success_timestamp_seconds", port: ports[leader]) ?? 0) > checked
        }
        // Exactly pay-6: the payments of the partitions the other instance copies are proven from the target.
        XCTAssertEqual(metric("regionbridge_rpo_payments_at_risk", port: ports[leader]), 1)
        XCTAssertEqual(metric("regionbridge_rpo_amount_at_risk", #"currency="EUR""#, port: ports[leader]), 6.5)
        XCTAssertNil(metric("regionbridge_rpo_payments_at_risk", port: ports[other]), "only the leader exports the watch's figures")
        try waitUntil("rpo_violation fires", timeout: .seconds(30)) { states(files[leader], "rpo_violation") == ["firing"] }
        let firing = events(files[leader], "rpo_violation")[0]
        XCTAssertEqual(firing["event_ids"] as? [String], ["pay-6"], instances.map(\.stderrText).joined(separator: "\n----\n"))
        XCTAssertEqual(firing["classes"] as? [String: Int], ["not_replicated": 0, "never_published": 1])
        XCTAssertEqual(states(files[other], "rpo_violation"), [], "one voice per pair")

        // The leader dies: the other leads within the session timeout and takes the open alert over.
        instances[leader].kill(signal: SIGKILL)
        _ = instances[leader].waitForExit(timeout: .seconds(10))
        try waitUntil("the survivor speaks for the pair", timeout: .seconds(30)) { metric("regionbridge_pair_voice", port: ports[other]) == 1 }
        try waitUntil("the survivor checks", timeout: .seconds(30)) { metric("regionbridge_rpo_payments_at_risk", port: ports[other]) == 1 }
        try waitUntil("the survivor takes the open alert over", timeout: .seconds(10)) {
            instances[other].stderrText.contains("open alerts taken over: rpo_violation")
        }
        try publishEvents(6..<7)
        try waitUntil("rpo_violation resolves", timeout: .seconds(30)) { states(files[other], "rpo_violation") == ["resolved"] }
        XCTAssertEqual(metric("regionbridge_rpo_payments_at_risk", port: ports[other]), 0)
        let feed = try targetClient.readAll("regionbridge.us-east-to-eu-west.alerts", partition: 0).compactMap { record -> String? in
            guard let event = (try? JSONSerialization.jsonObject(with: Data(record.value ?? []))) as? [String: Any],
                  event["alert"] as? String == "rpo_violation" else { return nil }
            return event["state"] as? String
        }
        XCTAssertEqual(feed, ["firing", "resolved"], "one firing and one resolution in the alerts topic")
        XCTAssertEqual(instances[other].stop(gracePeriod: .seconds(30)), 0, instances[other].stderrText)
        XCTAssertFalse(instances[other].stderrText.contains(password))
    }

    func testWithTheTargetFrozenTheNewPaymentsAreAtRiskWithTheirExactCountAndSumAndNoneAfterTheThaw() throws {
        try commitPayments(0..<9)
        let bridge = try fixture()
        let alerts = alertsFile(bridge)
        let process = try bridge.start(["--alerts-file", alerts.path])
        defer { _ = process.stop(gracePeriod: .seconds(30)) }
        try waitUntil("the first payments proven in the target", timeout: .seconds(30)) {
            metric("regionbridge_rpo_payments_at_risk") == 0 && (metric("regionbridge_rpo_last_success_timestamp_seconds") ?? 0) > 0
        }

        target.freeze()
        try commitPayments(10..<15)  // 10.50 + 11.50 + 12.50 + 13.50 + 14.50 = 62.50
        try waitUntil("5 payments at risk", timeout: .seconds(30)) { metric("regionbridge_rpo_payments_at_risk") == 5 }
        XCTAssertEqual(metric("regionbridge_rpo_amount_at_risk", #"currency="EUR""#), 62.5)
        try waitUntil("rpo_violation fires", timeout: .seconds(30)) { states(alerts, "rpo_violation") == ["firing"] }
        let firing = events(alerts, "rpo_violation")[0]
        XCTAssertEqual(firing["payments"] as? Int, 5)
        XCTAssertEqual(firing["amount"] as? [String: String], ["EUR": "62.50"])
        XCTAssertEqual(firing["event_ids"] as? [String], ["pay-10", "pay-11", "pay-12", "pay-13", "pay-14"])
        XCTAssertEqual(firing["classes"] as? [String: Int], ["not_replicated": 5, "never_published": 0])
        XCTAssertEqual(metric("regionbridge_rpo_payments_at_risk"), 5, "still exactly 5 while frozen")

        target.thaw()
        try waitUntil("nothing at risk after the thaw", timeout: .seconds(40)) { metric("regionbridge_rpo_payments_at_risk") == 0 }
        XCTAssertEqual(metric("regionbridge_rpo_amount_at_risk", #"currency="EUR""#), 0)
        try waitUntil("rpo_violation resolves", timeout: .seconds(10)) { states(alerts, "rpo_violation") == ["firing", "resolved"] }
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
    }

    /// The source region lost while `run` runs: the watch answers from the event index and the bridge's acknowledged
    /// positions. Published payments the target lacks stay `not_replicated`; payments committed after the loss are in
    /// no source record it could see, so `unknown_at_source`; all with their amounts.
    func testWithTheSourceRegionLostTheWatchStillNamesWhatTheTargetLacks() throws {
        try commitPayments(0..<6)
        let bridge = try fixture(maxAge: "20s")
        let alerts = alertsFile(bridge)
        let process = try bridge.start(["--alerts-file", alerts.path, "--request-timeout", "3s"])
        defer { _ = process.stop(gracePeriod: .seconds(30)) }
        try waitUntil("the first payments proven in the target", timeout: .seconds(30)) {
            metric("regionbridge_rpo_payments_at_risk") == 0 && (metric("regionbridge_rpo_last_success_timestamp_seconds") ?? 0) > 0
        }

        target.freeze()  // published from now on, but not copied
        try commitPayments(10..<13)  // 10.50 + 11.50 + 12.50
        try waitUntil("3 published payments at risk", timeout: .seconds(30)) { metric("regionbridge_rpo_payments_at_risk") == 3 }
        source.kill()
        try commitPayments(30..<32, publish: false)  // committed after the loss: 30.50 + 31.50
        try waitUntil("5 payments at risk with the source gone", timeout: .seconds(60)) { metric("regionbridge_rpo_payments_at_risk") == 5 }
        XCTAssertEqual(metric("regionbridge_rpo_amount_at_risk", #"currency="EUR""#), 96.5)
        XCTAssertTrue(process.stderrText.contains("answering from the event index and the bridge's acknowledged positions"), process.stderrText)
        try waitUntil("rpo_violation fires", timeout: .seconds(60)) { states(alerts, "rpo_violation") == ["firing"] }
        let firing = events(alerts, "rpo_violation")[0]
        XCTAssertEqual(firing["payments"] as? Int, 5, "\(firing)")
        XCTAssertEqual(firing["amount"] as? [String: String], ["EUR": "96.50"])
        XCTAssertEqual(firing["event_ids"] as? [String], ["pay-10", "pay-11", "pay-12", "pay-30", "pay-31"])
        XCTAssertEqual(firing["classes"] as? [String: Int], ["not_replicated": 3, "never_published": 0, "unknown_at_source": 2])
        // Checks go on while the source is gone.
        let checked = metric("regionbridge_rpo_last_success_timestamp_seconds") ?? 0
        try waitUntil("another check", timeout: .seconds(30)) { (metric("regionbridge_rpo_last_success_timestamp_seconds") ?? 0) > checked }
        target.thaw()
    }

    func testWithPostgresStoppedReplicationGoesOnAndPostgresUnreachableFiresAndResolves() throws {
        try commitPayments(0..<9)
        let bridge = try fixture()
        let alerts = alertsFile(bridge)
        let process = try bridge.start(["--alerts-file", alerts.path])
        defer { _ = process.stop(gracePeriod: .seconds(30)) }
        try waitUntil("a successful check", timeout: .seconds(30)) {
            metric("regionbridge_rpo_payments_at_risk") == 0 && metric("regionbridge_postgres_reachable") == 1
        }

        db = nil
        try postgres.stop()
        try publishEvents(9..<30)  // 21 more records while Postgres is down
        try waitUntil("postgres_unreachable fires", timeout: .seconds(30)) { states(alerts, "postgres_unreachable") == ["firing"] }
        XCTAssertEqual(metric("regionbridge_postgres_reachable"), 0)
        XCTAssertGreaterThan(metric("regionbridge_errors_total", #"kind="postgres_unreachable""#) ?? 0, 0)
        // Replication went on: every record is in the target, byte for byte, in order.
        try waitUntil("30 records in the target", timeout: .seconds(30)) {
            try (0..<3).map { try targetClient.readAll("us-east.payments", partition: Int32($0), timeout: .seconds(10)).count }.reduce(0, +) == 30
        }
        for partition in Int32(0)..<3 {
            let copied = try targetClient.readAll("us-east.payments", partition: partition)
            let original = try sourceClient.readAll("payments", partition: partition)
            XCTAssertEqual(copied.map(\.key), original.map(\.key))
            XCTAssertEqual(copied.map(\.value), original.map(\.value))
            XCTAssertEqual(copied.count, 10)
        }

        try postgres.start()
        try waitUntil("postgres_unreachable resolves", timeout: .seconds(30)) {
            states(alerts, "postgres_unreachable") == ["firing", "resolved"]
        }
        XCTAssertEqual(metric("regionbridge_postgres_reachable"), 1)
        XCTAssertEqual(metric("regionbridge_rpo_payments_at_risk"), 0)
        XCTAssertEqual(states(alerts, "rpo_violation"), [])
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        XCTAssertTrue(process.stderrText.contains("continuous reconciliation of pair us-east-to-eu-west: check skipped: Postgres:"), process.stderrText)
        XCTAssertFalse(process.stderrText.contains(password) || process.stdoutText.contains(password))
    }
}
