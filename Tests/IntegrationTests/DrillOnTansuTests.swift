import Foundation
import Kafka
import Logging
import Postgres
import TestSupport
import XCTest

/// `regionbridge drill` on two tansu brokers and one Postgres, shared by every test of the class (each test uses
/// its own pair, topics, groups and database). A healthy pair is READY and the drill changes nothing; each test
/// after that breaks one thing and expects NOT READY (exit 8) naming exactly that cause.
final class DrillOnTansuTests: XCTestCase {
    private struct Shared {
        var source: TansuBroker
        var target: TansuBroker
        var postgres: PostgresCluster
    }

    nonisolated(unsafe) private static var shared: Result<Shared, any Error>?

    override class func setUp() {
        super.setUp()
        shared = Result { Shared(source: try TansuBroker(name: "us-east"), target: try TansuBroker(name: "eu-west"), postgres: try PostgresCluster()) }
    }

    override class func tearDown() {
        if case .success(let fixtures)? = shared {
            fixtures.source.stop()
            fixtures.target.stop()
            try? fixtures.postgres.stop()
        }
        shared = nil
        super.tearDown()
    }

    private var source: TansuBroker!
    private var target: TansuBroker!
    private var postgres: PostgresCluster!
    private var sourceClient: KafkaTestClient { KafkaTestClient(bootstrap: source.bootstrap) }
    private var targetClient: KafkaTestClient { KafkaTestClient(bootstrap: target.bootstrap) }

    override func setUpWithError() throws {
        let fixtures = try XCTUnwrap(Self.shared).get()
        source = fixtures.source
        target = fixtures.target
        postgres = fixtures.postgres
    }

    // MARK: Fixtures

    /// The DR settings of every source and target topic, so that parity can be shown on tansu (which reports only
    /// the configuration given at creation, see the README's known limits).
    private let configs = ["retention.ms": "604800000", "cleanup.policy": "delete", "max.message.bytes": "1048588", "min.insync.replicas": "1"]

    /// Creates `topic` (3 partitions) in us-east and its copy `us-east.<topic>` in eu-west, with `configs`
    /// (the copy's overridden by `targetConfigs`).
    private func createTopics(_ topic: String, targetConfigs: [String: String] = [:]) throws {
        try sourceClient.createTopic(topic, partitions: 3, configs: configs)
        try targetClient.createTopic("us-east.\(topic)", partitions: 3, configs: configs.merging(targetConfigs) { _, new in new })
    }

    /// A pair named `<name>-us-east-to-eu-west` replicating `topic`, syncing the groups `<name>-.*`, with `extra` YAML.
    /// The sync interval is 10 s, so the checkpoints of the bridge's last run (`--until-caught-up` syncs once more
    /// before it exits) are within 3 × sync_interval when the drill runs.
    private func pair(_ name: String, topic: String, extra: String = "") throws -> BridgeFixture {
        try BridgeFixture(
            pair: "\(name)-us-east-to-eu-west", source: source.bootstrap, target: target.bootstrap, include: [topic],
            groups: "{include: [\"\(name)-.*\"], sync_interval: 10s}", extra: extra)
    }

