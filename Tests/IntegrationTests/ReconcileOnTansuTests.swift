import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// `regionbridge reconcile` on two tansu brokers and a throwaway Postgres holding the reference payments
/// schema (deploy/postgres/payments.sql).
final class ReconcileOnTansuTests: TwoRegionTestCase {
    private var postgres: PostgresCluster!
    private var db: PostgresConnection!
    /// Committed payments are a few minutes old, so the default 30 s grace does not hide them.
    private let committedAt = "now() - interval '5 minutes'"

    override func setUpWithError() throws {
        try super.setUpWithError()
        postgres = try PostgresCluster()
        try postgres.createDatabase("payments")
        db = try postgres.connect(database: "payments")
        try db.execute(String(contentsOf: RepoPaths.root.appendingPathComponent("deploy/postgres/payments.sql"), encoding: .utf8))
        try sourceClient.createTopic("payments", partitions: 3)
    }

    override func tearDown() {
        db = nil
        try? postgres?.stop()
        postgres = nil
        super.tearDown()
    }

    private func fixture(query: String? = nil) throws -> BridgeFixture {
        let committedQuery = query ?? """
            SELECT event_id, committed_at, amount, currency FROM payments \
            WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2
            """
        return try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"], groups: "{include: [\"app-.*\"], sync_interval: 1s}",
            extra: """
                reconcile:
                  postgres_dsn: "\(postgres.dsn(database: "payments"))"
                  committed_query: "\(committedQuery)"
                  topics: [payments]
                  event_id: key
                  compare: {amount: amount, currency: currency}
                """)
    }

    /// Commits payments `pay-<n>` for `range` in Postgres (amount n + 0.50 EUR) and, unless `publish` is false,
    /// publishes their events to the source with the amount as the record carries it.
    @discardableResult
    private func commitPayments(_ range: Range<Int>, publish: Bool = true, amountInRecord: (Int) -> String = { "\($0).50" }) throws -> [String] {
        try db.execute("""
            INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
            SELECT 'pay-' || n, 'acct-' || (n % 7), n + 0.50, 'EUR', 'committed', \(committedAt)
            FROM generate_series(\(range.lowerBound), \(range.upperBound - 1)) AS n
            """)
        if publish { try publishEvents(range, amount: amountInRecord) }
        return range.map { "pay-\($0)" }
    }

    private func publishEvents(_ range: Range<Int>, amount: (Int) -> String = { "\($0).50" }) throws {
        _ = try sourceClient.produce(range.map { n in
            KafkaRecord(
                topic: "payments", partition: Int32(n % 3), offset: 0, key: Array("pay-\(n)".utf8),
                value: Array(#"{"event_id":"pay-\#(n)","account":"acct-\#(n % 7)","amount":\#(amount(n)),"currency":"EUR"}"#.utf8))
        })
    }

    private func reconcile(_ bridge: BridgeFixture, _ extra: [String] = []) throws -> (result: ProcessResult, json: [String: Any]) {
        let result = try runProcess(
            RepoPaths.regionbridge, ["reconcile", "--topology", bridge.topologyURL.path, "--format", "json"] + extra, timeout: .seconds(120))
        let json = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        return (result, json)
    }

    private func counts(_ json: [String: Any]) -> [String: Int] {
        json["counts"] as? [String: Int] ?? [:]
    }

    private func findings(_ json: [String: Any], _ kind: String) -> [String] {
        (json["findings"] as? [[String: Any]] ?? []).filter { $0["class"] as? String == kind }.compactMap { $0["event_id"] as? String }.sorted()
    }

    func testACleanRunHoldsRPOZeroWithCountsThatMatchAndTranslatedGroups() throws {
        try commitPayments(0..<300)
        try sourceClient.commit(group: "app-settlement", [TopicPartition("payments", 0): 40, TopicPartition("payments", 1): 100])
        let bridge = try fixture()
        let run = try bridge.runUntilCaughtUp()
        XCTAssertEqual(run.exitCode, 0, run.stderr)

        let (result, json) = try reconcile(bridge)
        XCTAssertEqual(result.exitCode, 0, result.stdout + result.stderr)
        XCTAssertEqual(json["rpo_zero"] as? Bool, true)
        XCTAssertEqual(counts(json), [
            "committed": 300, "in_target": 300, "not_replicated": 0, "never_published": 0, "mismatch": 0, "duplicate": 0, "orphan": 0,
        ])
        let partitions = json["partitions"] as? [[String: Any]] ?? []
        XCTAssertEqual(partitions.count, 3)
        for partition in partitions {
            XCTAssertEqual(partition["records_behind"] as? Int, 0)
            XCTAssertEqual(partition["last_copied"] as? Int, 99)
            XCTAssertEqual(partition["source_end"] as? Int, 100)
            XCTAssertEqual(partition["target_end"] as? Int, 100)
        }
        let groups = (json["groups"] as? [[String: Any]] ?? []).map { "\($0["group"]!) \($0["topic"]!)/\($0["partition"]!) \($0["source_offset"]!)->\($0["target_offset"]!)" }
        XCTAssertEqual(groups, ["app-settlement payments/0 40->40", "app-settlement payments/1 100->100"])
        XCTAssertEqual((json["scan"] as? [String: Any])?["source_records"] as? Int, 300)
        XCTAssertEqual((json["scan"] as? [String: Any])?["target_records"] as? Int, 300)

        // The same facts in the other formats.
        let html = try runProcess(RepoPaths.regionbridge, ["reconcile", "--topology", bridge.topologyURL.path, "--format", "html", "--output", bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("r.html").path])
        XCTAssertEqual(html.exitCode, 0, html.stderr)
        XCTAssertTrue(html.stdout.contains("RPO=0 holds: all 300 committed payments are in eu-west"), html.stdout)
        let page = try String(contentsOf: bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("r.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("payments/2</text>") && page.contains("0 records, 0 s behind</text>"), page)
        XCTAssertFalse(page.contains("<script") || page.contains("<link") || page.contains("src=") || page.contains("url("), "the HTML report must be self-contained")
        let markdown = try runProcess(RepoPaths.regionbridge, ["reconcile", "--topology", bridge.topologyURL.path, "--format", "markdown"])
        XCTAssertEqual(markdown.exitCode, 0, markdown.stderr)
        XCTAssertTrue(markdown.stdout.contains("| payments/1 | us-east.payments/1 | 0 | 100 | 100 | 99 | 0 | 0 |"), markdown.stdout)
    }

    func testMissingMismatchedAndOrphanPaymentsAreNamedAndClassified() throws {
        try commitPayments(0..<120)
        // Committed but its event withheld by the publisher.
        try commitPayments(120..<121, publish: false)
        // Published with an amount that differs from the committed row.
        try commitPayments(121..<122, amountInRecord: { _ in "999.99" })
        // Rolled back in Postgres, yet published (five minutes ago, so outside the grace period).
        try db.execute("INSERT INTO payments (event_id, account, amount, currency, status) VALUES ('pay-rolled-back', 'acct-1', 5, 'EUR', 'rolled_back')")
        let fiveMinutesAgo = Int64(Date().timeIntervalSince1970 * 1000) - 300_000
        _ = try sourceClient.produce([KafkaRecord(
            topic: "payments", partition: 0, offset: 0, key: Array("pay-rolled-back".utf8),
            value: Array(#"{"event_id":"pay-rolled-back","amount":5,"currency":"EUR"}"#.utf8),
            timestamp: KafkaTimestamp(milliseconds: fiveMinutesAgo, kind: .createTime))])
        let bridge = try fixture()
        let run = try bridge.runUntilCaughtUp()
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        // Committed and published, but not replicated: the bridge does not run again.
        try commitPayments(122..<123)

        let (result, json) = try reconcile(bridge)
        XCTAssertEqual(result.exitCode, 3, result.stdout + result.stderr)
        XCTAssertEqual(json["rpo_zero"] as? Bool, false)
        XCTAssertEqual(json["violations"] as? Int, 3)
        XCTAssertEqual(findings(json, "never_published"), ["pay-120"])
        XCTAssertEqual(findings(json, "not_replicated"), ["pay-122"])
        XCTAssertEqual(findings(json, "mismatch"), ["pay-121"])
        XCTAssertEqual(findings(json, "orphan"), ["pay-rolled-back"])
        XCTAssertEqual(findings(json, "duplicate"), [])
        XCTAssertEqual(counts(json)["committed"], 123)
        XCTAssertEqual(counts(json)["in_target"], 121)
        let mismatch = (json["findings"] as? [[String: Any]] ?? []).first { $0["class"] as? String == "mismatch" }
        XCTAssertEqual(mismatch?["detail"] as? String, "amount: record 999.99, row amount 121.50")
        XCTAssertEqual(mismatch?["location"] as? String, "us-east.payments/1@40")
        let notReplicated = (json["findings"] as? [[String: Any]] ?? []).first { $0["class"] as? String == "not_replicated" }
        XCTAssertEqual(notReplicated?["location"] as? String, "payments/2@40")

        let table = try runProcess(RepoPaths.regionbridge, ["reconcile", "--topology", bridge.topologyURL.path])
        XCTAssertEqual(table.exitCode, 3)
        XCTAssertTrue(table.stdout.hasPrefix("RPO=0 VIOLATED: 3 of 123 committed payments are missing from eu-west or differ"), table.stdout)
    }

    func testARepeatedRunScansOnlyNewRecordsAndGivesTheSameVerdict() throws {
        try commitPayments(0..<200)
        try commitPayments(200..<201, publish: false)
        let bridge = try fixture()
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        let until = ISO8601DateFormatter().string(from: Date())

        let first = try reconcile(bridge, ["--until", until])
        let second = try reconcile(bridge, ["--until", until])
        for run in [first, second] {
            XCTAssertEqual(run.result.exitCode, 3, run.result.stderr)
            XCTAssertEqual(findings(run.json, "never_published"), ["pay-200"])
            XCTAssertEqual(counts(run.json)["committed"], 201)
        }
        XCTAssertEqual((first.json["scan"] as? [String: Any])?["source_records"] as? Int, 200)
        XCTAssertEqual((second.json["scan"] as? [String: Any])?["source_records"] as? Int, 0)
        XCTAssertEqual((second.json["scan"] as? [String: Any])?["target_records"] as? Int, 0)

        // The withheld event is published late and replicated: only those records are read, and RPO=0 holds.
        try publishEvents(200..<201)
        try commitPayments(201..<211)
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        let third = try reconcile(bridge)
        XCTAssertEqual(third.result.exitCode, 0, third.result.stdout + third.result.stderr)
        XCTAssertEqual((third.json["scan"] as? [String: Any])?["source_records"] as? Int, 11)
        XCTAssertEqual((third.json["scan"] as? [String: Any])?["target_records"] as? Int, 11)
        XCTAssertEqual(counts(third.json)["committed"], 211)
        XCTAssertEqual(counts(third.json)["in_target"], 211)
    }

    func testUnreachablePostgresBrokenQueryAndBadOptionsHaveTheirOwnExitCodes() throws {
        try commitPayments(0..<10)
        let broken = try fixture(query: "SELECT event_id, committed_at, amount, currency, no_such_column FROM payments WHERE committed_at >= $1 AND committed_at < $2")
        let failed = try reconcile(broken)
        XCTAssertEqual(failed.result.exitCode, 1)
        XCTAssertTrue(failed.result.stderr.contains(#"column "no_such_column" does not exist"#), failed.result.stderr)

        let empty = try reconcile(broken, ["--since", "10s", "--grace", "30s"])
        XCTAssertEqual(empty.result.exitCode, 2)
        XCTAssertTrue(empty.result.stderr.contains("--since (10.0 seconds) must be longer than --grace (30.0 seconds)"), empty.result.stderr)

        let noSection = try BridgeFixture(source: source.bootstrap, target: target.bootstrap, include: ["payments"])
        let unconfigured = try reconcile(noSection)
        XCTAssertEqual(unconfigured.result.exitCode, 2)
        XCTAssertTrue(unconfigured.result.stderr.contains("the topology has no reconcile: section"), unconfigured.result.stderr)

        try postgres.stop()
        let down = try reconcile(try fixture())
        XCTAssertEqual(down.result.exitCode, 1)
        XCTAssertTrue(down.result.stderr.contains("cannot connect to Postgres: PostgreSQL connection error"), down.result.stderr)
        XCTAssertTrue(down.result.stderr.contains("port=\(postgres.port)"), down.result.stderr)
    }
}
