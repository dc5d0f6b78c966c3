import Foundation
import Glibc
import Kafka
import Synchronization
import TestSupport
import XCTest

/// `/v1/replicated` and `regionbridge wait-replicated` between two real tansu brokers: a yes only for a record the
/// target holds.
final class ReplicatedOnTansuTests: TwoRegionTestCase {
    private let targetTopic = "us-east.payments"

    /// Produces one record with a real client; its offset.
    private func produce(partition: Int32, _ value: String) throws -> Int64 {
        try sourceClient.produce([KafkaRecord(topic: "payments", partition: partition, offset: 0, key: Array("k".utf8), value: Array(value.utf8))])[0]
    }

    /// Whether the target partition holds the copy of source `payments/partition@offset` now (by provenance);
    /// with `committedOnly`, in a committed transaction.
    private func targetHolds(partition: Int32, offset: Int64, committedOnly: Bool = false) throws -> Bool {
        try targetClient.readAll(targetTopic, partition: partition, timeout: .seconds(20), committedOnly: committedOnly)
            .contains { $0.provenanceText == "us-east/payments/\(partition)/\(offset)" }
    }

    private func path(_ partition: Int32, _ offset: Int64, timeout: String) -> String {
        "/v1/replicated?topic=payments&partition=\(partition)&offset=\(offset)&timeout=\(timeout)"
    }

