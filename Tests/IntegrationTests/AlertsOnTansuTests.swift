import Foundation
import Kafka
import TestSupport
import XCTest

/// Lag alerts from a running bridge when the target region stops taking writes (SIGSTOP on its broker).
final class AlertsOnTansuTests: TwoRegionTestCase {
    func testAFrozenTargetFiresWarningThenCriticalOnceAndResolvesAfterwards() throws {
        try sourceClient.createTopic("payments", partitions: 1)
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}")
        let handle = try FileHandle(forWritingTo: bridge.topologyURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("lag: {warn_seconds: 1, critical_seconds: 4, for: 1s}\nmetrics: {listen: \"127.0.0.1:\(try freeLoopbackPort())\"}\n".utf8))
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
        try waitUntil("lag alert resolved", timeout: .seconds(90)) {
            lagEvents().contains { $0["state"] as? String == "resolved" }
        }
        XCTAssertEqual(load.waitForExit(timeout: .seconds(60)), 0, load.stderrText)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)

        let sequence = lagEvents().map { "\($0["state"] as? String ?? "?")/\($0["severity"] as? String ?? "?")/\($0["topic"] as? String ?? "?")/\($0["partition"] as? Int ?? -1)" }
        // The freeze: warning, critical, possibly warning again on the way down (a transition too), then resolved.
        let resolvedAt = try XCTUnwrap(sequence.firstIndex { $0.hasPrefix("resolved/") }, "\(sequence)")
        let freeze = Array(sequence[...resolvedAt])
        XCTAssertEqual(Array(freeze.prefix(2)), ["firing/warning/payments/0", "firing/critical/payments/0"], "\(sequence)")
        XCTAssertEqual(freeze.filter { $0.hasPrefix("firing/critical") }.count, 1, "critical fires once: \(sequence)")
        XCTAssertLessThanOrEqual(freeze.count, 4, "one event per transition, no storm: \(sequence)")
        // With warn_seconds 1 and for 1s, the catch-up after the thaw may cross the warning line once more: a new
        // episode, which must start with a firing event. Anything beyond one such episode would be a storm.
        let after = Array(sequence[(resolvedAt + 1)...])
        XCTAssertTrue(after.isEmpty || after.first?.hasPrefix("firing/") == true, "\(sequence)")
        XCTAssertLessThanOrEqual(after.count, 2, "no storm after the freeze: \(sequence)")

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
