import Foundation
import Kafka
import Logging
import Monitoring
import Prometheus
import NIOCore
import NIOPosix
import Replication
import TestSupport
import XCTest

/// `/v1/replicated` served by the monitoring server over loopback, the engine played by the test.
final class ReplicatedEndpointTests: XCTestCase {
    private let p0 = TopicPartition("payments", 0)
    private let t0 = TopicPartition("us-east.payments", 0)

    private func serve(_ positions: ReplicatedPositions, prometheus: PrometheusSetup = PrometheusSetup()) async throws -> (port: Int, task: Task<Void, any Error>) {
        let port = try freeLoopbackPort()
        let endpoint = ReplicatedEndpoint(positions: positions, metrics: SyncWaitMetrics(pair: "us-east-to-eu-west", factory: prometheus.factory))
        let server = MetricsServer(host: "127.0.0.1", port: port, routes: prometheus.routes(isReady: { true }, replicated: endpoint), logger: Logger(label: "test"))
        let task = Task { try await server.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !canConnectToLoopback(port: port) {
            guard ContinuousClock.now < deadline else { throw FixtureError("the server did not listen") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (port, task)
    }


    private func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw FixtureError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func testWaitsAreAnsweredWhenTheEngineAdvancesOrTheTimeoutRunsOut() async throws {
        let positions = ReplicatedPositions()
        let prometheus = PrometheusSetup()
        let (port, task) = try await serve(positions, prometheus: prometheus)
        defer { task.cancel() }
        let path = "/v1/replicated?topic=payments&partition=0"

        let early = await fetch(port, "\(path)&offset=0")
        XCTAssertEqual(early.status, 503, "before the engine's first picture: \(early)")
        positions.publish([.init(source: p0, target: t0, replicatedUpTo: 10)])

        let done = await fetch(port, "\(path)&offset=9")
        XCTAssertEqual(done.status, 200, "\(done)")
        XCTAssertTrue(done.body?.hasPrefix(#"{"replicated":true,"source":{"topic":"payments","partition":0,"offset":9},"target":{"topic":"us-east.payments","partition":0},"replicated_up_to":10,"waited_ms":"#) == true, "\(done)")

        let timedOut = await fetch(port, "\(path)&offset=10&timeout=200ms")
        XCTAssertEqual(timedOut.status, 504, "\(timedOut)")
        XCTAssertTrue(timedOut.body?.contains(#""replicated":false"#) == true && timedOut.body?.contains(#""replicated_up_to":10"#) == true, "\(timedOut)")
        XCTAssertEqual(positions.parked, 0, "the timeout took its wait back")

        let bad = await fetch(port, "\(path)&offset=x")
        XCTAssertEqual(bad.body, #"{"error":"offset: expected a source offset (0 or more), got \"x\"","parameter":"offset"}"# + "\n")
        let notHere = await fetch(port, "/v1/replicated?topic=ledger&partition=0&offset=0")
        XCTAssertEqual(notHere.status, 404)

        // Waits parked in flight, then woken by the engine: each one 200, none before its offset is passed.
        async let first = fetch(port, "\(path)&offset=12&timeout=20s")
        async let second = fetch(port, "/v1/replicated", method: "POST", body: #"{"records": [{"topic": "payments", "partition": 0, "offset": 11}, {"topic": "payments", "partition": 0, "offset": 14}], "timeout": "20s"}"#)
        try await eventually("two parked waits") { positions.parked == 3 }
        positions.advance(p0, target: t0, to: 13)
        try await eventually("the POST's later record still parked") { positions.parked == 1 }
        let firstReply = await first
        XCTAssertEqual(firstReply.status, 200, "\(firstReply)")
        positions.advance(p0, target: t0, to: 15)
        let secondReply = await second
        XCTAssertEqual(secondReply.status, 200, "\(secondReply)")
        XCTAssertTrue(secondReply.body?.contains(#""not_replicated":[]"#) == true, "\(secondReply)")

        // A client that goes away gives up its wait.
        guard case .success(let abandoned) = RawHTTP.send(port: port, path: "\(path)&offset=100&timeout=30s") else { return XCTFail("cannot connect") }
        try await eventually("the abandoned wait parked") { positions.parked == 1 }
        abandoned.close()
        try await eventually("the abandoned wait given up") { positions.parked == 0 }

        // Shutdown: a wait in flight is answered 503, never 200.
        async let last = fetch(port, "\(path)&offset=20&timeout=20s")
        try await eventually("a parked wait") { positions.parked == 1 }
        positions.close("the bridge stopped copying (shut down or failed)")
        let lastReply = await last
        XCTAssertEqual(lastReply.status, 503, "\(lastReply)")
        let afterClose = await fetch(port, "\(path)&offset=0")
        XCTAssertEqual(afterClose.status, 503, "after the close even an acknowledged offset is not answered yes")

        let metrics = String(decoding: prometheus.registry.emitToBuffer(), as: UTF8.self)
        for line in [
            #"regionbridge_sync_waits_total{pair="us-east-to-eu-west",outcome="replicated"} 3"#,
            #"regionbridge_sync_waits_total{pair="us-east-to-eu-west",outcome="timeout"} 1"#,
            #"regionbridge_sync_waits_total{pair="us-east-to-eu-west",outcome="bad_request"} 1"#,
            #"regionbridge_sync_waits_total{pair="us-east-to-eu-west",outcome="not_found"} 1"#,
            #"regionbridge_sync_waits_total{pair="us-east-to-eu-west",outcome="client_gone"} 1"#,
            #"regionbridge_sync_wait_timeouts_total{pair="us-east-to-eu-west"} 1"#,
            #"regionbridge_sync_waits_in_flight{pair="us-east-to-eu-west"} 0.0"#,
        ] {
            XCTAssertTrue(metrics.contains(line), "missing \(line) in\n\(metrics)")
        }
        XCTAssertTrue(metrics.contains(#"regionbridge_sync_wait_seconds_bucket{pair="us-east-to-eu-west",outcome="replicated""#), metrics)
    }

    /// Thousands of waits park on one event-loop thread and are all woken by one advance.
    func testThousandsOfWaitsNeedNoThreadEach() throws {
        let positions = ReplicatedPositions()
        positions.publish([.init(source: p0, target: t0, replicatedUpTo: 0)])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let endpoint = ReplicatedEndpoint(positions: positions)
        let count = 2_000
        let answers = (0..<count).map { offset in
            endpoint.respond(method: "GET", uri: "/v1/replicated?topic=payments&partition=0&offset=\(offset)&timeout=30s", body: [], on: group.next()).response
        }
        XCTAssertEqual(positions.parked, count)
        positions.advance(p0, target: t0, to: Int64(count / 2))
        positions.close("stopped")
        let statuses = try answers.map { try $0.wait().status }
        XCTAssertEqual(statuses, Array(repeating: 200, count: count / 2) + Array(repeating: 503, count: count / 2))
    }
}

/// Runs a blocking request off the cooperative pool.
private func fetch(_ port: Int, _ path: String, method: String = "GET", body: String? = nil) async -> RawHTTP.Reply {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: RawHTTP.request(port: port, method: method, path: path, body: body)) }
    }
}
