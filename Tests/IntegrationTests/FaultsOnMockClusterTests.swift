import Foundation
import Kafka
import Logging
import TestSupport
import XCTest

/// Faults only librdkafka's mock cluster can make, under a steady load from `loadgen`, with the bridge binary
/// between two mock clusters: leaders that move, target brokers that go down, request errors, a slow link, and
/// clusters that cannot be reached. Every scenario ends with each source record in the target exactly once.
///
/// The mock cluster keeps only about 5 MB per partition, so the loads stay well below that.
final class FaultsOnMockClusterTests: TwoMockClusterTestCase {
    /// Writes `records` payment events to `payments` at `rate` records per second, round-robin over its partitions.
    private func startLoad(records: Int, rate: Int, size: Int = 200) throws -> BackgroundProcess {
        try BackgroundProcess(RepoPaths.loadgen, [
            "--bootstrap", source.bootstrapServers, "--topic", "payments", "--records", String(records),
            "--rate", String(rate), "--size", String(size),
        ])
    }

    private func payments(_ range: Range<Int>) -> [KafkaRecord] {
        range.map { KafkaRecord(topic: "payments", partition: Int32($0 % 3), offset: 0, key: Array("pay-\($0)".utf8), value: Array("{\"n\":\($0)}".utf8)) }
    }

    func testLeadersMovingInSourceAndTargetMidStreamLoseAndDuplicateNothing() throws {
        let load = try startLoad(records: 20_000, rate: 4_000)
        let process = try fixture().start()
        try waitUntil("copy under way") { self.targetCount() > 2_000 }

        // Each partition moves twice, to two different brokers: at least one of the moves changes its leader.
        for broker: Int32 in [1, 2] {
            let copied = targetCount()
            try source.setLeader(TopicPartition("payments", 0), broker: broker)
            try source.setLeader(TopicPartition("payments", 2), broker: 3 - broker)
            try target.setLeader(TopicPartition("us-east.payments", 1), broker: broker)
            try target.setLeader(TopicPartition("us-east.payments", 2), broker: 3 - broker)
            try waitUntil("copy carries on after the leaders moved to \(broker)") { self.targetCount() > copied + 2_000 }
        }

        XCTAssertEqual(load.waitForExit(timeout: .seconds(60)), 0, load.stderrText)
        try waitUntil("caught up") { self.targetCount() == 20_000 }
        XCTAssertTrue(process.isRunning, process.stderrText)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        try assertExactlyOnce(expectedTotal: 20_000)
    }

