import Foundation
import Kafka
import Monitoring
import Reconciliation
import Topology
import XCTest

/// The value at risk: payments and amounts per class that breaks RPO=0, and how each report form says it.
final class ValueAtRiskTests: XCTestCase {
    private func sum(_ amounts: String...) -> AmountSum {
        var sum = AmountSum()
        for amount in amounts { XCTAssertTrue(sum.add(amount)) }
        return sum
    }

    func testAmountsAreGroupedByThousandsAndListedPerCurrency() {
        XCTAssertEqual(AmountText.grouped(sum("2001.25")), "2,001.25")
        XCTAssertEqual(AmountText.grouped(sum("999.5")), "999.5")
        XCTAssertEqual(AmountText.grouped(sum("-1234567")), "-1,234,567")
        XCTAssertEqual(AmountText.grouped(sum("100000.000")), "100,000.000")
        XCTAssertEqual(AmountText.list([:]), "")
        XCTAssertEqual(AmountText.list(["EUR": sum("2001.25")]), "EUR 2,001.25")
        XCTAssertEqual(AmountText.list(["USD": sum("3"), "EUR": sum("12.25")]), "EUR 12.25 and USD 3")
        XCTAssertEqual(AmountText.list(["USD": sum("3"), "EUR": sum("12.25"), "GBP": sum("1000"), "": sum("7")]),
                       "7, EUR 12.25, GBP 1,000 and USD 3")
    }

    private func payment(_ id: String, _ amount: String?, _ currency: String? = "EUR") -> CommittedPayment {
        CommittedPayment(eventID: id, committedAt: 1_800_000_000_000, amount: amount, currency: currency)
    }

    private func finding(_ kind: FindingKind, _ id: String) -> Finding {
        Finding(kind: kind, eventID: id, committedAt: 1_800_000_000_000, location: nil, detail: "d")
    }

    func testEachClassCountsAPaymentOnceAndTheTotalCountsItOnceAcrossClasses() {
        var risk = ValueAtRisk(amountConfigured: true)
        risk.add(payment("pay-1", "2000.75"), findings: [finding(.notReplicated, "pay-1")])
        // Not replicated, and the published record was already wrong: in two classes, once in the total.
        risk.add(payment("pay-2", "0.5"), findings: [finding(.notReplicated, "pay-2"), finding(.mismatch, "pay-2")])
        risk.add(payment("pay-3", "10", "USD"), findings: [finding(.neverPublished, "pay-3")])
        risk.add(payment("pay-4", nil), findings: [finding(.unknownAtSource, "pay-4")])
        risk.add(payment("pay-5", "12,50"), findings: [finding(.unknownAtSource, "pay-5")])
        // Duplicates and orphans put nothing at risk.
        risk.add(payment("pay-6", "99"), findings: [finding(.duplicate, "pay-6")])

        XCTAssertEqual(risk.of(.notReplicated).payments, 2)
        XCTAssertEqual(risk.of(.notReplicated).amounts.mapValues(\.description), ["EUR": "2001.25"])
        XCTAssertEqual(risk.of(.mismatch).payments, 1)
        XCTAssertEqual(risk.of(.mismatch).amounts.mapValues(\.description), ["EUR": "0.5"])
        XCTAssertEqual(risk.of(.neverPublished).amounts.mapValues(\.description), ["USD": "10"])
        XCTAssertEqual(risk.of(.unknownAtSource).payments, 2)
        XCTAssertEqual(risk.of(.unknownAtSource).withoutAmount, 2)
        XCTAssertEqual(risk.of(.unknownAtSource).amounts, [:])
        XCTAssertEqual(risk.of(.duplicate).payments, 0)
        XCTAssertEqual(risk.total.payments, 5)
        XCTAssertEqual(risk.total.withoutAmount, 2)
        XCTAssertEqual(risk.total.amounts.mapValues(\.description), ["EUR": "2001.25", "USD": "10"])

        var counted = ValueAtRisk(amountConfigured: false)
        counted.add(payment("pay-1", "5"), findings: [finding(.neverPublished, "pay-1")])
        XCTAssertEqual(counted.total.payments, 1)
        XCTAssertEqual(counted.total.amounts, [:])
        XCTAssertEqual(counted.total.withoutAmount, 0)
    }

