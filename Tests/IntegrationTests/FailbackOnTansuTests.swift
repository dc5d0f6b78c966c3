import Failover
import Formats
import Foundation
import Kafka
import Logging
import Postgres
import Replication
import TestSupport
import XCTest

/// `regionbridge failback` between two tansu brokers: the whole DR cycle (us-east lost, failover to eu-west, us-east back,
/// failback), and the refusals.
final class FailbackOnTansuTests: TwoRegionTestCase {
    override func tearDown() {
        source?.thaw()  // a test that failed while us-east was frozen
        super.tearDown()
    }

    // MARK: The whole cycle

    /// Two groups at different positions go from us-east to eu-west and back. Records written in us-east after the bridge's
    /// last copy, the copies, and the records written in eu-west meanwhile are each processed exactly once by each group.
    func testAWholeDRCycleProcessesEveryRecordExactlyOnce() throws {
        let started = ContinuousClock.now
        let postgres = try PostgresCluster()
        defer { try? postgres.stop() }
        let db = try postgres.paymentsDatabase()

        let topics = ["payments": 2, "ledger": 1]
        for (topic, partitions) in topics {
            try sourceClient.createTopic(topic, partitions: partitions)
            try targetClient.createTopic(topic, partitions: partitions)  // eu-west's own topics, written after the failover
        }
        let groups = ["billing": ["payments", "ledger"], "audit": ["payments"]]
        var processed: [String: [RecordKey]] = [:]

        // 1. us-east active: payments pay-0..199 committed in Postgres and published, ledger entries; the bridge copies
        //    them to eu-west and syncs the groups, which process part of them and commit.
        try commitPayments(db, 0..<200)
        try sourceClient.produce(payments(0..<200, prefix: "pay") + ledger(0..<60, prefix: "us"))
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments", "ledger"],
            extra: """
                reconcile:
                  postgres_dsn: "\(postgres.dsn(database: "payments"))"
                  committed_query: "SELECT event_id, committed_at, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2"
                  topics: [payments]
                  compare: {amount: amount, currency: currency}
                """)
        let folder = bridge.topologyURL.deletingLastPathComponent()
        let reverse = folder.appendingPathComponent("eu-west-to-us-east.yaml")
        // The reverse pair syncs no groups here, so that what moves them on the eu-west.* copies is failback alone.
        try """
            pair: eu-west-to-us-east
            source: {region: eu-west, bootstrap_servers: "\(target.bootstrap)", properties: {}}
            target: {region: us-east, bootstrap_servers: "\(source.bootstrap)", properties: {}}
            topics: {include: ["payments", "ledger"], rename: prefix, discovery_interval: 1s}
            groups: {include: []}

            """.write(to: reverse, atomically: true, encoding: .utf8)
        let forward = try bridge.start()
        defer { _ = forward.stop() }
        processed["billing"] = try member(source.bootstrap, "us-east", "billing", ["payments", "ledger"]).process(quotas: ["payments": 120, "ledger": 30])
        processed["audit"] = try member(source.bootstrap, "us-east", "audit", ["payments"]).process(quotas: ["payments": 70])
        let committedBefore = try groups.keys.reduce(into: [String: [TopicPartition: Int64]]()) { $0[$1] = try sourceClient.committed(group: $1) }
        try waitUntil("every us-east record copied and every group position checkpointed in eu-west") {
            let copied = try topics.allSatisfy { topic, partitions in
                try (0..<partitions).allSatisfy { partition in
                    try targetClient.readAll("us-east.\(topic)", partition: Int32(partition)).count == (topic == "payments" ? 100 : 60)
                }
            }
            let checkpoints = try targetClient.readAll("regionbridge.us-east-to-eu-west.checkpoints", partition: 0)
                .compactMap { $0.value.flatMap { try? JSONDecoder().decode(CheckpointRecord.self, from: Data($0)) } }
            return copied && committedBefore.allSatisfy { group, positions in
                positions.allSatisfy { partition, offset in
                    checkpoints.contains { $0.group == group && $0.topic == partition.topic && $0.partition == partition.partition && $0.sourceOffset == offset }
                }
            }
        }
        XCTAssertEqual(forward.stop(gracePeriod: .seconds(30)), 0, forward.stderrText)

