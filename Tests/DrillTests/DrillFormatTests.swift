import Drill
import Foundation
import Topology
import XCTest

/// The report's forms: all carry the verdict first and the same facts; the HTML is self-contained.
final class DrillFormatTests: XCTestCase {
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
        XCTAssertEqual((json["verdict"] as? String)?.hasPrefix("NOT READY: 1 of 3 checks failed"), true)
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
        let verdict = page.range(of: "NOT READY: 1 of 3 checks failed")
        let chart = page.range(of: "<svg")
        let checks = page.range(of: "<h2>Checks</h2>")
        XCTAssertNotNil(verdict)
        XCTAssertNotNil(chart)
        XCTAssertLessThan(verdict!.lowerBound, chart!.lowerBound)
        XCTAssertLessThan(chart!.lowerBound, checks!.lowerBound)
        XCTAssertTrue(page.contains("retention.ms &lt;shorter&gt; &amp; worse"), "text is escaped")
        XCTAssertTrue(page.contains("<td class=\"fail\">FAIL</td>"))
        XCTAssertTrue(page.contains("payments/1</text>") && page.contains("75 s behind, 4 records</text>"), page)
        XCTAssertFalse(page.contains("<script") || page.contains("<link") || page.contains("src=") || page.contains("url("), "self-contained")
        XCTAssertTrue(DrillFormat.html.render(report(ready: true)).contains("class=\"verdict ok\">READY: pair us-east-to-eu-west could fail over"))
    }

    func testTableAndMarkdownStartWithTheVerdictAndListTheCauses() {
        let table = DrillFormat.table.render(report(ready: false))
        XCTAssertTrue(table.hasPrefix("NOT READY: 1 of 3 checks failed for pair us-east-to-eu-west: payments -> us-east.payments: retention.ms <shorter> & worse\n"), table)
        XCTAssertTrue(table.contains("\nCAUSES\n- Target parity, payments -> us-east.payments: retention.ms <shorter> & worse\n"), table)
        XCTAssertTrue(table.contains("FAIL    Target parity  payments -> us-east.payments  3/3 partitions"), table)
        XCTAssertTrue(table.contains("payments/1  us-east.payments/1  104         99           4               75"), table)
        let markdown = DrillFormat.markdown.render(report(ready: true))
        XCTAssertTrue(markdown.hasPrefix("# DR readiness drill of us-east-to-eu-west\n\n**READY: "), markdown)
        XCTAssertTrue(markdown.contains("| PASS | RPO now | lag of 2 partitions | 0 records behind on every partition (max 60 s) |"), markdown)
    }
}
