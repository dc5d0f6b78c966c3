import Foundation
import TestSupport
import XCTest

/// A cluster that refuses the bridge (its certificate, the bridge's certificate, key or credentials) is named at
/// once, not retried like an outage: exit 2 within seconds, naming the cluster, the cause and what to check.
///
/// Real listeners: the target tansu broker behind Debian's stunnel with a certificate that is valid, expired, not
/// yet valid or made out to another host, and with client certificates required; a tansu broker that requires
/// SASL (SCRAM).
final class TLSRefusalsOnTansuTests: XCTestCase {
    private var pki: TestPKI!
    private var source: TansuBroker!
    private var target: TansuBroker!
    private var terminator: TLSTerminator!
    private var folder: URL!

    private func service(_ name: String, _ certificate: String, clientCA: String? = nil, port: Int? = nil) -> TLSTerminator.Service {
        TLSTerminator.Service(
            name: name, certificate: pki.path(certificate), key: pki.path("server.key"), clientCA: clientCA.map(pki.path),
            forwardTo: target.port, port: port)
    }

    override func setUpWithError() throws {
        pki = try TestPKI()
        source = try TansuBroker(name: "us-east")
        let mutualPort = try freeLoopbackPort()
        target = try TansuBroker(name: "eu-west", advertisedPort: mutualPort)
        terminator = try TLSTerminator(services: [
            service("mutual", "server.pem", clientCA: "ca.pem", port: mutualPort),
            service("expired", "server-expired.pem"),
            service("not-yet-valid", "server-not-yet-valid.pem"),
            service("wrong-host", "server-wrong-host.pem"),
        ])
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("regionbridge-refusals-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        terminator?.stop()
        source?.stop()
        target?.stop()
        try? FileManager.default.removeItem(at: folder)
        terminator = nil
        source = nil
        target = nil
        pki = nil
    }

    /// A topology whose target is `bootstrap` with `properties` (YAML lines), and `extra` top-level lines.
    private func topology(target bootstrap: String, _ properties: [String: String], extra: String = "") throws -> String {
        let lines = properties.keys.sorted().map { "    \($0): \"\(properties[$0]!)\"" }.joined(separator: "\n")
        let url = folder.appendingPathComponent("topology-\(UUID().uuidString).yaml")
        try """
            pair: us-east-to-eu-west
            source:
              region: us-east
              bootstrap_servers: "\(source.bootstrap)"
            target:
              region: eu-west
              bootstrap_servers: "\(bootstrap)"
              properties:
            \(lines)
            topics:
              include: [payments]
            \(extra)

            """.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private func tls(_ extra: [String: String] = [:], ca: String = "ca.pem") -> [String: String] {
        ["security.protocol": "ssl", "ssl.ca.location": pki.path(ca)].merging(extra) { $1 }
    }

    private var clientCertificate: [String: String] {
        ["ssl.certificate.location": pki.path("client.pem"), "ssl.key.location": pki.path("client.key")]
    }

    /// Runs `arguments` and checks: exit 2 within `within`, stderr naming `expected` (each of them).
    private func assertRefused(
        _ arguments: [String], _ expected: [String], within: Duration = .seconds(10), file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let started = ContinuousClock.now
        let result = try runProcess(RepoPaths.regionbridge, arguments + ["--log-level", "critical"], timeout: .seconds(120))
        let took = ContinuousClock.now - started
        XCTAssertEqual(result.exitCode, 2, "\(arguments[0]): \(result.stderr)", file: file, line: line)
        XCTAssertLessThan(took, within, "\(arguments[0]) took \(took): \(result.stderr)", file: file, line: line)
        for text in expected {
            XCTAssertTrue(result.stderr.contains(text), "\(arguments[0]) does not say \"\(text)\":\n\(result.stderr)", file: file, line: line)
        }
    }

    /// `run` waits up to --start-timeout for a cluster that does not answer; one that refuses stops it at once.
    private func assertRunRefused(_ topologyFile: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        try assertRefused(
            ["run", "--topology", topologyFile, "--start-timeout", "60s", "--request-timeout", "30s"], expected, file: file, line: line)
    }

    func testEveryCertificateRefusalIsNamedWithinSeconds() throws {
        let port = { (name: String) in "127.0.0.1:\(self.terminator.ports[name]!)" }
        let refuses = { (name: String) in "target cluster eu-west at \(port(name)) refuses this client: " }

        // The working configuration first: the same listeners accept the bridge.
        let good = try topology(target: port("mutual"), tls(clientCertificate))
        let lag = try runProcess(RepoPaths.regionbridge, ["lag", "--topology", good, "--log-level", "critical"], timeout: .seconds(60))
        XCTAssertEqual(lag.exitCode, 0, lag.stderr)

        try assertRunRefused(try topology(target: port("mutual"), tls(clientCertificate, ca: "other-ca.pem")), [
            refuses("mutual"), "the broker's TLS certificate is not signed by a CA this client trusts",
            "OpenSSL verification error", "check ssl.ca.location",
        ])
        try assertRunRefused(try topology(target: port("expired"), tls()), [
            refuses("expired"), "the broker's TLS certificate has expired", "OpenSSL verification error 10", "renew the broker's certificate",
        ])
        try assertRunRefused(try topology(target: port("not-yet-valid"), tls()), [
            refuses("not-yet-valid"), "the broker's TLS certificate is not valid yet", "OpenSSL verification error 9",
        ])
        try assertRunRefused(try topology(target: port("wrong-host"), tls()), [
            refuses("wrong-host"), "the broker's TLS certificate does not name the host the client connected to",
            "OpenSSL verification error 64",
        ])
        // Mutual TLS without a client certificate: TLS 1.3 refuses it after the handshake, with an alert.
        try assertRunRefused(try topology(target: port("mutual"), tls()), [
            refuses("mutual"), "the broker refused this client's TLS certificate, or requires one it did not get",
            "check ssl.certificate.location and ssl.key.location",
        ])
        // The other commands stop as fast, with the same words.
        try assertRefused(["lag", "--topology", try topology(target: port("expired"), tls())], [
            refuses("expired"), "the broker's TLS certificate has expired",
        ])
        try assertRefused(["translate-offsets", "--topology", try topology(target: port("expired"), tls()), "--group", "app-1"], [
            "the target cluster refuses this client: the broker's TLS certificate has expired",
        ])
    }

    func testAWrongKeyPasswordIsAConfigurationErrorNamingTheCluster() throws {
        let port = "127.0.0.1:\(terminator.ports["mutual"]!)"
        let wrong = try topology(target: port, tls([
            "ssl.certificate.location": pki.path("client.pem"), "ssl.key.location": pki.path("client-encrypted.key"),
            "ssl.key.password": "not-the-password",
        ]))
        try assertRunRefused(wrong, ["target cluster eu-west: cannot create Kafka client", "ssl.key.password opens the key"])
        XCTAssertFalse(try String(contentsOfFile: wrong, encoding: .utf8).isEmpty)

        let right = try topology(target: port, tls([
            "ssl.certificate.location": pki.path("client.pem"), "ssl.key.location": pki.path("client-encrypted.key"),
            "ssl.key.password": pki.keyPassword,
        ]))
        let lag = try runProcess(RepoPaths.regionbridge, ["lag", "--topology", right, "--log-level", "critical"], timeout: .seconds(60))
        XCTAssertEqual(lag.exitCode, 0, lag.stderr)
    }

    /// tansu 0.6.0 offers SCRAM but stores no credentials (its in-memory storage keeps no SCRAM users), so every
    /// login fails: that is the refusal this test can show. A successful SASL login cannot be shown on tansu.
    func testASASLRefusalIsNamedWithinSeconds() throws {
        let sasl = try TansuBroker(name: "eu-west-sasl", extraArguments: ["--authentication"])
        defer { sasl.stop() }
        let file = try topology(target: sasl.bootstrap, [
            "security.protocol": "sasl_plaintext", "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "regionbridge",
            "sasl.password": "Rb-sasl-4c7d2a90", "debug": "security,broker",
        ])
        try assertRunRefused(file, [
            "target cluster eu-west at \(sasl.bootstrap) refuses this client: SASL authentication failed",
            "check sasl.mechanism, sasl.username and sasl.password",
        ])
        let traced = try runProcess(RepoPaths.regionbridge, ["lag", "--topology", file, "--log-level", "trace"], timeout: .seconds(60))
        XCTAssertEqual(traced.exitCode, 2, traced.stderr)
        XCTAssertTrue(traced.stderr.contains("rdkafka=SASL") || traced.stderr.contains("SCRAM"), String(traced.stderr.prefix(3000)))
        XCTAssertFalse((traced.stdout + traced.stderr).contains("4c7d2a90"), "the SASL password shows")
    }

    /// A running bridge whose target starts refusing it (the broker's certificate is replaced by an expired one)
    /// keeps running, says why in the alert feed and on `/metrics`, and resolves the alert once the certificate is
    /// valid again.
    func testARunningBridgeNamesARefusalInTheAlertFeedAndMetrics() throws {
        let port = terminator.ports["mutual"]!
        let metricsPort = try freeLoopbackPort()
        let file = try topology(
            target: "127.0.0.1:\(port)", tls(clientCertificate),
            extra: "lag: {warn_seconds: 5, critical_seconds: 10, for: 0s}\nmetrics: {listen: \"127.0.0.1:\(metricsPort)\"}\nheartbeats: {interval: 0}")
        try KafkaTestClient(bootstrap: source.bootstrap).createTopic("payments", partitions: 1)
        let alerts = folder.appendingPathComponent("alerts.jsonl")
        let bridge = try BackgroundProcess(
            RepoPaths.regionbridge, ["run", "--topology", file, "--alerts-file", alerts.path, "--request-timeout", "5s", "--log-level", "warning"])
        addTeardownBlock { _ = bridge.stop(gracePeriod: .seconds(5)) }
        let metrics = { (try? httpGet("http://127.0.0.1:\(metricsPort)/metrics").body) ?? "" }
        try waitUntil("the target answers", timeout: .seconds(30)) {
            metrics().contains(#"regionbridge_cluster_reachable{pair="us-east-to-eu-west",cluster="target"} 1"#)
        }

        terminator.stop()
        terminator = try TLSTerminator(services: [service("mutual", "server-expired.pem", clientCA: "ca.pem", port: port)])
        let alertLines = { ((try? String(contentsOf: alerts, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        try waitUntil("cluster_unreachable fires with its cause", timeout: .seconds(45)) {
            alertLines().contains { $0.contains(#""alert":"cluster_unreachable","state":"firing""#) }
        }
        let firing = try XCTUnwrap(alertLines().first { $0.contains(#""alert":"cluster_unreachable","state":"firing""#) })
        XCTAssertTrue(firing.contains(#""cluster":"target""#), firing)
        XCTAssertTrue(firing.contains(#""cause":"expired_certificate""#), firing)
        XCTAssertTrue(firing.contains(#""cause_text":"the broker's TLS certificate has expired"#), firing)
        XCTAssertTrue(metrics().contains(#"regionbridge_cluster_refuses{pair="us-east-to-eu-west",cluster="target",cause="expired_certificate"} 1"#), metrics())
        XCTAssertTrue(bridge.isRunning, "the bridge keeps running: \(bridge.stderrText.suffix(2000))")

        terminator.stop()
        terminator = try TLSTerminator(services: [service("mutual", "server.pem", clientCA: "ca.pem", port: port)])
        try waitUntil("cluster_unreachable resolves", timeout: .seconds(45)) {
            alertLines().contains { $0.contains(#""alert":"cluster_unreachable","state":"resolved""#) }
        }
        XCTAssertTrue(metrics().contains(#"regionbridge_cluster_refuses{pair="us-east-to-eu-west",cluster="target",cause="expired_certificate"} 0"#), metrics())
        XCTAssertEqual(alertLines().filter { $0.contains(#""alert":"cluster_unreachable""#) }.count, 2, alertLines().joined(separator: "\n"))
        XCTAssertEqual(bridge.stop(gracePeriod: .seconds(30)), 0, String(bridge.stderrText.suffix(2000)))
        XCTAssertTrue(bridge.stderrText.contains("refuses this client: the broker's TLS certificate has expired"), String(bridge.stderrText.suffix(3000)))
    }
}