    func testTheAmountColumnFallsBackToACompareEntryNamedAmountOnlyWithoutAmountKey() {
        let compare = [FieldComparison(field: "amount", column: "amount_minor"), FieldComparison(field: "ccy", column: "currency")]
        let old = ReconcileSettings(postgresDSN: Secret("dbname=x"), committedQuery: "q", topics: ["t"], compare: compare)
        XCTAssertEqual(old.valueAtRiskColumns.amount, "amount_minor")
        XCTAssertEqual(old.valueAtRiskColumns.currency, "currency")
        let explicit = ReconcileSettings(
            postgresDSN: Secret("dbname=x"), committedQuery: "q", topics: ["t"], compare: compare, amountColumn: "total")
        XCTAssertEqual(explicit.valueAtRiskColumns.amount, "total")
        XCTAssertNil(explicit.valueAtRiskColumns.currency)
        let none = ReconcileSettings(postgresDSN: Secret("dbname=x"), committedQuery: "q", topics: ["t"])
        XCTAssertNil(none.valueAtRiskColumns.amount)
    }

    func testAPaymentTheIndexNeverSawIsUnknownAtSourceWhenTheSourceIsUnreachable() {
        let committed = payment("pay-9", "9.50")
        XCTAssertEqual(PaymentCheck.check(committed, copies: [], compare: []).map(\.kind), [.neverPublished])
        let unknown = PaymentCheck.check(committed, copies: [], compare: [], sourceReachable: false)
        XCTAssertEqual(unknown.map(\.kind), [.unknownAtSource])
        XCTAssertEqual(unknown.first?.detail, "not in the target; the source was unreachable and the event index never saw it there")
        let seen = EventCopy(side: .source, topic: "payments", partition: 1, offset: 4)
        XCTAssertEqual(PaymentCheck.check(committed, copies: [seen], compare: [], sourceReachable: false).map(\.kind), [.notReplicated])
        XCTAssertTrue(FindingKind.unknownAtSource.breaksRPO)
        XCTAssertEqual(ValueAtRisk.classes, [.notReplicated, .neverPublished, .unknownAtSource, .mismatch])
    }

    // MARK: The report forms

    private let generated = Date(timeIntervalSince1970: 1_800_000_600)

    /// The verdict line of ``report(amountConfigured:sourceUnreachable:)``, and with the source unreachable.
    private static let violated = "RPO=0 VIOLATED: at risk: 3 payments, EUR 2,001.25 and USD 1,500, not in eu-west (2 not replicated, 1 never published; of 101 committed); "
            + "behind: payments 1 record, 300 s behind by record timestamp, worst payments/2; "
            + "first: get the bridge to copy the 2 payments that us-east holds and eu-west does not (pay-1, pay-2)"
    private static let violatedUnreachable = "RPO=0 VIOLATED: at risk: 3 payments, EUR 2,001.25 and USD 1,500, not in eu-west (2 not replicated, 1 unknown at the unreachable source; "
            + "of 101 committed); behind: not read (the source cluster us-east does not answer); "
            + "first: reach the source cluster us-east (it does not answer) to tell whether the 1 payment unknown there was published (pay-3)"

    private func report(amountConfigured: Bool = true, sourceUnreachable: Bool = false) -> ReconcileReport {
        var report = ReconcileReport(
            pair: "us-east-to-eu-west", sourceRegion: "us-east", targetRegion: "eu-west",
            windowStart: Date(timeIntervalSince1970: 1_799_914_200), windowEnd: Date(timeIntervalSince1970: 1_800_000_570),
            until: generated, grace: 30)
        report.generatedAt = generated
        report.committed = 101
        report.inTarget = 98
        report.valueAtRisk = ValueAtRisk(amountConfigured: amountConfigured)
        var tally = FindingTally()
        let missing: [(String, String, String, FindingKind)] = [
            ("pay-1", "2000.75", "EUR", .notReplicated), ("pay-2", "0.50", "EUR", .notReplicated), ("pay-3", "1500", "USD", .neverPublished),
        ]
        for (id, amount, currency, kind) in missing {
            let found = Finding(kind: sourceUnreachable && kind == .neverPublished ? .unknownAtSource : kind, eventID: id,
                                committedAt: 1_800_000_000_000, location: nil, detail: "d")
            tally.add(found)
            report.valueAtRisk.add(payment(id, amount, currency), findings: [found])
        }
        report.findings = tally
        // payments/2 holds one record not copied yet, stamped by its producer 300 s ago; the bridge's heartbeat topic is
        // behind too, and never counts as data.
        func lag(_ topic: String, _ partition: Int32, behind: Int64, seconds: Double) -> PartitionLag {
            PartitionLag(source: TopicPartition(topic, partition), target: TopicPartition("us-east." + topic, partition), sourceLogStart: 0,
                         sourceEnd: 40 + behind, lastCopied: 39, recordsBehind: behind, oldestPendingTimestamp: behind > 0 ? 1 : nil,
                         secondsBehind: seconds, targetEnd: 40, secondsBasis: behind > 0 ? .createTime : nil)
        }
        if !sourceUnreachable {
            report.partitions = [lag("payments", 0, behind: 0, seconds: 0), lag("payments", 1, behind: 0, seconds: 0), lag("payments", 2, behind: 1, seconds: 300.25),
                                 lag("regionbridge.us-east-to-eu-west.heartbeats", 0, behind: 2, seconds: 900)]
        }
        if sourceUnreachable {
            report.source = SourceKnowledge(unreachable: "Local: Broker transport failure", scannedAt: Date(timeIntervalSince1970: 1_800_000_288.5))
        } else {
            report.source = SourceKnowledge(scannedAt: generated)
        }
        return report
    }

