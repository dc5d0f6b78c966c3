import Foundation
import Logging
import Monitoring
import Replication
import Synchronization
import Topology
import XCTest

/// `rpo_violation` and `postgres_unreachable`: which events a sequence of check results gives, without servers.
final class RPOAlertRulesTests: XCTestCase {
    private let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    private func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    /// `lag.for` 10 s.
    private func rules() -> RPOAlertRules { RPOAlertRules(pair: "p", holdFor: .seconds(10)) }

    private func violation(_ ids: [String], amount: String = "10.50", notReplicated: Int? = nil) -> RPOAtRisk {
        RPOAtRisk(payments: ids.count, amounts: ["EUR": amount], eventIDs: ids,
                  notReplicated: notReplicated ?? ids.count, neverPublished: ids.count - (notReplicated ?? ids.count))
    }

    /// A check at `time` whose violation is `violating` (nil: none) and whose at-risk set is `atRisk` more payments.
    private func check(_ time: Double, _ violating: RPOAtRisk? = nil, atRisk: Int = 0) -> RPOCheckResult {
        let none = RPOAtRisk(amounts: ["EUR": "0"])
        let violation = violating ?? none
        var risk = violation
        risk.payments += atRisk
        return RPOCheckResult(at: at(time), atRisk: risk, violation: violation, oldestAtRisk: nil, verifiedUntil: at(time), durationSeconds: 0.1)
    }

    private func rpo(_ state: AlertEvent.State, _ details: RPOAtRisk, at time: Double) -> AlertEvent {
        AlertEvent(alert: .rpoViolation, state: state, severity: .critical, pair: "p", at: at(time), rpo: details)
    }

    private func postgres(_ state: AlertEvent.State, at time: Double) -> AlertEvent {
        AlertEvent(alert: .postgresUnreachable, state: state, severity: .critical, pair: "p", at: at(time))
    }

    func testViolationFiresWithTheFirstCheckThatFindsOneAndResolvesWithTheFirstThatFindsNoneOneEventEach() {
        var rules = rules()
        // Payments at risk but younger than max_age: no violation, no event.
        XCTAssertEqual(rules.observe(check(0, atRisk: 3)), [])
        let first = violation(["pay-1"], amount: "1.50")
        XCTAssertEqual(rules.observe(check(1, first, atRisk: 2)), [rpo(.firing, first, at: 1)])
        XCTAssertTrue(rules.isViolationFiring)
        // The set changes while firing (more payments, other ones): no new event.
        XCTAssertEqual(rules.observe(check(2, violation(["pay-1", "pay-2"], amount: "4.00"))), [])
        XCTAssertEqual(rules.observe(check(3, violation(["pay-2"], amount: "2.50"))), [])
        XCTAssertEqual(rules.evaluate(at: at(500)), [], "time alone resolves nothing")
        // None any more: resolved at once (max_age is the hold time), with the empty set.
        XCTAssertEqual(rules.observe(check(501, atRisk: 1)), [rpo(.resolved, RPOAtRisk(amounts: ["EUR": "0"]), at: 501)])
        XCTAssertFalse(rules.isViolationFiring)
        XCTAssertEqual(rules.observe(check(502)), [])
        // A new episode is a new pair of events.
        XCTAssertEqual(rules.observe(check(600, first)).map(\.state), [.firing])
    }

    func testAFailedCheckChangesNothingAboutTheViolation() {
        var rules = rules()
        let missing = violation(["pay-7"])
        XCTAssertEqual(rules.observe(check(0, missing)), [rpo(.firing, missing, at: 0)])
        XCTAssertEqual(rules.observe(postgresReachable: false, at: at(1)), [])
        XCTAssertTrue(rules.isViolationFiring, "no evidence either way")
        XCTAssertEqual(rules.observe(postgresReachable: false, at: at(5)), [])
        // Postgres answers again before lag.for: no postgres event; the check resolves the violation.
        XCTAssertEqual(rules.observe(check(6)), [rpo(.resolved, RPOAtRisk(amounts: ["EUR": "0"]), at: 6)])
        XCTAssertEqual(rules.evaluate(at: at(100)), [])
    }

    func testPostgresUnreachableFiresAfterForAndResolvesAfterForOfAnswers() {
        var rules = rules()
        XCTAssertEqual(rules.observe(check(0)), [])
        XCTAssertEqual(rules.observe(postgresReachable: false, at: at(1)), [])
        XCTAssertEqual(rules.observe(postgresReachable: false, at: at(6)), [])
        XCTAssertEqual(rules.evaluate(at: at(10.9)), [])
        XCTAssertEqual(rules.evaluate(at: at(11)), [postgres(.firing, at: 11)], "fires by time alone once down for lag.for")
        XCTAssertTrue(rules.isPostgresUnreachableFiring)
        XCTAssertEqual(rules.observe(postgresReachable: false, at: at(30)), [])
        // Back: a check succeeds; resolved once it has answered for lag.for.
        XCTAssertEqual(rules.observe(check(40)), [])
        XCTAssertEqual(rules.evaluate(at: at(49)), [])
        XCTAssertEqual(rules.evaluate(at: at(50)), [postgres(.resolved, at: 50)])
        XCTAssertFalse(rules.isPostgresUnreachableFiring)
        // A flap shorter than lag.for changes nothing.
        XCTAssertEqual(rules.observe(postgresReachable: false, at: at(60)), [])
        XCTAssertEqual(rules.observe(postgresReachable: true, at: at(65)), [])
        XCTAssertEqual(rules.evaluate(at: at(200)), [])
    }

