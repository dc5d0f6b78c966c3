import Formats
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
        db = try postgres.paymentsDatabase()
        try sourceClient.createTopic("payments", partitions: 3)
    }

    override func tearDown() {
        db = nil
        try? postgres?.stop()
        postgres = nil
        super.tearDown()
    }

    /// - Parameters:
    ///   - compare: the `compare:` map of the section.
    ///   - columns: more lines of the section (`amount:`, `currency:`), each indented by two spaces.
    private func fixture(query: String? = nil, compare: String = "{amount: amount, currency: currency}", columns: String = "") throws -> BridgeFixture {
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
                  compare: \(compare)
                \(columns)
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

    /// `value_at_risk` as `class: "<payments> <currency> <amount>"` (`-` for no amount), and its `total`.
    private func valueAtRisk(_ json: [String: Any]) -> [String: String] {
        let risk = json["value_at_risk"] as? [String: Any] ?? [:]
        func line(_ entry: Any?) -> String {
            let entry = entry as? [String: Any] ?? [:]
            let amounts = (entry["amount"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            return "\(entry["payments"] as? Int ?? -1) " + (amounts.isEmpty ? "-" : amounts.joined(separator: " "))
        }
        var result = (risk["classes"] as? [String: Any] ?? [:]).mapValues(line)
        result["total"] = line(risk["total"])
        return result
    }

    /// The verdict line (`headline`) with every figure in seconds written `N s`: how long a record has waited
    /// differs from run to run; every other word and number is pinned.
    private func headline(_ text: String?) -> String {
        (text ?? "(no headline)").replacing(/[0-9]+(\.[0-9]+)? s\b/, with: "N s")
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
            "committed": 300, "in_target": 300, "not_replicated": 0, "never_published": 0, "unknown_at_source": 0, "mismatch": 0, "duplicate": 0, "orphan": 0,
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
        XCTAssertEqual(headline(json["headline"] as? String), 
                       "RPO=0 holds: at risk: nothing, all 300 committed payments are in eu-west; behind: 0 records behind on 3 partitions; first: nothing to do")
        XCTAssertEqual(html.stdout, "\(json["headline"] as? String ?? "?")\n", "the verdict line on stdout")
        let page = try String(contentsOf: bridge.topologyURL.deletingLastPathComponent().appendingPathComponent("r.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("payments/2</text>") && page.contains("0 records, 0 s behind</text>"), page)
        XCTAssertFalse(page.contains("<script") || page.contains("<link") || page.contains("src=") || page.contains("url("), "the HTML report must be self-contained")
        let markdown = try runProcess(RepoPaths.regionbridge, ["reconcile", "--topology", bridge.topologyURL.path, "--format", "markdown"])
        XCTAssertEqual(markdown.exitCode, 0, markdown.stderr)
        XCTAssertTrue(markdown.stdout.contains("| payments/1 | us-east.payments/1 | 0 | 100 | 100 | 99 | 0 | 0 | - |"), markdown.stdout)
        XCTAssertTrue(markdown.stdout.contains("| payments | us-east.payments | 0 | 0 | - | - | 0 of 3 |"), markdown.stdout)
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
        // The value at risk, from the compared amount and currency (the section has no amount: key).
        XCTAssertEqual(valueAtRisk(json), [
            "mismatch": "1 EUR 121.50", "never_published": "1 EUR 120.50", "not_replicated": "1 EUR 122.50", "unknown_at_source": "0 -",
            "total": "3 EUR 364.50",
        ])
        XCTAssertEqual((json["source"] as? [String: Any])?["reachable"] as? Bool, true)

        let table = try runProcess(RepoPaths.regionbridge, ["reconcile", "--topology", bridge.topologyURL.path])
        XCTAssertEqual(table.exitCode, 3)
        XCTAssertEqual(headline(json["headline"] as? String), 
            "RPO=0 VIOLATED: at risk: 3 payments, EUR 364.50, missing from eu-west or differing there (1 not replicated, 1 never published, 1 differs; "
            + "of 123 committed); behind: payments 1 record, N s behind by record timestamp, worst payments/2; "
            + "first: get the bridge to copy the 1 payment that us-east holds and eu-west does not (pay-122)")
        XCTAssertEqual(headline(table.stdout.split(separator: "\n").first.map(String.init)), headline(json["headline"] as? String), table.stdout)
        XCTAssertTrue(table.stdout.contains("\nVALUE AT RISK\nAt risk: 3 payments, EUR 364.50, are missing from eu-west or differ there from\nthe committed row.\n"),
                      table.stdout)
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
        XCTAssertEqual(headline(first.json["headline"] as? String), 
            "RPO=0 VIOLATED: at risk: 1 payment, EUR 200.50, not in eu-west (1 never published; of 201 committed); behind: 0 records behind on 3 partitions; "
            + "first: have the publisher send the 1 payment it committed but never published (pay-200)")
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

    /// The regional-loss question: the source broker is killed, and reconcile still says which committed payments
    /// are not in the target, with their amounts, from Postgres, the target and the event index of earlier runs.
    func testAfterTheSourceRegionIsLostReconcileNamesEveryMissingPaymentWithItsAmount() throws {
        try commitPayments(0..<100)
        try sourceClient.commit(group: "app-settlement", [TopicPartition("payments", 0): 10])
        // The amount and currency are not compared: `amount:` and `currency:` name them for the value at risk.
        let bridge = try fixture(
            query: "SELECT event_id, committed_at, account, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2",
            compare: "{account: account}", columns: "  amount: amount\n  currency: currency")
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        // The bridge is stopped from here on. pay-100 is withheld by the publisher; pay-101 is published and seen
        // by a reconcile in the source, but never copied.
        try commitPayments(100..<101, publish: false)
        try commitPayments(101..<102)
        let before = try reconcile(bridge)
        XCTAssertEqual(before.result.exitCode, 3, before.result.stdout + before.result.stderr)
        XCTAssertEqual(findings(before.json, "never_published"), ["pay-100"])
        XCTAssertEqual(findings(before.json, "not_replicated"), ["pay-101"])
        let lastScan = try XCTUnwrap((before.json["source"] as? [String: Any])?["knowledge_from"] as? String)
        // pay-102 is published after that reconcile: the event index never sees it.
        try commitPayments(102..<103)

        source.kill()
        let started = ContinuousClock.now
        let (lost, json) = try reconcile(bridge, ["--request-timeout", "5s"])
        let elapsed = ContinuousClock.now - started
        XCTAssertEqual(lost.exitCode, 3, lost.stdout + lost.stderr)
        XCTAssertLessThan(elapsed, .seconds(20), "bounded by the 5 s metadata request, not by a scan of a dead cluster")
        XCTAssertEqual(counts(json), [
            "committed": 103, "in_target": 100, "not_replicated": 1, "never_published": 0, "unknown_at_source": 2, "mismatch": 0,
            "duplicate": 0, "orphan": 0,
        ])
        XCTAssertEqual(findings(json, "not_replicated"), ["pay-101"])
        XCTAssertEqual(findings(json, "unknown_at_source"), ["pay-100", "pay-102"])
        XCTAssertEqual(valueAtRisk(json), [
            "mismatch": "0 -", "never_published": "0 -", "not_replicated": "1 EUR 101.50", "unknown_at_source": "2 EUR 203.00",
            "total": "3 EUR 304.50",
        ])
        let sourceState = json["source"] as? [String: Any] ?? [:]
        XCTAssertEqual(sourceState["reachable"] as? Bool, false)
        XCTAssertEqual(sourceState["knowledge_from"] as? String, lastScan, "the time of the last scan that reached the source")
        let age = try XCTUnwrap(sourceState["knowledge_age_seconds"] as? Int)
        XCTAssertTrue((0...120).contains(age), "\(age)")
        // librdkafka's numeric code decided it; a refused connection gives _TRANSPORT within the request timeout.
        XCTAssertTrue([
            "cannot read cluster metadata: Local: Broker transport failure [_TRANSPORT]", "cannot read cluster metadata: Local: Timed out [_TIMED_OUT]",
        ].contains(sourceState["error"] as? String ?? ""), "\(sourceState)")
        let warnings = json["warnings"] as? [String] ?? []
        XCTAssertTrue(warnings.first?.hasPrefix("source us-east unreachable: knowledge of the source is from \(lastScan) (\(age) s old) (") == true,
                      "\(warnings)")
        XCTAssertEqual(warnings.last, "lag and group positions were not read: the source cluster us-east is unreachable")
        XCTAssertEqual((json["partitions"] as? [Any])?.count, 0)
        XCTAssertEqual((json["groups"] as? [Any])?.count, 0)

        // The table says it in words, under the verdict.
        let table = try runProcess(RepoPaths.regionbridge, ["reconcile", "--topology", bridge.topologyURL.path, "--request-timeout", "5s"])
        XCTAssertEqual(table.exitCode, 3, table.stderr)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(headline(json["headline"] as? String), 
            "RPO=0 VIOLATED: at risk: 3 payments, EUR 304.50, not in eu-west (1 not replicated, 2 unknown at the unreachable source; of 103 committed); "
            + "behind: not read (the source cluster us-east does not answer); "
            + "first: reach the source cluster us-east (it does not answer) to tell whether the 2 payments unknown there were published (pay-100, pay-102)")
        XCTAssertEqual(lines.first, json["headline"] as? String, table.stdout)
        XCTAssertTrue(lines.count > 1 && lines[1].hasPrefix("source us-east unreachable: knowledge of the source is from \(lastScan) ("), table.stdout)

        // The drill builds on it: the payments check fails with the unknown ones counted and their amount.
        let drill = try runProcess(
            RepoPaths.regionbridge, ["drill", "--topology", bridge.topologyURL.path, "--format", "json", "--sample", "1s", "--request-timeout", "5s"])
        XCTAssertEqual(drill.exitCode, 8, drill.stdout + drill.stderr)
        let report = (try? JSONSerialization.jsonObject(with: Data(drill.stdout.utf8))) as? [String: Any] ?? [:]
        let payments = (report["checks"] as? [[String: Any]] ?? []).first { $0["check"] as? String == "committed payments" && $0["status"] as? String == "fail" }
        XCTAssertEqual(payments?["cause"] as? String, """
            RPO=0 violated: 3 committed payments not in eu-west (amount 304.50 EUR): 1 not replicated, 0 never published, \
            2 unknown at the unreachable source (pay-101 not_replicated, pay-100 unknown_at_source, pay-102 unknown_at_source)
            """)
        XCTAssertEqual((report["payments"] as? [String: Any])?["unknown_at_source"] as? Int, 2)
        XCTAssertEqual(headline(report["headline"] as? String).replacingOccurrences(of: source.bootstrap, with: "SOURCE"),
            "NOT READY: pair us-east-to-eu-west cannot fail over to eu-west now; at risk: 3 committed payments, 304.50 EUR, not in eu-west; "
            + "behind: not measured; first: reach the source cluster us-east at SOURCE: it does not answer (7 of 10 checks failed)")

        // With every committed payment in the target, the lost source does not fail the proof; a warning says so.
        try db.execute("UPDATE payments SET status = 'rolled_back', committed_at = NULL WHERE event_id IN ('pay-100', 'pay-101', 'pay-102')")
        let complete = try reconcile(bridge, ["--request-timeout", "5s"])
        XCTAssertEqual(complete.result.exitCode, 0, complete.result.stdout + complete.result.stderr)
        XCTAssertEqual(counts(complete.json)["committed"], 100)
        XCTAssertEqual(counts(complete.json)["unknown_at_source"], 0)
        XCTAssertTrue((complete.json["warnings"] as? [String] ?? []).contains(
            "every committed payment of the window is in eu-west, so the unreachable source does not fail the proof"), "\(complete.json)")

        // Without the target nothing can be proven.
        target.kill()
        let blind = try reconcile(bridge, ["--request-timeout", "3s"])
        XCTAssertEqual(blind.result.exitCode, 1, blind.result.stdout + blind.result.stderr)
        XCTAssertTrue(blind.result.stderr.contains("cannot reach the target cluster eu-west at \(target.bootstrap): "), blind.result.stderr)
    }

    /// An event index made by a version that did not store scan times gains the column on the next run, once.
    func testACursorTableWithoutScanTimesGainsThemOnTheNextRun() throws {
        try db.execute("""
            CREATE SCHEMA regionbridge;
            CREATE UNLOGGED TABLE regionbridge.reconcile_cursors (
                pair text NOT NULL, side smallint NOT NULL, topic text NOT NULL, partition integer NOT NULL,
                next_offset bigint NOT NULL, PRIMARY KEY (pair, side, topic, partition));
            """)
        try commitPayments(0..<10)
        let bridge = try fixture()
        XCTAssertEqual(try bridge.runUntilCaughtUp().exitCode, 0)
        let (result, json) = try reconcile(bridge)
        XCTAssertEqual(result.exitCode, 0, result.stdout + result.stderr)
        let knowledge = try XCTUnwrap((json["source"] as? [String: Any])?["knowledge_from"] as? String)
        let stored = try db.query("""
            SELECT DISTINCT to_char(scanned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
            FROM regionbridge.reconcile_cursors WHERE side = 0
            """).rows.map { $0.first ?? nil }
        XCTAssertEqual(stored.count, 1, "\(stored)")
        // ISOTime leaves out a zero millisecond part.
        XCTAssertEqual(stored.first??.replacingOccurrences(of: ".000Z", with: "Z"), knowledge)
    }
}