    func testTheTableSaysWhatIsAtRiskUnderTheVerdictAndPerClass() {
        let text = ReportFormat.table.render(report())
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, Self.violated)
        XCTAssertTrue(lines[1].hasPrefix("pair us-east-to-eu-west (us-east -> eu-west); payments committed from "), text)
        let section = lines.drop { $0 != "VALUE AT RISK" }.prefix(12)
        XCTAssertEqual(Array(section), [
            "VALUE AT RISK",
            "At risk: 3 payments, EUR 2,001.25 and USD 1,500, are not in eu-west.",
            "- 2 payments, EUR 2,001.25, are in us-east but not in eu-west: not replicated",
            "  (not_replicated).",
            "- 1 payment, USD 1,500, is not in eu-west: never published to us-east",
            "  (never_published).",
            "CLASS              PAYMENTS  AMOUNT",
            "not_replicated     2         EUR 2,001.25",
            "never_published    1         USD 1,500",
            "unknown_at_source  0         0",
            "mismatch           0         0",
            "total              3         EUR 2,001.25 and USD 1,500",
        ])
        XCTAssertFalse(text.contains("source us-east unreachable"), text)
        XCTAssertTrue(text.contains("GROUPS\n(no selected group has committed offsets)"), text)
        XCTAssertTrue(text.contains("""
            LAG PER TOPIC
            payments -> us-east.payments
              behind: 1 record on 1 of 3 partitions; worst payments/2, 300 s*
              PARTITION  LOG-START  SOURCE-END  TARGET-END  LAST-COPIED  BEHIND  SECONDS
              0          0          40          40          39           0       0
              1          0          40          40          39           0       0
              2          0          41          40          39           1       300.25*

            BRIDGE TOPICS (liveness: the bridge's own, not data)
            regionbridge.us-east-to-eu-west.heartbeats
              -> us-east.regionbridge.us-east-to-eu-west.heartbeats
              behind: 2 records on 1 of 1 partition; 900 s*
            """), text)
        XCTAssertTrue(text.contains("\n\n" + SecondsBasis.legend + "\n"), text)
    }

    func testWithoutAnAmountColumnOnlyThePaymentsAreCounted() throws {
        let text = ReportFormat.table.render(report(amountConfigured: false))
        XCTAssertTrue(text.contains("\nAt risk: 3 payments are not in eu-west.\n"), text)
        XCTAssertTrue(text.contains("\n- 2 payments are in us-east but not in eu-west: not replicated (not_replicated).\n"), text)
        XCTAssertTrue(text.contains("\nnot_replicated     2         -\n"), text)
        let object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(ReportFormat.json.render(report(amountConfigured: false)).utf8)) as? [String: Any])
        let risk = try XCTUnwrap(object["value_at_risk"] as? [String: Any])
        XCTAssertEqual(risk["amount_configured"] as? Bool, false)
        let total = try XCTUnwrap(risk["total"] as? [String: Any])
        XCTAssertTrue(total["amount"] is NSNull, "\(total)")
        XCTAssertEqual(total["payments"] as? Int, 3)
    }

    func testTheJSONGivesPaymentsAndAmountsPerClassAndATotal() throws {
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(ReportFormat.json.render(report()).utf8)) as? [String: Any])
        let risk = try XCTUnwrap(object["value_at_risk"] as? [String: Any])
        XCTAssertEqual(risk["amount_configured"] as? Bool, true)
        let classes = try XCTUnwrap(risk["classes"] as? [String: [String: Any]])
        XCTAssertEqual(classes.keys.sorted(), ["mismatch", "never_published", "not_replicated", "unknown_at_source"])
        XCTAssertEqual(classes["not_replicated"]?["payments"] as? Int, 2)
        XCTAssertEqual(classes["not_replicated"]?["amount"] as? [String: String], ["EUR": "2001.25"])
        XCTAssertEqual(classes["never_published"]?["amount"] as? [String: String], ["USD": "1500"])
        XCTAssertEqual(classes["mismatch"]?["payments"] as? Int, 0)
        XCTAssertEqual(classes["mismatch"]?["amount"] as? [String: String], [:])
        let total = try XCTUnwrap(risk["total"] as? [String: Any])
        XCTAssertEqual(total["payments"] as? Int, 3)
        XCTAssertEqual(total["amount"] as? [String: String], ["EUR": "2001.25", "USD": "1500"])
        XCTAssertEqual(total["without_amount"] as? Int, 0)
        let source = try XCTUnwrap(object["source"] as? [String: Any])
        XCTAssertEqual(source["reachable"] as? Bool, true)
        XCTAssertTrue(source["error"] is NSNull)
        XCTAssertEqual(source["knowledge_from"] as? String, "2027-01-15T08:10:00Z")
        XCTAssertEqual(source["knowledge_age_seconds"] as? Int, 0)
        XCTAssertEqual((object["counts"] as? [String: Int])?["unknown_at_source"], 0)
    }

    func testTheHTMLSaysTheValueAtRiskFirstInWords() {
        let page = ReportFormat.html.render(report())
        let body = page.components(separatedBy: "<body>\n").last ?? ""
        XCTAssertTrue(body.hasPrefix("""
            <h1>Reconciliation of us-east-to-eu-west</h1>
            <p class="verdict bad"><span class="what">RPO=0 VIOLATED:</span> \
            <span>at risk: 3 payments, EUR 2,001.25 and USD 1,500, not in eu-west (2 not replicated, 1 never published; of 101 committed);</span> \
            <span>behind: payments 1 record, 300 s behind by record timestamp, worst payments/2;</span> \
            <span>first: get the bridge to copy the 2 payments that us-east holds and eu-west does not (pay-1, pay-2)</span></p>
            <p class="risk">At risk: 3 payments, EUR 2,001.25 and USD 1,500, are not in eu-west.</p>
            <ul class="risk"><li>2 payments, EUR 2,001.25, are in us-east but not in eu-west: not replicated (not_replicated).</li>\
            <li>1 payment, USD 1,500, is not in eu-west: never published to us-east (never_published).</li></ul>
            """), body)
        XCTAssertTrue(page.contains("<tr><td>total</td><td>3</td><td>EUR 2,001.25 and USD 1,500</td></tr>"), page)
    }

    func testTheMarkdownHasTheHeadlineAndTheTable() {
        let text = ReportFormat.markdown.render(report())
        XCTAssertTrue(text.contains("""
            ## Lag per topic

            | TOPIC | TARGET | RECORDS-BEHIND | SECONDS-BEHIND | BASIS | WORST PARTITION | PARTITIONS BEHIND |
            | --- | --- | --- | --- | --- | --- | --- |
            | payments | us-east.payments | 1 | 300.25 | by record timestamp | payments/2 | 1 of 3 |

            ## Bridge topics (liveness, not data)

            | TOPIC | TARGET | RECORDS-BEHIND | SECONDS-BEHIND | BASIS | WORST PARTITION | PARTITIONS BEHIND |
            | --- | --- | --- | --- | --- | --- | --- |
            | regionbridge.us-east-to-eu-west.heartbeats | us-east.regionbridge.us-east-to-eu-west.heartbeats | 2 | 900 | by record timestamp | \
            regionbridge.us-east-to-eu-west.heartbeats/0 | 1 of 1 |

            \\* by the record's own timestamp (producer's clock); unmarked: log-append time

            ## Partitions
            """), text)
        XCTAssertTrue(text.hasPrefix("""
            # Reconciliation of us-east-to-eu-west

            **\(Self.violated)**

            """), text)
        XCTAssertTrue(text.contains("""
            ## Value at risk

            At risk: 3 payments, EUR 2,001.25 and USD 1,500, are not in eu-west.

            - 2 payments, EUR 2,001.25, are in us-east but not in eu-west: not replicated (not_replicated).
            - 1 payment, USD 1,500, is not in eu-west: never published to us-east (never_published).

            | CLASS | PAYMENTS | AMOUNT |
            | --- | --- | --- |
            | not_replicated | 2 | EUR 2,001.25 |
            | never_published | 1 | USD 1,500 |
            | unknown_at_source | 0 | 0 |
            | mismatch | 0 | 0 |
            | total | 3 | EUR 2,001.25 and USD 1,500 |
            """), text)
    }

    func testNothingAtRiskIsSaidPlainly() {
        var clean = ReconcileReport(
            pair: "p", sourceRegion: "us-east", targetRegion: "eu-west", windowStart: generated, windowEnd: generated, until: generated, grace: 30)
        clean.committed = 300
        clean.inTarget = 300
        XCTAssertEqual(ReportFormat.table.render(clean).split(separator: "\n").first,
                       "RPO=0 holds: at risk: nothing, all 300 committed payments are in eu-west; behind: not read; first: nothing to do")
        XCTAssertTrue(ReportFormat.table.render(clean).contains(
            "\nVALUE AT RISK\nNothing at risk: all 300 committed payments of the window are in eu-west with\ntheir committed values.\n"))
        clean.partitions = [PartitionLag(
            source: TopicPartition("payments", 0), target: TopicPartition("us-east.payments", 0), sourceLogStart: 0, sourceEnd: 25, lastCopied: 19,
            recordsBehind: 5, oldestPendingTimestamp: 1, secondsBehind: 2.25, targetEnd: 20, secondsBasis: .logAppendTime)]
        XCTAssertEqual(ReportFormat.table.render(clean).split(separator: "\n").first,
                       "RPO=0 holds: at risk: nothing, all 300 committed payments are in eu-west; behind: payments 5 records, 2.3 s behind by log-append time; "
                        + "first: nothing for the committed payments; the bridge has 5 records to copy, payments furthest behind")
        clean.committed = 0
        clean.inTarget = 0
        XCTAssertTrue(ReportFormat.table.render(clean).contains("\nNothing at risk: no payment was committed in the window.\n"))
    }

    func testAnUnreachableSourceIsNamedWithTheAgeOfWhatIsKnownOfIt() throws {
        let unreachable = report(sourceUnreachable: true)
        XCTAssertEqual(unreachable.sourceUnreachableLine,
                       "source us-east unreachable: knowledge of the source is from 2027-01-15T08:04:48.500Z (311 s old)")
        let table = ReportFormat.table.render(unreachable)
        let lines = table.split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(2)), [
            Self.violatedUnreachable,
            "source us-east unreachable: knowledge of the source is from 2027-01-15T08:04:48.500Z (311 s old)",
        ])
        XCTAssertTrue(table.contains("""
            - 1 payment, USD 1,500, is not in eu-west; us-east was unreachable, so it cannot
              be told whether it was never published or published after the last scan
              (unknown_at_source).
            """), table)
        XCTAssertTrue(lines.contains("unknown_at_source  1         USD 1,500"), table)
        // Lag and group positions need the source: the sections say why they are empty.
        XCTAssertTrue(table.contains(
            "LAG PER TOPIC\n(not read: the source cluster us-east is unreachable)\n\nGROUPS\n(not read: the source cluster us-east is unreachable)\n"),
            table)
        XCTAssertTrue(ReportFormat.markdown.render(unreachable).contains("## Partitions\n\nNot read: the source cluster us-east is unreachable.\n"))
        XCTAssertTrue(ReportFormat.html.render(unreachable).contains("<h2>Groups</h2>\n<p>Not read: the source cluster us-east is unreachable.</p>"))

        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(ReportFormat.json.render(unreachable).utf8)) as? [String: Any])
        let source = try XCTUnwrap(object["source"] as? [String: Any])
        XCTAssertEqual(source["reachable"] as? Bool, false)
        XCTAssertEqual(source["error"] as? String, "Local: Broker transport failure")
        XCTAssertEqual(source["knowledge_from"] as? String, "2027-01-15T08:04:48.500Z")
        XCTAssertEqual(source["knowledge_age_seconds"] as? Int, 311)
        XCTAssertEqual((object["counts"] as? [String: Int])?["unknown_at_source"], 1)

        let page = ReportFormat.html.render(unreachable)
        XCTAssertTrue(page.contains(
            "<p class=\"bad\">source us-east unreachable: knowledge of the source is from 2027-01-15T08:04:48.500Z (311 s old)</p>"), page)

        var unknown = unreachable
        unknown.source.scannedAt = nil
        XCTAssertEqual(unknown.sourceUnreachableLine,
                       "source us-east unreachable: the event index holds no scan of it, so nothing is known of the source")
    }
}