    /// Writes the reverse pair's topology next to the pair's.
    @discardableResult
    private func writeFailback(_ bridge: BridgeFixture, topic: String) throws -> URL {
        let file = bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("eu-west-to-us-east.yaml")
        try """
            pair: eu-west-to-us-east
            source:
              region: eu-west
              bootstrap_servers: "\(target.bootstrap)"
            target:
              region: us-east
              bootstrap_servers: "\(source.bootstrap)"
            topics:
              include: ["\(topic)"]
            """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A database with the reference payments schema and the `reconcile:` section that checks it.
    private func paymentsDatabase(_ name: String, topic: String) throws -> (db: PostgresConnection, section: String) {
        let db = try postgres.paymentsDatabase(name)
        let section = """
            reconcile:
              postgres_dsn: "\(postgres.dsn(database: name))"
              committed_query: "SELECT event_id, committed_at, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2"
              topics: [\(topic)]
              compare: {amount: amount, currency: currency}
            """
        return (db, section)
    }

    /// Commits payments `pay-<n>` (amount n + 0.50 EUR, five minutes ago) and publishes each to `topic`, except `withheld`.
    private func commitPayments(_ range: Range<Int>, db: PostgresConnection, topic: String, withheld: Set<Int> = []) throws {
        try db.execute("""
            INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
            SELECT 'pay-' || n, 'acct-' || (n % 7), n + 0.50, 'EUR', 'committed', now() - interval '5 minutes'
            FROM generate_series(\(range.lowerBound), \(range.upperBound - 1)) AS n
            """)
        try sourceClient.produce(range.filter { !withheld.contains($0) }.map { n in
            KafkaRecord(topic: topic, partition: Int32(n % 3), offset: 0, key: Array("pay-\(n)".utf8),
                        value: Array(#"{"event_id":"pay-\#(n)","amount":\#(n).50,"currency":"EUR"}"#.utf8))
        })
    }

    /// Runs `regionbridge drill --format json --sample 1s`.
    private func drill(_ bridge: BridgeFixture, _ extra: [String] = []) throws -> (result: ProcessResult, json: [String: Any]) {
        let result = try runProcess(
            RepoPaths.regionbridge, ["drill", "--topology", bridge.topologyURL.path, "--format", "json", "--sample", "1s", "--request-timeout", "5s"] + extra,
            timeout: .seconds(120))
        let json = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        return (result, json)
    }

    private func checks(_ json: [String: Any], _ status: String) -> [String] {
        (json["checks"] as? [[String: Any]] ?? []).filter { $0["status"] as? String == status }
            .map { "\($0["check"] as? String ?? "?"): \($0["cause"] as? String ?? $0["figure"] as? String ?? "?")" }
    }

    /// The verdict line (`headline`) with every figure in seconds written `N s`: the seconds a backlog or a sample
    /// takes differ from run to run by a few milliseconds; every other word and number is pinned.
    private func headline(_ json: [String: Any]) -> String {
        (json["headline"] as? String ?? "(no headline)").replacing(/[0-9]+(\.[0-9]+)? s\b/, with: "N s")
    }

    private func check(_ json: [String: Any], _ subject: String) -> [String: Any]? {
        (json["checks"] as? [[String: Any]] ?? []).first { $0["check"] as? String == subject }
    }

    /// Everything the drill could change in a cluster: topics, their partitions' end offsets, groups and their offsets.
    private struct ClusterState: Equatable {
        var ends: [String: Int64] = [:]
        var groups: [String: [String: Int64]] = [:]
    }

    private func state(_ bootstrap: String) throws -> ClusterState {
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: bootstrap), logger: Logger(label: "test"))
        var state = ClusterState()
        for topic in try admin.topics(timeout: .seconds(10)) {
            for partition in topic.partitions {
                state.ends["\(topic.name)/\(partition)"] = try admin.queryWatermarks(TopicPartition(topic.name, partition), timeout: .seconds(10)).high
            }
        }
        for group in try admin.consumerGroups(timeout: .seconds(10)) {
            let offsets = try admin.committedOffsets(group: group, timeout: .seconds(10))
            state.groups[group] = Dictionary(uniqueKeysWithValues: offsets.map { ("\($0.key.topic)/\($0.key.partition)", $0.value) })
        }
        return state
    }

    /// Every table, view and schema of the database, with a digest of each table's rows.
    private func databaseState(_ db: PostgresConnection) throws -> [String] {
        let relations = try db.query("""
            SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
            ORDER BY 1, 2
            """).rows
        // Postgres keeps one (empty) pg_temp_N schema per backend slot that ever made a temporary table; they are
        // housekeeping, not data, and the drill's temporary tables go with its session.
        var state = try db.query("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%' ORDER BY 1")
            .rows.map { "schema \($0[0] ?? "")" }
        for row in relations {
            let name = "\"\(row[0] ?? "")\".\"\(row[1] ?? "")\""
            var line = "\(row[2] ?? "?") \(name)"
            if row[2] == "r" {
                let digest = try db.query("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(name) t").rows.first
                line += " \(digest?[0] ?? "?") rows \(digest?[1] ?? "?")"
            }
            state.append(line)
        }
        return state
    }

    // MARK: Tests

    func testAHealthyPairIsReadyAndTheDrillChangesNothingInEitherClusterOrPostgres() throws {
        try createTopics("h-payments")
        let (db, section) = try paymentsDatabase("healthy", topic: "h-payments")
        try commitPayments(0..<60, db: db, topic: "h-payments")
        try sourceClient.commit(group: "h-settlement", [TopicPartition("h-payments", 0): 10, TopicPartition("h-payments", 1): 20])
        let bridge = try pair("h", topic: "h-payments", extra: section)
        try writeFailback(bridge, topic: "h-payments")
        let run = try bridge.runUntilCaughtUp()
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        // reconcile keeps its event index in Postgres; the drill reads it and scans the 5 newer records without storing them.
        let reconciled = try runProcess(RepoPaths.regionbridge, ["reconcile", "--topology", bridge.topologyURL.path])
        XCTAssertEqual(reconciled.exitCode, 0, reconciled.stdout + reconciled.stderr)
        try commitPayments(60..<65, db: db, topic: "h-payments")
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        // The group moved on in us-east after the bridge's last sync: a failover would move it in eu-west.
        try sourceClient.commit(group: "h-settlement", [TopicPartition("h-payments", 0): 15, TopicPartition("h-payments", 1): 21])

        let before = (source: try state(source.bootstrap), target: try state(target.bootstrap), db: try databaseState(db))
        XCTAssertTrue(before.db.contains { $0.hasPrefix("r \"regionbridge\".\"reconcile_events\" 120 rows") }, "\(before.db)")
        let started = ContinuousClock.now
        let (result, json) = try drill(bridge)
        let took = ContinuousClock.now - started
        print("drill of the healthy pair took \(took) (sample 1 s)")
        XCTAssertEqual(result.exitCode, 0, result.stdout + result.stderr)
        XCTAssertEqual(json["ready"] as? Bool, true)
        XCTAssertEqual(checks(json, "fail"), [])
        XCTAssertEqual(check(json, "committed payments")?["figure"] as? String, "65 of 65 committed in the window are in eu-west; 0 missing")
        XCTAssertEqual(check(json, "lag of 3 partitions")?["status"] as? String, "pass")
        XCTAssertEqual(check(json, "group h-settlement")?["status"] as? String, "pass")
        XCTAssertEqual((check(json, "group h-settlement")?["figure"] as? String)?.hasPrefix(
            "would commit us-east.h-payments/0@15, us-east.h-payments/1@21 (2 of 2 move) live from us-east; checkpoint "), true, "\(json)")
        XCTAssertEqual((json["groups"] as? [[String: Any]])?.map { "\($0["target_offset"] ?? "?") \($0["committed_in_target"] ?? "?")" }, ["15 10", "21 20"])
        XCTAssertEqual(check(json, "h-payments -> us-east.h-payments")?["figure"] as? String,
                       "3/3 partitions; retention.ms 604800000; cleanup.policy delete; max.message.bytes 1048588; min.insync.replicas 1")
        XCTAssertEqual(check(json, "h-payments -> us-east.h-payments")?["status"] as? String, "pass")
        XCTAssertEqual(check(json, "time to fail over")?["status"] as? String, "pass")
        XCTAssertEqual((json["rto"] as? [String: Any])?["backlog_records"] as? Int, 0)
        XCTAssertEqual(check(json, "heartbeats")?["status"] as? String, "skip")
        XCTAssertEqual(checks(json, "warn"), [], "an alerts topic the bridge has not created yet is no warning")
        XCTAssertEqual(check(json, "regionbridge.h-us-east-to-eu-west.alerts")?["area"] as? String, "liveness")
        XCTAssertEqual(headline(json),
            "READY: pair h-us-east-to-eu-west could fail over to eu-west now; at risk: no committed payment (65 of 65 in eu-west); "
            + "behind: 0 records behind on 3 partitions; first: nothing to do (all 13 checks pass or do not apply)")

        // The HTML report, written to a file, with the verdict line on stdout.
        let page = bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("drill.html")
        let html = try runProcess(RepoPaths.regionbridge, ["drill", "--topology", bridge.topologyURL.path, "--format", "html", "--output", page.path, "--sample", "1s"])
        XCTAssertEqual(html.exitCode, 0, html.stderr)
        XCTAssertEqual(html.stdout.replacing(/[0-9]+(\.[0-9]+)? s\b/, with: "N s"), headline(json) + "\n", "the verdict line on stdout")
        let text = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(text.contains("<p class=\"verdict ok\"><span class=\"what\">READY: pair h-us-east-to-eu-west could fail over to eu-west now;</span>") && text.contains("<svg") && text.contains("h-payments/2</text>"), text)
        XCTAssertFalse(text.contains("<script") || text.contains("<link") || text.contains("src=") || text.contains("url("), "self-contained")

        // Nothing changed: no topic, end offset, group or committed offset in either cluster, no row or table in Postgres.
        XCTAssertEqual(try state(source.bootstrap), before.source)
        XCTAssertEqual(try state(target.bootstrap), before.target)
        XCTAssertEqual(try databaseState(db), before.db)
    }

    func testAShorterRetentionInTheTargetIsNotReady() throws {
        try createTopics("r-payments", targetConfigs: ["retention.ms": "3600000"])
        let bridge = try pair("r", topic: "r-payments")
        try writeFailback(bridge, topic: "r-payments")
        try sourceClient.produce((0..<9).map { KafkaRecord(topic: "r-payments", partition: Int32($0 % 3), offset: 0, key: nil, value: [UInt8($0)]) })
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)

        let (result, json) = try drill(bridge)
        XCTAssertEqual(result.exitCode, 8, result.stdout + result.stderr)
        XCTAssertEqual(json["ready"] as? Bool, false)
        XCTAssertEqual(checks(json, "fail"), [
            "r-payments -> us-east.r-payments: retention.ms of us-east.r-payments is 3600000 in eu-west, 604800000 for r-payments in us-east: "
                + "shorter in the DR region: records would be deleted there before they are in the source",
        ])
        // The table form names it too, in its verdict line and its causes.
        let table = try runProcess(RepoPaths.regionbridge, ["drill", "--topology", bridge.topologyURL.path, "--sample", "1s"])
        XCTAssertEqual(table.exitCode, 8)
        XCTAssertEqual(headline(json),
            "NOT READY: pair r-us-east-to-eu-west cannot fail over to eu-west now; at risk: payments not checked (no reconcile: section); "
            + "behind: 0 records behind on 3 partitions; first: raise retention.ms of us-east.r-payments in eu-west to at least 604800000 (now 3600000) "
            + "(1 of 13 checks failed)")
        XCTAssertEqual(table.stdout.split(separator: "\n").first.map(String.init), json["headline"] as? String, table.stdout)
        XCTAssertTrue(table.stdout.contains("\nCAUSES\n- Target parity, r-payments -> us-east.r-payments: retention.ms of\n  us-east.r-payments is 3600000 in eu-west"), table.stdout)
    }

