import Foundation
import Topology

/// The continuous reconciliation's alerts as a pure state machine: feed it check results and Postgres failures
/// with their times, it returns the alert state changes they cause, each exactly once.
///
/// - **rpo_violation** (critical) holds while the last check found at least one committed payment missing from the
///   target for longer than `max_age` (``RPOCheckResult/violation``). `max_age` is its hold time already, so it
///   fires with the first check that finds one, and resolves with the first check that finds none. A change of the
///   set while it fires (more payments, other ones) is no new event. A failed check changes nothing: there is no
///   evidence either way.
/// - **postgres_unreachable** (critical) holds while checks fail on Postgres (cannot connect, a query fails). It
///   fires once they have failed without interruption for `holdFor` (`lag.for`), and resolves once Postgres has
///   answered without interruption for `holdFor`, like `cluster_unreachable`.
///
/// Time only moves forward through the `at` arguments; ``evaluate(at:)`` lets time pass without a check.
package struct RPOAlertRules: Sendable {
    /// The pair named in events.
    package let pair: String
    /// How long Postgres must fail (or answer) before `postgres_unreachable` fires (or resolves).
    package let holdFor: Duration

    /// Whether `rpo_violation` fires now.
    package private(set) var isViolationFiring = false
    private var postgres = Track()
    /// Restored from an earlier run and not observed since.
    private var violationRestored = false
    private var postgresRestored = false
    private var restoredDeadline: Date?

    /// Creates rules with nothing firing.
    package init(pair: String, holdFor: Duration) {
        self.pair = pair
        self.holdFor = holdFor
    }

    /// Whether `postgres_unreachable` fires now.
    package var isPostgresUnreachableFiring: Bool { postgres.firing }

    /// Records a completed check (which also says that Postgres answered); returns the changes it causes.
    package mutating func observe(_ result: RPOCheckResult) -> [AlertEvent] {
        var events = observe(postgresReachable: true, at: result.at)
        violationRestored = false
        let holds = result.violation.payments > 0
        if holds, !isViolationFiring {
            isViolationFiring = true
            events.append(violationEvent(.firing, result.violation, result.at))
        } else if !holds, isViolationFiring {
            isViolationFiring = false
            events.append(violationEvent(.resolved, result.violation, result.at))
        }
        return events
    }

    /// Records whether Postgres answered the check's statements; returns the changes it causes.
    package mutating func observe(postgresReachable reachable: Bool, at time: Date) -> [AlertEvent] {
        postgresRestored = false
        postgres.observe(!reachable, at: time)
        return postgres.settle(at: time, holdFor: holdFor).map { [postgresEvent($0, time)] } ?? []
    }

    /// Lets time pass to `time` without a check; returns the changes whose hold time has now passed.
    package mutating func evaluate(at time: Date) -> [AlertEvent] {
        var events: [AlertEvent] = []
        if let deadline = restoredDeadline, time >= deadline { events += resolveUnobservedRestored(at: time) }
        if let state = postgres.settle(at: time, holdFor: holdFor) { events.append(postgresEvent(state, time)) }
        return events
    }

    /// Takes over what an earlier run fired and did not resolve (its last `firing` events): they fire now, without
    /// an event, and resolve like any other. One not observed within `unobservedAfter` (this run does not reconcile
    /// continuously, or never gets to check) is resolved then, or by ``resolveUnobservedRestored(at:)`` at stop.
    package mutating func restore(firing events: [AlertEvent], at time: Date, unobservedAfter: Duration = .seconds(30)) {
        for event in events where event.state == .firing && event.pair == pair {
            switch event.alert {
            case .rpoViolation:
                isViolationFiring = true
                violationRestored = true
            case .postgresUnreachable:
                postgres.firing = true
                postgresRestored = true
            case .replicationLag, .clusterUnreachable, .heartbeatStale:
                continue
            }
        }
        if violationRestored || postgresRestored {
            restoredDeadline = time.addingTimeInterval(max(unobservedAfter.seconds, holdFor.seconds))
        }
    }

    /// Resolves restored alerts that no check observed since: nothing else would ever resolve them.
    package mutating func resolveUnobservedRestored(at time: Date) -> [AlertEvent] {
        restoredDeadline = nil
        var events: [AlertEvent] = []
        if violationRestored, isViolationFiring {
            isViolationFiring = false
            events.append(violationEvent(.resolved, RPOAtRisk(), time))
        }
        if postgresRestored, postgres.firing {
            postgres = Track()
            events.append(postgresEvent(.resolved, time))
        }
        violationRestored = false
        postgresRestored = false
        return events
    }

    private func violationEvent(_ state: AlertEvent.State, _ violation: RPOAtRisk, _ time: Date) -> AlertEvent {
        AlertEvent(alert: .rpoViolation, state: state, severity: .critical, pair: pair, at: time, rpo: violation)
    }

    private func postgresEvent(_ state: AlertEvent.State, _ time: Date) -> AlertEvent {
        AlertEvent(alert: .postgresUnreachable, state: state, severity: .critical, pair: pair, at: time)
    }
}