    func testTargetBrokersDownForTwentySecondsUnderLoadDelayTheCopyButLoseAndDuplicateNothing() throws {
        let load = try startLoad(records: 30_000, rate: 1_000, size: 100)
        let process = try fixture().start()
        try waitUntil("copy under way") { self.targetCount() > 2_000 }

        for broker: Int32 in 1...3 { try target.setBroker(broker, up: false) }
        let outageEnds = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < outageEnds, process.isRunning {
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTAssertTrue(process.isRunning, "the bridge exited while the target was down: \(process.stderrText)")
        for broker: Int32 in 1...3 { try target.setBroker(broker, up: true) }

        XCTAssertEqual(load.waitForExit(timeout: .seconds(60)), 0, load.stderrText)
        try waitUntil("caught up after the outage", timeout: .seconds(60)) { self.targetCount() == 30_000 }
        XCTAssertTrue(process.isRunning, process.stderrText)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        // The outage was seen: writes stalled for more than 10 s, and that was reported without stopping.
        XCTAssertTrue(process.stderrText.contains("no write acknowledged by target eu-west for"), process.stderrText)
        try assertExactlyOnce(expectedTotal: 30_000)
    }

    func testBurstsOfRetriableRequestErrorsOnProduceAndFetchLoseAndDuplicateNothing() throws {
        let process = try fixture().start()
        // NOT_LEADER_OR_FOLLOWER (6), REQUEST_TIMED_OUT (7), NOT_ENOUGH_REPLICAS (19): librdkafka retries all three.
        // On fetch also OUT_OF_ORDER_SEQUENCE_NUMBER (45), which means nothing to a consumer: it is reported and
        // the fetch is tried again. Each burst is taken by the next requests, which carry the next 2,000 records.
        let bursts: [[Int32]] = [[6, 6, 6], [7, 7, 7], [19, 19, 19], [6, 7, 19, 6, 7, 19]]
        for (index, burst) in bursts.enumerated() {
            target.pushRequestErrors(.produce, errorCodes: burst)
            source.pushRequestErrors(.fetch, errorCodes: burst + [45])
            try sourceClient.produce(payments(index * 2_000..<(index + 1) * 2_000))
            try waitUntil("copied after the burst \(burst)", timeout: .seconds(30)) { self.targetCount() == Int64((index + 1) * 2_000) }
        }
        XCTAssertTrue(process.isRunning, process.stderrText)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        // The fetch errors reached the bridge (NOT_LEADER_OR_FOLLOWER only makes librdkafka refresh its metadata).
        for name in ["REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS", "OUT_OF_ORDER_SEQUENCE_NUMBER"] {
            XCTAssertTrue(process.stderrText.contains("Fetch from broker"), process.stderrText)
            XCTAssertTrue(process.stderrText.contains("[\(name)]"), "\(name): \(process.stderrText)")
        }
        try assertExactlyOnce(expectedTotal: 8_000)
    }

    func testAnOutOfOrderSequenceOnProduceReplacesTheProducerAndCopiesOnExactlyOnce() throws {
        try sourceClient.produce(payments(0..<3_000))
        let process = try fixture().start()
        try waitUntil("copied") { self.targetCount() == 3_000 }

        // The first write after an idle spell is the head of the line: librdkafka's idempotent producer takes
        // OUT_OF_ORDER_SEQUENCE_NUMBER there as a desynchronisation with the broker, a fatal error. Nothing the
        // target acknowledged is lost by it: the bridge replaces the producer and resumes from the target's tails
        // (before, it exited 1 and the next run copied the rest).
        target.pushRequestErrors(.produce, errorCodes: [45])
        try sourceClient.produce(payments(3_000..<3_300))
        try waitUntil("copied on with a new producer", timeout: .seconds(60)) { self.targetCount() == 3_300 || !process.isRunning }
        XCTAssertTrue(process.isRunning, process.stderrText)
        let log = process.stderrText
        // The warning names librdkafka's fatal reason, with the target partition, and what the bridge did.
        XCTAssertTrue(log.contains("target producer failed"), log)
        XCTAssertTrue(log.contains("failed due to sequence desynchronization with broker"), log)
        XCTAssertTrue(log.contains("[OUT_OF_ORDER_SEQUENCE_NUMBER]"), log)
        XCTAssertTrue(log.contains("a new producer takes over, and 3 partition(s) resume right after the last record the target holds"), log)
        XCTAssertTrue(log.contains("after replacing the target producer"), log)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, log)
        try assertExactlyOnce(expectedTotal: 3_300)
    }

    /// An ACL that denies the bridge's transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED from InitProducerId,
    /// fatal to librdkafka's producer) is a refusal: exit 2 at once, naming the cluster, the permission and what to
    /// check, not a retry until the transaction timeout.
    func testATransactionalIDTheTargetDoesNotAuthoriseStopsTheRunAtOnceNamingIt() throws {
        try sourceClient.produce(payments(0..<100))
        target.pushRequestErrors(.initProducerID, errorCodes: [53, 53, 53, 53, 53, 53])
        let started = ContinuousClock.now
        let result = try fixture().runUntilCaughtUp(["--request-timeout", "10s"], timeout: .seconds(120))
        let took = ContinuousClock.now - started
        XCTAssertEqual(result.exitCode, 2, result.stderr)
        XCTAssertLessThan(took, .seconds(15), result.stderr)
        XCTAssertTrue(result.stderr.contains("Transactional Id authorization failed"), result.stderr)
        XCTAssertTrue(result.stderr.contains("check the ACLs of this client's principal"), result.stderr)
    }

