import Foundation
import Kafka
import TestSupport
import XCTest

/// The bridge binary between two real tansu brokers (regions us-east and eu-west).
final class ReplicationOnTansuTests: TwoRegionTestCase {
    private func fixture(include: [String] = ["payments", "ledger"]) throws -> BridgeFixture {
        try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: include)
    }

    func testCopiesEveryRecordByteForByteInOrder() throws {
        let topics = ["payments", "ledger"]
        for topic in topics { try sourceClient.createTopic(topic, partitions: 3) }
        var generator = RecordGenerator(seed: 42)
        var records = (0..<100_000).map { generator.record(topic: topics[$0 % 2], partition: Int32($0 / 2 % 3)) }
        // Records that came from eu-west through another bridge must not go back there (loop guard).
        for index in 0..<5 {
            records.append(KafkaRecord(
                topic: "payments", partition: 0, offset: 0, key: Array("looped-\(index)".utf8), value: [1, 2, 3],
                headers: [KafkaHeader(name: "regionbridge.source", value: Array("eu-west/payments/0/\(index)".utf8))]))
        }
        try sourceClient.produce(records)

        let result = try fixture(include: ["payments", "ledger"]).runUntilCaughtUp()
        XCTAssertEqual(result.exitCode, 0, result.stderr)

        var compared = 0
        for topic in topics {
            for partition: Int32 in 0..<3 {
                let sent = try sourceClient.readAll(topic, partition: partition)
                let copied = try targetClient.readAll("us-east.\(topic)", partition: partition)
                let expected = sent.filter { $0.provenanceText?.hasPrefix("eu-west/") != true }
                XCTAssertEqual(copied.count, expected.count, "\(topic)/\(partition)")
                for (original, copy) in zip(expected, copied) {
                    XCTAssertEqual(copy.key, original.key)
                    XCTAssertEqual(copy.value, original.value)
                    XCTAssertEqual(copy.timestamp?.milliseconds, original.timestamp?.milliseconds)
                    let provenance = KafkaHeader(
                        name: "regionbridge.source", value: Array("us-east/\(topic)/\(partition)/\(original.offset)".utf8))
                    XCTAssertEqual(copy.headers, original.headers + [provenance], "\(topic)/\(partition) offset \(original.offset)")
                    compared += 1
                }
            }
        }
        XCTAssertEqual(compared, 100_000)
        XCTAssertTrue(result.stdout.contains("payments/0"), result.stdout)
    }

    func testKillNineAtTenRandomMomentsLosesAndDuplicatesNothing() throws {
        for topic in ["payments", "ledger"] { try sourceClient.createTopic(topic, partitions: 3) }
        let loads = try ["payments", "ledger"].map { topic in
            try BackgroundProcess(RepoPaths.loadgen, [
                "--bootstrap", source.bootstrap, "--topic", topic, "--records", "40000", "--rate", "2000", "--kind",
                topic == "payments" ? "payment" : "ledger",
            ])
        }
        let bridge = try fixture()
        var generator = SystemRandomNumberGenerator()
        var targetCounts: [Int64] = []
        for _ in 0..<10 {
            let process = try bridge.start()
            Thread.sleep(forTimeInterval: Double.random(in: 1.0...2.5, using: &generator))
            process.kill(signal: SIGKILL)
            _ = process.waitForExit(timeout: .seconds(10))
            targetCounts.append(try copiedCount())
        }
        for load in loads {
            XCTAssertEqual(load.waitForExit(timeout: .seconds(60)), 0, load.stderrText)
        }
        let result = try bridge.runUntilCaughtUp()
        XCTAssertEqual(result.exitCode, 0, result.stderr)

        // The bridge was killed while copying: the target grew between most kills.
        let grew = zip(targetCounts.dropFirst(), targetCounts).filter { $0 > $1 }.count
        XCTAssertGreaterThanOrEqual(grew, 5, "target counts at each kill: \(targetCounts)")
        try assertExactlyOnce(topics: ["payments", "ledger"], partitions: 3, expectedTotal: 80_000)
    }

    func testAFullProducerQueueIsBackPressureNotARefusedRecord() throws {
        // librdkafka names a full queue _QUEUE_FULL; a check for QUEUE_FULL by name once made this exit 6 at offset 0.
        try sourceClient.createTopic("payments", partitions: 3)
        var generator = RecordGenerator(seed: 7)
        try sourceClient.produce((0..<20_000).map { generator.record(topic: "payments", partition: Int32($0 % 3)) })
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"],
            targetProperties: #"{"queue.buffering.max.messages": "500"}"#)
        let result = try bridge.runUntilCaughtUp()
        XCTAssertEqual(result.exitCode, 0, result.stderr)
        XCTAssertFalse(result.stderr.contains("QUEUE_FULL"), result.stderr)
        try assertExactlyOnce(topics: ["payments"], partitions: 3, expectedTotal: 20_000)
    }

    func testPicksUpTopicsCreatedWhileRunning() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        try sourceClient.produce((0..<100).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0)]) })
        let bridge = try fixture(include: ["payments", "ledger-.*"])
        let process = try bridge.start()
        try waitUntil("first topic copied") { try self.targetClient.topicNames().contains("us-east.payments") }

        try sourceClient.createTopic("ledger-eu", partitions: 3)
        try sourceClient.createTopic("ledger-us", partitions: 1)
        try sourceClient.createTopic("audit", partitions: 1)  // not selected
        let ledgerEU = (0..<200).map { KafkaRecord(topic: "ledger-eu", partition: Int32($0 % 3), offset: 0, key: nil, value: [UInt8($0)]) }
        let ledgerUS = (0..<100).map { KafkaRecord(topic: "ledger-us", partition: 0, offset: 0, key: nil, value: [UInt8($0)]) }
        let more = (0..<100).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0)]) }
        let audit = [KafkaRecord(topic: "audit", partition: 0, offset: 0, key: nil, value: [1])]
        try sourceClient.produce(ledgerEU + ledgerUS + more + audit)
        try waitUntil("new topics copied") {
            (try? self.targetClient.readAll("us-east.ledger-us", partition: 0, timeout: .seconds(5)).count) == 100
        }
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        XCTAssertTrue(process.stderrText.contains("created target topic us-east.ledger-eu with 3 partitions"), process.stderrText)
        XCTAssertFalse(try targetClient.topicNames().contains("us-east.audit"))
        try assertExactlyOnce(topics: ["payments"], partitions: 2, expectedTotal: 200)
        try assertExactlyOnce(topics: ["ledger-eu"], partitions: 3, expectedTotal: 200)
        try assertExactlyOnce(topics: ["ledger-us"], partitions: 1, expectedTotal: 100)
    }

    func testATargetThatCannotGrowItsPartitionsStopsWithAClearError() throws {
        // tansu 0.6.0 has no CreatePartitions, so a target topic with fewer partitions cannot be brought in step.
        try sourceClient.createTopic("payments", partitions: 3)
        try targetClient.createTopic("us-east.payments", partitions: 2)
        let result = try fixture(include: ["payments"]).runUntilCaughtUp()
        XCTAssertEqual(result.exitCode, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot grow target topic us-east.payments to 3 partitions"), result.stderr)
    }

    func testLostSourceRecordsStopThePartitionUntilTheOperatorAcceptsTheGap() throws {
        try sourceClient.createTopic("payments", partitions: 1)
        try sourceClient.produce((0..<50).map { KafkaRecord(topic: "payments", partition: 0, offset: 0, key: nil, value: [UInt8($0)]) })
        let bridge = try fixture(include: ["payments"])
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)

        // The source region comes back empty (tansu keeps data in memory): offsets restart at 0.
        try source.restart()
        try sourceClient.createTopic("payments", partitions: 1)
        try sourceClient.produce((0..<10).map { KafkaRecord(topic: "payments", partition: 0, offset: 0, key: nil, value: [100 + UInt8($0)]) })

        let refused = try bridge.runUntilCaughtUp()
        XCTAssertEqual(refused.exitCode, 5, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("source payments/0: the bridge copied up to offset 49 but the log now ends at 10"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--accept-gap"), refused.stderr)
        XCTAssertEqual(try targetClient.readAll("us-east.payments", partition: 0).count, 50, "nothing already copied is lost")

        let accepted = try bridge.runUntilCaughtUp(["--accept-gap", "payments/0"])
        XCTAssertEqual(accepted.exitCode, 0, accepted.stderr)
        XCTAssertTrue(accepted.stderr.contains("accepting a gap"), accepted.stderr)
        let copied = try targetClient.readAll("us-east.payments", partition: 0)
        XCTAssertEqual(copied.count, 60)
        XCTAssertEqual(copied.suffix(10).map(\.value), (0..<10).map { [100 + UInt8($0)] })
    }

    /// SIGTERM while the target is frozen (SIGSTOP) and writes are in flight: the bridge stops reading, waits for
    /// them, and once the target is thawed (inside the drain timeout) they are acknowledged before it exits 0. The
    /// target then holds exactly what the bridge says it copied: each partition's source records up to the last
    /// copied offset, once each, in order, and more than the bridge had acknowledged when SIGTERM came.
    func testSigtermDrainsTheWritesInFlightAndExitsZero() throws {
        try sourceClient.createTopic("payments", partitions: 3)
        let load = try BackgroundProcess(RepoPaths.loadgen, [
            "--bootstrap", source.bootstrap, "--topic", "payments", "--records", "60000", "--rate", "10000",
        ])
        let metricsPort = try freeLoopbackPort()
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"],
            extra: "metrics: {listen: \"127.0.0.1:\(metricsPort)\"}")
        let process = try bridge.start(["--drain-timeout", "30s"])
        // Records the target acknowledged so far, as the bridge counts them (`regionbridge_records_replicated_total`).
        let acknowledged = { () -> Int in
            let body = (try? httpGet("http://127.0.0.1:\(metricsPort)/metrics").body) ?? ""
            return body.split(separator: "\n").filter { $0.hasPrefix("regionbridge_records_replicated_total{") }
                .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
        }
        try waitUntil("copying") { acknowledged() > 1000 }

        target.freeze()
        Thread.sleep(forTimeInterval: 2)  // the bridge reads on; its writes wait for the frozen target
        let acknowledgedAtSigterm = acknowledged()
        process.kill(signal: SIGTERM)
        Thread.sleep(forTimeInterval: 3)
        XCTAssertTrue(process.isRunning, "exited while the target was frozen: \(process.stderrText.suffix(2000))")
        target.thaw()
        XCTAssertEqual(process.waitForExit(timeout: .seconds(40)), 0, String(process.stderrText.suffix(3000)))

        // What the bridge says it copied, from its final table: SOURCE TARGET COPIED LAST-SOURCE-OFFSET SOURCE-END.
        var lastCopied: [Int32: Int64] = [:]
        var reportedCopied = 0
        for line in process.stdoutText.split(separator: "\n") where line.hasPrefix("payments/") {
            let cells = line.split(separator: " ", omittingEmptySubsequences: true)
            guard cells.count >= 4, let partition = Int32(cells[0].dropFirst("payments/".count)) else { continue }
            reportedCopied += Int(cells[2]) ?? 0
            lastCopied[partition] = Int64(cells[3])
        }
        XCTAssertEqual(lastCopied.count, 3, process.stdoutText)
        var copied = 0
        for partition: Int32 in 0..<3 {
            let provenance = try targetClient.readAll("us-east.payments", partition: partition).map { $0.provenanceText ?? "missing" }
            let last = lastCopied[partition] ?? -1
            let expected = try sourceClient.readAll("payments", partition: partition).map(\.offset).filter { $0 <= last }
                .map { "us-east/payments/\(partition)/\($0)" }
            XCTAssertEqual(provenance, expected, "payments/\(partition): the target holds exactly the records copied up to \(last), once each")
            copied += provenance.count
        }
        XCTAssertEqual(copied, reportedCopied, "the target holds every record the bridge reported as copied, and no other")
        // The frozen target acknowledged nothing: what it holds beyond what was acknowledged at SIGTERM was in flight then,
        // and was acknowledged during the drain. At 10,000 records/s for the 2 s of the freeze, thousands.
        let drained = copied - acknowledgedAtSigterm
        XCTAssertGreaterThan(drained, 1_000, "writes in flight at SIGTERM, acknowledged before exit: \(drained) (\(acknowledgedAtSigterm) acknowledged at SIGTERM, \(copied) at exit)")

        XCTAssertEqual(load.waitForExit(timeout: .seconds(60)), 0, load.stderrText)
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        try assertExactlyOnce(topics: ["payments"], partitions: 3, expectedTotal: 60_000)
    }

    func testUnreachableSourceIsAClearRuntimeError() throws {
        let bridge = try BridgeFixture(source: "127.0.0.1:\(try freeLoopbackPort())", target: target.bootstrap, include: ["payments"])
        let result = try runProcess(
            RepoPaths.regionbridge, ["run", "--topology", bridge.topologyURL.path, "--request-timeout", "2s", "--start-timeout", "0s"], timeout: .seconds(60))
        XCTAssertEqual(result.exitCode, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot reach source cluster us-east at 127.0.0.1:"), result.stderr)
    }

    // MARK: - Helpers

    /// Every target partition holds each source record exactly once, in source order.
    private func assertExactlyOnce(topics: [String], partitions: Int32, expectedTotal: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var total = 0
        for topic in topics {
            for partition in 0..<partitions {
                let sourceOffsets = try sourceClient.readAll(topic, partition: partition).map(\.offset)
                let copied = try targetClient.readAll("us-east.\(topic)", partition: partition)
                let provenance = copied.map { $0.provenanceText ?? "missing" }
                let expected = sourceOffsets.map { "us-east/\(topic)/\(partition)/\($0)" }
                let lost = Set(expected).subtracting(provenance).count
                let duplicated = provenance.count - Set(provenance).count
                XCTAssertEqual(lost, 0, "\(topic)/\(partition): records lost", file: file, line: line)
                XCTAssertEqual(duplicated, 0, "\(topic)/\(partition): records duplicated", file: file, line: line)
                XCTAssertEqual(provenance, expected, "\(topic)/\(partition): order", file: file, line: line)
                total += sourceOffsets.count
            }
        }
        XCTAssertEqual(total, expectedTotal, file: file, line: line)
    }

    /// A number that grows with the target's records (ListOffsets, which tansu answers approximately).
    private func copiedCount() throws -> Int64 {
        var count: Int64 = 0
        for topic in try targetClient.topicNames() where topic.hasPrefix("us-east.") {
            for partition: Int32 in 0..<3 { count += (try? targetClient.approximateEnd(topic, partition: partition)) ?? 0 }
        }
        return count
    }
}

/// Polls `condition` until it holds or the timeout passes.
func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.2)
    }
    XCTFail("timed out waiting for: \(what)")
    throw FixtureError("timed out waiting for: \(what)")
}

/// Deterministic records with every shape Kafka allows: null and empty keys and values,
/// binary bytes, duplicate and null-valued headers, explicit timestamps.
struct RecordGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    private mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    private mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    mutating func record(topic: String, partition: Int32) -> KafkaRecord {
        let n = next()
        let key: [UInt8]? = n % 10 == 0 ? nil : n % 10 == 1 ? [] : Array("key-\(n % 1000)".utf8)
        let value: [UInt8]? = n % 50 == 7 ? nil : n % 50 == 8 ? [] : bytes(Int(n % 300))
        var headers: [KafkaHeader] = []
        for index in 0..<Int(n % 4) {
            headers.append(KafkaHeader(name: index == 2 ? "trace" : "h\(index % 2)", value: n % 7 == 0 ? nil : bytes(index * 3)))
        }
        let timestamp = KafkaTimestamp(milliseconds: 1_790_000_000_000 + Int64(n % 1_000_000), kind: .createTime)
        return KafkaRecord(topic: topic, partition: partition, offset: 0, key: key, value: value, headers: headers, timestamp: timestamp)
    }
}
