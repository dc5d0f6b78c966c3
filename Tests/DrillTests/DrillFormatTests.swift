import Drill
import Foundation
import Topology
import XCTest

/// The report's forms: all carry the verdict first and the same facts; the HTML is self-contained.
final class DrillFormatTests: XCTestCase {
    private static let notReady = "NOT READY: pair us-east-to-eu-west cannot fail over to eu-west now; at risk: payments unknown "
        + "(the reconcile could not run); behind: payments 4 records, 75 s behind, worst payments/1; first: payments -> us-east.payments: "
        + "retention.ms <shorter> & worse (1 of 3 checks failed)"

    private func report(ready: Bool) -> DrillReport {
        var checks = [
            DrillCheck(.rpo, "lag of 2 partitions", "0 records behind on every partition (max 60 s)", .pass),
            DrillCheck(.liveness, "heartbeats", "not configured", .skip),
        ]
        if !ready {
            checks.append(DrillCheck(.parity, "payments -> us-east.payments", "3/3 partitions", .fail, cause: "retention.ms <shorter> & worse"))
        }
        return DrillReport(
            pair: "us-east-to-eu-west", sourceRegion: "us-east", targetRegion: "eu-west", generatedAt: Date(timeIntervalSince1970: 1_800_000_000),
            settings: DrillSettings(), checks: checks, partitions: [lag(0, behind: 0, seconds: 0), lag(1, behind: 4, seconds: 75)],
            positions: [position("app-billing", 0, source: 40, target: 40)],
            rto: RTOEstimate(backlogRecords: 4, copiedInSample: 0, sampleSeconds: 10, failoverSeconds: 0.5, groups: 1, rtoSeconds: 900),
            seconds: 10.25)
    }

    func testJSONCarriesTheVerdictChecksAndFigures() throws {
        let text = DrillFormat.json.render(report(ready: false))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(json["ready"] as? Bool, false)
        XCTAssertEqual(json["exit_code"] as? Int, 8)
        XCTAssertEqual(json["version"] as? Int, 1)
        XCTAssertEqual((json["verdict"] as? String)?.hasPrefix("NOT READY: 1 of 3 checks failed"), true, "the verdict of machines stays as it was")
        XCTAssertEqual(json["headline"] as? String, Self.notReady)
        let checks = try XCTUnwrap(json["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.map { $0["area"] as? String }, ["rpo", "parity", "liveness"])
        XCTAssertEqual(checks[1]["status"] as? String, "fail")
        XCTAssertEqual(checks[1]["cause"] as? String, "retention.ms <shorter> & worse")
        XCTAssertTrue(checks[0]["cause"] is NSNull)
        XCTAssertEqual((json["partitions"] as? [[String: Any]])?.map { $0["records_behind"] as? Int }, [0, 4])
        XCTAssertEqual((json["groups"] as? [[String: Any]])?.first?["target_offset"] as? Int, 40)
        XCTAssertEqual((json["rto"] as? [String: Any])?["backlog_records"] as? Int, 4)
        XCTAssertTrue((json["rto"] as? [String: Any])?["estimate_seconds"] is NSNull, "an unbounded estimate is null")
        XCTAssertTrue(json["payments"] is NSNull)
        XCTAssertEqual(json["drill_seconds"] as? Double, 10.25)
    }

    func testHTMLIsSelfContainedWithTheVerdictFirstAChartAndEscapedText() {
        let page = DrillFormat.html.render(report(ready: false))
        let verdict = page.range(of: "<p class=\"verdict bad\"><span class=\"what\">NOT READY: pair us-east-to-eu-west cannot fail over to eu-west now;</span> "
            + "<span>at risk: payments unknown (the reconcile could not run);</span> <span>behind: payments 4 records, 75 s behind, worst payments/1;</span> "
            + "<span>first: payments -&gt; us-east.payments: retention.ms &lt;shorter&gt; &amp; worse (1 of 3 checks failed)</span></p>")
        let chart = page.range(of: "<svg")
        let checks = page.range(of: "<h2>Checks</h2>")
        XCTAssertNotNil(verdict, page)
        XCTAssertNotNil(chart)
        XCTAssertLessThan(verdict!.lowerBound, chart!.lowerBound)
        XCTAssertLessThan(chart!.lowerBound, checks!.lowerBound)
        XCTAssertTrue(page.contains("retention.ms &lt;shorter&gt; &amp; worse"), "text is escaped")
        XCTAssertTrue(page.contains("<td class=\"fail\">FAIL</td>"))
        XCTAssertTrue(page.contains("payments/1</text>") && page.contains("75 s behind, 4 records</text>"), page)
        XCTAssertTrue(page.contains("<td>payments</td><td>us-east.payments</td><td>4</td><td>75</td><td>-</td><td>payments/1</td><td>1 of 2</td>"), page)
        XCTAssertFalse(page.contains("<script") || page.contains("<link") || page.contains("src=") || page.contains("url("), "self-contained")
        XCTAssertTrue(DrillFormat.html.render(report(ready: true)).contains("class=\"verdict ok\"><span class=\"what\">READY: pair us-east-to-eu-west could fail over"))
    }

    func testTableAndMarkdownStartWithTheVerdictAndListTheCauses() {
        let table = DrillFormat.table.render(report(ready: false))
        XCTAssertTrue(table.hasPrefix(Self.notReady + "\n"), table)
        XCTAssertTrue(table.contains("\nCAUSES\n- Target parity, payments -> us-east.payments: retention.ms <shorter> & worse\n"), table)
        XCTAssertTrue(table.contains("\nFAIL  Target parity: payments -> us-east.payments\n      3/3 partitions\n"), table)
        XCTAssertTrue(table.contains("""

            LAG PER TOPIC
            payments -> us-east.payments
              behind: 4 records on 1 of 2 partitions; worst payments/1, 75 s
              PARTITION  LOG-START  SOURCE-END  TARGET-END  LAST-COPIED  BEHIND  SECONDS
              0          0          100         100         99           0       0
              1          0          104         100         99           4       75

            """), table)
        let lagBlock = table.components(separatedBy: "\nLAG PER TOPIC\n")[1].components(separatedBy: "\n\n")[0]
        XCTAssertTrue(lagBlock.split(separator: "\n").allSatisfy { (line: Substring) in line.count <= 80 }, "80 columns:\n\(lagBlock)")
        let markdown = DrillFormat.markdown.render(report(ready: true))
        XCTAssertTrue(markdown.hasPrefix("# DR readiness drill of us-east-to-eu-west\n\n**READY: "), markdown)
        XCTAssertTrue(markdown.contains("| PASS | RPO now | lag of 2 partitions | 0 records behind on every partition (max 60 s) |"), markdown)
    }
}
