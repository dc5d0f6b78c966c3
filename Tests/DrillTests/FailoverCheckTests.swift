import Drill
import XCTest

/// Consumer failover: would `failover --apply` succeed for each group now, and what would it commit.
final class FailoverCheckTests: XCTestCase {
    private func checks(_ groups: [GroupFacts]) -> [DrillCheck] {
        FailoverCheck.checks(groups, syncInterval: .seconds(10), sourceRegion: "us-east", targetRegion: "eu-west", selection: "groups.include")
    }

    func testAGroupThatWouldMoveCleanlyPassesWithTheExactOffsets() {
        let facts = GroupFacts(
            group: "app-billing", activeMembers: 0,
            positions: [position("app-billing", 0, source: 40, target: 40), position("app-billing", 1, source: 100, target: 100, committed: 100)],
            live: true, checkpointAge: 4)
        let check = checks([facts])[0]
        XCTAssertEqual(check.status, .pass)
        XCTAssertEqual(check.subject, "group app-billing")
        XCTAssertEqual(check.figure, "would commit us-east.payments/0@40, us-east.payments/1@100 (1 of 2 move) live from us-east; checkpoint 4 s old")
    }

    func testAGroupActiveInTheTargetFails() {
        let facts = GroupFacts(group: "app-fraud", activeMembers: 2, positions: [position("app-fraud", 0, source: 5, target: 5)], live: true, checkpointAge: 1)
        XCTAssertEqual(summary(checks([facts])), ["FAIL group app-fraud: group app-fraud has 2 active members in eu-west: stop them before failing over"])
    }

    func testAPositionNotYetReplicatedFailsNamingThePartition() {
        let facts = GroupFacts(
            group: "app-ledger", activeMembers: 0, positions: [position("app-ledger", 2, source: 90, target: 80, toReplicate: 10)], live: true,
            checkpointAge: 1)
        XCTAssertEqual(summary(checks([facts])),
                       ["FAIL group app-ledger: group app-ledger payments/2: 10 records before its position (90) not in eu-west yet"])
    }

    func testWithTheSourceGoneACheckpointUpToThreeSyncIntervalsOldIsEnough() {
        let saved = [position("app-billing", 0, source: 40, target: 40, basis: "checkpoint 2026-11-30T10:00:00Z")]
        XCTAssertEqual(checks([GroupFacts(group: "app-billing", activeMembers: 0, positions: saved, live: false, checkpointAge: 30)])[0].status, .pass)
        XCTAssertEqual(summary(checks([GroupFacts(group: "app-billing", activeMembers: 0, positions: saved, live: false, checkpointAge: 30.5)])), [
            "FAIL group app-billing: us-east does not answer and its newest checkpoint in eu-west is 30.5 s old, more than 3 × groups.sync_interval (30 s)",
        ])
        XCTAssertEqual(summary(checks([GroupFacts(group: "app-billing", activeMembers: 0, positions: [], live: false, checkpointAge: nil)])).first?.hasPrefix("PASS"), true,
                       "a group with nothing committed has nothing to move")
    }

    func testALiveGroupWithAStaleCheckpointWarnsAboutTheDayTheSourceIsLost() {
        let facts = GroupFacts(group: "app-billing", activeMembers: 0, positions: [position("app-billing", 0, source: 40, target: 40)], live: true, checkpointAge: nil)
        XCTAssertEqual(summary(checks([facts])), [
            "WARN group app-billing: if us-east were lost now, failover could not translate group app-billing live: it has no checkpoint in eu-west",
        ])
    }

    func testNoGroupIsSkippedAndAnUnreadableGroupFails() {
        XCTAssertEqual(summary(checks([])), ["SKIP consumer groups: none to move (groups.include)"])
        XCTAssertEqual(summary(checks([GroupFacts(group: "g", activeMembers: nil, positions: [], live: true, checkpointAge: nil, failure: "cannot describe group g in eu-west: timed out")])),
                       ["FAIL group g: group g: cannot describe group g in eu-west: timed out"])
    }
}
