import Foundation
import Kafka
import Replication
import Topology

/// The alerting rules as a pure state machine: feed it observations with their times, it returns
/// the alert state changes they cause, each exactly once.
///
/// Every (alert, severity, partition or cluster) is an alert of its own, as each rule of a Prometheus rule file
/// is, with its own `firing` and `resolved` events:
/// - a partition's **warning** lag alert's condition is seconds behind above `warnSeconds`;
/// - its **critical** lag alert's condition is seconds behind above `criticalSeconds` (the warning one holds too);
/// - a cluster's **unreachable** alert (critical) holds while observations say it does not answer;
/// - the **heartbeat_stale** alert (critical) holds while the newest heartbeat in the target is older than
///   `criticalSeconds`, whatever the lag says (an idle source has a lag of 0).
///
/// An alert fires once its condition has held, without interruption, for `holdFor` (`lag.for`), and resolves
/// once the condition has been clear, without interruption, for `holdFor`. A condition that flaps faster than
/// that changes nothing, so there are no alert storms. Each alert that fired resolves once its condition
/// clears: a lag that went warning, then critical, then back to nothing gives four events, `firing warning`,
/// `firing critical`, `resolved critical`, `resolved warning`. When several alerts change at the same time,
/// firing events come warning first and resolved events critical first.
///
/// Time only moves forward through the `at` arguments; ``evaluate(at:)`` lets time pass without an
/// observation (e.g. once a second), so an alert fires on time even when observations stop.
package struct LagAlertRules: Sendable {
    /// Thresholds and hold time.
    package let settings: LagSettings
    /// The pair named in events.
    package let pair: String

    private var partitions: [TopicPartition: PartitionTracks] = [:]
    private var clusters: [ClusterRole: Track] = [:]
    /// What each cluster refused at the last look: a `cluster_unreachable` that fires carries it as its cause.
    private var refusals: [ClusterRole: ConnectionRefusal] = [:]
    private var heartbeat: Track?
    /// The last heartbeat age observed (or restored), reported in `heartbeat_stale` events.
    private var heartbeatAge: Double?
    /// The heartbeat alert was restored from an earlier run and no heartbeat age has been observed since.
    private var heartbeatRestored = false
    /// Restored lag alerts of partitions not observed by then are resolved (see ``restore(firing:at:unobservedAfter:)``).
    private var restoredDeadline: Date?

    /// Creates rules with nothing firing.
    package init(settings: LagSettings, pair: String) {
        self.settings = settings
        self.pair = pair
    }

    /// The highest level a lag of `seconds` is at: nil (fine), warning or critical.
    package func level(seconds: Double) -> AlertEvent.Severity? {
        if seconds > settings.criticalSeconds { return .critical }
        if seconds > settings.warnSeconds { return .warning }
        return nil
    }

    /// Records one lag observation of a source partition; returns the changes it causes.
    package mutating func observe(_ partition: TopicPartition, records: Int64, seconds: Double, at time: Date) -> [AlertEvent] {
        var tracks = partitions[partition] ?? PartitionTracks()
        tracks.restored = false
        tracks.lastRecords = records
        tracks.lastSeconds = seconds
        tracks.warning.observe(seconds > settings.warnSeconds, at: time)
        tracks.critical.observe(seconds > settings.criticalSeconds, at: time)
        defer { partitions[partition] = tracks }
        return settle(&tracks, partition, at: time)
    }

    /// Records whether `cluster` answered; returns the changes it causes.
    package mutating func observe(cluster: ClusterRole, reachable: Bool, at time: Date) -> [AlertEvent] {
        var track = clusters[cluster] ?? Track()
        track.observe(!reachable, at: time)
        defer { clusters[cluster] = track }
        return track.settle(at: time, holdFor: settings.holdFor).map { [clusterEvent($0, cluster, time)] } ?? []
    }

    /// Records what `cluster` refused at the last look (nil: nothing).
    package mutating func note(_ refusal: ConnectionRefusal?, of cluster: ClusterRole) {
        refusals[cluster] = refusal
    }

    /// Records the age of the newest heartbeat in the target; returns the changes it causes.
    package mutating func observe(heartbeatAge seconds: Double, at time: Date) -> [AlertEvent] {
        var track = heartbeat ?? Track()
        heartbeatRestored = false
        heartbeatAge = seconds
        track.observe(seconds > settings.criticalSeconds, at: time)
        defer { heartbeat = track }
        return track.settle(at: time, holdFor: settings.holdFor).map { [heartbeatEvent($0, time)] } ?? []
    }

    /// Whether the heartbeat-stale alert fires now.
    package var isHeartbeatStale: Bool { heartbeat?.firing == true }

    /// Lets time pass to `time` without a new observation; returns the changes whose hold time has now passed.
    package mutating func evaluate(at time: Date) -> [AlertEvent] {
        var events: [AlertEvent] = []
        if let deadline = restoredDeadline, time >= deadline { events += resolveUnobservedRestored(at: time) }
        for partition in partitions.keys.sorted() {
            guard var tracks = partitions[partition] else { continue }
            events += settle(&tracks, partition, at: time)
            partitions[partition] = tracks
        }
        for cluster in ClusterRole.allCases {
            guard var track = clusters[cluster] else { continue }
            if let state = track.settle(at: time, holdFor: settings.holdFor) {
                events.append(clusterEvent(state, cluster, time))
            }
            clusters[cluster] = track
        }
        if var track = heartbeat {
            if let state = track.settle(at: time, holdFor: settings.holdFor) { events.append(heartbeatEvent(state, time)) }
            heartbeat = track
        }
        return events
    }

    /// Takes over alerts an earlier run of the bridge fired and did not resolve (it was killed, or lost its
    /// partitions), as their last `firing` events say: they fire now, without an event, and resolve like any
    /// other once their condition has been clear for `holdFor`. A restored lag alert of a partition that is not
    /// observed at all within `unobservedAfter` (another instance of a group copies it now) is resolved then, or
    /// by ``resolveUnobservedRestored(at:)`` when the bridge stops first.
    package mutating func restore(firing events: [AlertEvent], at time: Date, unobservedAfter: Duration = .seconds(30)) {
        restoredDeadline = time.addingTimeInterval(max(unobservedAfter.seconds, settings.holdFor.seconds))
        for event in events where event.state == .firing && event.pair == pair {
            switch event.alert {
            case .replicationLag:
                guard let partition = event.partition else { continue }
                var tracks = partitions[partition] ?? PartitionTracks(restored: true)
                if event.severity == .critical { tracks.critical.firing = true } else { tracks.warning.firing = true }
                tracks.lastRecords = event.lagRecords
                tracks.lastSeconds = event.lagSeconds
                partitions[partition] = tracks
            case .clusterUnreachable:
                guard let cluster = event.cluster else { continue }
                var track = clusters[cluster] ?? Track()
                track.firing = true
                clusters[cluster] = track
            case .heartbeatStale:
                var track = heartbeat ?? Track()
                track.firing = true
                heartbeat = track
                heartbeatAge = event.lagSeconds
                heartbeatRestored = true
            case .rpoViolation, .postgresUnreachable:
                continue  // RPOAlertRules takes these over
            }
        }
    }

    /// Drops the pair-level alerts (`cluster_unreachable`, `heartbeat_stale`) without an event: in group mode this
    /// instance no longer speaks for the pair, and the instance that does now takes them over from the feed.
    package mutating func dropPairAlerts() {
        clusters = [:]
        heartbeat = nil
        heartbeatAge = nil
        heartbeatRestored = false
    }

    /// Resolves the restored lag alerts of partitions not observed since they were restored: this run has no
    /// evidence for them (it does not copy those partitions), and nothing else would ever resolve them. So is a
    /// restored `heartbeat_stale` when no heartbeat age was observed since (heartbeats turned off).
    package mutating func resolveUnobservedRestored(at time: Date) -> [AlertEvent] {
        restoredDeadline = nil
        var events: [AlertEvent] = []
        for partition in partitions.keys.sorted() where partitions[partition]?.restored == true {
            events += forget(partition, at: time)
        }
        if heartbeatRestored, heartbeat?.firing == true {
            heartbeat = nil
            heartbeatRestored = false
            events.append(heartbeatEvent(.resolved, time))
        }
        return events
    }

    /// Stops tracking a partition (no longer replicated, or handed to another instance). Its firing alerts are
    /// resolved, critical first: this instance no longer watches it (the new owner raises its own).
    package mutating func forget(_ partition: TopicPartition, at time: Date) -> [AlertEvent] {
        guard let tracks = partitions.removeValue(forKey: partition) else { return [] }
        return [(AlertEvent.Severity.critical, tracks.critical), (.warning, tracks.warning)]
            .filter { $0.1.firing }
            .map { lagEvent(.resolved, $0.0, partition, tracks, time) }
    }

    /// The highest severity firing now for a partition's lag, nil when none.
    package func firing(_ partition: TopicPartition) -> AlertEvent.Severity? {
        guard let tracks = partitions[partition] else { return nil }
        return tracks.critical.firing ? .critical : tracks.warning.firing ? .warning : nil
    }

    /// Whether the lag alert of `severity` fires now for a partition.
    package func isFiring(_ partition: TopicPartition, severity: AlertEvent.Severity) -> Bool {
        guard let tracks = partitions[partition] else { return false }
        return severity == .critical ? tracks.critical.firing : tracks.warning.firing
    }

    /// Whether the cluster-unreachable alert fires now for `cluster`.
    package func isFiring(cluster: ClusterRole) -> Bool { clusters[cluster]?.firing == true }

    /// Settles both of a partition's alerts: firing events warning first, resolved events critical first.
    private func settle(_ tracks: inout PartitionTracks, _ partition: TopicPartition, at time: Date) -> [AlertEvent] {
        let warning = tracks.warning.settle(at: time, holdFor: settings.holdFor)
        let critical = tracks.critical.settle(at: time, holdFor: settings.holdFor)
        var events: [AlertEvent] = []
        if warning == .firing { events.append(lagEvent(.firing, .warning, partition, tracks, time)) }
        if let critical { events.append(lagEvent(critical, .critical, partition, tracks, time)) }
        if warning == .resolved { events.append(lagEvent(.resolved, .warning, partition, tracks, time)) }
        return events
    }

    private func lagEvent(
        _ state: AlertEvent.State, _ severity: AlertEvent.Severity, _ partition: TopicPartition, _ tracks: PartitionTracks,
        _ time: Date
    ) -> AlertEvent {
        AlertEvent(
            alert: .replicationLag, state: state, severity: severity, pair: pair, partition: partition,
            lagRecords: tracks.lastRecords, lagSeconds: tracks.lastSeconds, at: time)
    }

    private func heartbeatEvent(_ state: AlertEvent.State, _ time: Date) -> AlertEvent {
        AlertEvent(alert: .heartbeatStale, state: state, severity: .critical, pair: pair, lagSeconds: heartbeatAge, at: time)
    }

    private func clusterEvent(_ state: AlertEvent.State, _ cluster: ClusterRole, _ time: Date) -> AlertEvent {
        AlertEvent(
            alert: .clusterUnreachable, state: state, severity: .critical, pair: pair, cluster: cluster, at: time,
            refusal: state == .firing ? refusals[cluster] : nil)
    }
}

