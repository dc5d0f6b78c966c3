import Topology
import XCTest

/// The optional `drill:` section: the recovery time objective and the largest lag `regionbridge drill` accepts.
final class DrillSectionTests: XCTestCase {
    private func document(_ extra: String) -> String {
        TopologyTests.document(appending: extra)
    }

    func testWithoutTheSectionTheStandardsDefaultsApply() throws {
        let topology = try TopologyLoader.parse(yaml: document(""))
        XCTAssertEqual(topology.drill, DrillSettings(rto: .seconds(900), maxLagSeconds: 60))
        XCTAssertEqual(DrillSettings().rto, .seconds(15 * 60))
    }

    func testTheSectionAsInTheIssueAndPartialSections() throws {
        XCTAssertEqual(
            try TopologyLoader.parse(yaml: document("drill: {rto: 15m, max_lag_seconds: 60}")).drill,
            DrillSettings(rto: .seconds(900), maxLagSeconds: 60))
        XCTAssertEqual(
            try TopologyLoader.parse(yaml: document("drill:\n  rto: 1h30m\n  max_lag_seconds: 2.5\n")).drill,
            DrillSettings(rto: .seconds(5400), maxLagSeconds: 2.5))
        XCTAssertEqual(try TopologyLoader.parse(yaml: document("drill:\n  max_lag_seconds: 0\n")).drill, DrillSettings(rto: .seconds(900), maxLagSeconds: 0))
        XCTAssertEqual(try TopologyLoader.parse(yaml: document("drill:\n  rto: 5m\n")).drill, DrillSettings(rto: .seconds(300), maxLagSeconds: 60))
        XCTAssertEqual(try TopologyLoader.parse(yaml: document("drill: {}")).drill, DrillSettings())
    }

    func testBadValuesAreReportedWithFileLineAndKey() {
        XCTAssertThrowsError(try TopologyLoader.parse(yaml: document("""
            drill:
              rto: 0s
              max_lag_seconds: -1
              rpo: 0
            """), file: "us-east-to-eu-west.yaml")) { error in
            let issues = (error as? TopologyError)?.issues ?? []
            XCTAssertEqual(issues.map { Reported($0) }, [
                Reported(11, "drill.rto", "rto must be a duration greater than zero, such as 15m or 1h"),
                Reported(12, "drill.max_lag_seconds", "max_lag_seconds must be a number of seconds, 0 or more"),
                Reported(13, "drill.rpo", "unknown key (did you mean rto?)"),
            ])
            XCTAssertEqual(Set(issues.map(\.file)), ["us-east-to-eu-west.yaml"])
            XCTAssertTrue("\(error)".contains("us-east-to-eu-west.yaml:11"), "\(error)")
        }
        XCTAssertEqual(reported(document("drill:\n  rto: soon\n  max_lag_seconds: lots\n")), [
            Reported(11, "drill.rto", "rto must be a duration greater than zero, such as 15m or 1h"),
            Reported(12, "drill.max_lag_seconds", "max_lag_seconds must be a number of seconds, 0 or more"),
        ])
        XCTAssertEqual(reported(document("drill: [15m]\n")), [Reported(10, "drill", "expected a mapping, found a list")])
    }
}
