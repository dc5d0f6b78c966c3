import Foundation
import Kafka
import Monitoring
import Replication
import Topology
import XCTest

/// The alert state machine, exhaustively and without servers.
final class LagAlertRulesTests: XCTestCase {
    private let p0 = TopicPartition("payments", 0)
    private let p1 = TopicPartition("payments", 1)
    private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Rules with warn 5 s, critical 60 s, for 30 s.
    private func rules(holdFor: Duration = .seconds(30)) -> LagAlertRules {
        LagAlertRules(settings: LagSettings(warnSeconds: 5, criticalSeconds: 60, holdFor: holdFor), pair: "us-east-to-eu-west")
    }

    private func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    private func lagEvent(
        _ state: AlertEvent.State, _ severity: AlertEvent.Severity, _ partition: TopicPartition, records: Int64,
        seconds: Double, at time: Double
    ) -> AlertEvent {
        AlertEvent(
            alert: .replicationLag, state: state, severity: severity, pair: "us-east-to-eu-west", partition: partition,
            lagRecords: records, lagSeconds: seconds, at: at(time))
    }

    func testLevels() {
        let rules = rules()
        XCTAssertNil(rules.level(seconds: 0))
        XCTAssertNil(rules.level(seconds: 5))
        XCTAssertEqual(rules.level(seconds: 5.001), .warning)
        XCTAssertEqual(rules.level(seconds: 60), .warning)
        XCTAssertEqual(rules.level(seconds: 60.5), .critical)
    }

    func testWarnThenCriticalThenResolvedIsFourEventsAtTheHoldTimes() {
        var rules = rules()
        var events: [AlertEvent] = []
        // Warning-level lag from t=0; fires once it has held 30 s.
        for second in stride(from: 0.0, through: 29, by: 1) {
            events += rules.observe(p0, records: 10, seconds: 10 + second, at: at(second))
        }
        XCTAssertEqual(events, [])
        events += rules.observe(p0, records: 12, seconds: 40, at: at(30))
        XCTAssertEqual(events, [lagEvent(.firing, .warning, p0, records: 12, seconds: 40, at: 30)])
        XCTAssertEqual(rules.firing(p0), .warning)

        // Critical from t=31; fires at t=61.
        events = []
        for second in stride(from: 31.0, through: 60, by: 1) {
            events += rules.observe(p0, records: 100, seconds: 61 + second, at: at(second))
        }
        XCTAssertEqual(events, [])
        events += rules.observe(p0, records: 120, seconds: 122, at: at(61))
        XCTAssertEqual(events, [lagEvent(.firing, .critical, p0, records: 120, seconds: 122, at: 61)])

        XCTAssertTrue(rules.isFiring(p0, severity: .warning), "the warning keeps firing while critical fires")

        // Caught up from t=70; both alerts resolve at t=100, each with its own event, critical first.
        events = []
        for second in stride(from: 70.0, through: 99, by: 1) {
            events += rules.observe(p0, records: 0, seconds: 0, at: at(second))
        }
        XCTAssertEqual(events, [])
        events += rules.observe(p0, records: 0, seconds: 0, at: at(100))
        XCTAssertEqual(events, [
            lagEvent(.resolved, .critical, p0, records: 0, seconds: 0, at: 100),
            lagEvent(.resolved, .warning, p0, records: 0, seconds: 0, at: 100),
        ])
        XCTAssertNil(rules.firing(p0))

        // Staying fine produces nothing more.
        XCTAssertEqual(rules.observe(p0, records: 0, seconds: 0, at: at(200)), [])
        XCTAssertEqual(rules.evaluate(at: at(300)), [])
    }

    func testFlappingFasterThanTheHoldTimeProducesNothing() {
        var rules = rules()
        var events: [AlertEvent] = []
        // 20 s above warning, 1 s below, for ten minutes.
        var second = 0.0
        while second < 600 {
            for offset in stride(from: 0.0, to: 20, by: 1) {
                events += rules.observe(p0, records: 50, seconds: 30, at: at(second + offset))
            }
            events += rules.observe(p0, records: 0, seconds: 0, at: at(second + 20))
            second += 21
        }
        XCTAssertEqual(events, [])
        XCTAssertEqual(rules.evaluate(at: at(second)), [])

        // Once firing, dipping back under the threshold for less than the hold time does not resolve it.
        var firing = LagAlertRules(settings: LagSettings(holdFor: .seconds(30)), pair: "us-east-to-eu-west")
        XCTAssertEqual(firing.observe(p0, records: 5, seconds: 10, at: at(0)).count, 0)
        XCTAssertEqual(firing.observe(p0, records: 5, seconds: 10, at: at(30)).count, 1)
        events = []
        for cycle in 0..<20 {
            let start = 31.0 + Double(cycle) * 25
            events += firing.observe(p0, records: 0, seconds: 0, at: at(start))
            events += firing.observe(p0, records: 0, seconds: 0, at: at(start + 20))
            events += firing.observe(p0, records: 5, seconds: 10, at: at(start + 21))
        }
        XCTAssertEqual(events, [])
        XCTAssertEqual(firing.firing(p0), .warning)
    }

