import Foundation
import Kafka
import TestSupport
import XCTest

/// `regionbridge lag` between two real tansu brokers, with the bridge down.
final class LagOnTansuTests: TwoRegionTestCase {
    private func records(_ topic: String, _ partition: Int32, _ count: Int, ageSeconds: Double, tag: String) -> [KafkaRecord] {
        let timestamp = Int64((Date().timeIntervalSince1970 - ageSeconds) * 1000)
        return (0..<count).map {
            KafkaRecord(
                topic: topic, partition: partition, offset: 0, key: Array("\(tag)-\($0)".utf8), value: [UInt8($0 % 256)],
                timestamp: KafkaTimestamp(milliseconds: timestamp, kind: .createTime))
        }
    }

    func testLagFromTheTwoClustersAfterAPartialRun() throws {
        let sourceClient = KafkaTestClient(bootstrap: source.bootstrap)
        try sourceClient.createTopic("payments", partitions: 3)
        for partition: Int32 in 0..<3 {
            try sourceClient.produce(records("payments", partition, 20, ageSeconds: 5, tag: "first"))
        }
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments", "ledger"])
        let run = try bridge.runUntilCaughtUp(timeout: .seconds(60))
        XCTAssertEqual(run.exitCode, 0, run.stderr)

        // After the bridge stopped: three batches on payments/0 (tansu's ListOffsets then answers the last batch's base + 1),
        // one record on payments/1, nothing on payments/2, and a topic the bridge never saw.
        for batch in 0..<3 {
            try sourceClient.produce(records("payments", 0, 5, ageSeconds: 600 - Double(batch), tag: "later-\(batch)"))
        }
        try sourceClient.produce(records("payments", 1, 1, ageSeconds: 300, tag: "later"))
        try sourceClient.createTopic("ledger", partitions: 1)
        try sourceClient.produce(records("ledger", 0, 4, ageSeconds: 100, tag: "ledger"))

        let table = try runProcess(RepoPaths.regionbridge, ["lag", "--topology", bridge.topologyURL.path], timeout: .seconds(60))
        XCTAssertEqual(table.exitCode, 0, table.stderr)
        // The last line is the heartbeat's: a one-shot --until-caught-up run writes none.
        XCTAssertEqual(table.stdout.split(separator: "\n").last, "heartbeat: no us-east.regionbridge.us-east-to-eu-west.heartbeats in eu-west yet")
        // Per topic: a line naming source and target, a line of what is behind, then its partitions.
        let lines = table.stdout.split(separator: "\n").map(String.init)
        var topic = ""
        var rows: [[String]] = []
        for line in lines {
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if !line.hasPrefix(" "), line.contains(" -> "), !line.hasPrefix("pair ") {
                topic = cells[0]
            } else if line.hasPrefix("  "), let partition = cells.first, Int(partition) != nil {
                rows.append(["\(topic)/\(partition)"] + cells.dropFirst())
            }
        }
        XCTAssertEqual(rows.map { Array($0.prefix(6)) }, [
            ["ledger/0", "0", "4", "-", "-", "4"],
            ["payments/0", "0", "35", "20", "19", "15"],
            ["payments/1", "0", "21", "20", "19", "1"],
            ["payments/2", "0", "20", "20", "19", "0"],
        ], table.stdout)
        XCTAssertTrue(lines.contains("  behind: 16 records on 2 of 3 partitions; worst payments/0, \(Int((Double(rows[1][6].dropLast()) ?? 0).rounded())) s*"),
                      table.stdout)
        // Seconds behind come from the records' own timestamps here (tansu appends with CreateTime): marked, and the mark explained.
        XCTAssertEqual(rows.map { $0[6].hasSuffix("*") }, [true, true, true, false], table.stdout)
        XCTAssertTrue(lines.contains("* by the record's own timestamp (producer's clock); unmarked: log-append time"), table.stdout)
        let seconds = rows.map { Double($0[6].replacingOccurrences(of: "*", with: "")) ?? -1 }
        XCTAssertGreaterThanOrEqual(seconds[0], 100, table.stdout)
        XCTAssertLessThan(seconds[0], 160, table.stdout)
        XCTAssertGreaterThanOrEqual(seconds[1], 600, table.stdout)
        XCTAssertLessThan(seconds[1], 660, table.stdout)
        XCTAssertGreaterThanOrEqual(seconds[2], 300, table.stdout)
        XCTAssertLessThan(seconds[2], 360, table.stdout)
        XCTAssertEqual(seconds[3], 0, table.stdout)
        XCTAssertEqual(lines.first?.replacing(/[0-9]+(\.[0-9]+)? s\b/, with: "N s"),
                       "pair us-east-to-eu-west (us-east -> eu-west): at risk if us-east were lost now: 20 records of 2 topics; "
                        + "behind: payments 16 records, N s behind by record timestamp, worst payments/0; ledger 4 records, N s behind by record timestamp; "
                        + "heartbeat: no us-east.regionbridge.us-east-to-eu-west.heartbeats in eu-west yet; "
                        + "first: copy the backlog (over max_lag_seconds N s): is the bridge running? regionbridge lag --watch shows whether it shrinks")
        XCTAssertTrue(lines[1].hasPrefix("pair us-east-to-eu-west (us-east -> eu-west) at "), table.stdout)
        XCTAssertTrue(lines[1].contains(": 20 records behind, at most 6"), table.stdout)

        let json = try runProcess(
            RepoPaths.regionbridge, ["lag", "--topology", bridge.topologyURL.path, "--format", "json"], timeout: .seconds(60))
        XCTAssertEqual(json.exitCode, 0, json.stderr)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
        XCTAssertEqual(document["pair"] as? String, "us-east-to-eu-west")
        XCTAssertEqual(document["source_region"] as? String, "us-east")
        XCTAssertEqual(document["target_region"] as? String, "eu-west")
        XCTAssertEqual(document["total_records_behind"] as? Int, 20)
        XCTAssertEqual(document["version"] as? Int, 1)
        XCTAssertEqual((document["heartbeat"] as? [String: Any])?["topic_exists"] as? Bool, false, json.stdout)
        let partitions = try XCTUnwrap(document["partitions"] as? [[String: Any]])
        XCTAssertEqual(partitions.map { "\($0["topic"]!)/\($0["partition"]!)" }, ["ledger/0", "payments/0", "payments/1", "payments/2"])
        XCTAssertEqual(partitions.map { $0["source_end"] as? Int }, [4, 35, 21, 20])
        XCTAssertEqual(partitions.map { $0["last_copied"] as? Int }, [nil, 19, 19, 19])
        XCTAssertTrue(partitions[0]["last_copied"] is NSNull)
        XCTAssertEqual(partitions.map { $0["records_behind"] as? Int }, [4, 15, 1, 0])
        XCTAssertEqual(partitions.map { $0["target_topic"] as? String }, ["us-east.ledger", "us-east.payments", "us-east.payments", "us-east.payments"])
        let jsonSeconds = partitions.map { ($0["seconds_behind"] as? NSNumber)?.doubleValue ?? -1 }
        XCTAssertTrue((100..<160).contains(jsonSeconds[0]), "\(jsonSeconds)")
        XCTAssertTrue((600..<660).contains(jsonSeconds[1]), "\(jsonSeconds)")
        XCTAssertTrue((300..<360).contains(jsonSeconds[2]), "\(jsonSeconds)")
        XCTAssertEqual(jsonSeconds[3], 0)
        XCTAssertTrue(partitions[3]["oldest_pending_timestamp"] is NSNull)
        XCTAssertNotNil(partitions[1]["oldest_pending_timestamp"] as? String)
        XCTAssertEqual(partitions.map { $0["seconds_basis"] as? String ?? "-" }, ["create_time", "create_time", "create_time", "-"])
        XCTAssertEqual(partitions.map { $0["bridge_topic"] as? Bool }, [false, false, false, false])
        XCTAssertEqual((document["headline"] as? String)?.replacing(/[0-9]+(\.[0-9]+)? s\b/, with: "N s"),
                       lines.first?.replacing(/[0-9]+(\.[0-9]+)? s\b/, with: "N s"), "the same verdict line as the table's")
    }