        // 2. The bridge's last copy is behind us-east: 10 payments (pay-205 rolled back in Postgres, never committed)
        //    and 5 ledger entries written there never reach eu-west. Then us-east is lost.
        try commitPayments(db, 200..<210, rolledBack: [205])
        try sourceClient.produce(payments(200..<210, prefix: "pay") + ledger(60..<65, prefix: "us"))
        source.freeze()

        let failover = try regionbridge(["failover", "--topology", bridge.topologyURL.path, "--group", "audit", "--group", "billing", "--apply", "--request-timeout", "3s"])
        XCTAssertEqual(failover.exitCode, 0, failover.stderr)
        XCTAssertTrue(failover.stdout.contains("checkpoint"), failover.stdout)

        // 3. eu-west active: producers write to eu-west's own topics; the groups read the copies and those.
        try targetClient.produce(payments(0..<40, prefix: "eu-pay") + ledger(0..<20, prefix: "eu"))
        processed["billing"]! += try member(target.bootstrap, "eu-west", "billing", ["us-east.payments", "us-east.ledger", "payments", "ledger"])
            .process(count: 260 - 150 + 60)  // every copy and every eu-west record so far
        processed["audit"]! += try member(target.bootstrap, "eu-west", "audit", ["us-east.payments", "payments"])
            .process(quotas: ["us-east.payments": 70, "payments": 25])  // part of the copies, part of eu-west's own
        try targetClient.produce(payments(40..<50, prefix: "eu-pay") + ledger(20..<25, prefix: "eu"))

        // 4. us-east is back; the reverse pair copies what eu-west's producers wrote.
        source.thaw()
        let reverseRun = try regionbridge(["run", "--topology", reverse.path, "--until-caught-up", "--request-timeout", "10s"])
        XCTAssertEqual(reverseRun.exitCode, 0, reverseRun.stderr)