    func testRepeatedObservationsGiveOneEventPerTransition() {
        var rules = rules(holdFor: .zero)
        var events: [AlertEvent] = []
        for second in 0..<100 {
            events += rules.observe(p0, records: 1, seconds: 7, at: at(Double(second)))
            events += rules.evaluate(at: at(Double(second) + 0.5))
        }
        XCTAssertEqual(events, [lagEvent(.firing, .warning, p0, records: 1, seconds: 7, at: 0)])
    }

    func testWithoutHoldTimeEveryChangeIsImmediate() {
        var rules = rules(holdFor: .zero)
        XCTAssertEqual(rules.observe(p0, records: 1, seconds: 61, at: at(0)), [
            lagEvent(.firing, .warning, p0, records: 1, seconds: 61, at: 0),
            lagEvent(.firing, .critical, p0, records: 1, seconds: 61, at: 0),
        ])
        XCTAssertEqual(rules.observe(p0, records: 1, seconds: 6, at: at(1)), [lagEvent(.resolved, .critical, p0, records: 1, seconds: 6, at: 1)])
        XCTAssertEqual(rules.observe(p0, records: 0, seconds: 0, at: at(2)), [lagEvent(.resolved, .warning, p0, records: 0, seconds: 0, at: 2)])
    }

    /// The issue's case: warning fired, then critical, then everything cleared: the warning resolves too.
    func testAWarningThatFiredResolvesAfterACriticalOne() {
        var rules = LagAlertRules(settings: LagSettings(warnSeconds: 2, criticalSeconds: 4, holdFor: .seconds(1)), pair: "us-east-to-eu-west")
        var events: [AlertEvent] = []
        for (time, seconds) in [(0.0, 3.0), (1, 3), (2, 5), (3, 9), (4, 20), (5, 0.5), (6, 0.2), (7, 0)] {
            events += rules.observe(p0, records: 1, seconds: seconds, at: at(time))
        }
        XCTAssertEqual(events.map { "\($0.state.rawValue) \($0.severity.rawValue)" },
                       ["firing warning", "firing critical", "resolved critical", "resolved warning"])
    }

    /// Whatever the lag does, each (severity, partition) alternates firing and resolved, starting with firing, and
    /// once the lag has stayed at 0 for the hold time nothing fires any more.
    func testEveryAlertThatFiredResolvesOnceTheLagClears() {
        var generator = SplitMix(seed: 12)
        for _ in 0..<200 {
            let hold = Double(generator.next() % 4)
            var rules = LagAlertRules(
                settings: LagSettings(warnSeconds: 2, criticalSeconds: 4, holdFor: .seconds(Int64(hold))), pair: "p")
            var events: [AlertEvent] = []
            var time = 0.0
            for _ in 0..<Int(generator.next() % 60) {
                time += Double(generator.next() % 3) * 0.5
                let partition = generator.next() % 2 == 0 ? p0 : p1
                events += rules.observe(partition, records: 1, seconds: Double(generator.next() % 9), at: at(time))
                if generator.next() % 3 == 0 { events += rules.evaluate(at: at(time + 0.25)) }
            }
            for partition in [p0, p1] { events += rules.observe(partition, records: 0, seconds: 0, at: at(time + 1)) }
            events += rules.evaluate(at: at(time + 1 + hold))
            XCTAssertEqual(rules.evaluate(at: at(time + 100)), [])
            for partition in [p0, p1] {
                for severity in [AlertEvent.Severity.warning, .critical] {
                    let states = events.filter { $0.partition == partition && $0.severity == severity }.map(\.state)
                    let expected = (0..<states.count).map { $0 % 2 == 0 ? AlertEvent.State.firing : .resolved }
                    XCTAssertEqual(states, expected, "\(partition) \(severity): \(events.map(\.jsonLine))")
                    XCTAssertEqual(states.count % 2, 0, "\(partition) \(severity) resolved: \(states)")
                }
            }
        }
    }

    func testStraightToCriticalFiresBothAndTheCriticalResolvesAloneAfterTheHoldTime() {
        var rules = rules()
        var events: [AlertEvent] = []
        for second in stride(from: 0.0, through: 30, by: 5) {
            events += rules.observe(p0, records: 500, seconds: 90, at: at(second))
        }
        XCTAssertEqual(events, [
            lagEvent(.firing, .warning, p0, records: 500, seconds: 90, at: 30),
            lagEvent(.firing, .critical, p0, records: 500, seconds: 90, at: 30),
        ])
        // Back to warning-level lag at t=40: the critical alert resolves once that has lasted 30 s; the warning goes on.
        XCTAssertEqual(rules.observe(p0, records: 40, seconds: 20, at: at(40)), [])
        XCTAssertEqual(rules.observe(p0, records: 40, seconds: 20, at: at(69)), [])
        XCTAssertEqual(rules.observe(p0, records: 40, seconds: 20, at: at(70)), [lagEvent(.resolved, .critical, p0, records: 40, seconds: 20, at: 70)])
        XCTAssertEqual(rules.firing(p0), .warning)
    }

