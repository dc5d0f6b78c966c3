import Foundation
import Kafka
import TestSupport
import XCTest

/// The bridge binary between two librdkafka mock clusters (3 brokers each), reached over loopback TCP.
///
/// The mock cluster answers ListOffsets exactly (tansu does not), so the resume path that trusts
/// ListOffsets is checked here too; and it can inject request errors.
final class ReplicationOnMockClusterTests: TwoMockClusterTestCase {
    private func payments(_ range: Range<Int>) -> [KafkaRecord] {
        range.map { KafkaRecord(topic: "payments", partition: Int32($0 % 3), offset: 0, key: Array("pay-\($0)".utf8), value: Array("{\"n\":\($0)}".utf8)) }
    }

    func testResumesExactlyWhereItStoppedAcrossRunsAndAKill() throws {
        try sourceClient.produce(payments(0..<3_000))
        let bridge = try fixture()
        let first = try bridge.runUntilCaughtUp()
        XCTAssertEqual(first.exitCode, 0, first.stderr)

        try sourceClient.produce(payments(3_000..<6_000))
        let second = try bridge.runUntilCaughtUp()
        XCTAssertEqual(second.exitCode, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("copying payments/0 -> us-east.payments/0 from offset 1000 (after 999, the last copied)"), second.stderr)

        // A kill -9 in the middle of a copy, then a restart.
        try sourceClient.produce(payments(6_000..<60_000))
        let process = try bridge.start()
        try waitUntil("copy under way") {
            (try? KafkaTestClient(bootstrap: self.target.bootstrapServers).approximateEnd("us-east.payments", partition: 0)) ?? 0 > 3_000
        }
        process.kill(signal: SIGKILL)
        _ = process.waitForExit(timeout: .seconds(10))
        let third = try bridge.runUntilCaughtUp()
        XCTAssertEqual(third.exitCode, 0, third.stderr)
        try assertExactlyOnce(partitions: 3, expectedTotal: 60_000)
    }

    func testARecordTheTargetRefusesStopsThePairNamingItsOffset() throws {
        try sourceClient.produce(payments(0..<30))
        let bridge = try fixture()
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)

        try sourceClient.produce(payments(30..<33))
        // MSG_SIZE_TOO_LARGE (10) on every produce: the target refuses the next record.
        target.pushRequestErrors(.produce, errorCodes: Array(repeating: 10, count: 50))
        let refused = try bridge.runUntilCaughtUp()
        XCTAssertEqual(refused.exitCode, 6, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("the target refused the record from source payments/"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("offset 10"), "the first record not yet copied is named: \(refused.stderr)")

        // Nothing already copied was lost, and nothing after the refused record was skipped.
        target.clearRequestErrors(.produce)
        XCTAssertEqual(try (0..<3).map { try targetClient.readAll("us-east.payments", partition: Int32($0)).count }.reduce(0, +), 30)
    }
}