        // 5. The dry run: per partition, the exact source position, what us-east has now, what never reached eu-west,
        //    and the committed payments among those.
        let us = try sourceLog(["payments": 2, "ledger": 1], region: "us-east", client: sourceClient)
        let eu = try sourceLog(["payments": 2, "ledger": 1], region: "eu-west", client: targetClient)
        let dry = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--group", "audit", "--group", "billing", "--format", "json"])
        XCTAssertEqual(dry.exitCode, 0, dry.stdout + dry.stderr)
        let plan = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any], dry.stdout)
        let positions = plan["positions"] as? [[String: Any]] ?? []
        for group in groups.keys {
            for (topic, partitions) in topics where groups[group]!.contains(topic) {
                for partition in 0..<Int32(partitions) {
                    let origin = TopicPartition(topic, partition)
                    let row = try XCTUnwrap(positions.first { $0["group"] as? String == group && $0["topic"] as? String == topic && $0["partition"] as? Int == Int(partition) },
                                            "\(group) \(origin) in \(dry.stdout)")
                    // Right after the last record of us-east's partition the group processed, in us-east or in the copy.
                    let last = processed[group]!.filter { $0.region == "us-east" && $0.topic == topic && $0.partition == partition }.map(\.offset).max()
                    let expected = (last ?? -1) + 1
                    XCTAssertEqual(row["source_offset"] as? Int, Int(expected), "\(group) \(origin)")
                    XCTAssertEqual((row["committed_in_source"] as? Int).map(Int64.init), committedBefore[group]?[origin], "\(group) \(origin)")
                    XCTAssertEqual(row["action"] as? String, expected > committedBefore[group]?[origin] ?? -1 ? "commit" : "keep", "\(group) \(origin)")
                    let neverCopied = 5  // pay-200..209 over two partitions; ledger 60..64
                    XCTAssertEqual(row["not_replicated"] as? Int, neverCopied, "\(group) \(origin)")
                    XCTAssertEqual(row["last_replicated"] as? Int, (us[origin]?.count ?? 0) - neverCopied - 1, "\(group) \(origin)")
                }
            }
        }
        let named = ((plan["payments"] as? [String: Any])?["named"] as? [[String: Any]] ?? []).compactMap { $0["event_id"] as? String }.sorted()
        XCTAssertEqual(named, (200..<210).filter { $0 != 205 }.map { "pay-\($0)" }.sorted(), dry.stdout)
        XCTAssertEqual((plan["payments"] as? [String: Any])?["records"] as? Int, 10)
        let reversePositions = plan["reverse_positions"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(reversePositions.compactMap { $0["target_topic"] as? String }), ["eu-west.payments", "eu-west.ledger"], dry.stdout)
        XCTAssertEqual(try sourceClient.committed(group: "billing"), committedBefore["billing"], "a dry run commits nothing")

        let table = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--group", "billing", "--group", "audit"])
        XCTAssertEqual(table.exitCode, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("reconcile: 9 committed payment(s) among the 10 never-replicated record(s) in us-east:"), table.stdout)
        XCTAssertTrue(table.stdout.contains("dry run: nothing committed; run again with --apply"), table.stdout)

        // 6. failback --apply, and the groups run in us-east again: on us-east's own topics and on eu-west's copies.
        let failback = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--group", "audit", "--group", "billing", "--apply"])
        XCTAssertEqual(failback.exitCode, 0, failback.stdout + failback.stderr)
        XCTAssertTrue(failback.stdout.contains("committed "), failback.stdout)
        var afterReturn: [String: [RecordKey]] = [:]
        afterReturn["billing"] = try member(source.bootstrap, "us-east", "billing", ["payments", "ledger", "eu-west.payments", "eu-west.ledger"])
            .process(count: 15 + 15, thenFor: .seconds(2))
        afterReturn["audit"] = try member(source.bootstrap, "us-east", "audit", ["payments", "eu-west.payments"])
            .process(count: (210 + 50) - 70 - 95, thenFor: .seconds(2))

        // Every record of the group's topics, from both regions, processed once across the whole cycle.
        for (group, groupTopics) in groups {
            let all = processed[group]! + afterReturn[group]!
            let counts = Dictionary(all.map { ($0, 1) }, uniquingKeysWith: +)
            let repeated = counts.filter { $0.value > 1 }.keys.sorted()
            XCTAssertEqual(repeated, [], "\(group): processed more than once")
            let expected = Set((Array(us) + Array(eu)).filter { groupTopics.contains($0.key.topic) }.flatMap(\.value))
            XCTAssertEqual(expected.subtracting(counts.keys).sorted(), [], "\(group): never processed")
            XCTAssertEqual(Set(counts.keys).subtracting(expected).sorted(), [], "\(group): processed but never written")
            // The records us-east wrote after the bridge's last copy were processed after the return.
            let neverCopied = Set(us.filter { groupTopics.contains($0.key.topic) }.flatMap { $0.value.suffix(5) })
            XCTAssertTrue(neverCopied.isSubset(of: Set(afterReturn[group]!)), "\(group): never-replicated records processed after the return")
        }
        print("DR cycle test took \(ContinuousClock.now - started)")
    }

    // MARK: Refusals

    /// A group active in us-east or in eu-west is refused (exit 4, nothing committed), a source offset already past the
    /// translation stays where it is, and a group with positions on eu-west's own topics is refused until the reverse pair
    /// has copied them.
    func testRefusalsActiveGroupsNeverBackwardsAndAReversePairThatHasNotRun() throws {
        try sourceClient.createTopic("payments", partitions: 1)
        try sourceClient.produce(payments(0..<100, prefix: "pay", partitions: 1))
        let bridge = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: []}")
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        let copy = TopicPartition("us-east.payments", 0)
        let original = TopicPartition("payments", 0)
        for group in ["fb-moves", "fb-ahead", "fb-active-source", "fb-active-target"] {
            try targetClient.commit(group: group, [copy: 40])
            try sourceClient.commit(group: group, [original: 10])
        }
        try sourceClient.commit(group: "fb-ahead", [original: 70])

        // Without the reverse pair's topology, only the copies are moved.
        let dry = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--group", "fb-moves", "--group", "fb-ahead"])
        XCTAssertEqual(dry.exitCode, 0, dry.stderr)
        // GROUP, COPY, COPY-POSITION, SOURCE, SOURCE-POSITION, COMMITTED-IN-SOURCE, LAST-REPLICATED, NOT-REPLICATED, ACTION
        XCTAssertEqual(row(dry.stdout, "fb-ahead"), ["fb-ahead", "us-east.payments/0", "40", "payments/0", "40", "70", "99", "0", "keep"], dry.stdout)
        XCTAssertEqual(row(dry.stdout, "fb-moves"), ["fb-moves", "us-east.payments/0", "40", "payments/0", "40", "10", "99", "0", "commit"], dry.stdout)
        XCTAssertTrue(dry.stdout.contains("no reverse pair topology (eu-west -> us-east)"), dry.stdout)

        let members = [
            try member(source.bootstrap, "us-east", "fb-active-source", ["payments"]),
            try member(target.bootstrap, "eu-west", "fb-active-target", ["us-east.payments"]),
        ]
        defer { members.forEach { $0.close() } }
        members.forEach { $0.hold() }
        for (client, group) in [(sourceClient, "fb-active-source"), (targetClient, "fb-active-target")] {
            let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: client.bootstrap), logger: Logger(label: "test"))
            try waitUntil("\(group) has a member") {
                try admin.describeConsumerGroups([group], timeout: .seconds(5)).first?.memberCount ?? 0 > 0
            }
        }
        let refused = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--apply",
                                        "--group", "fb-moves", "--group", "fb-active-source", "--group", "fb-active-target"])
        XCTAssertEqual(refused.exitCode, 4, refused.stdout + refused.stderr)
        XCTAssertTrue(refused.stderr.contains("group fb-active-source has 1 active member(s) in us-east: stop them before failing back"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("group fb-active-target has 1 active member(s) in eu-west: stop them before failing back"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("fb-moves"), refused.stderr)
        XCTAssertEqual(try sourceClient.committed(group: "fb-moves")[original], 10, "a refused failback commits nothing, for any group")
        members.forEach { $0.close() }

        let applied = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--apply", "--group", "fb-moves", "--group", "fb-ahead"])
        XCTAssertEqual(applied.exitCode, 0, applied.stderr)
        XCTAssertTrue(applied.stdout.contains("committed 1 offset(s) on us-east's own topics; 1 left as they were"), applied.stdout)
        XCTAssertEqual(try sourceClient.committed(group: "fb-moves")[original], 40)
        XCTAssertEqual(try sourceClient.committed(group: "fb-ahead")[original], 70, "never backwards")

        // The reverse pair's topology next to this one, a group with a position on eu-west's own payments, and no copy
        // of them in us-east yet: refused until the reverse pair has run.
        try targetClient.createTopic("payments", partitions: 1)
        try targetClient.produce(payments(0..<8, prefix: "eu-pay", partitions: 1))
        try targetClient.commit(group: "fb-moves", [TopicPartition("payments", 0): 5])
        let reverse = bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("eu-west-to-us-east.yaml")
        try """
            pair: eu-west-to-us-east
            source: {region: eu-west, bootstrap_servers: "\(target.bootstrap)", properties: {}}
            target: {region: us-east, bootstrap_servers: "\(source.bootstrap)", properties: {}}
            topics: {include: ["payments"], rename: prefix}
            groups: {include: []}

            """.write(to: reverse, atomically: true, encoding: .utf8)
        let notCopied = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--apply", "--group", "fb-moves"])
        XCTAssertEqual(notCopied.exitCode, 4, notCopied.stdout + notCopied.stderr)
        XCTAssertTrue(notCopied.stderr.contains(
            "reverse pair (\(reverse.path)): group fb-moves payments/0 at 5 in eu-west: us-east holds no copy eu-west.payments yet; run pair eu-west-to-us-east until it has caught up"),
            notCopied.stderr)
        XCTAssertEqual(try regionbridge(["run", "--topology", reverse.path, "--until-caught-up"]).exitCode, 0)
        let returned = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--apply", "--group", "fb-moves"])
        XCTAssertEqual(returned.exitCode, 0, returned.stdout + returned.stderr)
        XCTAssertEqual(try sourceClient.committed(group: "fb-moves")[TopicPartition("eu-west.payments", 0)], 5, "the reverse pair's translation")

        // A reverse topology named with --reverse that does not validate is a configuration error.
        let broken = bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("broken.yaml")
        try "pair: eu-west-to-us-east\nsource:\n  region: eu-west\n".write(to: broken, atomically: true, encoding: .utf8)
        let invalid = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--group", "fb-moves", "--reverse", broken.path])
        XCTAssertEqual(invalid.exitCode, 2, invalid.stderr)
        XCTAssertTrue(invalid.stderr.contains("reverse pair topology \(broken.path) does not validate"), invalid.stderr)

        // us-east not answering: exit 1, naming the region, its address and the group.
        source.freeze()
        let unreachable = try regionbridge(["failback", "--topology", bridge.topologyURL.path, "--group", "fb-moves", "--request-timeout", "2s"])
        source.thaw()
        XCTAssertEqual(unreachable.exitCode, 1, unreachable.stdout + unreachable.stderr)
        XCTAssertTrue(unreachable.stderr.contains("group fb-moves in us-east at \(source.bootstrap)"), unreachable.stderr)
    }

    // MARK: Helpers

    private func regionbridge(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(RepoPaths.regionbridge, arguments, timeout: .seconds(120))
    }

    /// The fields of the table row that starts with `first`.
    private func row(_ table: String, _ first: String) -> [String]? {
        table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.first { $0.first == first }
    }

    private func member(_ bootstrap: String, _ region: String, _ group: String, _ topics: [String]) throws -> GroupMember {
        try GroupMember(bootstrap: bootstrap, region: region, group: group, topics: topics)
    }

    /// Payment events `<prefix>-n`, to partition n % `partitions` of payments.
    private func payments(_ range: Range<Int>, prefix: String, partitions: Int = 2) -> [KafkaRecord] {
        range.map { n in
            KafkaRecord(
                topic: "payments", partition: Int32(n % partitions), offset: 0, key: Array("\(prefix)-\(n)".utf8),
                value: Array(#"{"event_id":"\#(prefix)-\#(n)","amount":\#(n).50,"currency":"EUR"}"#.utf8))
        }
    }

    private func ledger(_ range: Range<Int>, prefix: String) -> [KafkaRecord] {
        range.map { KafkaRecord(topic: "ledger", partition: 0, offset: 0, key: Array("\(prefix)-entry-\($0)".utf8), value: Array("entry \($0)".utf8)) }
    }

    /// Commits payments pay-n in Postgres five minutes ago (inside reconcile's window); those in `rolledBack` are rolled back.
    private func commitPayments(_ db: PostgresConnection, _ range: Range<Int>, rolledBack: Set<Int> = []) throws {
        for n in range {
            let committed = !rolledBack.contains(n)
            try db.execute("""
                INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
                VALUES ('pay-\(n)', 'acct-\(n % 7)', \(n).50, 'EUR', '\(committed ? "committed" : "rolled_back")', \(committed ? "now() - interval '5 minutes'" : "NULL"))
                """)
        }
    }

    /// Every record of the region's own topics, as keys, per partition in offset order.
    private func sourceLog(_ topics: [String: Int], region: String, client: KafkaTestClient) throws -> [TopicPartition: [RecordKey]] {
        var log: [TopicPartition: [RecordKey]] = [:]
        for (topic, partitions) in topics {
            for partition in 0..<Int32(partitions) {
                log[TopicPartition(topic, partition)] = try client.readAll(topic, partition: partition).map { RecordKey($0, consumedIn: region) }
            }
        }
        return log
    }
}

/// A record by where it was first written: region, topic, partition, offset. A copy counts as its original (its
/// `regionbridge.source` header names it).
struct RecordKey: Hashable, Comparable, CustomStringConvertible {
    var region: String
    var topic: String
    var partition: Int32
    var offset: Int64

    init(_ record: KafkaRecord, consumedIn region: String) {
        if let text = record.lastHeader(named: Provenance.headerName)?.value, let provenance = Provenance(headerValue: text) {
            (self.region, topic, partition, offset) = (provenance.region, provenance.topic, provenance.partition, provenance.offset)
        } else {
            (self.region, topic, partition, offset) = (region, record.topic, record.partition, record.offset)
        }
    }

    static func < (lhs: RecordKey, rhs: RecordKey) -> Bool { lhs.description < rhs.description }

    var description: String { "\(region)/\(topic)/\(partition)/\(offset)" }
}

/// A member of a consumer group, as an application runs one: it subscribes (the group coordinator assigns its partitions
/// and it starts at the group's committed offsets, or at the log start), processes records one at a time and commits
/// what it processed after each poll.
///
/// `@unchecked Sendable`: the consumer is polled by one thread at a time, the caller's or, after ``hold()``, the holder
/// thread's, which ``close()`` stops and waits for before it closes the consumer.
final class GroupMember: @unchecked Sendable {
    private let consumer: KafkaConsumer
    private let region: String
    private let lock = NSLock()
    private var holding = false
    private var closed = false
    private let released = DispatchSemaphore(value: 0)

    init(bootstrap: String, region: String, group: String, topics: [String]) throws {
        self.region = region
        consumer = try KafkaConsumer(
            configuration: KafkaClientConfiguration(bootstrapServers: bootstrap), groupID: group,
            overrides: ["session.timeout.ms": "2000", "max.poll.interval.ms": "2000", "heartbeat.interval.ms": "300", "auto.offset.reset": "earliest"],
            logger: Logger(label: "member"))
        try consumer.subscribe(topics)
    }

    /// Processes `count` records, commits and leaves the group; with `thenFor`, it goes on processing whatever else
    /// arrives for that long first (to catch a record delivered twice).
    func process(count: Int, thenFor settle: Duration? = nil, timeout: Duration = .seconds(60)) throws -> [RecordKey] {
        try process(count: count, settle: settle, timeout: timeout) { _ in true }
    }

    /// Processes `quotas[topic]` records of each topic (and none after those of that topic), commits and leaves the group.
    func process(quotas: [String: Int], timeout: Duration = .seconds(60)) throws -> [RecordKey] {
        var left = quotas
        return try process(count: quotas.values.reduce(0, +), settle: nil, timeout: timeout) { record in
            guard let quota = left[record.topic], quota > 0 else { return false }
            left[record.topic] = quota - 1
            return true
        }
    }

    private func process(count: Int, settle: Duration?, timeout: Duration, accept: (KafkaRecord) -> Bool) throws -> [RecordKey] {
        defer { close() }
        var processed: [RecordKey] = []
        let deadline = ContinuousClock.now + timeout
        var settleUntil: ContinuousClock.Instant?
        while ContinuousClock.now < deadline {
            if processed.count >= count {
                guard let settle else { break }
                if settleUntil == nil { settleUntil = .now + settle }
                if ContinuousClock.now >= settleUntil! { break }
            }
            let batch = consumer.poll(maxRecords: 100, timeout: .milliseconds(100))
            var next: [TopicPartition: Int64] = [:]
            for record in batch.records {
                if processed.count >= count, settle == nil { break }
                guard accept(record) else { continue }
                processed.append(RecordKey(record, consumedIn: region))
                next[TopicPartition(record.topic, record.partition)] = record.offset + 1
            }
            if let fatal = batch.errors.first(where: { $0.error.isFatal }) { throw fatal.error }
            try consumer.commit(next)
        }
        guard processed.count >= count else {
            throw FixtureError("the group member in \(region) processed \(processed.count) of \(count) records within \(timeout)")
        }
        return processed
    }

    /// Stays in the group, processing nothing, until ``close()``: polls on a thread of its own.
    func hold() {
        lock.withLock { holding = true }
        Thread.detachNewThread { [self] in
            while lock.withLock({ holding }) {
                _ = consumer.poll(maxRecords: 10, timeout: .milliseconds(100))
            }
            released.signal()
        }
    }

    /// Leaves the group (once).
    func close() {
        let wasHolding = lock.withLock { () -> Bool in
            defer { holding = false }
            return holding
        }
        if wasHolding { released.wait() }
        guard lock.withLock({ () -> Bool in
            defer { closed = true }
            return !closed
        }) else { return }
        consumer.close()
    }
}