    func testWarningHeldWhileClimbingToCriticalStillFiresWarningFirst() {
        var rules = rules()
        XCTAssertEqual(rules.observe(p0, records: 1, seconds: 10, at: at(0)), [])
        XCTAssertEqual(rules.observe(p0, records: 1, seconds: 70, at: at(10)), [])
        // At least warning since t=0: warning fires at t=30; critical since t=10 fires at t=40.
        XCTAssertEqual(rules.evaluate(at: at(30)), [lagEvent(.firing, .warning, p0, records: 1, seconds: 70, at: 30)])
        XCTAssertEqual(rules.evaluate(at: at(39)), [])
        XCTAssertEqual(rules.evaluate(at: at(40)), [lagEvent(.firing, .critical, p0, records: 1, seconds: 70, at: 40)])
    }

    func testTimePassingFiresWithoutNewObservations() {
        var rules = rules()
        XCTAssertEqual(rules.observe(p0, records: 3, seconds: 8, at: at(0)), [])
        XCTAssertEqual(rules.evaluate(at: at(29.999)), [])
        XCTAssertEqual(rules.evaluate(at: at(30)), [lagEvent(.firing, .warning, p0, records: 3, seconds: 8, at: 30)])
        XCTAssertEqual(rules.evaluate(at: at(31)), [])
    }

    func testPartitionsAreIndependent() {
        var rules = rules(holdFor: .seconds(10))
        _ = rules.observe(p0, records: 1, seconds: 10, at: at(0))
        _ = rules.observe(p1, records: 0, seconds: 0, at: at(0))
        _ = rules.observe(p1, records: 9, seconds: 100, at: at(5))
        XCTAssertEqual(rules.evaluate(at: at(10)), [lagEvent(.firing, .warning, p0, records: 1, seconds: 10, at: 10)])
        XCTAssertEqual(rules.evaluate(at: at(15)), [
            lagEvent(.firing, .warning, p1, records: 9, seconds: 100, at: 15),
            lagEvent(.firing, .critical, p1, records: 9, seconds: 100, at: 15),
        ])
        XCTAssertEqual(rules.forget(p1, at: at(16)), [
            lagEvent(.resolved, .critical, p1, records: 9, seconds: 100, at: 16),
            lagEvent(.resolved, .warning, p1, records: 9, seconds: 100, at: 16),
        ])
        XCTAssertEqual(rules.forget(p1, at: at(17)), [])
        XCTAssertEqual(rules.firing(p0), .warning)
    }

    func testUnreachableClusterFiresAfterTheHoldTimeAndResolves() {
        var rules = rules()
        func event(_ state: AlertEvent.State, _ cluster: ClusterRole, _ time: Double) -> AlertEvent {
            AlertEvent(alert: .clusterUnreachable, state: state, severity: .critical, pair: "us-east-to-eu-west", cluster: cluster, at: at(time))
        }
        XCTAssertEqual(rules.observe(cluster: .target, reachable: true, at: at(0)), [])
        XCTAssertEqual(rules.observe(cluster: .source, reachable: true, at: at(0)), [])
        // The target stops answering at t=1; a short outage (under 30 s) says nothing.
        XCTAssertEqual(rules.observe(cluster: .target, reachable: false, at: at(1)), [])
        XCTAssertEqual(rules.observe(cluster: .target, reachable: true, at: at(20)), [])
        XCTAssertEqual(rules.evaluate(at: at(60)), [])
        // A long one fires once, at 30 s.
        XCTAssertEqual(rules.observe(cluster: .target, reachable: false, at: at(100)), [])
        XCTAssertEqual(rules.observe(cluster: .target, reachable: false, at: at(110)), [])
        XCTAssertEqual(rules.evaluate(at: at(130)), [event(.firing, .target, 130)])
        XCTAssertEqual(rules.observe(cluster: .target, reachable: false, at: at(140)), [])
        XCTAssertTrue(rules.isFiring(cluster: .target))
        XCTAssertFalse(rules.isFiring(cluster: .source))
        // Answering again resolves it once that has held for 30 s.
        XCTAssertEqual(rules.observe(cluster: .target, reachable: true, at: at(150)), [])
        XCTAssertEqual(rules.evaluate(at: at(179)), [])
        XCTAssertEqual(rules.evaluate(at: at(180)), [event(.resolved, .target, 180)])
        XCTAssertFalse(rules.isFiring(cluster: .target))
    }

