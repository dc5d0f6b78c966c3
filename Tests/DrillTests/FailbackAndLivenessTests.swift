import Drill
import Topology
import XCTest

/// Failback path (the reverse pair's topology) and liveness (both clusters, heartbeats).
final class FailbackAndLivenessTests: XCTestCase {
    private let forward = pairTopology()
    private let sourceTopics = ["payments", "ledger"]
    private let targetTopics = ["us-east.payments", "payments"]

    private func failback(_ candidate: FailbackCandidate, source: [String]? = nil, target: [String]? = nil) -> DrillCheck {
        FailbackCheck.check(forward: forward, candidate: candidate, sourceTopics: source ?? sourceTopics, targetTopics: target ?? targetTopics)
    }

    func testAValidReversePairWithoutLoopPasses() {
        let check = failback(.found(file: "/t/eu-west-to-us-east.yaml", topology: reverseTopology()))
        XCTAssertEqual(check.status, .pass)
        XCTAssertEqual(check.figure, "pair eu-west-to-us-east, eu-west -> us-east; validates, no loop")
    }

    func testAMissingOrInvalidReverseTopologyFails() {
        XCTAssertEqual(summary([failback(.missing(folder: "/t", searched: ["other.yaml (us-east -> ap-south)"]))]), [
            "FAIL reverse pair eu-west -> us-east: no topology for the reverse pair eu-west -> us-east in /t (looked at other.yaml (us-east -> ap-south)); write one or name it with --failback FILE",
        ])
        let invalid = failback(.invalid(file: "/t/eu-west-to-us-east.yaml", problems: "/t/eu-west-to-us-east.yaml:3:3: source.region: missing required key"))
        XCTAssertEqual(invalid.status, .fail)
        XCTAssertEqual(invalid.cause, "failback topology /t/eu-west-to-us-east.yaml does not validate:\n/t/eu-west-to-us-east.yaml:3:3: source.region: missing required key")
    }

    func testAReverseTopologyThatWouldCopyTheCopiesBackIsALoop() {
        let check = failback(.found(file: "/t/r.yaml", topology: reverseTopology(include: [".*"])))
        XCTAssertEqual(check.status, .fail)
        XCTAssertEqual(check.cause, "failback topology /t/r.yaml: it would copy us-east.payments (this pair's copy of payments) back to us-east: a replication loop")
        // identity on both sides: each pair selects the other's copies.
        let identityForward = pairTopology(rename: .identity)
        let both = FailbackCheck.check(
            forward: identityForward, candidate: .found(file: "/t/r.yaml", topology: reverseTopology(rename: .identity)),
            sourceTopics: ["payments"], targetTopics: ["payments"])
        XCTAssertEqual(both.status, .fail)
        XCTAssertTrue(both.cause?.contains("this pair would copy payments (its copy of payments) back to eu-west: a replication loop") == true, both.cause ?? "")
    }

    func testOtherRegionsOrOtherClustersFail() {
        let regions = failback(.found(file: "/t/r.yaml", topology: reverseTopology(sourceRegion: "ap-south")))
        XCTAssertEqual(regions.cause, "failback topology /t/r.yaml: /t/r.yaml copies ap-south -> us-east, not eu-west -> us-east")
        let servers = failback(.found(file: "/t/r.yaml", topology: reverseTopology(source: "10.0.0.9:9092")))
        XCTAssertEqual(servers.cause, "failback topology /t/r.yaml: its source.bootstrap_servers share no address with this pair's target.bootstrap_servers (eu-west)")
    }

    func testWithoutTopicListsTheLoopCheckIsOnlyAWarning() {
        let check = FailbackCheck.check(forward: forward, candidate: .found(file: "/t/r.yaml", topology: reverseTopology()), sourceTopics: nil, targetTopics: targetTopics)
        XCTAssertEqual(check.status, .warn)
    }

    private func liveness(source: String? = nil, target: String? = nil, heartbeats: HeartbeatFacts = .notConfigured) -> [DrillCheck] {
        LivenessCheck.checks(
            source: ("us-east", "127.0.0.1:19092", source, 0.002), target: ("eu-west", "127.0.0.1:29092", target, 0.001),
            heartbeats: heartbeats, heartbeatTopic: "regionbridge.p.heartbeats", maxAgeSeconds: 60)
    }

    func testBothClustersAnsweringPassAndHeartbeatsAreSkippedWhenAbsent() {
        XCTAssertEqual(summary(liveness()), [
            "PASS source us-east: answers (metadata in 0.002 s)",
            "PASS target eu-west: answers (metadata in 0.001 s)",
            "SKIP heartbeats: not configured (no regionbridge.p.heartbeats in eu-west)",
        ])
    }

    func testAClusterThatDoesNotAnswerFailsNamingItsAddress() {
        XCTAssertEqual(summary(liveness(source: "Local: Broker transport failure")).first,
                       "FAIL source us-east: the source cluster us-east at 127.0.0.1:19092 does not answer: Local: Broker transport failure")
    }

    func testHeartbeatAgeAgainstMaxLag() {
        XCTAssertEqual(liveness(heartbeats: .age(12)).last?.status, .pass)
        XCTAssertEqual(liveness(heartbeats: .age(61)).last?.cause, "the newest heartbeat in regionbridge.p.heartbeats (eu-west) is 61 s old (max 60 s)")
        XCTAssertEqual(liveness(heartbeats: .age(nil)).last?.status, .fail)
        XCTAssertEqual(liveness(heartbeats: .unreadable("timed out")).last?.status, .fail)
    }
}
