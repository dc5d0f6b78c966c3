import Foundation
import Kafka
import Topology

/// The alerting rules as a pure state machine: feed it observations with their times, it returns
/// the alert state changes they cause, each exactly once.
///
/// - A partition's lag is a **warning** while its seconds behind exceed `warnSeconds`, **critical**
///   while they exceed `criticalSeconds`.
/// - A cluster is **unreachable** (critical) while observations say it does not answer.
/// - Every change of state waits until the new condition has held, without interruption, for
///   `holdFor` (`lag.for`): firing, changing severity (either way) and resolving alike. A condition that
///   flaps faster than that changes nothing, so there are no alert storms.
/// - Each change is one ``AlertEvent``: `firing` with the new severity, or `resolved` with the severity
///   that ended. Warning then critical then back to normal is three events.
///
/// Time only moves forward through the `at` arguments; ``evaluate(at:)`` lets time pass without an
/// observation (e.g. once a second), so an alert fires on time even when observations stop.
public struct LagAlertRules: Sendable {
    /// Thresholds and hold time.
    public let settings: LagSettings
    /// The pair named in events.
    public let pair: String

    private var partitions: [TopicPartition: Track] = [:]
    private var clusters: [ClusterRole: Track] = [:]

    /// Creates rules with nothing firing.
    public init(settings: LagSettings, pair: String) {
        self.settings = settings
        self.pair = pair
    }

    /// The level a lag of `seconds` is at: nil (fine), warning or critical.
    public func level(seconds: Double) -> AlertEvent.Severity? {
        if seconds > settings.criticalSeconds { return .critical }
        if seconds > settings.warnSeconds { return .warning }
        return nil
    }

    /// Records one lag observation of a source partition; returns the changes it causes.
    public mutating func observe(_ partition: TopicPartition, records: Int64, seconds: Double, at time: Date) -> [AlertEvent] {
        var track = partitions[partition] ?? Track()
        track.lastRecords = records
        track.lastSeconds = seconds
        track.observe(level(seconds: seconds), at: time)
        defer { partitions[partition] = track }
        return track.settle(at: time, holdFor: settings.holdFor).map { lagEvent($0, partition, track, time) }.map { [$0] } ?? []
    }

    /// Records whether `cluster` answered; returns the changes it causes.
    public mutating func observe(cluster: ClusterRole, reachable: Bool, at time: Date) -> [AlertEvent] {
        var track = clusters[cluster] ?? Track()
        track.observe(reachable ? nil : .critical, at: time)
        defer { clusters[cluster] = track }
        return track.settle(at: time, holdFor: settings.holdFor).map { clusterEvent($0, cluster, time) }.map { [$0] } ?? []
    }

    /// Lets time pass to `time` without a new observation; returns the changes whose hold time has now passed.
    public mutating func evaluate(at time: Date) -> [AlertEvent] {
        var events: [AlertEvent] = []
        for partition in partitions.keys.sorted() {
            guard var track = partitions[partition] else { continue }
            if let change = track.settle(at: time, holdFor: settings.holdFor) {
                events.append(lagEvent(change, partition, track, time))
            }
            partitions[partition] = track
        }
        for cluster in ClusterRole.allCases {
            guard var track = clusters[cluster] else { continue }
            if let change = track.settle(at: time, holdFor: settings.holdFor) {
                events.append(clusterEvent(change, cluster, time))
            }
            clusters[cluster] = track
        }
        return events
    }

    /// Stops tracking a partition (no longer replicated). A firing alert for it is resolved.
    public mutating func forget(_ partition: TopicPartition, at time: Date) -> [AlertEvent] {
        guard let track = partitions.removeValue(forKey: partition), let firing = track.firing else { return [] }
        return [lagEvent(Change(state: .resolved, severity: firing), partition, track, time)]
    }

    /// The severity firing now for a partition's lag, nil when none.
    public func firing(_ partition: TopicPartition) -> AlertEvent.Severity? { partitions[partition]?.firing }

    /// Whether the cluster-unreachable alert fires now for `cluster`.
    public func isFiring(cluster: ClusterRole) -> Bool { clusters[cluster]?.firing != nil }

    private func lagEvent(_ change: Change, _ partition: TopicPartition, _ track: Track, _ time: Date) -> AlertEvent {
        AlertEvent(
            alert: .replicationLag, state: change.state, severity: change.severity, pair: pair, partition: partition,
            lagRecords: track.lastRecords, lagSeconds: track.lastSeconds, at: time)
    }

    private func clusterEvent(_ change: Change, _ cluster: ClusterRole, _ time: Date) -> AlertEvent {
        AlertEvent(alert: .clusterUnreachable, state: change.state, severity: change.severity, pair: pair, cluster: cluster, at: time)
    }
}

/// A state change of one track.
private struct Change {
    var state: AlertEvent.State
    var severity: AlertEvent.Severity
}

/// One alert's state: what fires, and since when each candidate condition has held.
private struct Track: Sendable {
    /// The severity firing now; nil when the alert is not firing.
    var firing: AlertEvent.Severity?
    /// Since when the observed level has been at least warning / at least critical, without a break.
    var atLeastWarningSince: Date?
    var atLeastCriticalSince: Date?
    /// Since when the observed level has been below warning (fine) / at most warning, without a break.
    var fineSince: Date?
    var atMostWarningSince: Date?
    var lastRecords: Int64?
    var lastSeconds: Double?

    mutating func observe(_ level: AlertEvent.Severity?, at time: Date) {
        func hold(_ since: inout Date?, _ holds: Bool) { since = holds ? (since ?? time) : nil }
        hold(&atLeastWarningSince, level != nil)
        hold(&atLeastCriticalSince, level == .critical)
        hold(&fineSince, level == nil)
        hold(&atMostWarningSince, level != .critical)
    }

    /// Moves to the level that has held for `holdFor`, if that differs from what fires; returns the change.
    mutating func settle(at time: Date, holdFor: Duration) -> Change? {
        let hold = holdFor.seconds
        func held(_ since: Date?) -> Bool { since.map { time.timeIntervalSince($0) >= hold } ?? false }
        // Escalate to the highest level that has held long enough.
        let up: AlertEvent.Severity? = held(atLeastCriticalSince) ? .critical : held(atLeastWarningSince) ? .warning : nil
        if let up, firing.map({ up > $0 }) ?? true {
            firing = up
            return Change(state: .firing, severity: up)
        }
        // De-escalate to the lowest level that has held long enough.
        guard let current = firing else { return nil }
        if held(fineSince) {
            firing = nil
            return Change(state: .resolved, severity: current)
        }
        if current == .critical, held(atMostWarningSince) {
            firing = .warning
            return Change(state: .firing, severity: .warning)
        }
        return nil
    }
}
