import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Logging
import Monitoring
import Replication
import ServiceLifecycle
import TestSupport
import XCTest

final class MetricsServerTests: XCTestCase {
    /// One HTTP GET; status and body.
    /// A new session (and so a new connection) per request, so a stopped server is noticed.
    private func get(_ port: Int, _ path: String) async throws -> (Int, String, String?) {
        let url = URL(string: "http://127.0.0.1:\(port)\(path)")!
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(from: url)
        let http = response as! HTTPURLResponse
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.value(forHTTPHeaderField: "Content-Type"))
    }

    /// Retries `get` until the server answers (it binds asynchronously).
    private func getWhenUp(_ port: Int, _ path: String) async throws -> (Int, String, String?) {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do { return try await get(port, path) } catch {
                if ContinuousClock.now > deadline { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    func testServesMetricsLiveAndReadyOverHTTP() async throws {
        let prometheus = PrometheusSetup()
        let metrics = BridgeMetrics(pair: "us-east-to-eu-west", factory: prometheus.factory)
        let readiness = BridgeReadiness()
        let observer: any ReplicationObserver = ObserverGroup([metrics, readiness])
        let p0 = TopicPartition("payments", 0)
        observer.lag(partition: p0, records: 40, seconds: 12.5)
        observer.lag(partition: TopicPartition("payments", 1), records: 0, seconds: 0)
        observer.recordsCopied(partition: p0, count: 3, bytes: 300)
        observer.recordsCopied(partition: p0, count: 2, bytes: 20)
        observer.error(kind: "source_unavailable")
        observer.error(kind: "source_unavailable")
        observer.groupSync(at: Date(timeIntervalSince1970: 1_800_000_000))
        observer.latency(partition: p0, milliseconds: 20)
        observer.latency(partition: p0, milliseconds: 700)
        observer.clusterReachable(.source, true)
        observer.clusterReachable(.target, true)
        observer.clusterReachable(.target, false)

        let port = try freeLoopbackPort()
        let server = MetricsServer(
            host: "127.0.0.1", port: port, routes: prometheus.routes(isReady: { readiness.isReady }),
            logger: Logger(label: "test"))
        let task = Task { try await server.run() }
        defer { task.cancel() }

        let (status, body, contentType) = try await getWhenUp(port, "/metrics")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(contentType, "text/plain; version=0.0.4; charset=utf-8")
        let lines = Set(body.split(separator: "\n").map(String.init))
        for expected in [
            #"regionbridge_lag_records{pair="us-east-to-eu-west",topic="payments",partition="0"} 40.0"#,
            #"regionbridge_lag_seconds{pair="us-east-to-eu-west",topic="payments",partition="0"} 12.5"#,
            #"regionbridge_lag_records{pair="us-east-to-eu-west",topic="payments",partition="1"} 0.0"#,
            #"regionbridge_lag_seconds{pair="us-east-to-eu-west",topic="payments",partition="1"} 0.0"#,
            #"regionbridge_records_replicated_total{pair="us-east-to-eu-west",topic="payments",partition="0"} 5"#,
            #"regionbridge_bytes_replicated_total{pair="us-east-to-eu-west",topic="payments",partition="0"} 320"#,
            #"regionbridge_errors_total{pair="us-east-to-eu-west",kind="source_unavailable"} 2"#,
            #"regionbridge_last_group_sync_timestamp_seconds{pair="us-east-to-eu-west"} 1800000000.0"#,
            #"regionbridge_replication_latency_seconds_bucket{pair="us-east-to-eu-west",topic="payments",le="0.025"} 1"#,
            #"regionbridge_replication_latency_seconds_bucket{pair="us-east-to-eu-west",topic="payments",le="1.0"} 2"#,
            #"regionbridge_replication_latency_seconds_count{pair="us-east-to-eu-west",topic="payments"} 2"#,
            #"regionbridge_cluster_reachable{pair="us-east-to-eu-west",cluster="source"} 1.0"#,
            #"regionbridge_cluster_reachable{pair="us-east-to-eu-west",cluster="target"} 0.0"#,
            "# TYPE regionbridge_lag_seconds gauge",
            "# TYPE regionbridge_replication_latency_seconds histogram",
        ] {
            XCTAssertTrue(lines.contains(expected), "missing \(expected) in:\n\(body)")
        }

        // A partition handed to another instance loses its lag gauges here (a stale gauge would keep an alert
        // firing); its counters stay.
        observer.released(partition: p0)
        let afterRelease = try await get(port, "/metrics").1
        XCTAssertFalse(afterRelease.contains(#"regionbridge_lag_seconds{pair="us-east-to-eu-west",topic="payments",partition="0"}"#), afterRelease)
        XCTAssertTrue(afterRelease.contains(#"regionbridge_lag_seconds{pair="us-east-to-eu-west",topic="payments",partition="1"} 0.0"#), afterRelease)
        XCTAssertTrue(afterRelease.contains(#"regionbridge_records_replicated_total{pair="us-east-to-eu-west",topic="payments",partition="0"} 5"#), afterRelease)
        observer.lag(partition: p0, records: 1, seconds: 0.5)
        let afterReturn = try await get(port, "/metrics").1
        XCTAssertTrue(afterReturn.contains(#"regionbridge_lag_seconds{pair="us-east-to-eu-west",topic="payments",partition="0"} 0.5"#), afterReturn)

        var (readyStatus, readyBody, _) = try await get(port, "/health/ready")
        XCTAssertEqual(readyStatus, 503)
        XCTAssertEqual(readyBody, "not ready\n")
        observer.clusterReachable(.source, true)
        observer.clusterReachable(.target, true)
        observer.running(true)
        (readyStatus, readyBody, _) = try await get(port, "/health/ready")
        XCTAssertEqual(readyStatus, 200)
        XCTAssertEqual(readyBody, "ready\n")

        let (liveStatus, liveBody, _) = try await get(port, "/health/live?verbose=1")
        XCTAssertEqual(liveStatus, 200)
        XCTAssertEqual(liveBody, "live\n")
        let (missingStatus, _, _) = try await get(port, "/nothing")
        XCTAssertEqual(missingStatus, 404)

        // Cancelling the service closes the listening socket.
        task.cancel()
        _ = try? await task.value
        do {
            _ = try await get(port, "/health/live")
            XCTFail("the server still answers after it stopped")
        } catch {}
    }

    func testGracefulShutdownOfTheServiceGroupStopsTheServer() async throws {
        let port = try freeLoopbackPort()
        let server = MetricsServer(
            host: "127.0.0.1", port: port, routes: MonitoringRoutes(metrics: { [] }, isReady: { true }),
            logger: Logger(label: "test"))
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let task = Task { try await group.run() }
        let (status, _, _) = try await getWhenUp(port, "/health/ready")
        XCTAssertEqual(status, 200)
        await group.triggerGracefulShutdown()
        try await task.value
    }

    func testAnAddressInUseFailsTheService() async throws {
        let port = try freeLoopbackPort()
        let first = MetricsServer(host: "127.0.0.1", port: port, routes: MonitoringRoutes(metrics: { [] }, isReady: { true }), logger: Logger(label: "test"))
        let task = Task { try await first.run() }
        defer { task.cancel() }
        _ = try await getWhenUp(port, "/health/live")
        do {
            try await first.run()
            XCTFail("bound the same port twice")
        } catch {}
    }

    func testRoutes() {
        let routes = MonitoringRoutes(metrics: { Array("m 1\n".utf8) }, isReady: { false })
        XCTAssertEqual(routes.respond(method: "GET", uri: "/metrics"), MonitoringResponse(status: 200, contentType: MonitoringRoutes.metricsContentType, body: Array("m 1\n".utf8)))
        XCTAssertEqual(routes.respond(method: "HEAD", uri: "/health/live"), MonitoringResponse(status: 200, text: "live\n"))
        XCTAssertEqual(routes.respond(method: "GET", uri: "/health/ready"), MonitoringResponse(status: 503, text: "not ready\n"))
        XCTAssertEqual(routes.respond(method: "POST", uri: "/metrics").status, 405)
        XCTAssertEqual(routes.respond(method: "GET", uri: "/").status, 404)
        XCTAssertEqual(routes.respond(method: "GET", uri: "/metrics/extra").status, 404)
    }
}