    func testAnUnreachableClusterExitsOne() throws {
        let bridge = try BridgeFixture(source: source.bootstrap, target: "127.0.0.1:\(try freeLoopbackPort())", include: ["payments"])
        let result = try runProcess(
            RepoPaths.regionbridge, ["lag", "--topology", bridge.topologyURL.path, "--request-timeout", "2s"], timeout: .seconds(60))
        XCTAssertEqual(result.exitCode, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot reach target cluster eu-west"), result.stderr)
    }

    func testWatchRedrawsInPlaceUntilStopped() throws {
        try KafkaTestClient(bootstrap: source.bootstrap).createTopic("payments", partitions: 1)
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"])
        let watch = try BackgroundProcess(
            RepoPaths.regionbridge, ["lag", "--topology", bridge.topologyURL.path, "--watch", "--interval", "200ms"])
        let deadline = ContinuousClock.now + .seconds(30)
        var screens = 0
        while screens < 3, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            let text = (try? String(contentsOf: watch.stdoutURL, encoding: .utf8)) ?? ""
            screens = text.components(separatedBy: "\u{1B}[H\u{1B}[2J").count - 1
        }
        _ = watch.stop(gracePeriod: .seconds(5))
        let text = try String(contentsOf: watch.stdoutURL, encoding: .utf8)
        XCTAssertGreaterThanOrEqual(screens, 3, text + watch.stderrText)
        XCTAssertTrue(text.contains("""
            payments -> us-east.payments
              caught up on 1 partition
              PARTITION  LOG-START  SOURCE-END  TARGET-END  LAST-COPIED  BEHIND  SECONDS
              0          0          0           -           -            0       0
            """), text)
    }
}
