import Foundation
import Kafka
import TestSupport
import XCTest

/// Region failures with real brokers: the target comes back empty, the source region is lost, a source topic is deleted.
final class FaultsOnTansuTests: TwoRegionTestCase {
    func testATargetThatComesBackEmptyStopsTheBridgeLoudlyAndARestartCopiesEverythingAgain() throws {
        try sourceClient.createTopic("payments", partitions: 1)
        try sourceClient.produce((0..<500).map { KafkaRecord(topic: "payments", partition: 0, offset: 0, key: nil, value: [UInt8($0 % 256)]) })
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}")
        // Heartbeats off: their reader follows the heartbeat copy in the target, and librdkafka 2.8 crashes
        // (SIGSEGV in its metadata cache) when tansu loses a topic under a consumer (README, known limits).
        let handle = try FileHandle(forWritingTo: bridge.topologyURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("heartbeats: {interval: 0}\n".utf8))
        try handle.close()
        let process = try bridge.start()
        try waitUntil("first copy") { ((try? self.targetClient.approximateEnd("us-east.payments", partition: 0)) ?? 0) >= 1 }
        Thread.sleep(forTimeInterval: 1)

        target.kill()
        try target.restart()  // in-memory broker: every record and topic it had is gone
        try sourceClient.produce((500..<600).map { KafkaRecord(topic: "payments", partition: 0, offset: 0, key: nil, value: [UInt8($0 % 256)]) })

        let code = process.waitForExit(timeout: .seconds(90))
        XCTAssertNotNil(code, "the bridge must not carry on as if nothing happened")
        XCTAssertEqual(code, 7, process.stderrText)
        XCTAssertTrue(process.stderrText.contains("target us-east.payments/0 now ends at offset"), process.stderrText)
        XCTAssertTrue(process.stderrText.contains("the target cluster lost records the bridge had written"), process.stderrText)

        let again = try bridge.runUntilCaughtUp()
        XCTAssertEqual(again.exitCode, 0, again.stderr)
        let copied = try targetClient.readAll("us-east.payments", partition: 0).map { $0.provenanceText ?? "-" }
        XCTAssertEqual(copied, (0..<600).map { "us-east/payments/0/\($0)" }, "copied again from the source, once each")
    }

    func testALostSourceRegionIsReportedAndWhatWasCopiedIsKept() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        try sourceClient.produce((0..<400).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0 % 256)]) })
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}")
        let process = try bridge.start()
        try waitUntil("copied") {
            (try? (0..<2).map { try self.targetClient.readAll("us-east.payments", partition: Int32($0), timeout: .seconds(5)).count }.reduce(0, +)) == 400
        }
        source.kill()
        try waitUntil("the loss is reported", timeout: .seconds(90)) { process.stderrText.contains("source cluster us-east") }
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        XCTAssertEqual(try (0..<2).map { try targetClient.readAll("us-east.payments", partition: Int32($0)).count }.reduce(0, +), 400)
    }

    func testASourceTopicDeletedOnTansuKillsLibrdkafkaButTheCopyIsKeptAndTheNextRunCarriesOn() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        try sourceClient.createTopic("ledger", partitions: 1)
        let payments = (0..<600).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: Array("p\($0)".utf8)) }
        let ledger = { (range: Range<Int>) in range.map { KafkaRecord(topic: "ledger", partition: 0, offset: 0, key: nil, value: Array("l\($0)".utf8)) } }
        try sourceClient.produce(payments + ledger(0..<100))
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments", "ledger"], groups: "{include: []}")
        let process = try bridge.start()
        try waitUntil("copied") {
            (try? (0..<2).map { try self.targetClient.readAll("us-east.payments", partition: Int32($0), timeout: .seconds(5)).count }.reduce(0, +)) == 600
        }

        try sourceClient.deleteTopic("payments")
        // librdkafka 2.8.0 dies with SIGSEGV in its metadata cache once tansu answers a fetch for the deleted topic
        // (kcat, on the same librdkafka, does too). The bridge cannot catch that; what it must keep is the copy.
        let code = process.waitForExit(timeout: .seconds(30))
        XCTAssertEqual(code, 128 + SIGSEGV, "if this librdkafka no longer crashes here, assert the bridge's own report instead (see the mock-cluster test): \(process.stderrText)")

        for partition: Int32 in 0..<2 {
            let copied = try targetClient.readAll("us-east.payments", partition: partition)
            XCTAssertEqual(copied.map { $0.provenanceText ?? "-" }, (0..<300).map { "us-east/payments/\(partition)/\($0)" })
            XCTAssertEqual(copied.map(\.value), payments.filter { $0.partition == partition }.map(\.value))
        }
        try sourceClient.produce(ledger(100..<200))
        let again = try bridge.runUntilCaughtUp()
        XCTAssertEqual(again.exitCode, 0, again.stderr)
        XCTAssertEqual(try targetClient.readAll("us-east.ledger", partition: 0).map(\.value), ledger(0..<200).map(\.value))
        XCTAssertEqual(try (0..<2).map { try targetClient.readAll("us-east.payments", partition: Int32($0)).count }.reduce(0, +), 600)
    }
}

