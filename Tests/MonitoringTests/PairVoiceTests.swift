import Foundation
import Kafka
import Logging
import Monitoring
import Replication
import Synchronization
import Topology
import XCTest

/// Group mode's one voice per pair (``LagAlerter/followVoice(_:openAlerts:)``): two instances of a pair observe the
/// same cluster outage and the same RPO violation, and write to one feed (as both write to the alerts topic). Only
/// the instance that leads speaks; when the lead moves, the next one takes the open alerts over from the feed and
/// resolves them: every alert fires once and resolves once.
final class PairVoiceTests: XCTestCase {
    /// A flag shared with the alerter's closures.
    final class Switch: Sendable {
        private let on: Atomic<Bool>
        init(_ on: Bool = false) { self.on = Atomic(on) }
        var isOn: Bool { on.load(ordering: .relaxed) }
        func set(_ value: Bool) { on.store(value, ordering: .relaxed) }
    }

    private let settings = LagSettings(warnSeconds: 5, criticalSeconds: 60, holdFor: .seconds(2))

    /// One instance: its alerter follows `leads`, and reads open alerts from the shared feed.
    private func instance(_ feed: RecordingSink, _ clock: ManualClock, leads: Switch, readable: Switch) -> LagAlerter {
        let alerter = LagAlerter(settings: settings, pair: "p", sinks: [feed], now: { clock.now }, logger: Logger(label: "test"))
        alerter.followVoice({ leads.isOn }, openAlerts: { () throws(AlertSinkError) in
            guard readable.isOn else { throw AlertSinkError("cannot read the open alerts of topic regionbridge.p.alerts: target down") }
            let text = feed.events.withLock { $0 }.map(\.jsonLine).joined(separator: "\n")
            return try Self.firing(text)
        })
        return alerter
    }

    /// What the feed says is firing, as `KafkaAlertSink.firing` reads it from the topic.
    private static func firing(_ text: String) throws(AlertSinkError) -> [AlertEvent] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("voice-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("feed.jsonl").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return try JSONLinesAlertSink(path: path).firingAtOpen
    }

    /// Evaluates until the alerter's take-over (on a thread of its own) settled on `speaking`.
    private func settle(_ alerter: LagAlerter, speaking: Bool) throws {
        let deadline = ContinuousClock.now + .seconds(5)
        alerter.evaluate()
        while alerter.speaksForPair != speaking, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.005)
            alerter.evaluate()
        }
        XCTAssertEqual(alerter.speaksForPair, speaking)
    }

    private func violation(_ clock: ManualClock, payments: Int) -> RPOCheckResult {
        let risk = RPOAtRisk(payments: payments, eventIDs: (0..<payments).map { "pay-\($0)" }, neverPublished: payments)
        return RPOCheckResult(
            at: clock.now, atRisk: risk, violation: risk, oldestAtRisk: payments > 0 ? clock.now.addingTimeInterval(-10) : nil,
            verifiedUntil: clock.now, durationSeconds: 0.01)
    }

    func testOnlyTheLeaderSpeaksAndTheNextLeaderTakesOverAndResolvesWhatItFired() throws {
        let feed = RecordingSink()
        let clock = ManualClock()
        let leadsA = Switch(), leadsB = Switch(), readable = Switch(true)
        let a = instance(feed, clock, leads: leadsA, readable: readable)
        let b = instance(feed, clock, leads: leadsB, readable: readable)
        leadsA.set(true)
        try settle(a, speaking: true)
        try settle(b, speaking: false)

        // Both see the target down and a payment missing, for longer than lag.for.
        for _ in 0..<4 {
            for alerter in [a, b] {
                alerter.clusterReachable(.target, false)
                alerter.rpoChecked(violation(clock, payments: 1))
                alerter.evaluate()
            }
            clock.advance(1)
        }
        XCTAssertEqual(feed.events.withLock { $0 }.map { "\($0.alert.rawValue) \($0.state.rawValue)" },
                       ["rpo_violation firing", "cluster_unreachable firing"], "one voice: each fires once")

        // A dies; B leads now and takes both over from the feed: no second firing.
        leadsA.set(false)
        leadsB.set(true)
        try settle(b, speaking: true)
        b.clusterReachable(.target, false)
        b.rpoChecked(violation(clock, payments: 1))
        clock.advance(3)
        b.evaluate()
        XCTAssertEqual(feed.events.withLock { $0 }.count, 2, "\(feed.events.withLock { $0 })")

        // The target is back and the payment replicated: B resolves both, once.
        for _ in 0..<4 {
            b.clusterReachable(.target, true)
            b.rpoChecked(violation(clock, payments: 0))
            a.clusterReachable(.target, true)  // A (alive, no longer leading) says nothing
            a.evaluate()
            b.evaluate()
            clock.advance(1)
        }
        XCTAssertFalse(a.speaksForPair)
        XCTAssertEqual(feed.events.withLock { $0 }.map { "\($0.alert.rawValue) \($0.state.rawValue)" }, [
            "rpo_violation firing", "cluster_unreachable firing", "rpo_violation resolved", "cluster_unreachable resolved",
        ])
    }

    func testAFeedThatCannotBeReadLetsTheNewVoiceFireAfreshRatherThanStaySilent() throws {
        let feed = RecordingSink()
        let clock = ManualClock()
        let leads = Switch(), readable = Switch()
        let alerter = instance(feed, clock, leads: leads, readable: readable)
        alerter.clusterReachable(.target, false)  // not the voice yet: ignored
        clock.advance(3)
        alerter.evaluate()
        XCTAssertEqual(feed.events.withLock { $0 }, [])
        leads.set(true)
        try settle(alerter, speaking: true)  // an unreadable feed does not keep the instance silent
        alerter.clusterReachable(.target, false)
        clock.advance(3)
        alerter.evaluate()
        XCTAssertEqual(feed.events.withLock { $0 }.map { "\($0.alert.rawValue) \($0.state.rawValue) \($0.cluster?.rawValue ?? "")" },
                       ["cluster_unreachable firing target"])
    }

    func testPartitionLagAlertsStayWithTheOwnerWhateverTheVoice() throws {
        let feed = RecordingSink()
        let clock = ManualClock()
        let alerter = instance(feed, clock, leads: Switch(), readable: Switch(true))
        let partition = TopicPartition("payments", 1)
        alerter.lag(partition: partition, records: 10, seconds: 20)
        clock.advance(3)
        alerter.lag(partition: partition, records: 10, seconds: 20)
        alerter.evaluate()
        XCTAssertEqual(feed.events.withLock { $0 }.map { "\($0.alert.rawValue) \($0.state.rawValue)" }, ["replication_lag firing"])
    }
}
