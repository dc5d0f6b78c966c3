import Foundation
import Kafka
import Logging
import Monitoring
import Replication
import Synchronization
import Topology
import XCTest

/// A sink that keeps what it is given.
final class RecordingSink: AlertSink {
    let events = Mutex<[AlertEvent]>([])
    func deliver(_ events: [AlertEvent]) throws(AlertSinkError) { self.events.withLock { $0 += events } }
}

/// A sink that always fails.
struct FailingSink: AlertSink {
    func deliver(_ events: [AlertEvent]) throws(AlertSinkError) { throw AlertSinkError("disk full") }
}

/// A clock moved by hand.
final class ManualClock: Sendable {
    private let seconds = Mutex<Double>(1_800_000_000)
    var now: Date { Date(timeIntervalSince1970: seconds.withLock { $0 }) }
    func advance(_ by: Double) { seconds.withLock { $0 += by } }
}

final class LagAlerterTests: XCTestCase {
    func testObserverReportsGoThroughTheRulesToEverySinkAndTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alerts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("alerts.jsonl").path
        try Data("earlier line\n".utf8).write(to: URL(fileURLWithPath: path))

        let clock = ManualClock()
        let recording = RecordingSink()
        let file = try JSONLinesAlertSink(path: path)
        let alerter = LagAlerter(
            settings: LagSettings(warnSeconds: 5, criticalSeconds: 60, holdFor: .seconds(10)), pair: "pair-a",
            sinks: [FailingSink(), recording, file], now: { clock.now }, logger: Logger(label: "test"))
        let observer: any ReplicationObserver = alerter
        let partition = TopicPartition("payments", 2)
        observer.lag(partition: partition, records: 7, seconds: 8)
        clock.advance(5)
        observer.lag(partition: partition, records: 9, seconds: 13)
        alerter.evaluate()
        XCTAssertEqual(recording.events.withLock { $0 }, [])
        clock.advance(5)
        alerter.evaluate()
        observer.clusterReachable(.source, false)
        clock.advance(10)
        alerter.evaluate()
        observer.recordsCopied(partition: partition, count: 1, bytes: 1)  // ignored by the alerter
        file.close(timeout: .seconds(1))

        let expected = [
            AlertEvent(alert: .replicationLag, state: .firing, severity: .warning, pair: "pair-a", partition: partition,
                       lagRecords: 9, lagSeconds: 13, at: Date(timeIntervalSince1970: 1_800_000_010)),
            AlertEvent(alert: .clusterUnreachable, state: .firing, severity: .critical, pair: "pair-a", cluster: .source,
                       at: Date(timeIntervalSince1970: 1_800_000_020)),
        ]
        XCTAssertEqual(recording.events.withLock { $0 }, expected)
        let lines = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(lines, "earlier line\n" + expected.map { $0.jsonLine + "\n" }.joined())
    }

    func testAlerterServiceEvaluatesUntilCancelled() async throws {
        let clock = ManualClock()
        let recording = RecordingSink()
        let alerter = LagAlerter(
            settings: LagSettings(holdFor: .seconds(1)), pair: "p", sinks: [recording], tick: .milliseconds(10),
            now: { clock.now }, logger: Logger(label: "test"))
        alerter.clusterReachable(.target, false)
        clock.advance(2)
        let task = Task { try await alerter.run() }
        let deadline = ContinuousClock.now + .seconds(5)
        while recording.events.withLock({ $0.isEmpty }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        try await task.value
        XCTAssertEqual(recording.events.withLock { $0.map(\.alert) }, [.clusterUnreachable])
    }

    /// A partition handed to another instance resolves its alerts here; restored alerts this run never watched
    /// resolve when the alerter stops.
    func testReleasedPartitionsAndUnwatchedRestoredAlertsResolve() async throws {
        let clock = ManualClock()
        let recording = RecordingSink()
        let p0 = TopicPartition("payments", 0)
        let p1 = TopicPartition("payments", 1)
        let restored = AlertEvent(alert: .replicationLag, state: .firing, severity: .warning, pair: "p", partition: p1, lagRecords: 3, lagSeconds: 9, at: clock.now)
        let alerter = LagAlerter(
            settings: LagSettings(warnSeconds: 5, criticalSeconds: 60, holdFor: .zero), pair: "p", sinks: [recording],
            tick: .milliseconds(10), now: { clock.now }, restoring: [restored], logger: Logger(label: "test"))
        alerter.lag(partition: p0, records: 10, seconds: 30)
        alerter.evaluate()
        alerter.released(partition: p0)
        alerter.evaluate()
        XCTAssertEqual(recording.events.withLock { $0.map { "\($0.state.rawValue) \($0.partition!)" } }, ["firing payments/0", "resolved payments/0"])
        let task = Task { try await alerter.run() }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        try await task.value
        XCTAssertEqual(recording.events.withLock { $0.map { "\($0.state.rawValue) \($0.partition!)" } }, ["firing payments/0", "resolved payments/0", "resolved payments/1"])
    }

    func testReadinessNeedsBothClustersAndARunningPair() {
        let readiness = BridgeReadiness()
        let observer: any ReplicationObserver = ObserverGroup([readiness])
        XCTAssertFalse(readiness.isReady)
        observer.clusterReachable(.source, true)
        observer.clusterReachable(.target, true)
        XCTAssertFalse(readiness.isReady)
        observer.running(true)
        XCTAssertTrue(readiness.isReady)
        observer.clusterReachable(.target, false)
        XCTAssertFalse(readiness.isReady)
        observer.clusterReachable(.target, true)
        observer.running(false)
        XCTAssertFalse(readiness.isReady)
    }

    func testAlertsFileThatCannotBeCreatedIsATypedError() {
        XCTAssertThrowsError(try JSONLinesAlertSink(path: "/nonexistent-folder/alerts.jsonl")) { error in
            XCTAssertEqual((error as? AlertSinkError)?.message, "cannot create alerts file /nonexistent-folder/alerts.jsonl")
        }
    }
}
