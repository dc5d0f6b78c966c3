import Topology
import XCTest

/// The optional `heartbeats:` section, and the heartbeat topic being replicated whatever the patterns say.
final class HeartbeatSectionTests: XCTestCase {
    private func document(_ extra: String) -> String {
        TopologyTests.document(appending: extra)
    }

    func testWithoutTheSectionHeartbeatsAreOnEveryFiveSeconds() throws {
        let topology = try TopologyLoader.parse(yaml: document(""))
        XCTAssertEqual(topology.heartbeats, HeartbeatSettings(interval: .seconds(5)))
        XCTAssertTrue(topology.heartbeats.isEnabled)
        XCTAssertEqual(topology.heartbeatTopic, "regionbridge.p.heartbeats")
        XCTAssertEqual(topology.heartbeatCopyTopic, "us-east.regionbridge.p.heartbeats")
    }

    func testTheSectionAsInTheIssueZeroTurnsThemOff() throws {
        XCTAssertEqual(try TopologyLoader.parse(yaml: document("heartbeats:\n  interval: 5s\n")).heartbeats.interval, .seconds(5))
        XCTAssertEqual(try TopologyLoader.parse(yaml: document("heartbeats: {interval: 1s}")).heartbeats.interval, .seconds(1))
        XCTAssertEqual(try TopologyLoader.parse(yaml: document("heartbeats: {interval: 250ms}")).heartbeats.interval, .milliseconds(250))
        XCTAssertEqual(try TopologyLoader.parse(yaml: document("heartbeats: {}")).heartbeats, HeartbeatSettings())
        for off in ["0", "0s", "0ms"] {
            let topology = try TopologyLoader.parse(yaml: document("heartbeats: {interval: \(off)}"))
            XCTAssertEqual(topology.heartbeats.interval, .zero, off)
            XCTAssertFalse(topology.heartbeats.isEnabled, off)
        }
    }

    func testBadValuesAreReportedWithFileLineAndKey() {
        XCTAssertThrowsError(try TopologyLoader.parse(yaml: document("""
            heartbeats:
              interval: 10
            """), file: "p.yaml")) { error in
            XCTAssertEqual((error as? TopologyError)?.issues.map { Reported($0) }, [
                Reported(11, "heartbeats.interval", "interval must be 0 (heartbeats off) or a duration of at least 100ms, such as 1s or 5s"),
            ])
            XCTAssertEqual((error as? TopologyError)?.issues.first?.file, "p.yaml")
        }
        XCTAssertEqual(reported(document("heartbeats:\n  interval: 50ms\n  intervall: 1s\n")), [
            Reported(11, "heartbeats.interval", "interval must be 0 (heartbeats off) or a duration of at least 100ms, such as 1s or 5s"),
            Reported(12, "heartbeats.intervall", "unknown key (did you mean interval?)"),
        ])
        XCTAssertEqual(reported(document("heartbeats: 5s\n")), [Reported(10, "heartbeats", "expected a mapping, found a scalar")])
        XCTAssertEqual(reported(document("heartbeat: {interval: 1s}\n")), [Reported(10, "heartbeat", "unknown key (did you mean heartbeats?)")])
    }

    func testTheHeartbeatTopicIsReplicatedWhateverThePatternsWhileHeartbeatsAreOn() throws {
        var topology = try TopologyLoader.parse(yaml: document("heartbeats: {interval: 1s}"))
        XCTAssertEqual(topology.topics.include, ["a"])
        XCTAssertTrue(topology.topics.selects("regionbridge.p.heartbeats"))
        XCTAssertTrue(topology.topics.selects("a"))
        // Only this pair's heartbeats; the bridge's other topics never.
        XCTAssertFalse(topology.topics.selects("regionbridge.other-pair.heartbeats"))
        XCTAssertFalse(topology.topics.selects("regionbridge.p.alerts"))
        XCTAssertFalse(topology.topics.selects("us-east.regionbridge.p.heartbeats"))
        // Also when an exclude pattern matches it, and after the selection or the pair is replaced.
        topology.topics = TopicSelection(include: [".*"], exclude: ["regionbridge\\..*"])
        XCTAssertTrue(topology.topics.selects("regionbridge.p.heartbeats"))
        topology.pair = "q"
        XCTAssertFalse(topology.topics.selects("regionbridge.p.heartbeats"))
        XCTAssertTrue(topology.topics.selects("regionbridge.q.heartbeats"))
        // Off: like any other bridge topic.
        topology.heartbeats = HeartbeatSettings(interval: .zero)
        XCTAssertFalse(topology.topics.selects("regionbridge.q.heartbeats"))
        let off = try TopologyLoader.parse(yaml: document("heartbeats: {interval: 0}"))
        XCTAssertFalse(off.topics.selects("regionbridge.p.heartbeats"))
    }

    func testTheCopyIsNamedByTheRenamePolicy() throws {
        let identity = try TopologyLoader.parse(yaml: TopologyTests.document(topics: "include: [\"a\"]\nrename: identity"))
        XCTAssertEqual(identity.heartbeatCopyTopic, "regionbridge.p.heartbeats")
        let built = Topology(
            pair: "us-east-to-eu-west", source: ClusterEndpoint(region: "us-east", bootstrapServers: "a:1"),
            target: ClusterEndpoint(region: "eu-west", bootstrapServers: "b:1"), topics: TopicSelection(include: ["payments"]))
        XCTAssertEqual(built.heartbeatCopyTopic, "us-east.regionbridge.us-east-to-eu-west.heartbeats")
        XCTAssertTrue(built.topics.selects("regionbridge.us-east-to-eu-west.heartbeats"))
    }
}