/// A partition's two lag alerts and its last figures.
private struct PartitionTracks: Sendable {
    var warning = Track()
    var critical = Track()
    /// Restored from an earlier run and not observed since.
    var restored = false
    var lastRecords: Int64?
    var lastSeconds: Double?
}

/// One alert's state: whether it fires, and since when its condition has held or been clear.
struct Track: Sendable {
    /// Whether the alert is firing now.
    var firing = false
    /// Since when the condition has held, without a break; nil while it is clear.
    var holdsSince: Date?
    /// Since when the condition has been clear, without a break; nil while it holds.
    var clearSince: Date?

    mutating func observe(_ holds: Bool, at time: Date) {
        if holds {
            holdsSince = holdsSince ?? time
            clearSince = nil
        } else {
            clearSince = clearSince ?? time
            holdsSince = nil
        }
    }

    /// Fires once the condition has held for `holdFor`, resolves once it has been clear for `holdFor`;
    /// returns the change, if any.
    mutating func settle(at time: Date, holdFor: Duration) -> AlertEvent.State? {
        let hold = holdFor.seconds
        func held(_ since: Date?) -> Bool { since.map { time.timeIntervalSince($0) >= hold } ?? false }
        if !firing, held(holdsSince) {
            firing = true
            return .firing
        }
        if firing, held(clearSince) {
            firing = false
            return .resolved
        }
        return nil
    }
}