    func testAGroupActiveInTheTargetIsNotReady() throws {
        try createTopics("a-payments")
        let bridge = try pair("a", topic: "a-payments")
        try writeFailback(bridge, topic: "a-payments")
        try sourceClient.produce((0..<30).map { KafkaRecord(topic: "a-payments", partition: Int32($0 % 3), offset: 0, key: nil, value: [UInt8($0)]) })
        try sourceClient.commit(group: "a-fraud", [TopicPartition("a-payments", 0): 5])
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)

        let member = try KafkaConsumer(
            configuration: KafkaClientConfiguration(bootstrapServers: target.bootstrap), groupID: "a-fraud",
            overrides: ["session.timeout.ms": "6000", "max.poll.interval.ms": "10000", "heartbeat.interval.ms": "500"],
            logger: Logger(label: "member"))
        defer { member.close() }
        try member.subscribe(["us-east.a-payments"])
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: target.bootstrap), logger: Logger(label: "test"))
        try waitUntil("a-fraud has a member in eu-west") {
            _ = member.poll(maxRecords: 10, timeout: .milliseconds(100))
            return try admin.describeConsumerGroups(["a-fraud"], timeout: .seconds(5)).first?.memberCount ?? 0 > 0
        }

        let (result, json) = try drill(bridge)
        _ = member.poll(maxRecords: 10, timeout: .milliseconds(10))
        XCTAssertEqual(result.exitCode, 8, result.stdout + result.stderr)
        XCTAssertEqual(checks(json, "fail"), ["group a-fraud: group a-fraud has 1 active member in eu-west: stop them before failing over"])
        XCTAssertEqual(headline(json),
            "NOT READY: pair a-us-east-to-eu-west cannot fail over to eu-west now; at risk: payments not checked (no reconcile: section); "
            + "behind: 0 records behind on 3 partitions; first: stop the 1 member of group a-fraud in eu-west (1 of 13 checks failed)")
    }

    func testABacklogOverMaxLagSecondsIsNotReady() throws {
        try createTopics("b-payments")
        let bridge = try pair("b", topic: "b-payments", extra: "drill: {rto: 15m, max_lag_seconds: 60}")
        try writeFailback(bridge, topic: "b-payments")
        try sourceClient.produce((0..<9).map { KafkaRecord(topic: "b-payments", partition: Int32($0 % 3), offset: 0, key: nil, value: [UInt8($0)]) })
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        // Five records written five minutes ago (by their timestamp) that the bridge, now stopped, has not copied.
        let fiveMinutesAgo = Int64(Date().timeIntervalSince1970 * 1000) - 300_000
        try sourceClient.produce((0..<5).map {
            KafkaRecord(topic: "b-payments", partition: 1, offset: 0, key: nil, value: [UInt8($0)],
                        timestamp: KafkaTimestamp(milliseconds: fiveMinutesAgo, kind: .createTime))
        })

        let (result, json) = try drill(bridge)
        XCTAssertEqual(result.exitCode, 8, result.stdout + result.stderr)
        let failed = checks(json, "fail")
        XCTAssertEqual(failed.count, 2, "\(failed)")
        XCTAssertTrue(failed.first?.hasPrefix("lag b-payments: 5 records not in eu-west yet; worst b-payments/1 30") == true
            && failed.first?.hasSuffix(" s behind by record timestamp (max 60 s); 1 of 3 partitions over the limit") == true, "\(failed)")
        XCTAssertEqual(headline(json),
            "NOT READY: pair b-us-east-to-eu-west cannot fail over to eu-west now; at risk: payments not checked (no reconcile: section); "
            + "behind: b-payments 5 records, N s behind by record timestamp, worst b-payments/1; "
            + "first: the bridge is not copying (0 records moved in N s): start it or read its log (2 of 13 checks failed)")
        XCTAssertTrue(failed.last?.hasPrefix("time to fail over: the backlog of 5 records did not move during the ") == true
            && failed.last?.hasSuffix(" s sample: is the bridge running?") == true, "with the bridge stopped the backlog cannot drain either: \(failed)")
        let partitions = json["partitions"] as? [[String: Any]] ?? []
        XCTAssertEqual(partitions.map { $0["records_behind"] as? Int }, [0, 5, 0])
        XCTAssertEqual(partitions.map { $0["seconds_basis"] as? String ?? "-" }, ["-", "create_time", "-"], "the producer's timestamp, said as such")
    }

    func testAWithheldCommittedPaymentIsNotReady() throws {
        try createTopics("w-payments")
        let (db, section) = try paymentsDatabase("withheld", topic: "w-payments")
        try commitPayments(0..<20, db: db, topic: "w-payments", withheld: [7])
        let bridge = try pair("w", topic: "w-payments", extra: section)
        try writeFailback(bridge, topic: "w-payments")
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        let before = try databaseState(db)

        let (result, json) = try drill(bridge)
        XCTAssertEqual(result.exitCode, 8, result.stdout + result.stderr)
        XCTAssertEqual(checks(json, "fail"), [
            "committed payments: RPO=0 violated: 1 committed payment not in eu-west (amount 7.50 EUR): 0 not replicated, 1 never published (pay-7 never_published)",
        ])
        let payments = json["payments"] as? [String: Any]
        XCTAssertEqual(payments?["committed"] as? Int, 20)
        XCTAssertEqual(payments?["never_published"] as? Int, 1)
        XCTAssertEqual(payments?["missing_amounts"] as? [String: String], ["EUR": "7.50"])
        XCTAssertEqual(headline(json),
            "NOT READY: pair w-us-east-to-eu-west cannot fail over to eu-west now; at risk: 1 committed payment, 7.50 EUR, not in eu-west; "
            + "behind: 0 records behind on 3 partitions; first: have the publisher send the 1 committed payment it never published (pay-7) "
            + "(1 of 13 checks failed)")
        // No event index existed, and the drill made none.
        XCTAssertEqual(try databaseState(db), before)
        XCTAssertFalse(before.contains("schema regionbridge"), "\(before)")

        // A Postgres that does not answer is a cause, named without the password.
        let unreachable = try pair("w2", topic: "w-payments", extra: """
            reconcile:
              postgres_dsn: "host=127.0.0.1 port=\(try freeLoopbackPort()) dbname=payments user=drill password=s3cret-of-the-drill"
              committed_query: "SELECT event_id, committed_at FROM payments WHERE committed_at >= $1 AND committed_at < $2"
              topics: [w-payments]
            """)
        try writeFailback(unreachable, topic: "w-payments")
        let down = try drill(unreachable)
        XCTAssertEqual(down.result.exitCode, 8, down.result.stdout + down.result.stderr)
        let cause = checks(down.json, "fail").first { $0.hasPrefix("committed payments: cannot prove RPO=0: cannot connect to Postgres: ") }
        XCTAssertTrue(cause?.contains("password=***") == true, "\(checks(down.json, "fail"))")
        XCTAssertFalse((down.result.stdout + down.result.stderr).contains("s3cret-of-the-drill"), "the password stays out of every output")
        let down1 = headline(down.json)
        XCTAssertTrue(down1.hasPrefix("NOT READY: pair w2-us-east-to-eu-west cannot fail over to eu-west now; at risk: payments unknown "
            + "(the reconcile could not run); behind: 0 records behind on 3 partitions; first: make the reconcile run to prove RPO=0: "
            + "cannot connect to Postgres: PostgreSQL connection error: ") && down1.hasSuffix(" (3 of 13 checks failed)") && !down1.contains("\n")
            && !down1.contains("s3cret"), down1)

        // Bad options are usage errors.
        let usage = try drill(bridge, ["--since", "10s", "--grace", "30s"])
        XCTAssertEqual(usage.result.exitCode, 2)
        XCTAssertTrue(usage.result.stderr.contains("--since (10.0 seconds) must be longer than --grace (30.0 seconds)"), usage.result.stderr)
    }

    func testHeartbeatsAreCheckedOnceTheirTopicExists() throws {
        try createTopics("hb-payments")
        let bridge = try pair("hb", topic: "hb-payments")
        try writeFailback(bridge, topic: "hb-payments")
        try sourceClient.produce((0..<9).map { KafkaRecord(topic: "hb-payments", partition: Int32($0 % 3), offset: 0, key: nil, value: [UInt8($0)]) })
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        // The copy of the pair's heartbeat topic in the target, written by hand here: its newest record is two minutes old.
        let topic = "us-east.regionbridge.hb-us-east-to-eu-west.heartbeats"
        try targetClient.createTopic(topic, partitions: 1)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try targetClient.produce([KafkaRecord(
            topic: topic, partition: 0, offset: 0, key: nil, value: [1], timestamp: KafkaTimestamp(milliseconds: now - 120_000, kind: .createTime))])

        let stale = try drill(bridge)
        XCTAssertEqual(stale.result.exitCode, 8, stale.result.stdout + stale.result.stderr)
        let failed = checks(stale.json, "fail")
        XCTAssertEqual(failed.count, 1, "\(failed)")
        XCTAssertTrue(failed.first?.hasPrefix("heartbeats: the newest heartbeat in \(topic) (eu-west) is 12") == true
            && failed.first?.hasSuffix(" s old (max 60 s)") == true, "\(failed)")
        XCTAssertEqual(check(stale.json, topic)?["status"] as? String, "pass", "the bridge's own topics include the heartbeats when present")
        XCTAssertEqual(check(stale.json, topic)?["area"] as? String, "liveness", "the bridge's own topics are liveness")
        XCTAssertEqual(headline(stale.json),
            "NOT READY: pair hb-us-east-to-eu-west cannot fail over to eu-west now; at risk: payments not checked (no reconcile: section); "
            + "behind: 0 records behind on 3 partitions; first: the bridge is not copying (newest heartbeat in eu-west N s old): start it or read its log "
            + "(1 of 13 checks failed)")

        try targetClient.produce([KafkaRecord(topic: topic, partition: 0, offset: 0, key: nil, value: [2])])
        let fresh = try drill(bridge)
        XCTAssertEqual(fresh.result.exitCode, 0, fresh.result.stdout + fresh.result.stderr)
        XCTAssertEqual(check(fresh.json, "heartbeats")?["status"] as? String, "pass")
        XCTAssertTrue((check(fresh.json, "heartbeats")?["figure"] as? String)?.hasPrefix("newest ") == true)
    }

    func testAMissingOrInvalidFailbackTopologyIsNotReady() throws {
        try createTopics("f-payments")
        let bridge = try pair("f", topic: "f-payments")
        try sourceClient.produce((0..<9).map { KafkaRecord(topic: "f-payments", partition: Int32($0 % 3), offset: 0, key: nil, value: [UInt8($0)]) })
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        let folder = bridge.topologyURL.deletingLastPathComponent()

        let missing = try drill(bridge)
        XCTAssertEqual(missing.result.exitCode, 8, missing.result.stdout + missing.result.stderr)
        XCTAssertEqual(checks(missing.json, "fail"), [
            "reverse pair eu-west -> us-east: no topology for the reverse pair eu-west -> us-east in \(folder.path) (no other topology file there); write one or name it with --failback FILE",
        ])
        XCTAssertEqual(headline(missing.json),
            "NOT READY: pair f-us-east-to-eu-west cannot fail over to eu-west now; at risk: payments not checked (no reconcile: section); "
            + "behind: 0 records behind on 3 partitions; first: write the reverse pair's topology (eu-west -> us-east) or name it with --failback FILE "
            + "(1 of 13 checks failed)")

        // A reverse topology that does not validate is named with its file, line and key.
        let invalid = folder.appendingPathComponent("eu-west-to-us-east.yaml")
        try "pair: eu-west-to-us-east\nsource:\n  region: eu-west\ntarget:\n  region: us-east\n  bootstrap_servers: \"\(source.bootstrap)\"\ntopics:\n  include: [\"f-payments\"]\n"
            .write(to: invalid, atomically: true, encoding: .utf8)
        let broken = try drill(bridge)
        XCTAssertEqual(broken.result.exitCode, 8)
        XCTAssertEqual(checks(broken.json, "fail"), [
            "\(invalid.path): failback topology \(invalid.path) does not validate:\n\(invalid.path):2:1: source.bootstrap_servers: missing required key",
        ])

        // Named elsewhere with --failback, a good one makes the pair READY.
        let elsewhere = try writeFailback(try pair("f2", topic: "f-payments"), topic: "f-payments")
        let named = try drill(bridge, ["--failback", elsewhere.path])
        XCTAssertEqual(named.result.exitCode, 0, named.result.stdout + named.result.stderr)
        XCTAssertEqual(check(named.json, elsewhere.path)?["figure"] as? String, "pair eu-west-to-us-east, eu-west -> us-east; validates, no loop")
    }
}
