import Foundation
import Kafka
import Synchronization
import TestSupport
import XCTest

/// Several instances of one pair (`instances.mode: group`) on real tansu brokers: the consumer group
/// `regionbridge.<pair>` in the source spreads and moves the partitions, and each partition's transactional
/// writer fences every earlier owner. Every test checks each target partition's provenance offsets against
/// the source, in order: 0 lost, 0 duplicated, nothing out of order.
final class ScaleOutOnTansuTests: TwoRegionTestCase {
    private static let partitions: Int32 = 6

    private var started: [BackgroundProcess] = []

    override func tearDown() {
        // Keep the instances' logs when a test failed, for the next person to read.
        if let run = testRun, !run.hasSucceeded {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regionbridge-scale-logs")
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (index, instance) in started.enumerated() {
                try? instance.stderrText.write(to: folder.appendingPathComponent("\(name.filter(\.isLetter))-\(index).log"), atomically: true, encoding: .utf8)
            }
        }
        started = []
        super.tearDown()
    }

    private func start(_ bridge: BridgeFixture, _ arguments: [String] = []) throws -> BackgroundProcess {
        let instance = try bridge.start(arguments)
        started.append(instance)
        return instance
    }

    /// Heartbeats off: their topic's partition would be shared out with the payments', and the payments alone
    /// would then spread unevenly now and then (3 + 1 + 2, the heartbeat partition with the second).
    private func fixture() throws -> BridgeFixture {
        try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}",
            extra: "instances: {mode: group, session_timeout: 6s, commit_interval: 100ms}\nheartbeats: {interval: 0}")
    }

    private func payments(_ range: Range<Int>) -> [KafkaRecord] { Self.payments(range) }

    private static func payments(_ range: Range<Int>) -> [KafkaRecord] {
        range.map { KafkaRecord(topic: "payments", partition: Int32($0) % Self.partitions, offset: 0, key: Array("pay-\($0)".utf8), value: Array("{\"n\":\($0)}".utf8)) }
    }

    /// The partitions of `payments` an instance says it owns in its last ownership line (the heartbeat topic's
    /// partition, replicated too, is shared out like any other; these tests follow the payments).
    private func owned(by instance: BackgroundProcess) -> Set<String>? {
        guard let line = instance.stderrText.split(separator: "\n").last(where: { $0.contains(" partition(s): ") && $0.contains("owns ") }),
              let range = line.range(of: " partition(s): ")
        else { return nil }
        return Set(line[range.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0.hasPrefix("payments/") })
    }

    /// Waits until the running instances together own every partition, each exactly once (and, with `everyOne`,
    /// each instance at least one).
    private func waitForFullOwnership(_ instances: [BackgroundProcess], everyOne: Bool = false, timeout: Duration = .seconds(60)) throws -> [Set<String>] {
        let all = Set((0..<Self.partitions).map { "payments/\($0)" })
        var sets: [Set<String>] = []
        try waitUntil("every partition owned by exactly one instance", timeout: timeout) {
            sets = instances.map { owned(by: $0) ?? [] }
            return sets.reduce(0) { $0 + $1.count } == all.count && sets.reduce(Set<String>()) { $0.union($1) } == all
                && (!everyOne || sets.allSatisfy { !$0.isEmpty })
        }
        return sets
    }

    /// Waits until the target holds as many records as the source, then compares them record by record.
    private func assertExactlyOnce(total: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        // Until the target holds as many records as the source, or stops growing for 20 s.
        var last = (count: -1, since: ContinuousClock.now)
        try waitUntil("everything copied, or copying stopped", timeout: .seconds(120)) {
            let count = (try? (0..<Self.partitions).map { try self.targetClient.readAll("us-east.payments", partition: $0, timeout: .seconds(10)).count }.reduce(0, +)) ?? 0
            if count != last.count { last = (count, ContinuousClock.now) }
            return count >= total || ContinuousClock.now - last.since > .seconds(20)
        }
        var copied = 0
        for partition in 0..<Self.partitions {
            let expected = try sourceClient.readAll("payments", partition: partition).map { "us-east/payments/\(partition)/\($0.offset)" }
            let provenance = try targetClient.readAll("us-east.payments", partition: partition).map { $0.provenanceText ?? "missing" }
            XCTAssertEqual(provenance.count, expected.count, "payments/\(partition): lost or duplicated", file: file, line: line)
            if provenance != expected {
                let first = zip(provenance, expected).enumerated().first { $0.element.0 != $0.element.1 }
                XCTFail("payments/\(partition): lost, duplicated or out of order; first difference at target index \(first?.offset ?? min(provenance.count, expected.count)): \(first.map { "\($0.element.0) instead of \($0.element.1)" } ?? "one side ends") (target \(provenance.count), source \(expected.count))", file: file, line: line)
            }
            copied += provenance.count
        }
        XCTAssertEqual(copied, total, file: file, line: line)
    }

    func testThreeInstancesShareSixPartitionsEachOwnedByExactlyOne() throws {
        try sourceClient.createTopic("payments", partitions: Int(Self.partitions))
        try sourceClient.produce(payments(0..<6_000))
        let bridge = try fixture()
        let instances = try (0..<3).map { _ in try start(bridge) }
        let sets = try waitForFullOwnership(instances)
        XCTAssertEqual(sets.map(\.count), [2, 2, 2], "cooperative-sticky spreads 6 partitions evenly: \(sets)")
        try assertExactlyOnce(total: 6_000)
        for instance in instances { XCTAssertEqual(instance.stop(gracePeriod: .seconds(30)), 0, instance.stderrText) }
    }

    func testAKilledInstancesPartitionsMoveAndNothingIsLostOrCopiedTwice() throws {
        try sourceClient.createTopic("payments", partitions: Int(Self.partitions))
        let bridge = try fixture()
        let instances = try (0..<3).map { _ in try start(bridge) }
        let load = SteadyLoad(client: sourceClient, records: Self.payments, batches: 60, batchSize: 500)
        let sets = try waitForFullOwnership(instances)
        try waitUntil("copy under way") { load.sent >= 10_000 }

        instances[1].kill(signal: SIGKILL)
        _ = instances[1].waitForExit(timeout: .seconds(10))
        let killedAt = ContinuousClock.now
        let survivors = [instances[0], instances[2]]
        _ = try waitForFullOwnership(survivors, timeout: .seconds(40))
        let moved = ContinuousClock.now - killedAt
        XCTAssertLessThan(moved, .seconds(30), "partitions \(sets[1]) moved after \(moved)")
        try load.wait()
        try assertExactlyOnce(total: load.sent)
        for instance in survivors { XCTAssertEqual(instance.stop(gracePeriod: .seconds(30)), 0, instance.stderrText) }
    }

    func testAWokenZombieCannotWriteAfterTheNewOwnerStarted() throws {
        try sourceClient.createTopic("payments", partitions: Int(Self.partitions))
        let bridge = try fixture()
        let instances = try (0..<3).map { _ in try start(bridge) }
        let load = SteadyLoad(client: sourceClient, records: Self.payments, batches: 80, batchSize: 500)
        let sets = try waitForFullOwnership(instances)
        try waitUntil("copy under way") { load.sent >= 10_000 }

        let zombie = instances[0]
        zombie.kill(signal: SIGSTOP)
        let others = [instances[1], instances[2]]
        _ = try waitForFullOwnership(others, timeout: .seconds(60))
        // Let the new owners write to the zombie's partitions before it wakes. The steady load may have ended by
        // now, so records that only the new owners can copy are written to each of those partitions.
        let zombiePartitions = sets[0].map { Int32($0.split(separator: "/")[1])! }
        let targetEnds = try zombiePartitions.map { try targetClient.readAll("us-east.payments", partition: $0, timeout: .seconds(10)).count }
        let late = zombiePartitions.flatMap { partition in
            (0..<200).map { KafkaRecord(topic: "payments", partition: partition, offset: 0, key: Array("late-\(partition)-\($0)".utf8), value: Array("{\"late\":\($0)}".utf8)) }
        }
        try sourceClient.produce(late)
        try waitUntil("the new owners write") {
            let now = try zombiePartitions.map { try self.targetClient.readAll("us-east.payments", partition: $0, timeout: .seconds(10)).count }
            return zip(now, targetEnds).allSatisfy { $0 > $1 }
        }
        zombie.kill(signal: SIGCONT)
        // The one right outcome: the woken instance learns that it lost its partitions, from the group (its session
        // expired: "found lost") or from the broker (its transactional writer was fenced), drops them without writing,
        // and runs on with what the group gives it; SIGTERM then stops it with exit 0 like any other instance. A pause
        // is not a failure: it must not stop the instance (exit 1) because a commit it had begun before the pause
        // found its deadline passed on waking ("outcome of that transaction is unknown").
        let learned = ["found lost", "fenced this instance's writer"]
        try waitUntil("the zombie learns it lost its partitions", timeout: .seconds(60)) {
            learned.contains { zombie.stderrText.contains($0) } || !zombie.isRunning
        }
        let zombieLines = zombie.stderrText.split(separator: "\n")
            .filter { line in (learned + ["outcome of that transaction is unknown", "owns "]).contains { line.contains($0) } }
            .joined(separator: "\n")
        XCTAssertTrue(zombie.isRunning, "the woken zombie stopped instead of dropping its partitions:\n\(zombieLines)")
        try load.wait()
        try assertExactlyOnce(total: load.sent + late.count)
        let stopped = zombie.stop(gracePeriod: .seconds(30))
        XCTAssertEqual(stopped, 0, "the woken zombie:\n\(zombieLines)\n\(zombie.stderrText.split(separator: "\n").suffix(30).joined(separator: "\n"))")
        for instance in others { XCTAssertEqual(instance.stop(gracePeriod: .seconds(30)), 0, instance.stderrText) }
    }

    /// An instance killed while the target is paused: the group gives its partitions to the survivor, whose
    /// take-over (fencing the earlier writers, reading the target's tails) cannot reach the target. The survivor
    /// keeps them assigned but paused, tries again, and copies them once the target is back.
    func testPartitionsAssignedWhileTheTargetIsPausedAreTakenOverWhenItIsBack() throws {
        try sourceClient.createTopic("payments", partitions: Int(Self.partitions))
        let bridge = try fixture()
        let instances = try (0..<2).map { _ in try start(bridge, ["--request-timeout", "3s"]) }
        let load = SteadyLoad(client: sourceClient, records: Self.payments, batches: 120, batchSize: 100)
        let sets = try waitForFullOwnership(instances, everyOne: true)
        try waitUntil("copy under way") { load.sent >= 2_000 }

        target.freeze()
        instances[1].kill(signal: SIGKILL)
        _ = instances[1].waitForExit(timeout: .seconds(10))
        let survivor = instances[0]
        // The session timeout (6 s) passes, the survivor is assigned the dead instance's partitions and tries to
        // fence their earlier writers against the paused target.
        try waitUntil("the survivor is assigned the dead instance's partitions", timeout: .seconds(40)) {
            survivor.stderrText.contains("waits for the target") || survivor.stderrText.contains("cannot take over") || !survivor.isRunning
        }
        XCTAssertFalse(survivor.stderrText.contains("cannot take over"), survivor.stderrText)
        Thread.sleep(forTimeInterval: 5)
        XCTAssertTrue(survivor.isRunning, "the survivor stopped while the target was paused:\n\(survivor.stderrText)")
        target.thaw()

        let all = Set((0..<Self.partitions).map { "payments/\($0)" })
        try waitUntil("the survivor owns every partition", timeout: .seconds(60)) { self.owned(by: survivor) == all }
        XCTAssertTrue(sets[1].isSubset(of: all))
        try load.wait()
        try assertExactlyOnce(total: load.sent)
        XCTAssertEqual(survivor.stop(gracePeriod: .seconds(30)), 0, survivor.stderrText)
    }

    func testARollingRestartUnderLoadLosesAndDuplicatesNothing() throws {
        try sourceClient.createTopic("payments", partitions: Int(Self.partitions))
        let bridge = try fixture()
        var instances = try (0..<3).map { _ in try start(bridge) }
        let load = SteadyLoad(client: sourceClient, records: Self.payments, batches: 100, batchSize: 300)
        _ = try waitForFullOwnership(instances)
        for index in 0..<3 {
            XCTAssertEqual(instances[index].stop(gracePeriod: .seconds(30)), 0, instances[index].stderrText)
            instances[index] = try start(bridge)
            // The restarted instance takes partitions again.
            _ = try waitForFullOwnership(instances, everyOne: true)
        }
        try load.wait()
        try assertExactlyOnce(total: load.sent)
        for instance in instances { XCTAssertEqual(instance.stop(gracePeriod: .seconds(30)), 0, instance.stderrText) }
    }
}

/// Produces `batches` batches of `batchSize` records to the source, one batch every 100 ms, on its own thread.
final class SteadyLoad: Sendable {
    private struct Progress {
        var sent = 0
        var finished = false
        var failure: String?
    }

    private let progress = Mutex(Progress())

    init(client: KafkaTestClient, records: @escaping @Sendable (Range<Int>) -> [KafkaRecord], batches: Int, batchSize: Int) {
        let thread = Thread { [self] in
            for batch in 0..<batches {
                do {
                    try client.produce(records(batch * batchSize..<(batch + 1) * batchSize))
                    progress.withLock { $0.sent += batchSize }
                } catch {
                    progress.withLock { $0.failure = "\(error)" }
                    break
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            progress.withLock { $0.finished = true }
        }
        thread.start()
    }

    /// Records acknowledged by the source so far.
    var sent: Int { progress.withLock { $0.sent } }

    /// Waits until every batch was produced.
    func wait() throws {
        try waitUntil("the load is produced", timeout: .seconds(120)) { progress.withLock { $0.finished } }
        if let failure = progress.withLock({ $0.failure }) { throw FixtureError("producing the load failed: \(failure)") }
    }
}
