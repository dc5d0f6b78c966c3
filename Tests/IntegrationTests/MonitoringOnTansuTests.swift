import Foundation
import FoundationNetworking
import Kafka
import Logging
import Monitoring
import Replication
import TestSupport
import Topology
import XCTest

/// `regionbridge run` serves metrics and health next to the bridge, between two real tansu brokers.
final class MonitoringOnTansuTests: TwoRegionTestCase {
    /// Status and body of a GET on a new connection; nil while nothing answers.
    private func get(_ port: Int, _ path: String) async -> (Int, String)? {
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        guard let (data, response) = try? await session.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!),
              let http = response as? HTTPURLResponse
        else { return nil }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }

    private func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw FixtureError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func testRunServesHealthAndLagMetrics() async throws {
        let sourceClient = KafkaTestClient(bootstrap: source.bootstrap)
        try sourceClient.createTopic("payments", partitions: 2)
        try sourceClient.produce((0..<20).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0)]) })
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"])
        let port = try freeLoopbackPort()
        let handle = try FileHandle(forWritingTo: bridge.topologyURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("metrics:\n  listen: \"127.0.0.1:\(port)\"\nlag:\n  for: 0s\n".utf8))
        try handle.close()
        let alerts = bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("alerts.jsonl")
        // Copied before the run under test, so the probe's first look (at start) already sees no lag.
        let first = try bridge.runUntilCaughtUp(timeout: .seconds(60))
        XCTAssertEqual(first.exitCode, 0, first.stderr)

        let process = try bridge.start(["--alerts-file", alerts.path])
        try await eventually("/health/live") { await self.get(port, "/health/live")?.0 == 200 }
        try await eventually("/health/ready") { await self.get(port, "/health/ready")?.0 == 200 }
        let caughtUp = [
            #"regionbridge_lag_records{pair="us-east-to-eu-west",topic="payments",partition="0"} 0.0"#,
            #"regionbridge_lag_records{pair="us-east-to-eu-west",topic="payments",partition="1"} 0.0"#,
            #"regionbridge_lag_seconds{pair="us-east-to-eu-west",topic="payments",partition="0"} 0.0"#,
            #"regionbridge_lag_seconds{pair="us-east-to-eu-west",topic="payments",partition="1"} 0.0"#,
        ]
        var body = ""
        do {
            try await eventually("lag gauges at 0") {
                body = await self.get(port, "/metrics")?.1 ?? ""
                let lines = Set(body.split(separator: "\n").map(String.init))
                return caughtUp.allSatisfy(lines.contains)
            }
        } catch {
            XCTFail("\(error); last scrape:\n\(body)\nbridge log:\n\(process.stderrText)")
        }
        // The engine reports what it copies: 30 more records, 15 per partition, in this run.
        try sourceClient.produce((0..<30).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: [1], value: [UInt8($0), 0]) })
        let copied = [
            #"regionbridge_records_replicated_total{pair="us-east-to-eu-west",topic="payments",partition="0"} 15"#,
            #"regionbridge_records_replicated_total{pair="us-east-to-eu-west",topic="payments",partition="1"} 15"#,
            #"regionbridge_bytes_replicated_total{pair="us-east-to-eu-west",topic="payments",partition="0"} 45"#,
        ]
        do {
            try await eventually("copy counters") {
                body = await self.get(port, "/metrics")?.1 ?? ""
                let lines = Set(body.split(separator: "\n").map(String.init))
                return copied.allSatisfy(lines.contains) && body.contains("regionbridge_replication_latency_seconds_count")
            }
        } catch {
            XCTFail("\(error); last scrape:\n\(body)")
        }
        let stopping = ContinuousClock.now
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        XCTAssertLessThan(ContinuousClock.now - stopping, .seconds(10), "SIGTERM stops the run and its monitoring promptly")
        XCTAssertTrue(FileManager.default.fileExists(atPath: alerts.path))
        XCTAssertEqual(try String(contentsOf: alerts, encoding: .utf8), "", "nothing lagged for long, nothing was unreachable")
    }

    func testKafkaAlertSinkWritesOneJSONRecordPerEventToThePairsAlertsTopic() throws {
        let topology = Topology(
            pair: "us-east-to-eu-west", source: ClusterEndpoint(region: "us-east", bootstrapServers: source.bootstrap),
            target: ClusterEndpoint(region: "eu-west", bootstrapServers: target.bootstrap), topics: TopicSelection(include: ["payments"]))
        let sink = try KafkaAlertSink(clients: ClusterClients(topology: topology, logger: Logger(label: "test")), logger: Logger(label: "test"))
        XCTAssertEqual(sink.topic, "regionbridge.us-east-to-eu-west.alerts")
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let events = [
            AlertEvent(alert: .replicationLag, state: .firing, severity: .warning, pair: topology.pair,
                       partition: TopicPartition("payments", 1), lagRecords: 12, lagSeconds: 6.5, at: at),
            AlertEvent(alert: .clusterUnreachable, state: .firing, severity: .critical, pair: topology.pair, cluster: .source, at: at),
        ]
        try sink.deliver([events[0]])
        try sink.deliver([events[1]])
        sink.close(timeout: .seconds(10))

        let written = try KafkaTestClient(bootstrap: target.bootstrap).readAll(sink.topic, partition: 0, timeout: .seconds(20))
        XCTAssertEqual(written.map { String(decoding: $0.value ?? [], as: UTF8.self) }, events.map(\.jsonLine))
        XCTAssertEqual(written.map { String(decoding: $0.key ?? [], as: UTF8.self) }, ["replication_lag/payments/1", "cluster_unreachable/source"])
        XCTAssertEqual(written.map { $0.timestamp?.milliseconds }, [1_800_000_000_000, 1_800_000_000_000])
    }
}