    /// A bridge killed while alerts fire starts again with them taken over from its alerts file: they resolve
    /// once their condition clears; one of a partition it never observes (another instance copies it) resolves
    /// after 30 s.
    func testAlertsOfAnEarlierRunAreTakenOverAndResolve() {
        var rules = rules(holdFor: .seconds(2))
        let cluster = AlertEvent(alert: .clusterUnreachable, state: .firing, severity: .critical, pair: "us-east-to-eu-west", cluster: .target, at: at(-50))
        rules.restore(firing: [
            lagEvent(.firing, .warning, p0, records: 9, seconds: 30, at: -60),
            lagEvent(.firing, .critical, p0, records: 90, seconds: 80, at: -55),
            lagEvent(.firing, .warning, p1, records: 5, seconds: 10, at: -60),
            cluster,
            AlertEvent(alert: .clusterUnreachable, state: .firing, severity: .critical, pair: "another-pair", cluster: .source, at: at(-50)),
        ], at: at(0))
        XCTAssertEqual(rules.firing(p0), .critical)
        XCTAssertTrue(rules.isFiring(cluster: .target))
        XCTAssertFalse(rules.isFiring(cluster: .source), "another pair's alert is not this one's")
        XCTAssertEqual(rules.observe(p0, records: 0, seconds: 0, at: at(1)), [])
        XCTAssertEqual(rules.observe(cluster: .target, reachable: true, at: at(1)), [])
        XCTAssertEqual(rules.evaluate(at: at(3)), [
            lagEvent(.resolved, .critical, p0, records: 0, seconds: 0, at: 3),
            lagEvent(.resolved, .warning, p0, records: 0, seconds: 0, at: 3),
            AlertEvent(alert: .clusterUnreachable, state: .resolved, severity: .critical, pair: "us-east-to-eu-west", cluster: .target, at: at(3)),
        ])
        XCTAssertEqual(rules.evaluate(at: at(29)), [])
        XCTAssertEqual(rules.evaluate(at: at(30)), [lagEvent(.resolved, .warning, p1, records: 5, seconds: 10, at: 30)])
        XCTAssertEqual(rules.evaluate(at: at(200)), [])
    }

    func testAlertsFileSaysWhatStillFires() throws {
        let lines = [
            lagEvent(.firing, .warning, p0, records: 1, seconds: 6, at: 0),
            lagEvent(.firing, .critical, p0, records: 9, seconds: 61.5, at: 1),
            lagEvent(.resolved, .critical, p0, records: 0, seconds: 0, at: 2),
            AlertEvent(alert: .clusterUnreachable, state: .firing, severity: .critical, pair: "us-east-to-eu-west", cluster: .target, at: at(3.25)),
            lagEvent(.firing, .warning, p1, records: 1, seconds: 6, at: 4),
            lagEvent(.resolved, .warning, p1, records: 0, seconds: 0, at: 5),
        ]
        for event in lines { XCTAssertEqual(AlertEvent(jsonLine: event.jsonLine), event) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alerts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("alerts.jsonl").path
        try (lines.map(\.jsonLine) + ["not an event"]).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try JSONLinesAlertSink(path: path).firingAtOpen, [lines[0], lines[3]])
        XCTAssertEqual(try JSONLinesAlertSink(path: folder.appendingPathComponent("new.jsonl").path).firingAtOpen, [])
    }

    func testEventsAsJSONLines() {
        let lag = lagEvent(.firing, .critical, p1, records: 120, seconds: 61.5, at: 0)
        XCTAssertEqual(lag.jsonLine, #"{"alert":"replication_lag","state":"firing","severity":"critical","pair":"us-east-to-eu-west","cluster":null,"topic":"payments","partition":1,"lag_records":120,"lag_seconds":61.5,"at":"2027-01-15T08:00:00Z"}"#)
        let cluster = AlertEvent(
            alert: .clusterUnreachable, state: .resolved, severity: .critical, pair: "p\"q", cluster: .source,
            at: at(0.25))
        XCTAssertEqual(cluster.jsonLine, #"{"alert":"cluster_unreachable","state":"resolved","severity":"critical","pair":"p\"q","cluster":"source","topic":null,"partition":null,"lag_records":null,"lag_seconds":null,"at":"2027-01-15T08:00:00.250Z"}"#)
        let parsed = try? JSONSerialization.jsonObject(with: Data(lag.jsonLine.utf8)) as? [String: Any]
        XCTAssertEqual(parsed?.keys.sorted(), ["alert", "at", "cluster", "lag_records", "lag_seconds", "pair", "partition", "severity", "state", "topic"])
    }
}

/// A small deterministic generator for the randomised rule test.
private struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
