import Drill
import Topology
import XCTest

/// READY only when no check failed; NOT READY names every cause and exits 8.
final class DrillVerdictTests: XCTestCase {
    private let passing = [
        DrillCheck(.rpo, "lag of 3 partitions", "0 records behind", .pass),
        DrillCheck(.parity, "regionbridge.p.alerts", "not created yet", .warn, cause: "created with the first alert"),
        DrillCheck(.liveness, "heartbeats", "not configured", .skip),
    ]

    func testPassesWarningsAndSkipsAreReady() {
        let verdict = DrillVerdict(passing)
        XCTAssertTrue(verdict.ready)
        XCTAssertEqual(verdict.exitCode, 0)
        XCTAssertEqual(verdict.label, "READY")
        XCTAssertEqual(verdict.causes, [])
        XCTAssertEqual(verdict.warnings.map(\.subject), ["regionbridge.p.alerts"])
        XCTAssertEqual(verdict.line(pair: "p", targetRegion: "eu-west"),
                       "READY: pair p could fail over to eu-west now; all 3 checks pass or do not apply (1 warning)")
    }

    func testOneFailureIsNotReadyWithExitCodeEightAndItsCause() {
        let failed = DrillCheck(.parity, "payments -> us-east.payments", "1/3 partitions", .fail, cause: "retention.ms is shorter")
        let verdict = DrillVerdict(passing + [failed])
        XCTAssertFalse(verdict.ready)
        XCTAssertEqual(verdict.exitCode, 8)
        XCTAssertEqual(DrillVerdict.notReadyExitCode, 8)
        XCTAssertEqual(verdict.label, "NOT READY")
        XCTAssertEqual(verdict.causes, [failed])
        XCTAssertEqual(verdict.line(pair: "p", targetRegion: "eu-west"),
                       "NOT READY: 1 of 4 checks failed for pair p: payments -> us-east.payments: retention.ms is shorter")
    }

    func testTheLineNamesThreeCausesAndCountsTheRest() {
        let failures = (0..<5).map { DrillCheck(.failover, "group g\($0)", "f", .fail, cause: "cause \($0)") }
        XCTAssertEqual(DrillVerdict(failures).line(pair: "p", targetRegion: "eu-west"),
                       "NOT READY: 5 of 5 checks failed for pair p: group g0: cause 0; group g1: cause 1; group g2: cause 2; and 2 more")
    }

    func testTheReportOrdersChecksByAreaAndTakesItsExitCodeFromTheVerdict() {
        let report = DrillReport(
            pair: "p", sourceRegion: "us-east", targetRegion: "eu-west", settings: .init(),
            checks: [DrillCheck(.liveness, "source us-east", "answers", .pass), DrillCheck(.rpo, "lag", "x", .fail, cause: "behind"),
                     DrillCheck(.rto, "time", "y", .pass), DrillCheck(.rpo, "committed payments", "z", .pass)])
        XCTAssertEqual(report.checks.map(\.subject), ["lag", "committed payments", "time", "source us-east"])
        XCTAssertEqual(report.exitCode, 8)
    }
}