    func testRestoredAlertsResolveWithTheNextCheckOrAtTheDeadlineWhenNothingChecks() {
        let fired = [
            rpo(.firing, violation(["pay-1"]), at: -100), postgres(.firing, at: -90),
            AlertEvent(alert: .heartbeatStale, state: .firing, severity: .critical, pair: "p", lagSeconds: 99, at: at(-80)),
            AlertEvent(alert: .rpoViolation, state: .firing, severity: .critical, pair: "other", at: at(-70), rpo: violation(["x"])),
        ]
        var restored = rules()
        restored.restore(firing: fired, at: at(0))
        XCTAssertTrue(restored.isViolationFiring)
        XCTAssertTrue(restored.isPostgresUnreachableFiring)
        XCTAssertEqual(restored.observe(check(1)), [rpo(.resolved, RPOAtRisk(amounts: ["EUR": "0"]), at: 1)])
        XCTAssertEqual(restored.evaluate(at: at(11)), [postgres(.resolved, at: 11)])
        XCTAssertEqual(restored.evaluate(at: at(100)), [])

        // Still violated after the restart: it goes on firing without a new event.
        var still = rules()
        still.restore(firing: fired, at: at(0))
        XCTAssertEqual(still.observe(check(1, violation(["pay-1"]))), [])
        XCTAssertEqual(still.evaluate(at: at(100)).map(\.alert), [.postgresUnreachable])
        XCTAssertTrue(still.isViolationFiring)

        // Nothing checks in this run (continuous reconciliation off): both resolve at the deadline, 30 s.
        var off = rules()
        off.restore(firing: fired, at: at(0))
        XCTAssertEqual(off.evaluate(at: at(29)), [])
        XCTAssertEqual(off.evaluate(at: at(30)), [rpo(.resolved, RPOAtRisk(), at: 30), postgres(.resolved, at: 30)])
        XCTAssertEqual(off.evaluate(at: at(60)), [])
    }

    func testTheEventLineCarriesTheViolationAndRoundTrips() throws {
        let details = RPOAtRisk(payments: 3, amounts: ["USD": "5.00", "EUR": "12.50"], eventIDs: ["pay-1", "pay-2", "pay-3"],
                                notReplicated: 2, neverPublished: 1)
        let firing = rpo(.firing, details, at: 0)
        XCTAssertEqual(firing.jsonLine, #"{"alert":"rpo_violation","state":"firing","severity":"critical","pair":"p","cluster":null,"topic":null,"partition":null,"lag_records":null,"lag_seconds":null,"at":"2027-01-15T08:00:00Z","payments":3,"amount":{"EUR":"12.50","USD":"5.00"},"event_ids":["pay-1","pay-2","pay-3"],"classes":{"not_replicated":2,"never_published":1}}"#)
        XCTAssertEqual(AlertEvent(jsonLine: firing.jsonLine), firing)
        let noAmount = rpo(.resolved, RPOAtRisk(), at: 0)
        XCTAssertEqual(noAmount.jsonLine, #"{"alert":"rpo_violation","state":"resolved","severity":"critical","pair":"p","cluster":null,"topic":null,"partition":null,"lag_records":null,"lag_seconds":null,"at":"2027-01-15T08:00:00Z","payments":0,"event_ids":[],"classes":{"not_replicated":0,"never_published":0}}"#)
        XCTAssertEqual(AlertEvent(jsonLine: noAmount.jsonLine), noAmount)
        let down = postgres(.firing, at: 0)
        XCTAssertEqual(down.jsonLine, #"{"alert":"postgres_unreachable","state":"firing","severity":"critical","pair":"p","cluster":null,"topic":null,"partition":null,"lag_records":null,"lag_seconds":null,"at":"2027-01-15T08:00:00Z"}"#)
        XCTAssertEqual(AlertEvent(jsonLine: down.jsonLine), down)
    }

    func testTheAlerterSendsRPOEventsToItsSinksAndTakesThemOverFromTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rpo-alerts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("alerts.jsonl").path
        let clock = ManualClock()
        let settings = LagSettings(warnSeconds: 5, criticalSeconds: 60, holdFor: .seconds(10))
        let recording = RecordingSink()
        let alerter = LagAlerter(settings: settings, pair: "p", sinks: [recording, try JSONLinesAlertSink(path: path)],
                                 now: { clock.now }, logger: Logger(label: "test"))
        let observer: any RPOObserver = RPOObserverGroup([alerter])
        let missing = violation(["pay-9"])
        observer.rpoChecked(RPOCheckResult(at: clock.now, atRisk: missing, violation: missing, oldestAtRisk: nil, verifiedUntil: clock.now, durationSeconds: 0))
        observer.postgresReachable(false)
        clock.advance(10)
        alerter.evaluate()
        XCTAssertEqual(recording.events.withLock { $0.map { "\($0.alert.rawValue) \($0.state.rawValue)" } },
                       ["rpo_violation firing", "postgres_unreachable firing"])

        // Killed here; the next run takes both over from the file and resolves them with its first good check.
        let file = try JSONLinesAlertSink(path: path)
        XCTAssertEqual(file.firingAtOpen.map(\.alert), [.rpoViolation, .postgresUnreachable])
        XCTAssertEqual(file.firingAtOpen.first?.rpo, missing)
        let next = RecordingSink()
        let restarted = LagAlerter(settings: settings, pair: "p", sinks: [next], now: { clock.now }, restoring: file.firingAtOpen,
                                   logger: Logger(label: "test"))
        restarted.rpoChecked(RPOCheckResult(at: clock.now, atRisk: RPOAtRisk(), violation: RPOAtRisk(), oldestAtRisk: nil, verifiedUntil: clock.now, durationSeconds: 0))
        clock.advance(10)
        restarted.evaluate()
        XCTAssertEqual(next.events.withLock { $0.map { "\($0.alert.rawValue) \($0.state.rawValue)" } },
                       ["rpo_violation resolved", "postgres_unreachable resolved"])
    }
}
