import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// Every command over mutual TLS on both clusters and TLS to Postgres, as a production pair is configured: each
/// tansu broker behind Debian's stunnel requiring a client certificate (tansu advertises stunnel's port, so no
/// client ever reaches it in plaintext), host names verified, the client key encrypted with a password read from
/// a file (`${file:...}`), and Postgres 15 with `ssl = on` reached with `sslmode=verify-full`.
final class MutualTLSOnTansuTests: XCTestCase {
    private var pki: TestPKI!
    private var source: TansuBroker!
    private var target: TansuBroker!
    private var terminator: TLSTerminator!
    private var postgres: PostgresCluster!
    private var folder: URL!

    override func setUpWithError() throws {
        pki = try TestPKI(keyPassword: "Rb-tls-9f3e1c77")
        let sourcePort = try freeLoopbackPort()
        let targetPort = try freeLoopbackPort()
        source = try TansuBroker(name: "us-east", advertisedPort: sourcePort)
        target = try TansuBroker(name: "eu-west", advertisedPort: targetPort)
        terminator = try TLSTerminator(services: [
            .init(name: "us-east", certificate: pki.path("server.pem"), key: pki.path("server.key"), clientCA: pki.path("ca.pem"),
                  forwardTo: source.port, port: sourcePort),
            .init(name: "eu-west", certificate: pki.path("server.pem"), key: pki.path("server.key"), clientCA: pki.path("ca.pem"),
                  forwardTo: target.port, port: targetPort),
        ])
        postgres = try PostgresCluster(tls: (pki.path("server.pem"), pki.path("server.key")))
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("regionbridge-mtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        terminator?.stop()
        source?.stop()
        target?.stop()
        try? postgres?.stop()
        try? FileManager.default.removeItem(at: folder)
        (terminator, source, target, postgres, pki) = (nil, nil, nil, nil, nil)
    }

    private var tlsBootstrap: (source: String, target: String) {
        ("127.0.0.1:\(terminator.ports["us-east"]!)", "127.0.0.1:\(terminator.ports["eu-west"]!)")
    }

    /// The test's own clients, over the same mutual TLS.
    private func client(_ bootstrap: String) -> KafkaTestClient {
        KafkaTestClient(bootstrap: bootstrap, properties: [
            "security.protocol": "ssl", "ssl.ca.location": pki.path("ca.pem"), "ssl.certificate.location": pki.path("client.pem"),
            "ssl.key.location": pki.path("client.key"),
        ])
    }

    private func topology(_ name: String, extra: String) throws -> String {
        let properties = """
                security.protocol: ssl
                ssl.ca.location: \(pki.path("ca.pem"))
                ssl.endpoint.identification.algorithm: https
                ssl.certificate.location: \(pki.path("client.pem"))
                ssl.key.location: \(pki.path("client-encrypted.key"))
                ssl.key.password: "${file:key-password}"
            """
        let url = folder.appendingPathComponent(name)
        try """
            pair: us-east-to-eu-west
            source:
              region: us-east
              bootstrap_servers: "\(tlsBootstrap.source)"
              properties:
            \(properties)
            target:
              region: eu-west
              bootstrap_servers: "\(tlsBootstrap.target)"
              properties:
            \(properties)
            topics:
              include: [payments]
              discovery_interval: 1s
            groups: {include: ["app-.*"], sync_interval: 1s}
            heartbeats: {interval: 500ms}
            reconcile:
              postgres_dsn: "\(postgres.dsn(database: "payments")) sslmode=verify-full sslrootcert=\(pki.path("ca.pem"))"
              committed_query: "SELECT event_id, committed_at, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2"
              topics: [payments]
              compare: {amount: amount, currency: currency}
              amount: amount
              currency: currency
              continuous: {interval: 1s, lookback: 10m, max_age: 30s}
            \(extra)

            """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private func payments(_ range: Range<Int>) -> [KafkaRecord] {
        range.map { n in
            KafkaRecord(topic: "payments", partition: Int32(n % 3), offset: 0, key: Array("pay-\(n)".utf8),
                        value: Array(#"{"event_id":"pay-\#(n)","amount":\#(n).50,"currency":"EUR"}"#.utf8),
                        headers: [KafkaHeader(name: "trace", value: Array("t-\(n)".utf8))])
        }
    }

    /// Committed records in the target's copy of `payments` (tansu's ListOffsets answers a batch's base offset).
    private func copied(_ target: KafkaTestClient) throws -> Int {
        guard try target.topicNames().contains("us-east.payments") else { return 0 }
        return try (Int32(0)..<3).map { try target.readAll("us-east.payments", partition: $0, timeout: .seconds(10), committedOnly: true).count }
            .reduce(0, +)
    }

    func testEveryCommandWorksOverMutualTLSAndPostgresOverTLS() throws {
        try pki.keyPassword.write(to: folder.appendingPathComponent("key-password"), atomically: true, encoding: .utf8)
        let db = try postgres.paymentsDatabase()
        try db.execute("""
            INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
            SELECT 'pay-' || n, 'acct-1', n + 0.50, 'EUR', 'committed', now() - interval '5 minutes'
            FROM generate_series(0, 399) AS n
            """)
        let sourceClient = client(tlsBootstrap.source)
        let targetClient = client(tlsBootstrap.target)
        try sourceClient.createTopic("payments", partitions: 3)
        _ = try sourceClient.produce(payments(0..<300))
        try sourceClient.commit(group: "app-1", [TopicPartition("payments", 0): 40, TopicPartition("payments", 1): 20])

        let metricsPort = try freeLoopbackPort()
        let single = try topology("single.yaml", extra: "metrics: {listen: \"127.0.0.1:\(metricsPort)\"}")
        let group = try topology("group.yaml", extra: "instances: {mode: group, session_timeout: 6s, commit_interval: 100ms}")
        func regionbridge(_ arguments: [String], timeout: Duration = .seconds(120)) throws -> ProcessResult {
            try runProcess(RepoPaths.regionbridge, arguments + ["--log-level", "warning"], timeout: timeout)
        }

        // run (single mode): copy, heartbeats, the group-offset sync, the alerts topic, the continuous RPO watch on TLS Postgres.
        let running = try BackgroundProcess(
            RepoPaths.regionbridge, ["run", "--topology", single, "--request-timeout", "10s", "--log-level", "warning"])
        addTeardownBlock { [running] in _ = running.stop(gracePeriod: .seconds(5)) }
        do {
            try waitUntil("300 records copied", timeout: .seconds(60)) { try copied(targetClient) >= 300 }
        } catch {
            XCTFail("bridge stderr:\n\(running.stderrText.suffix(4000))")
            throw error
        }
        try waitUntil("the RPO watch checked Postgres over TLS, the group sync and the heartbeats ran", timeout: .seconds(60)) {
            let metrics = (try? httpGet("http://127.0.0.1:\(metricsPort)/metrics").body) ?? ""
            let synced = (try? targetClient.committed(group: "app-1"))?.isEmpty == false
            return metrics.contains("regionbridge_rpo_last_success_timestamp_seconds") && synced
                && metrics.contains("regionbridge_end_to_end_latency_seconds_count")
        }
        XCTAssertEqual(running.stop(gracePeriod: .seconds(30)), 0, String(running.stderrText.suffix(3000)))
        XCTAssertFalse(running.stderrText.contains("refuses"), String(running.stderrText.suffix(3000)))
        XCTAssertTrue(try targetClient.topicNames().contains("regionbridge.us-east-to-eu-west.alerts"), "the alerts topic was created over TLS")
        XCTAssertEqual(try targetClient.committed(group: "app-1")[TopicPartition("us-east.payments", 0)], 40)

        // run in group mode: one instance joins the group over TLS and copies what came since.
        _ = try sourceClient.produce(payments(300..<400))
        let grouped = try BackgroundProcess(RepoPaths.regionbridge, ["run", "--topology", group, "--request-timeout", "10s", "--log-level", "warning"])
        try waitUntil("400 records copied in group mode", timeout: .seconds(90)) { try copied(targetClient) >= 400 }
        XCTAssertEqual(grouped.stop(gracePeriod: .seconds(30)), 0, String(grouped.stderrText.suffix(3000)))

        // Record for record, byte for byte, in order.
        for partition in Int32(0)..<3 {
            let sent = try sourceClient.readAll("payments", partition: partition)
            let copied = try targetClient.readAll("us-east.payments", partition: partition, committedOnly: true)
            XCTAssertEqual(copied.map(\.value), sent.map(\.value), "partition \(partition)")
            XCTAssertEqual(copied.map(\.key), sent.map(\.key), "partition \(partition)")
            XCTAssertEqual(copied.map { $0.headers.first { $0.name == "trace" }?.value }, sent.map { $0.headers.first { $0.name == "trace" }?.value })
        }

        // The one-shot commands, each over mutual TLS (and reconcile and drill over TLS to Postgres).
        let lag = try regionbridge(["lag", "--topology", single, "--format", "json"])
        XCTAssertEqual(lag.exitCode, 0, lag.stderr)
        XCTAssertTrue(lag.stdout.contains("\"partitions\""), lag.stdout)
        let translated = try regionbridge(["translate-offsets", "--topology", single, "--group", "app-1"])
        XCTAssertEqual(translated.exitCode, 0, translated.stderr)
        XCTAssertTrue(translated.stdout.contains("us-east.payments"), translated.stdout)
        let failover = try regionbridge(["failover", "--topology", single, "--group", "app-1"])
        XCTAssertEqual(failover.exitCode, 0, failover.stderr)
        XCTAssertTrue(failover.stdout.contains("dry run"), failover.stdout)
        let failback = try regionbridge(["failback", "--topology", single, "--group", "app-1"])
        XCTAssertEqual(failback.exitCode, 0, failback.stdout + failback.stderr)
        let waited = try regionbridge(["wait-replicated", "--topology", single, "--topic", "payments", "--partition", "1", "--offset", "120", "--timeout", "10s"])
        XCTAssertEqual(waited.exitCode, 0, waited.stderr)
        XCTAssertTrue(waited.stdout.hasPrefix("replicated: payments/1@120"), waited.stdout)
        let reconciled = try regionbridge(["reconcile", "--topology", single, "--since", "1h"])
        XCTAssertEqual(reconciled.exitCode, 0, reconciled.stdout + reconciled.stderr)
        XCTAssertTrue(reconciled.stdout.contains("RPO=0 holds"), reconciled.stdout)
        // The drill reads a running pair (its heartbeats).
        let again = try BackgroundProcess(RepoPaths.regionbridge, ["run", "--topology", single, "--request-timeout", "10s", "--log-level", "warning"])
        try waitUntil("the bridge is up again", timeout: .seconds(30)) {
            ((try? httpGet("http://127.0.0.1:\(metricsPort)/metrics").body) ?? "").contains("regionbridge_end_to_end_latency_seconds_count")
        }
        let reverse = folder.appendingPathComponent("eu-west-to-us-east.yaml")
        try (try String(contentsOfFile: single, encoding: .utf8))
            .replacingOccurrences(of: "pair: us-east-to-eu-west", with: "pair: eu-west-to-us-east")
            .replacingOccurrences(of: "region: us-east", with: "region: SWAP").replacingOccurrences(of: "region: eu-west", with: "region: us-east")
            .replacingOccurrences(of: "region: SWAP", with: "region: eu-west")
            .replacingOccurrences(of: "\"\(tlsBootstrap.source)\"", with: "SWAP").replacingOccurrences(of: "\"\(tlsBootstrap.target)\"", with: "\"\(tlsBootstrap.source)\"")
            .replacingOccurrences(of: "SWAP", with: "\"\(tlsBootstrap.target)\"")
            .replacingOccurrences(of: "metrics: {listen: \"127.0.0.1:\(metricsPort)\"}", with: "")
            .write(to: reverse, atomically: true, encoding: .utf8)
        let drill = try regionbridge(["drill", "--topology", single, "--failback", reverse.path, "--sample", "1s", "--request-timeout", "5s"])
        XCTAssertEqual(again.stop(gracePeriod: .seconds(30)), 0, String(again.stderrText.suffix(3000)))
        XCTAssertEqual(drill.exitCode, 0, drill.stdout + drill.stderr)
        XCTAssertTrue(drill.stdout.hasPrefix("READY: pair us-east-to-eu-west could fail over to eu-west now"), drill.stdout)
        XCTAssertFalse((drill.stdout + drill.stderr).contains("refuses"), drill.stdout + drill.stderr)
        XCTAssertFalse((drill.stdout + drill.stderr).contains("cannot reach"), drill.stdout + drill.stderr)

        // librdkafka's own TLS debug lines at trace level never show the key's password.
        let traced = try String(contentsOfFile: single, encoding: .utf8)
            .replacingOccurrences(of: "    security.protocol: ssl\n", with: "    security.protocol: ssl\n    debug: security,broker,protocol\n")
        let tracedFile = folder.appendingPathComponent("traced.yaml")
        try traced.write(to: tracedFile, atomically: true, encoding: .utf8)
        let tracing = try runProcess(RepoPaths.regionbridge, ["lag", "--topology", tracedFile.path, "--log-level", "trace"], timeout: .seconds(60))
        XCTAssertEqual(tracing.exitCode, 0, String(tracing.stderr.suffix(2000)))
        XCTAssertTrue(tracing.stderr.contains("rdkafka=SSL") || tracing.stderr.contains("rdkafka=SECURITY"), String(tracing.stderr.prefix(3000)))
        XCTAssertFalse((tracing.stdout + tracing.stderr).contains("9f3e1c77"), "the key password shows")

        // Postgres with a CA that did not sign its certificate: the libpq error names the cause.
        let wrongCA = try topology("wrong-ca.yaml", extra: "")
        let text = try String(contentsOfFile: wrongCA, encoding: .utf8)
            .replacingOccurrences(of: "sslrootcert=\(pki.path("ca.pem"))", with: "sslrootcert=\(pki.path("other-ca.pem"))")
        try text.write(toFile: wrongCA, atomically: true, encoding: .utf8)
        let refused = try regionbridge(["reconcile", "--topology", wrongCA, "--since", "1h"])
        XCTAssertEqual(refused.exitCode, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("certificate verify failed"), refused.stderr)

        // Postgres reached under a name its certificate does not carry (libpq checks `host`, connects to `hostaddr`).
        let wrongHost = try topology("wrong-host.yaml", extra: "")
        try String(contentsOfFile: wrongHost, encoding: .utf8)
            .replacingOccurrences(of: "host=127.0.0.1 ", with: "host=wrong.example hostaddr=127.0.0.1 ")
            .write(toFile: wrongHost, atomically: true, encoding: .utf8)
        let mismatch = try regionbridge(["reconcile", "--topology", wrongHost, "--since", "1h"])
        XCTAssertEqual(mismatch.exitCode, 1, mismatch.stderr)
        XCTAssertTrue(mismatch.stderr.contains(#"does not match host name "wrong.example""#), mismatch.stderr)
    }
}