    /// Requests on their own threads at once; the replies in order.
    private func concurrently(_ port: Int, _ paths: [String]) -> [RawHTTP.Reply] {
        let replies = Mutex<[Int: RawHTTP.Reply]>([:])
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            let reply = RawHTTP.request(port: port, path: paths[index], timeout: .seconds(60))
            replies.withLock { $0[index] = reply }
        }
        return replies.withLock { replies in paths.indices.map { replies[$0]! } }
    }

    func testTheEndpointSaysYesOnlyForRecordsTheTargetHoldsAndNeverWhenItCannotKnow() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        let port = try freeLoopbackPort()
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}",
            extra: "metrics: {listen: \"127.0.0.1:\(port)\"}")
        let process = try bridge.start()
        defer { process.kill() }
        // Ready once the wait is no longer refused (503 before the first discovery); then an empty partition's record
        // is not in the target: the wait runs out (504).
        var empty = RawHTTP.Reply.noResponse("not asked yet")
        try waitUntil("the bridge answers /v1/replicated", timeout: .seconds(60)) {
            empty = RawHTTP.request(port: port, path: self.path(0, 0, timeout: "0s"))
            return empty.status != nil && empty.status != 503
        }
        XCTAssertEqual(empty.status, 504, "\(empty)")

        // Each record produced is confirmed, and at that moment the target holds it.
        for index in 0..<6 {
            let partition = Int32(index % 2)
            let offset = try produce(partition: partition, "payment-\(index)")
            let reply = RawHTTP.request(port: port, path: path(partition, offset, timeout: "20s"))
            XCTAssertEqual(reply.status, 200, "\(reply)\n\(process.stderrText)")
            XCTAssertTrue(try targetHolds(partition: partition, offset: offset), "200 for payments/\(partition)@\(offset), which the target does not hold")
            XCTAssertTrue(reply.body?.contains(#""target":{"topic":"us-east.payments","partition":\#(partition)}"#) == true, "\(reply)")
        }
        let batch = RawHTTP.request(port: port, method: "POST", path: "/v1/replicated", body: #"{"records": [{"topic": "payments", "partition": 0, "offset": 2}, {"topic": "payments", "partition": 1, "offset": 2}], "timeout": "5s"}"#)
        XCTAssertEqual(batch.status, 200, "\(batch)")

        // Bad parameters are named; partitions the bridge does not replicate are 404.
        let badOffset = RawHTTP.request(port: port, path: "/v1/replicated?topic=payments&partition=0&offset=abc")
        XCTAssertEqual(badOffset.status, 400)
        XCTAssertTrue(badOffset.body?.contains(#""parameter":"offset""#) == true, "\(badOffset)")
        let badTimeout = RawHTTP.request(port: port, path: path(0, 0, timeout: "1h"))
        XCTAssertEqual(badTimeout.status, 400)
        XCTAssertTrue(badTimeout.body?.contains(#""parameter":"timeout""#) == true, "\(badTimeout)")
        XCTAssertEqual(RawHTTP.request(port: port, path: "/v1/replicated?topic=ledger&partition=0&offset=0").status, 404)
        XCTAssertEqual(RawHTTP.request(port: port, path: path(5, 0, timeout: "1s")).status, 404)

        // The target frozen: the waits run out (504), none says yes; after the thaw the same record is confirmed.
        target.freeze()
        let frozenOffset = try produce(partition: 0, "while-frozen")
        let frozen = concurrently(port, Array(repeating: path(0, frozenOffset, timeout: "2s"), count: 4))
        XCTAssertEqual(frozen.map(\.status), [504, 504, 504, 504], "\(frozen)")
        target.thaw()
        let thawed = RawHTTP.request(port: port, path: path(0, frozenOffset, timeout: "30s"))
        XCTAssertEqual(thawed.status, 200, "\(thawed)\n\(process.stderrText)")
        XCTAssertTrue(try targetHolds(partition: 0, offset: frozenOffset))

        // kill -9 of the bridge while waits are in flight: the clients see the connection close, never a yes.
        target.freeze()
        let lastOffset = try produce(partition: 1, "before-the-kill")
        let killer = Thread {
            Thread.sleep(forTimeInterval: 1.5)
            process.kill(signal: SIGKILL)
        }
        killer.start()
        let killed = concurrently(port, Array(repeating: path(1, lastOffset, timeout: "30s"), count: 4))
        for reply in killed {
            guard case .noResponse = reply else { return XCTFail("a wait in flight when the bridge was killed got \(reply)") }
        }
        target.thaw()
    }

    /// Group mode: only a committed transaction counts (commits every 2 s, so an answer at the acknowledgement would
    /// come long before the commit); a partition this instance does not own is 404.
    func testInGroupModeOnlyCommittedRecordsAreConfirmed() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        let port = try freeLoopbackPort()
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}",
            extra: "instances: {mode: group, session_timeout: 6s, commit_interval: 2s}\nmetrics: {listen: \"127.0.0.1:\(port)\"}")
        let process = try bridge.start()
        defer { process.kill() }
        // Ready once the group assigned the partitions (503 before).
        var empty = RawHTTP.Reply.noResponse("not asked yet")
        try waitUntil("the group assigns the partitions", timeout: .seconds(60)) {
            empty = RawHTTP.request(port: port, path: self.path(1, 0, timeout: "0s"))
            return empty.status != nil && empty.status != 503
        }
        XCTAssertEqual(empty.status, 504, "\(empty)\n\(process.stderrText)")
        for index in 0..<3 {
            let partition = Int32(index % 2)
            let offset = try produce(partition: partition, "group-payment-\(index)")
            let reply = RawHTTP.request(port: port, path: path(partition, offset, timeout: "20s"))
            XCTAssertEqual(reply.status, 200, "\(reply)\n\(process.stderrText)")
            XCTAssertTrue(try targetHolds(partition: partition, offset: offset, committedOnly: true), "200 for payments/\(partition)@\(offset) before its transaction committed")
        }
        XCTAssertEqual(RawHTTP.request(port: port, path: path(4, 0, timeout: "1s")).status, 404)
        XCTAssertEqual(process.stop(gracePeriod: .seconds(30)), 0, process.stderrText)
    }

    func testWaitReplicatedExitsZeroForARecordInTheTargetAndThreeForOneThatIsNot() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        let offsets = try sourceClient.produce((0..<10).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0)]) })
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}")
        let copied = try bridge.runUntilCaughtUp(timeout: .seconds(60))
        XCTAssertEqual(copied.exitCode, 0, copied.stderr)
        func wait(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(RepoPaths.regionbridge, ["wait-replicated", "--topology", bridge.topologyURL.path] + arguments, timeout: .seconds(60))
        }
        let inTarget = try wait(["--topic", "payments", "--partition", "1", "--offset", String(offsets[9]), "--timeout", "5s"])
        XCTAssertEqual(inTarget.exitCode, 0, inTarget.stderr)
        XCTAssertTrue(inTarget.stdout.contains("replicated: payments/1@\(offsets[9]) is in target us-east.payments/1"), inTarget.stdout)

        let next = try produce(partition: 0, "not-copied")  // the bridge is not running: never copied
        let notYet = try wait(["--topic", "payments", "--partition", "0", "--offset", String(next), "--timeout", "1s"])
        XCTAssertEqual(notYet.exitCode, 3, notYet.stderr)
        XCTAssertTrue(notYet.stderr.contains("not replicated: payments/0@\(next) is not in target us-east.payments/0 after 1.0 seconds: the newest copied source offset there is \(next - 1)"), notYet.stderr)

        let unknownTopic = try wait(["--topic", "ledger", "--partition", "0", "--offset", "0"])
        XCTAssertEqual(unknownTopic.exitCode, 2, unknownTopic.stderr)
        XCTAssertTrue(unknownTopic.stderr.contains("topic ledger is not replicated by pair us-east-to-eu-west"), unknownTopic.stderr)
        let unknownPartition = try wait(["--topic", "payments", "--partition", "7", "--offset", "0"])
        XCTAssertEqual(unknownPartition.exitCode, 2, unknownPartition.stderr)
        XCTAssertTrue(unknownPartition.stderr.contains("source topic payments has no partition 7 (it has 2)"), unknownPartition.stderr)
    }
}
