import Foundation
import Kafka
import TestSupport
import XCTest

/// Heartbeats on two real tansu brokers: they flow while healthy, `heartbeat_stale` fires when the target is
/// frozen with an idle source (lag 0) and resolves after the thaw, and `lag` shows the age with the bridge stopped.
final class HeartbeatsOnTansuTests: TwoRegionTestCase {
    func testHeartbeatsFlowGoStaleWhileTheTargetIsFrozenAndLagShowsTheirAgeWithTheBridgeStopped() throws {
        try sourceClient.createTopic("payments", partitions: 1)
        let port = try freeLoopbackPort()
        // The include pattern does not match the heartbeat topic: it is replicated all the same.
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}",
            extra: "heartbeats: {interval: 1s}\nlag: {warn_seconds: 2, critical_seconds: 3, for: 1s}\nmetrics: {listen: \"127.0.0.1:\(port)\"}\n")
        let alerts = bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("alerts.jsonl")
        let process = try bridge.start(["--alerts-file", alerts.path])
        let copy = "us-east.regionbridge.us-east-to-eu-west.heartbeats"
        let metric = { (name: String) -> Double? in
            guard let body = try? httpGet("http://127.0.0.1:\(port)/metrics").body else { return nil }
            return body.split(separator: "\n").first { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
                .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        }

        // Healthy: heartbeats reach the target's copy, and the age stays under a few intervals.
        try waitUntil("heartbeats in \(copy)", timeout: .seconds(30)) { ((try? targetClient.approximateEnd(copy, partition: 0)) ?? 0) >= 2 }
        try waitUntil("a fresh heartbeat age", timeout: .seconds(15)) { (metric("regionbridge_heartbeat_age_seconds") ?? 99) < 3 }
        for _ in 0..<3 {
            Thread.sleep(forTimeInterval: 1)
            let age = metric("regionbridge_heartbeat_age_seconds") ?? 99
            XCTAssertLessThan(age, 3.5, "age while healthy")
        }
        XCTAssertGreaterThan(metric("regionbridge_end_to_end_latency_seconds_count") ?? 0, 0)
        let record = try XCTUnwrap(targetClient.readAll(copy, partition: 0).last?.value)
        let heartbeat = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(record)) as? [String: Any])
        XCTAssertEqual(heartbeat["source_region"] as? String, "us-east")
        XCTAssertEqual(heartbeat["pair"] as? String, "us-east-to-eu-west")
        XCTAssertNotNil(heartbeat["written_at_ms"] as? Int)

        // Idle source (no payment is written), target frozen: lag reads 0, heartbeats go stale.
        let events = { () -> [String] in
            let text = (try? String(contentsOf: alerts, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                guard let event = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                      event["alert"] as? String == "heartbeat_stale" else { return nil }
                return event["state"] as? String
            }
        }
        target.freeze()
        try waitUntil("heartbeat_stale fires", timeout: .seconds(30)) { events() == ["firing"] }
        XCTAssertGreaterThan(metric("regionbridge_heartbeat_age_seconds") ?? 0, 3)
        target.thaw()
        try waitUntil("heartbeat_stale resolves", timeout: .seconds(40)) { events() == ["firing", "resolved"] }
        XCTAssertLessThan(metric("regionbridge_heartbeat_age_seconds") ?? 99, 3.5)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)

        // The bridge is gone: `lag` reads the age from the target alone, in both formats.
        let table = try runProcess(RepoPaths.regionbridge, ["lag", "--topology", bridge.topologyURL.path], timeout: .seconds(60))
        XCTAssertEqual(table.exitCode, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("heartbeat: newest in \(copy) written "), table.stdout)
        let json = try runProcess(RepoPaths.regionbridge, ["lag", "--topology", bridge.topologyURL.path, "--format", "json"], timeout: .seconds(60))
        XCTAssertEqual(json.exitCode, 0, json.stderr)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let reading = try XCTUnwrap(document["heartbeat"] as? [String: Any], json.stdout)
        XCTAssertEqual(reading["topic"] as? String, copy)
        XCTAssertEqual(reading["topic_exists"] as? Bool, true)
        let age = try XCTUnwrap((reading["age_seconds"] as? NSNumber)?.doubleValue, json.stdout)
        XCTAssertGreaterThanOrEqual(age, 0)
        XCTAssertLessThan(age, 60)
    }
}
