import Foundation
import Kafka
import Monitoring
import Replication
import Topology
import XCTest

/// `heartbeat_stale`: its transitions in the rules, the record the writer writes, and the event line.
final class HeartbeatAlertTests: XCTestCase {
    private let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    private func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    /// Critical 60 s, for 30 s.
    private func rules() -> LagAlertRules {
        LagAlertRules(settings: LagSettings(warnSeconds: 5, criticalSeconds: 60, holdFor: .seconds(30)), pair: "p")
    }

    private func event(_ state: AlertEvent.State, age: Double, at time: Double) -> AlertEvent {
        AlertEvent(alert: .heartbeatStale, state: state, severity: .critical, pair: "p", lagSeconds: age, at: at(time))
    }

    func testFiresAfterForAboveCriticalAndResolvesAfterForBelowOneEventPerTransition() {
        var rules = rules()
        XCTAssertEqual(rules.observe(heartbeatAge: 1, at: at(0)), [])
        XCTAssertEqual(rules.observe(heartbeatAge: 60, at: at(1)), [], "at the threshold is not above it")
        XCTAssertEqual(rules.observe(heartbeatAge: 61, at: at(2)), [])
        XCTAssertEqual(rules.evaluate(at: at(31)), [])
        XCTAssertEqual(rules.observe(heartbeatAge: 91, at: at(32)), [event(.firing, age: 91, at: 32)])
        XCTAssertTrue(rules.isHeartbeatStale)
        // Still stale: no new event, however long.
        XCTAssertEqual(rules.observe(heartbeatAge: 200, at: at(100)), [])
        XCTAssertEqual(rules.evaluate(at: at(500)), [])
        // Heartbeats arrive again: resolved once the age has been low for `for`, by evaluation alone.
        XCTAssertEqual(rules.observe(heartbeatAge: 0.5, at: at(501)), [])
        XCTAssertEqual(rules.evaluate(at: at(530)), [])
        XCTAssertEqual(rules.evaluate(at: at(531)), [event(.resolved, age: 0.5, at: 531)])
        XCTAssertFalse(rules.isHeartbeatStale)
        XCTAssertEqual(rules.evaluate(at: at(900)), [])
    }

    func testAFlapShorterThanForChangesNothing() {
        var rules = rules()
        XCTAssertEqual(rules.observe(heartbeatAge: 70, at: at(0)), [])
        XCTAssertEqual(rules.observe(heartbeatAge: 1, at: at(20)), [])
        XCTAssertEqual(rules.observe(heartbeatAge: 70, at: at(40)), [])
        XCTAssertEqual(rules.evaluate(at: at(69)), [])
        XCTAssertEqual(rules.evaluate(at: at(70)).map(\.state), [.firing])
    }

    func testIndependentOfLagAndClusters() {
        var rules = rules()
        // An idle source: lag 0 everywhere, heartbeats stale all the same.
        _ = rules.observe(TopicPartition("payments", 0), records: 0, seconds: 0, at: at(0))
        _ = rules.observe(heartbeatAge: 100, at: at(0))
        XCTAssertEqual(rules.evaluate(at: at(30)), [event(.firing, age: 100, at: 30)])
        XCTAssertNil(rules.firing(TopicPartition("payments", 0)))
        XCTAssertFalse(rules.isFiring(cluster: .target))
    }

    func testARestoredAlertResolvesWhenHeartbeatsAreFreshOrWhenNoneAreWatched() {
        var restored = rules()
        restored.restore(firing: [event(.firing, age: 99, at: -10)], at: at(0))
        XCTAssertTrue(restored.isHeartbeatStale)
        XCTAssertEqual(restored.observe(heartbeatAge: 1, at: at(1)), [])
        XCTAssertEqual(restored.evaluate(at: at(31)), [event(.resolved, age: 1, at: 31)])

        // Heartbeats turned off since: nothing observes the age, the restored alert resolves at the deadline.
        var off = rules()
        off.restore(firing: [event(.firing, age: 99, at: -10)], at: at(0))
        XCTAssertEqual(off.evaluate(at: at(29)), [])
        XCTAssertEqual(off.evaluate(at: at(30)), [event(.resolved, age: 99, at: 30)])
        XCTAssertFalse(off.isHeartbeatStale)
    }

    func testTheEventLineRoundTrips() throws {
        let firing = event(.firing, age: 61.5, at: 0)
        XCTAssertEqual(firing.jsonLine, #"{"alert":"heartbeat_stale","state":"firing","severity":"critical","pair":"p","cluster":null,"topic":null,"partition":null,"lag_records":null,"lag_seconds":61.5,"at":"2027-01-15T08:00:00Z"}"#)
        XCTAssertEqual(AlertEvent(jsonLine: firing.jsonLine), firing)
    }

    func testTheHeartbeatRecord() throws {
        let heartbeat = HeartbeatRecord(pair: "us-east-to-eu-west", sourceRegion: "us-east", writtenAtMilliseconds: 1_767_225_600_123)
        XCTAssertEqual(String(decoding: heartbeat.value, as: UTF8.self),
                       #"{"pair":"us-east-to-eu-west","source_region":"us-east","written_at_ms":1767225600123}"#)
        XCTAssertEqual(HeartbeatRecord(value: heartbeat.value), heartbeat)
        XCTAssertNil(HeartbeatRecord(value: Array("{}".utf8)))
        // Another pair's heartbeat or any other value: the record's timestamp.
        let record = KafkaRecord(topic: "t", partition: 0, offset: 0, key: nil, value: heartbeat.value,
                                 timestamp: KafkaTimestamp(milliseconds: 5, kind: .createTime))
        XCTAssertEqual(HeartbeatRecord.writtenAt(record, pair: "us-east-to-eu-west"), 1_767_225_600_123)
        XCTAssertEqual(HeartbeatRecord.writtenAt(record, pair: "other"), 5)
        let reading = HeartbeatReading(topic: "t", newestWrittenAt: 1_000, exists: true)
        XCTAssertEqual(reading.age(at: Date(timeIntervalSince1970: 3.5)), 2.5)
        XCTAssertEqual(reading.age(at: Date(timeIntervalSince1970: 0)), 0, "never negative")
    }
}