    /// A consumer group the source does not authorise (GROUP_AUTHORIZATION_FAILED from FindCoordinator) stops a
    /// group-mode instance before it copies anything: exit 2 at once, naming the source and the permission.
    func testAGroupTheSourceDoesNotAuthoriseStopsAGroupModeRunAtOnceNamingIt() throws {
        try sourceClient.produce(payments(0..<100))
        source.pushRequestErrors(.findCoordinator, errorCodes: Array(repeating: 30, count: 50))
        let bridge = try BridgeFixture(
            source: source.bootstrapServers, target: target.bootstrapServers, include: ["payments"], groups: "{include: []}",
            extra: "instances: {mode: group, session_timeout: 6s}\nheartbeats: {interval: 0}")
        let started = ContinuousClock.now
        let process = try bridge.start(["--request-timeout", "5s"])
        let code = process.waitForExit(timeout: .seconds(60))
        XCTAssertEqual(code, 2, process.stderrText)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20), process.stderrText)
        XCTAssertTrue(process.stderrText.contains("source cluster us-east at \(source.bootstrapServers) refuses this client: the cluster refused the operation: not authorised"), process.stderrText)
        XCTAssertTrue(process.stderrText.contains("Group authorization failed"), process.stderrText)
    }

    /// Group mode: the take-over of payments/1 cannot reach the transaction coordinator of its `transactional.id`
    /// (that broker is down; the partitions' leaders and the other ids' coordinator are up). It waits and is tried
    /// again every 2 s off the copy thread, each try waiting up to `--request-timeout` 5 s: payments/0 copies on
    /// meanwhile, each record within 3 s (a try on the copy thread held it up to 5 s of every 7). Once the broker
    /// is back, payments/1 is taken over and everything is in the target exactly once.
    func testAPartitionWaitingForItsTakeOverDoesNotHoldUpTheOthers() throws {
        let group = "regionbridge.us-east-to-eu-west"
        for partition: Int32 in 0..<3 { try target.setLeader(TopicPartition("us-east.payments", partition), broker: 1) }
        try target.setTransactionCoordinator("\(group).payments.0", broker: 2)
        try target.setTransactionCoordinator("\(group).payments.2", broker: 2)
        try target.setTransactionCoordinator("\(group).payments.1", broker: 3)
        try target.setBroker(3, up: false)
        try sourceClient.produce(payments(0..<30))
        let bridge = try BridgeFixture(
            source: source.bootstrapServers, target: target.bootstrapServers, include: ["payments"], groups: "{include: []}",
            extra: "instances: {mode: group, session_timeout: 6s, commit_interval: 100ms}\nheartbeats: {interval: 0}")
        let process = try bridge.start(["--request-timeout", "5s"])
        defer { _ = process.stop(gracePeriod: .seconds(30)) }
        try waitUntil("payments/1 waits for its take-over", timeout: .seconds(40)) {
            process.stderrText.contains("payments/1: assigned by the group, but cannot fence earlier writers")
        }
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: target.bootstrapServers), logger: Logger(label: "test"))
        func copied(_ partition: Int32) -> Int64 {
            (try? admin.queryWatermarks(TopicPartition("us-east.payments", partition), timeout: .seconds(5)).high) ?? -1
        }
        try waitUntil("payments/0 and /2 copied", timeout: .seconds(20)) { copied(0) >= 10 && copied(2) >= 10 }
        // 12 records to payments/0, one every 0.5 s, over more than one retry of payments/1: each arrives within 3 s.
        var slowest: Duration = .zero
        for n in 0..<12 {
            let before = copied(0)
            try sourceClient.produce([KafkaRecord(topic: "payments", partition: 0, offset: 0, key: Array("late-\(n)".utf8), value: Array("{}".utf8))])
            let sent = ContinuousClock.now
            try waitUntil("late-\(n) in the target", timeout: .seconds(3)) { copied(0) > before }
            slowest = max(slowest, ContinuousClock.now - sent)
            Thread.sleep(forTimeInterval: 0.5)
        }
        print("payments/0 while payments/1 waited for its take-over: slowest record \(slowest)")
        XCTAssertEqual(copied(1), 0, "payments/1 still waits")
        XCTAssertTrue(process.stderrText.contains("payments/1: assigned by the group, but"), process.stderrText)

        try target.setBroker(3, up: true)
        try waitUntil("payments/1 taken over", timeout: .seconds(40)) { copied(1) > 0 && process.stderrText.contains("took over payments/1") }
        try waitUntil("everything copied", timeout: .seconds(30)) {
            (try? (0..<3).map { try self.targetClient.readAll("us-east.payments", partition: $0, timeout: .seconds(5)).count }.reduce(0, +)) == 42
        }
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        try assertExactlyOnce(expectedTotal: 42)
    }

    func testAnEightyMillisecondRoundTripToTheTargetKeepsUpWithASteadyLoad() throws {
        for broker: Int32 in 1...3 { try target.setRoundTrip(broker: broker, milliseconds: 80) }
        let load = try startLoad(records: 20_000, rate: 2_000)
        let process = try fixture().start()
        XCTAssertEqual(load.waitForExit(timeout: .seconds(60)), 0, load.stderrText)
        let loadStopped = ContinuousClock.now
        let behindWhenTheLoadStopped = 20_000 - targetCount()
        // 2,000 records/s is far below what one producer achieves over 80 ms (5 requests in flight of up to 1 MB):
        // once the load stops, the rest arrives within a few round trips, not a backlog.
        try waitUntil("caught up after the load stopped", timeout: .seconds(15)) { self.targetCount() == 20_000 }
        print("80 ms round trip: \(behindWhenTheLoadStopped) records behind when the load stopped, caught up \(ContinuousClock.now - loadStopped) later")
        XCTAssertLessThan(behindWhenTheLoadStopped, 10_000, "the copy kept pace with the load")
        for broker: Int32 in 1...3 { try target.setRoundTrip(broker: broker, milliseconds: 0) }  // for the checks below
        XCTAssertTrue(process.isRunning, process.stderrText)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
        try assertExactlyOnce(expectedTotal: 20_000)
    }

    func testASourceTopicThatDisappearsFromTheMetadataStopsNamingItAndTheOtherTopicsCarryOn() throws {
        // The mock cluster has no DeleteTopics; a deleted topic looks like this in the metadata.
        try source.createTopic("ledger", partitions: 1, replicationFactor: 3)
        try target.createTopic("us-east.ledger", partitions: 1, replicationFactor: 3)
        let ledger = { (range: Range<Int>) in range.map { KafkaRecord(topic: "ledger", partition: 0, offset: 0, key: nil, value: Array("l\($0)".utf8)) } }
        try sourceClient.produce(payments(0..<3_000) + ledger(0..<100))
        let bridge = try BridgeFixture(
            source: source.bootstrapServers, target: target.bootstrapServers, include: ["payments", "ledger"], groups: "{include: []}")
        let process = try bridge.start()
        try waitUntil("copied") { self.targetCount() == 3_000 }

        source.setTopicError("payments", errorCode: 3)  // UNKNOWN_TOPIC_OR_PART
        try waitUntil("the loss of the topic is reported") { (0..<3).allSatisfy { process.stderrText.contains("source payments/\($0) is gone") } }
        try sourceClient.produce(ledger(100..<200))
        try waitUntil("ledger copied") { (try? self.targetClient.readAll("us-east.ledger", partition: 0, timeout: .seconds(5)).count) == 200 }
        XCTAssertTrue(process.isRunning, process.stderrText)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)

        for partition: Int32 in 0..<3 {
            XCTAssertTrue(process.stderrText.contains(
                "source payments/\(partition) is gone (topic deleted or no longer selected); last offset copied: 999. Its target copy is kept"), process.stderrText)
        }
        XCTAssertTrue(process.stderrText.contains("source topic payments has incomplete metadata (UNKNOWN_TOPIC_OR_PART)"), process.stderrText)
        // The copy of the vanished topic is kept as it was: an exact copy of the source's 3,000 records.
        for partition: Int32 in 0..<3 {
            let copied = try targetClient.readAll("us-east.payments", partition: partition).map { $0.provenanceText ?? "-" }
            XCTAssertEqual(copied, (0..<1_000).map { "us-east/payments/\(partition)/\($0)" })
        }
        XCTAssertEqual(try targetClient.readAll("us-east.ledger", partition: 0).map(\.value), ledger(0..<200).map(\.value))
    }

    func testAnUnreachableBootstrapServerExitsOneNamingTheClusterAndAddressWithinTheRequestTimeout() throws {
        let nowhere = "127.0.0.1:\(try freeLoopbackPort())"
        let cases = [
            (source: nowhere, target: target.bootstrapServers, expected: "cannot reach source cluster us-east at \(nowhere)"),
            (source: source.bootstrapServers, target: nowhere, expected: "cannot reach target cluster eu-west at \(nowhere)"),
        ]
        for pair in cases {
            let bridge = try BridgeFixture(source: pair.source, target: pair.target, include: ["payments"], groups: "{include: []}")
            let started = ContinuousClock.now
            let result = try runProcess(
                RepoPaths.regionbridge, ["run", "--topology", bridge.topologyURL.path, "--request-timeout", "2s", "--start-timeout", "0s"],
                timeout: .seconds(60))
            let took = ContinuousClock.now - started
            XCTAssertEqual(result.exitCode, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(pair.expected), result.stderr)
            XCTAssertLessThan(took, .seconds(15), "an unreachable cluster must be reported after about --request-timeout 2s")
        }
    }
}
