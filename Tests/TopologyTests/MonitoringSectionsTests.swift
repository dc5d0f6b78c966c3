import Topology
import XCTest

/// The optional `lag:` and `metrics:` sections.
final class MonitoringSectionsTests: XCTestCase {
    private func document(_ extra: String) -> String {
        TopologyTests.document(appending: extra)
    }

    func testSectionsAreOptionalWithDocumentedDefaults() throws {
        let topology = try TopologyLoader.parse(yaml: document(""))
        XCTAssertEqual(topology.lag, LagSettings(warnSeconds: 5, criticalSeconds: 60, holdFor: .seconds(30)))
        XCTAssertEqual(topology.metrics, MetricsSettings(host: "127.0.0.1", port: 9464))
        XCTAssertEqual(topology.metrics.listen, "127.0.0.1:9464")
    }

    func testSectionsAsInTheIssueParse() throws {
        let topology = try TopologyLoader.parse(yaml: document("""
            lag:
              warn_seconds: 2.5
              critical_seconds: 90
              for: 1m30s
            metrics:
              listen: "0.0.0.0:9999"
            """))
        XCTAssertEqual(topology.lag, LagSettings(warnSeconds: 2.5, criticalSeconds: 90, holdFor: .seconds(90)))
        XCTAssertEqual(topology.metrics, MetricsSettings(host: "0.0.0.0", port: 9999))
    }

    func testPartialSectionsKeepTheOtherDefaults() throws {
        let topology = try TopologyLoader.parse(yaml: document("""
            lag:
              for: 0s
            metrics: {}
            """))
        XCTAssertEqual(topology.lag, LagSettings(warnSeconds: 5, criticalSeconds: 60, holdFor: .zero))
        XCTAssertEqual(topology.metrics, MetricsSettings())
    }

    func testWarnEqualToCriticalIsAllowed() throws {
        let topology = try TopologyLoader.parse(yaml: document("lag: {warn_seconds: 10, critical_seconds: 10}"))
        XCTAssertEqual(topology.lag.warnSeconds, 10)
        XCTAssertEqual(topology.lag.criticalSeconds, 10)
    }

    func testBadLagValuesAreReportedWithTheirLines() {
        XCTAssertEqual(reported(document("""
            lag:
              warn_seconds: soon
              critical_seconds: -1
              for: forever
              fro: 3s
            """)), [
                Reported(11, "lag.warn_seconds", "warn_seconds must be a number of seconds greater than zero"),
                Reported(12, "lag.critical_seconds", "critical_seconds must be a number of seconds greater than zero"),
                Reported(13, "lag.for", "for must be a duration, such as 0s, 30s or 2m"),
                Reported(14, "lag.fro", "unknown key (did you mean for?)"),
            ])
    }

    func testCriticalBelowWarnIsReportedAtCritical() {
        XCTAssertEqual(reported(document("""
            lag:
              warn_seconds: 30
              critical_seconds: 10
            """)), [Reported(12, "lag.critical_seconds", "critical_seconds must be at least warn_seconds")])
        // Against the default warn_seconds (5).
        XCTAssertEqual(reported(document("lag: {critical_seconds: 4}")), [
            Reported(10, "lag.critical_seconds", "critical_seconds must be at least warn_seconds"),
        ])
        // Against the default critical_seconds (60).
        XCTAssertEqual(reported(document("lag: {warn_seconds: 61}")), [
            Reported(10, "lag.warn_seconds", "warn_seconds must not exceed critical_seconds (default 60)"),
        ])
    }

    func testBadListenValuesAreReportedWithTheirLines() {
        let message = "listen must be host:port (a port from 1 to 65535; IPv6 as [address]:port)"
        for bad in ["9464", "127.0.0.1", ":9464", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:94x", "::1:9464", "a b:1"] {
            XCTAssertEqual(reported(document("""
                metrics:
                  listen: "\(bad)"
                """)), [Reported(11, "metrics.listen", message)], bad)
        }
        XCTAssertEqual(reported(document("metrics:\n  listen: [1, 2]")), [
            Reported(11, "metrics.listen", "expected a string, found a list"),
        ])
        XCTAssertEqual(reported(document("lag: 5")), [Reported(10, "lag", "expected a mapping, found a scalar")])
    }

    func testListenParsesHostsAndIPv6() {
        XCTAssertEqual(MetricsSettings(listen: "localhost:80"), MetricsSettings(host: "localhost", port: 80))
        XCTAssertEqual(MetricsSettings(listen: "[::1]:9464"), MetricsSettings(host: "::1", port: 9464))
        XCTAssertEqual(MetricsSettings(host: "::1", port: 9464).listen, "[::1]:9464")
        XCTAssertNil(MetricsSettings(listen: "[]:1"))
        XCTAssertNil(MetricsSettings(listen: "host:+80"))
    }
}
