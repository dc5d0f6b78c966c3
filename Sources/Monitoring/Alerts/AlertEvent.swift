import Formats
import Foundation
import Kafka
import Replication

/// One change of an alert's state: emitted once when it starts firing, changes severity, or resolves.
///
/// Written as one JSON object per line (see ``jsonLine``), with the keys, in this order:
/// `alert`, `state`, `severity`, `pair`, `cluster`, `topic`, `partition`, `lag_records`, `lag_seconds`, `at`; a
/// `cluster_unreachable` that fires because the cluster refuses the bridge adds `cause` (``ConnectionRefusal/Cause``)
/// and `cause_text` (the cause, librdkafka's words and what to check).
package struct AlertEvent: Sendable, Equatable {
    /// The alerts the bridge raises.
    package enum Name: String, Sendable, Equatable {
        /// A partition's seconds behind passed `lag.warn_seconds` or `lag.critical_seconds`.
        case replicationLag = "replication_lag"
        /// A cluster did not answer for longer than `lag.for`.
        case clusterUnreachable = "cluster_unreachable"
        /// The newest heartbeat in the target is older than `lag.critical_seconds` (its age is in `lag_seconds`).
        case heartbeatStale = "heartbeat_stale"
        /// A committed payment has been missing from the target for longer than `reconcile.continuous.max_age`
        /// (the event carries `payments`, `amount`, `event_ids` and `classes`).
        case rpoViolation = "rpo_violation"
        /// The continuous reconciliation could not reach Postgres, or its queries failed, for longer than `lag.for`.
        case postgresUnreachable = "postgres_unreachable"

        /// Whether the alert is about the pair as a whole (in group mode raised by one instance only), not about
        /// one partition (raised by its owner).
        package var isPairLevel: Bool { self != .replicationLag }
    }

    /// Whether the alert started (or changed severity) or ended.
    package enum State: String, Sendable, Equatable {
        /// The condition holds; `severity` says how bad it is now.
        case firing
        /// The condition no longer holds; `severity` is the one that was firing.
        case resolved
    }

    /// How bad the condition is.
    package enum Severity: String, Sendable, Equatable, Comparable {
        /// Above `lag.warn_seconds`.
        case warning
        /// Above `lag.critical_seconds`, or a cluster unreachable.
        case critical

        package static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .critical }
    }

    /// Which alert.
    package var alert: Name
    /// Firing or resolved.
    package var state: State
    /// The severity now (firing) or the one that ended (resolved).
    package var severity: Severity
    /// The region pair.
    package var pair: String
    /// For `cluster_unreachable`: which cluster; nil for lag alerts.
    package var cluster: ClusterRole?
    /// The source partition for lag alerts; nil for cluster alerts.
    package var partition: TopicPartition?
    /// Records behind at the change (lag alerts).
    package var lagRecords: Int64?
    /// Seconds behind at the change (lag alerts); the heartbeat age for `heartbeat_stale`.
    package var lagSeconds: Double?
    /// When the change was decided.
    package var at: Date
    /// For `rpo_violation`: the payments missing for longer than `max_age` (none in a `resolved` event).
    package var rpo: RPOAtRisk?
    /// For a firing `cluster_unreachable`: what the cluster refused, when it answers but refuses the bridge.
    package var refusal: ConnectionRefusal?

    /// Creates an event from its parts.
    package init(
        alert: Name, state: State, severity: Severity, pair: String, cluster: ClusterRole? = nil,
        partition: TopicPartition? = nil, lagRecords: Int64? = nil, lagSeconds: Double? = nil, at: Date, rpo: RPOAtRisk? = nil,
        refusal: ConnectionRefusal? = nil
    ) {
        self.alert = alert
        self.state = state
        self.severity = severity
        self.pair = pair
        self.cluster = cluster
        self.partition = partition
        self.lagRecords = lagRecords
        self.lagSeconds = lagSeconds
        self.at = at
        self.rpo = rpo
        self.refusal = refusal
    }

    /// Reads an event back from its ``jsonLine``; nil for anything else.
    package init?(jsonLine: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any],
              let alert = (object["alert"] as? String).flatMap(Name.init(rawValue:)),
              let state = (object["state"] as? String).flatMap(State.init(rawValue:)),
              let severity = (object["severity"] as? String).flatMap(Severity.init(rawValue:)),
              let pair = object["pair"] as? String,
              let at = (object["at"] as? String).flatMap(ISOTime.date(_:))
        else { return nil }
        let partition = (object["topic"] as? String).flatMap { topic in
            (object["partition"] as? Int).map { TopicPartition(topic, Int32($0)) }
        }
        self.init(
            alert: alert, state: state, severity: severity, pair: pair,
            cluster: (object["cluster"] as? String).flatMap(ClusterRole.init(rawValue:)), partition: partition,
            lagRecords: (object["lag_records"] as? NSNumber)?.int64Value, lagSeconds: (object["lag_seconds"] as? NSNumber)?.doubleValue,
            at: at, rpo: Self.rpo(in: object))
    }

    /// The event as one line of JSON (no trailing newline); absent values are `null`, `at` is ISO-8601 UTC.
    ///
    /// `{"alert":"replication_lag","state":"firing","severity":"critical","pair":"us-east-to-eu-west",`
    /// `"cluster":null,"topic":"payments","partition":0,"lag_records":120,"lag_seconds":61.5,"at":"2026-01-31T12:00:00Z"}`
    ///
    /// An `rpo_violation` event has four more keys after `at`: `payments` (count), `amount` (object currency → sum as
    /// decimal text; only with `reconcile.amount`), `event_ids` (at most 20, oldest first) and `classes`
    /// (`{"not_replicated":n,"never_published":m}`).
    package var jsonLine: String {
        var members: [(String, JSONValue)] = [
            ("alert", .string(alert.rawValue)),
            ("state", .string(state.rawValue)),
            ("severity", .string(severity.rawValue)),
            ("pair", .string(pair)),
            ("cluster", cluster.map { .string($0.rawValue) } ?? .null),
            ("topic", partition.map { .string($0.topic) } ?? .null),
            ("partition", partition.map { .integer(Int64($0.partition)) } ?? .null),
            ("lag_records", lagRecords.map { .integer($0) } ?? .null),
            ("lag_seconds", lagSeconds.map { .seconds($0) } ?? .null),
            ("at", .string(ISOTime.string(at))),
        ]
        if let rpo { members += Self.members(of: rpo) }
        if let refusal { members += [("cause", .string(refusal.cause.rawValue)), ("cause_text", .string(refusal.description))] }
        return JSONValue.object(JSONObject(members)).render(pretty: false, indent: "")
    }

    /// The keys an `rpo_violation` event adds.
    private static func members(of rpo: RPOAtRisk) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [("payments", .integer(Int64(rpo.payments)))]
        if let amounts = rpo.amounts {
            members.append(("amount", .object(JSONObject(amounts.keys.sorted().map { ($0, .string(amounts[$0]!)) }))))
        }
        members.append(("event_ids", .array(rpo.eventIDs.map { .string($0) })))
        var classes: [(String, JSONValue)] = [
            ("not_replicated", .integer(Int64(rpo.notReplicated))), ("never_published", .integer(Int64(rpo.neverPublished))),
        ]
        // Only while the source does not answer (see RPOAtRisk.unknownAtSource).
        if rpo.unknownAtSource > 0 { classes.append(("unknown_at_source", .integer(Int64(rpo.unknownAtSource)))) }
        members.append(("classes", .object(JSONObject(classes))))
        return members
    }

    /// The `rpo_violation` keys of a parsed line; nil when it has none.
    private static func rpo(in object: [String: Any]) -> RPOAtRisk? {
        guard let payments = (object["payments"] as? NSNumber)?.intValue else { return nil }
        let classes = object["classes"] as? [String: Any] ?? [:]
        return RPOAtRisk(
            payments: payments, amounts: object["amount"] as? [String: String], eventIDs: object["event_ids"] as? [String] ?? [],
            notReplicated: (classes["not_replicated"] as? NSNumber)?.intValue ?? 0,
            neverPublished: (classes["never_published"] as? NSNumber)?.intValue ?? 0,
            unknownAtSource: (classes["unknown_at_source"] as? NSNumber)?.intValue ?? 0)
    }
}
