import Topology
import XCTest

/// The optional `instances:` section: one process, or a group of processes sharing the pair.
final class InstanceSettingsTests: XCTestCase {
    private func document(_ extra: String) -> String {
        TopologyTests.document(appending: extra)
    }

    func testWithoutTheSectionOneProcessRunsThePair() throws {
        let topology = try TopologyLoader.parse(yaml: document(""))
        XCTAssertEqual(topology.instances, InstanceSettings(mode: .single, sessionTimeout: .seconds(10), commitInterval: .milliseconds(100)))
        XCTAssertEqual(topology.consumerGroup, "regionbridge.p")
    }

    func testGroupModeWithItsTimings() throws {
        let topology = try TopologyLoader.parse(yaml: document("""
            instances:
              mode: group
              session_timeout: 6s
              commit_interval: 250ms
            """))
        XCTAssertEqual(topology.instances, InstanceSettings(mode: .group, sessionTimeout: .seconds(6), commitInterval: .milliseconds(250)))
    }

    func testBadValuesAreReportedWithTheirLines() {
        XCTAssertThrowsError(try TopologyLoader.parse(yaml: document("""
            instances:
              mode: cluster
              session_timeout: 10ms
              commit_interval: soon
              replicas: 3
            """), file: "p.yaml")) { error in
            let issues = (error as? TopologyError)?.issues ?? []
            XCTAssertEqual(issues.map(\.key), ["instances.mode", "instances.session_timeout", "instances.commit_interval", "instances.replicas"])
            XCTAssertEqual(issues.map(\.line), [11, 12, 13, 14])
            XCTAssertEqual(issues.first?.message, "mode must be single or group")
        }
    }
}
