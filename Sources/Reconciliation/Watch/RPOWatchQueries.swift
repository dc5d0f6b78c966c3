import Foundation
import Kafka
import Monitoring
import Postgres
import Replication
import Topology

/// The continuous reconciliation's statements, on its own session: the window's committed payments go to a
/// session table, and the payments at risk are found and summed in Postgres, so only their totals (and at most
/// ``RPOAtRisk/maxEventIDs`` ids) come back.
struct RPOWatchQueries {
    let db: PostgresConnection
    let schema: String
    let pair: String
    let settings: ReconcileSettings

    private var events: String { "\"\(schema)\".reconcile_events" }

    /// Makes the session's tables, and bounds every statement by `statementTimeout` (a server that hangs fails
    /// the check instead of stopping the checks).
    static func prepareSession(_ db: PostgresConnection, statementTimeout: Duration) throws {
        try db.execute("""
            SET application_name = 'regionbridge-rpo-watch';
            SET statement_timeout = '\(Int64(statementTimeout.seconds * 1000))ms';
            CREATE TEMP TABLE IF NOT EXISTS rb_watch_committed (
                event_id text COLLATE "C", committed_at timestamptz, amount text, currency text);
            CREATE TEMP TABLE IF NOT EXISTS rb_watch_risk (
                event_id text COLLATE "C", committed_at timestamptz, amount text, currency text, published boolean);
            """)
    }

    /// Runs the committed query for `[from, to)` into the session table.
    func loadCommitted(from: Date, to: Date) throws {
        var body = settings.committedQuery.trimmingCharacters(in: .whitespacesAndNewlines)
        while body.hasSuffix(";") { body = String(body.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
        let amount = settings.amountColumn.map { "q.\"\($0)\"::text" } ?? "NULL::text"
        let currency = settings.currencyColumn.map { "q.\"\($0)\"::text" } ?? "NULL::text"
        try db.execute("TRUNCATE rb_watch_committed")
        _ = try db.query(
            "INSERT INTO rb_watch_committed SELECT q.event_id::text, q.committed_at::timestamptz, \(amount), \(currency) FROM (\n\(body)\n) AS q",
            [isoTime(from), isoTime(to)])
        // Fresh statistics: the planner then looks each payment up in the index instead of reading the whole index.
        try db.execute("ANALYZE rb_watch_committed")
    }

    /// Decides which committed payments of the session table are at risk at `now`, given each source partition's
    /// `replicatedUpTo`, and sums them up.
    /// - Parameter sourceReachable: false when the source did not answer: a payment in no indexed source record is
    ///   then `unknown_at_source` rather than `never_published`.
    func evaluate(at now: Date, maxAge: Duration, replicatedUpTo: [(TopicPartition, Int64)], sourceReachable: Bool = true) throws -> RPOCheckResult {
        let topics = "{" + replicatedUpTo.map { "\"\($0.0.topic)\"" }.joined(separator: ",") + "}"
        let partitions = "{" + replicatedUpTo.map { String($0.0.partition) }.joined(separator: ",") + "}"
        let upTo = "{" + replicatedUpTo.map { String($0.1) }.joined(separator: ",") + "}"
        try db.execute("TRUNCATE rb_watch_risk")
        _ = try db.query("""
            INSERT INTO rb_watch_risk
            SELECT c.event_id, c.committed_at, c.amount, c.currency,
                   EXISTS (SELECT 1 FROM \(events) s WHERE s.pair = $1 AND s.event_id = c.event_id AND s.side = 0)
            FROM rb_watch_committed c
            WHERE c.event_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM \(events) e
                LEFT JOIN unnest($2::text[], $3::int[], $4::bigint[]) AS p (topic, partition, up_to)
                       ON p.topic = e.topic AND p.partition = e.partition
                WHERE e.pair = $1 AND e.event_id = c.event_id AND (e.side = 1 OR e.kafka_offset < p.up_to))
            """, [pair, topics, partitions, upTo])

        let cutoff = isoTime(now.addingTimeInterval(-maxAge.seconds))
        var atRisk = RPOAtRisk()
        var violation = RPOAtRisk()
        var atRiskSums: [String: AmountSum] = [:]
        var violationSums: [String: AmountSum] = [:]
        if settings.amountColumn != nil {
            // Every currency of the window has its gauge, at 0 while none of its payments is at risk.
            for row in try db.query("SELECT DISTINCT coalesce(currency, '') FROM rb_watch_committed").rows {
                let currency = settings.currencyColumn == nil ? "" : row[0] ?? ""
                atRiskSums[currency] = atRiskSums[currency] ?? AmountSum()
            }
            if atRiskSums.isEmpty { atRiskSums[""] = settings.currencyColumn == nil ? AmountSum() : nil }
        }
        var oldest: Int64?
        let groups = try db.query("""
            SELECT published, committed_at < $1, coalesce(currency, ''), count(*),
                   (extract(epoch FROM min(committed_at)) * 1000)::bigint, sum(amount::numeric)::text
            FROM rb_watch_risk GROUP BY 1, 2, 3
            """, [cutoff]).rows
        for row in groups {
            let published = row[0] == "t"
            let old = row[1] == "t"
            let currency = settings.currencyColumn == nil ? "" : row[2] ?? ""
            let count = row[3].flatMap(Int.init) ?? 0
            if let first = row[4].flatMap(Int64.init) { oldest = min(oldest ?? first, first) }
            func add(_ set: inout RPOAtRisk, _ sums: inout [String: AmountSum]) {
                set.payments += count
                if published {
                    set.notReplicated += count
                } else if sourceReachable {
                    set.neverPublished += count
                } else {
                    set.unknownAtSource += count
                }
                if settings.amountColumn != nil, let amount = row[5] { sums[currency, default: AmountSum()].add(amount) }
            }
            add(&atRisk, &atRiskSums)
            if old { add(&violation, &violationSums) }
        }
        if settings.amountColumn != nil {
            atRisk.amounts = atRiskSums.mapValues(\.description)
            violation.amounts = violationSums.mapValues(\.description)
        }
        if violation.payments > 0 {
            violation.eventIDs = try db.query(
                "SELECT event_id FROM rb_watch_risk WHERE committed_at < $1 ORDER BY committed_at, event_id LIMIT \(RPOAtRisk.maxEventIDs)",
                [cutoff]).rows.compactMap { $0[0] ?? nil }
        }
        let oldestDate = oldest.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        return RPOCheckResult(
            at: now, atRisk: atRisk, violation: violation, oldestAtRisk: oldestDate, verifiedUntil: oldestDate ?? now, durationSeconds: 0)
    }
}
