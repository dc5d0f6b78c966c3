import Foundation
import Kafka
import TestSupport
import XCTest

/// Lag alerts from a running bridge when the target region stops taking writes (SIGSTOP on its broker).
final class AlertsOnTansuTests: TwoRegionTestCase {
    func testAFrozenTargetFiresWarningThenCriticalAndBothResolveInPairs() throws {
        try sourceClient.createTopic("payments", partitions: 1)
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}")
        let handle = try FileHandle(forWritingTo: bridge.topologyURL)
        try handle.seekToEnd()
        // Heartbeats off: their topic, replicated like any other, would lag during the freeze and raise lag alerts of its
        // own next to payments/0's; heartbeats and heartbeat_stale are HeartbeatsOnTansuTests' subject.
        try handle.write(contentsOf: Data("lag: {warn_seconds: 1, critical_seconds: 4, for: 1s}\nmetrics: {listen: \"127.0.0.1:\(try freeLoopbackPort())\"}\nheartbeats: {interval: 0}\n".utf8))
        try handle.close()
        let alerts = bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("alerts.jsonl")

        let load = try BackgroundProcess(RepoPaths.loadgen, ["--bootstrap", source.bootstrap, "--topic", "payments", "--records", "8000", "--rate", "200"])
        let process = try bridge.start(["--alerts-file", alerts.path])
        try waitUntil("copying") { ((try? targetClient.approximateEnd("us-east.payments", partition: 0)) ?? 0) > 100 }

        target.freeze()
        let lagEvents = { () -> [[String: Any]] in
            let text = (try? String(contentsOf: alerts, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }.filter { $0["alert"] as? String == "replication_lag" }
        }
        try waitUntil("critical lag alert", timeout: .seconds(60)) {
            lagEvents().contains { $0["severity"] as? String == "critical" && $0["state"] as? String == "firing" }
        }
        target.thaw()
        // Every alert is its own (alert, severity, topic, partition): each one that fired must resolve.
        let key = { (event: [String: Any]) in
            "\(event["alert"] as? String ?? "?")/\(event["severity"] as? String ?? "?")/\(event["topic"] as? String ?? "?")/\(event["partition"] as? Int ?? -1)"
        }
        let statesByAlert = { () -> [String: [String]] in
            Dictionary(grouping: lagEvents(), by: key).mapValues { $0.map { $0["state"] as? String ?? "?" } }
        }
        try waitUntil("every lag alert that fired resolved", timeout: .seconds(90)) {
            let states = statesByAlert()
            return states.keys.count >= 2 && states.values.allSatisfy { $0.last == "resolved" }
        }
        XCTAssertEqual(load.waitForExit(timeout: .seconds(60)), 0, load.stderrText)
        // The catch-up under load may cross the warning line again (a new episode): that one resolves too before
        // the bridge is stopped (a stopped bridge leaves what fires firing, for the next run to resolve).
        try waitUntil("every lag alert resolved once the load is over", timeout: .seconds(60)) {
            statesByAlert().values.allSatisfy { $0.last == "resolved" }
        }
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)

        let states = statesByAlert()
        let sequence = lagEvents().map { "\($0["state"] as? String ?? "?") \(key($0))" }
        XCTAssertEqual(Set(states.keys), ["replication_lag/warning/payments/0", "replication_lag/critical/payments/0"], "\(sequence)")
        for (alert, transitions) in states {
            // Firing and resolved in pairs: one event per transition, never two firings in a row, and the last resolves.
            let pairs = (0..<transitions.count).map { $0 % 2 == 0 ? "firing" : "resolved" }
            XCTAssertEqual(transitions, pairs, "\(alert): \(sequence)")
            XCTAssertEqual(transitions.count % 2, 0, "\(alert) resolved: \(sequence)")
            // The freeze is one episode; with warn_seconds 1 and for 1s the catch-up after the thaw, on a loaded
            // machine, may cross the warning line again (new episodes, in pairs too). An event a second would be a storm.
            XCTAssertLessThanOrEqual(transitions.count, 6, "no storm: \(alert): \(sequence)")
        }
        // The warning fired before the critical one.
        XCTAssertEqual(Array(sequence.prefix(2)), ["firing replication_lag/warning/payments/0", "firing replication_lag/critical/payments/0"], "\(sequence)")

        // The alerts topic in the target holds the same events as the file.
        let fileLines = try String(contentsOf: alerts, encoding: .utf8).split(separator: "\n").map(String.init)
        let topicLines = try targetClient.readAll("regionbridge.us-east-to-eu-west.alerts", partition: 0)
            .compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } }
        XCTAssertEqual(topicLines, fileLines)

        // And nothing was lost or duplicated while the target was frozen (after copying what SIGTERM left).
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        let copied = try targetClient.readAll("us-east.payments", partition: 0).map { $0.provenanceText ?? "-" }
        let expected = try sourceClient.readAll("payments", partition: 0).map { "us-east/payments/0/\($0.offset)" }
        XCTAssertEqual(copied, expected)
    }
}