/// A paused target broker (SIGSTOP) is an outage, not a loss: in single and group mode the bridge waits it out
/// under steady load, at start and while copying, and every record lands once.
final class PausedTargetOnTansuTests: TwoRegionTestCase {
    private func load(_ records: Int, rate: Int) throws -> BackgroundProcess {
        try BackgroundProcess(RepoPaths.loadgen, [
            "--bootstrap", source.bootstrap, "--topic", "payments", "--partitions", "3", "--records", String(records), "--rate", String(rate),
        ])
    }

    private func assertEveryRecordOnce(_ total: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var copied = 0
        for partition: Int32 in 0..<3 {
            let offsets = try sourceClient.readAll("payments", partition: partition).map(\.offset)
            let provenance = try targetClient.readAll("us-east.payments", partition: partition).map { $0.provenanceText ?? "missing" }
            XCTAssertEqual(provenance, offsets.map { "us-east/payments/\(partition)/\($0)" }, "payments/\(partition)", file: file, line: line)
            copied += provenance.count
        }
        XCTAssertEqual(copied, total, file: file, line: line)
    }

    /// Steady load, the target paused for longer than the request timeout (the engine's loss check and the
    /// acknowledgements of retried writes at offset -1 both run into it), then resumed.
    private func pauseUnderLoad(mode: String) throws {
        try sourceClient.createTopic("payments", partitions: 3)
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}",
            extra: "instances: {mode: \(mode), session_timeout: 6s, commit_interval: 200ms}")
        let process = try bridge.start(["--request-timeout", "4s"])
        let loadgen = try load(6_000, rate: 300)
        try waitUntil("copying", timeout: .seconds(30)) { ((try? self.targetClient.readAll("us-east.payments", partition: 0, timeout: .seconds(2)).count) ?? 0) > 100 }
        target.freeze()
        Thread.sleep(forTimeInterval: 14)
        XCTAssertTrue(process.isRunning, "the bridge exited while the target was paused: \(process.stderrText)")
        target.thaw()
        XCTAssertEqual(loadgen.waitForExit(timeout: .seconds(60)), 0, loadgen.stderrText)
        do {
            try waitUntil("caught up after the pause", timeout: .seconds(60)) {
                ((try? (0..<3).map { try self.targetClient.readAll("us-east.payments", partition: Int32($0), timeout: .seconds(5)).count }.reduce(0, +)) ?? 0) >= 6_000
            }
        } catch {
            XCTFail("\(error); the bridge said:\n\(process.stderrText)")
            throw error
        }
        XCTAssertTrue(process.isRunning, process.stderrText)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        XCTAssertFalse(process.stderrText.contains("lost records"), process.stderrText)
        try assertEveryRecordOnce(6_000)
    }

    func testAPausedTargetIsWaitedOutInSingleMode() throws {
        try pauseUnderLoad(mode: "single")
    }

    func testAPausedTargetIsWaitedOutInGroupMode() throws {
        try pauseUnderLoad(mode: "group")
    }

    func testABridgeStartedWhileTheTargetIsPausedWaitsForIt() throws {
        try sourceClient.createTopic("payments", partitions: 3)
        XCTAssertEqual(try load(3_000, rate: 0).waitForExit(timeout: .seconds(60)), 0)
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}")
        target.freeze()
        let process = try bridge.start(["--until-caught-up", "--request-timeout", "2s", "--start-timeout", "60s"])
        Thread.sleep(forTimeInterval: 8)
        XCTAssertTrue(process.isRunning, "gave up at start while the target was paused: \(process.stderrText)")
        target.thaw()
        XCTAssertEqual(process.waitForExit(timeout: .seconds(90)), 0, process.stderrText)
        XCTAssertTrue(process.stderrText.contains("trying again until --start-timeout"), process.stderrText)
        try assertEveryRecordOnce(3_000)
    }
}
