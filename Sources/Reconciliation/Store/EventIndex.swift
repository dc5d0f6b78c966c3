import Formats
import Foundation
import Kafka
import Postgres
import Replication
import Topology

/// A partition the scan reads, on one side.
package struct ScannedPartition: Sendable, Hashable, Comparable {
    package var side: ClusterSide
    package var partition: TopicPartition

    package init(_ side: ClusterSide, _ partition: TopicPartition) {
        self.side = side
        self.partition = partition
    }

    package static func < (lhs: ScannedPartition, rhs: ScannedPartition) -> Bool {
        lhs.side != rhs.side ? lhs.side.rawValue < rhs.side.rawValue : lhs.partition < rhs.partition
    }
}

/// The events already scanned out of Kafka, kept in Postgres next to the payments so that a repeated
/// run reads only new records, and so that Postgres joins them to the committed rows (the bridge holds
/// one payment at a time, whatever the window).
///
/// Tables, in the configured schema (created when missing):
/// - `reconcile_events`: one row per scanned record that carries an event id;
/// - `reconcile_cursors`: per pair, side and partition, the next offset to scan, and when the scan that reached
///   it began (`scanned_at`: every record the partition held then is indexed);
/// - `reconcile_config`: per pair, what the rows were scanned with; a change starts the scan over.
///
/// The index is a cache of what Kafka holds, so the first two are UNLOGGED (no WAL, so faster to
/// fill): after a Postgres crash both come back empty together, and the next run scans again from the log starts.
///
/// Read-only (``prepareReadOnly(fingerprint:ignoreIndex:)``, for `regionbridge drill`): everything happens in
/// one transaction that is set READ ONLY once the session's own temporary tables exist, and is rolled back by
/// ``finishReadOnly()``. The stored index is read (when it was scanned with the same settings) but never
/// written: newly scanned records go to a temporary table, and the server refuses any other write.
///
/// Not for concurrent use; one writing run per pair at a time is enforced with an advisory lock.
final class EventIndex {
    private let db: PostgresConnection
    private let schema: String
    private let pair: String
    private let compared: [FieldComparison]
    /// Columns of the committed query loaded besides the compared ones, for the value at risk.
    private let amountColumn: String?
    private let currencyColumn: String?
    /// Set by ``prepareReadOnly(fingerprint:ignoreIndex:)``.
    private var readOnly = false
    /// Read-only: whether the stored index holds rows scanned with the same settings (and is therefore used).
    private var storedIndexUsable = false
    /// Read-only: the fingerprint stored for the pair, if any.
    private var storedFingerprint: String?

    /// - Parameters:
    ///   - amountColumn: the committed query's amount column, loaded for every payment (it need not be compared).
    ///   - currencyColumn: its currency column.
    init(db: PostgresConnection, schema: String, pair: String, compared: [FieldComparison], amountColumn: String? = nil, currencyColumn: String? = nil) {
        self.db = db
        self.schema = schema
        self.pair = pair
        self.compared = compared
        self.amountColumn = amountColumn
        self.currencyColumn = currencyColumn
    }

    private var storedEvents: String { "\"\(schema)\".reconcile_events" }
    /// Where queries read events: the stored index, or (read-only) a temporary view over it and this run's scan.
    private var events: String { readOnly ? "pg_temp.rb_events" : storedEvents }
    /// Where a scan appends: the stored index, or (read-only) a temporary table.
    private var scanned: String { readOnly ? "pg_temp.rb_scanned" : storedEvents }
    private var cursors: String { "\"\(schema)\".reconcile_cursors" }
    private var config: String { "\"\(schema)\".reconcile_config" }
    private static let eventColumns = "pair, side, topic, partition, kafka_offset, source_offset, event_id, ts_ms, fields"

    /// Takes the pair's lock (held until the connection closes), waiting up to `lockWait` for a running reconcile or
    /// a bridge's continuous check to let it go, then creates the tables if missing.
    /// - Throws: ``ReconcileError`` when the lock stayed taken for `lockWait`, ``PostgresError`` when the server refuses.
    func prepare(lockWait: Duration = .seconds(60)) throws {
        try lock(waitingUpTo: lockWait)
        try createTables()
    }

    // MARK: The pair's lock

    /// The advisory lock key's text (`hashtext` of it is the key): one lock per state schema and pair, taken by
    /// `regionbridge reconcile` for its whole run and by `run`'s continuous reconciliation around each check.
    var lockName: String { "regionbridge.reconcile.\(schema).\(pair)" }

    /// Takes the pair's lock if it is free (a session lock: held until ``unlock()`` or the connection closes).
    /// - Returns: false when another session holds it.
    func tryLock() throws -> Bool {
        try db.query("SELECT pg_try_advisory_lock(hashtext($1))", [lockName]).rows.first?.first == "t"
    }

    /// Lets the pair's lock go.
    func unlock() throws {
        _ = try db.query("SELECT pg_advisory_unlock(hashtext($1))", [lockName])
    }

    /// Takes the pair's lock, asking again every 200 ms for up to `wait`.
    /// - Throws: ``ReconcileError`` naming who may hold it when it stayed taken.
    func lock(waitingUpTo wait: Duration) throws {
        let deadline = ContinuousClock.now + wait
        while try !tryLock() {
            guard ContinuousClock.now < deadline else {
                throw ReconcileError(.unreachable, "the event index of pair \(pair) in schema \(schema) stayed locked for \(wait): "
                    + "another regionbridge reconcile of the pair, or a running bridge's continuous reconciliation, is using it (try again)")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Creates the schema and tables if missing.
    func createTables() throws {
        try db.execute("""
            CREATE SCHEMA IF NOT EXISTS "\(schema)";
            CREATE UNLOGGED TABLE IF NOT EXISTS \(events) (
                pair text NOT NULL, side smallint NOT NULL, topic text NOT NULL, partition integer NOT NULL,
                kafka_offset bigint NOT NULL, source_offset bigint, event_id text COLLATE "C" NOT NULL, ts_ms bigint, fields jsonb);
            CREATE INDEX IF NOT EXISTS reconcile_events_by_event ON \(events) (pair, event_id);
            CREATE UNLOGGED TABLE IF NOT EXISTS \(cursors) (
                pair text NOT NULL, side smallint NOT NULL, topic text NOT NULL, partition integer NOT NULL,
                next_offset bigint NOT NULL, scanned_at timestamptz, PRIMARY KEY (pair, side, topic, partition));
            CREATE TABLE IF NOT EXISTS \(config) (pair text PRIMARY KEY, fingerprint text NOT NULL);
            SET work_mem = '256MB';
            """)
        // A table made before scanned_at existed gains it once. Only then: ALTER TABLE takes an ACCESS EXCLUSIVE
        // lock even when it changes nothing, and would wait for a drill reading the table.
        if try !hasScannedAt() {
            try db.execute("ALTER TABLE \(cursors) ADD COLUMN IF NOT EXISTS scanned_at timestamptz")
        }
    }

    /// Whether `reconcile_cursors` has the `scanned_at` column (tables made by older versions lack it).
    private func hasScannedAt() throws -> Bool {
        try db.query(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'reconcile_cursors' AND column_name = 'scanned_at'",
            [schema]).rows.first?.first == "1"
    }

    /// Starts a read-only run: opens a REPEATABLE READ transaction, looks at the stored index without taking the
    /// pair's lock, creates this session's temporary tables and a view of the events (the stored ones of the pair
    /// when they were scanned with `fingerprint`, plus this run's), then sets the transaction READ ONLY, so that
    /// the server refuses every later write to anything but those temporary tables.
    /// - Parameter ignoreIndex: scan every partition from its log start, as if nothing were stored.
    func prepareReadOnly(fingerprint: String, ignoreIndex: Bool) throws {
        readOnly = true
        try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        let exists = try db.query(
            "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL",
            [storedEvents, cursors, config]).rows.first?.first == "t"
        if exists {
            storedFingerprint = try db.query("SELECT fingerprint FROM \(config) WHERE pair = $1", [pair]).rows.first?.first ?? nil
        }
        storedIndexUsable = exists && !ignoreIndex && storedFingerprint == fingerprint
        let stored = storedIndexUsable ? "SELECT \(Self.eventColumns) FROM \(storedEvents) UNION ALL " : ""
        try db.execute("""
            CREATE TEMP TABLE rb_scanned (
                pair text NOT NULL, side smallint NOT NULL, topic text NOT NULL, partition integer NOT NULL,
                kafka_offset bigint NOT NULL, source_offset bigint, event_id text COLLATE "C" NOT NULL, ts_ms bigint, fields jsonb);
            CREATE INDEX ON rb_scanned (pair, event_id);
            CREATE TEMP VIEW rb_events AS \(stored)SELECT \(Self.eventColumns) FROM rb_scanned;
            \(committedTableDDL);
            CREATE INDEX ON rb_committed (event_id);
            \(checkedTableDDL);
            SET TRANSACTION READ ONLY;
            SET LOCAL work_mem = '256MB';
            """)
    }

    /// Ends a read-only run: rolls its transaction back (its temporary tables go with it).
    func finishReadOnly() {
        guard readOnly else { return }
        try? db.execute("ROLLBACK")
    }

    private var committedTableDDL: String {
        let valueColumns = compared.indices.map { ", v\($0) text" }.joined()
        return "CREATE TEMP TABLE rb_committed (event_id text COLLATE \"C\", committed_at timestamptz\(valueColumns), amount text, currency text)"
    }

    private let checkedTableDDL = "CREATE TEMP TABLE rb_checked (event_id text COLLATE \"C\", committed_at timestamptz, in_target bigint, same boolean)"

    /// Drops everything stored for the pair.
    func reset() throws {
        precondition(!readOnly, "a read-only run never drops the stored index")
        try inTransaction {
            for table in [events, cursors, config] {
                _ = try db.query("DELETE FROM \(table) WHERE pair = $1", [pair])
            }
        }
    }

    private func inTransaction(_ body: () throws -> Void) throws {
        try db.execute("BEGIN")
        do {
            try body()
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// The next offset to scan of every partition scanned before with the same `fingerprint`. When the
    /// fingerprint changed (other topics, event id or compared fields), the pair's rows are dropped first
    /// and the map is empty.
    ///
    /// Read-only: the stored cursors when the stored index is used, else none; nothing is dropped.
    func cursors(fingerprint: String) throws -> (cursors: [ScannedPartition: Int64], reset: Bool) {
        if readOnly && !storedIndexUsable {
            return ([:], storedFingerprint != nil && storedFingerprint != fingerprint)
        }
        let stored = try db.query("SELECT fingerprint FROM \(config) WHERE pair = $1", [pair]).rows.first?.first ?? nil
        if stored != fingerprint {
            try inTransaction {
                _ = try db.query("DELETE FROM \(events) WHERE pair = $1", [pair])
                _ = try db.query("DELETE FROM \(cursors) WHERE pair = $1", [pair])
                _ = try db.query("""
                    INSERT INTO \(config) (pair, fingerprint) VALUES ($1, $2)
                    ON CONFLICT (pair) DO UPDATE SET fingerprint = EXCLUDED.fingerprint
                    """, [pair, fingerprint])
            }
            return ([:], stored != nil)
        }
        var result: [ScannedPartition: Int64] = [:]
        for row in try db.query("SELECT side, topic, partition, next_offset FROM \(cursors) WHERE pair = $1", [pair]).rows {
            guard let side = row[0].flatMap(Int.init).flatMap(ClusterSide.init(rawValue:)), let topic = row[1],
                  let partition = row[2].flatMap(Int32.init), let next = row[3].flatMap(Int64.init) else { continue }
            result[ScannedPartition(side, TopicPartition(topic, partition))] = next
        }
        return (result, false)
    }

    /// When the newest scan of the source that the stored cursors come from began: every record the source held
    /// then is in the index. nil when no source partition was scanned with these settings, or one was scanned by a
    /// version that did not store the time. Read-only: the stored cursors when the stored index is used, else nil.
    func sourceScannedAt() throws -> Date? {
        if readOnly {
            guard storedIndexUsable, try hasScannedAt() else { return nil }
        }
        let row = try db.query("""
            SELECT CASE WHEN bool_or(scanned_at IS NULL) THEN NULL ELSE (extract(epoch FROM min(scanned_at)) * 1000)::bigint END
            FROM \(cursors) WHERE pair = $1 AND side = $2
            """, [pair, String(ClusterSide.source.rawValue)]).rows.first
        return row?.first?.flatMap(Int64.init).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// Stores what `scan` appends and the cursors it returns, all in one transaction: a failed scan
    /// stores nothing, and a stored record is never stored again.
    ///
    /// Read-only: the records go to this session's temporary table only, and no cursor is stored.
    /// - Parameters:
    ///   - startedAt: when the scan began, stored with each cursor it returns (see ``sourceScannedAt()``).
    ///   - analyze: refresh the index's statistics afterwards (default true; the continuous reconciliation does it
    ///     only after a large fill, see ``analyze()``).
    func store(startedAt: Date = Date(), analyze: Bool = true, _ scan: (EventRowWriter) throws -> [ScannedPartition: Int64]) throws {
        if readOnly {
            _ = try db.copyIn("COPY \(scanned) (\(Self.eventColumns)) FROM STDIN") { writer in
                _ = try scan(EventRowWriter(pair: pair, fieldNames: compared.map(\.field), writer: writer))
            }
            try db.execute("ANALYZE \(scanned)")
            return
        }
        try inTransaction {
            var next: [ScannedPartition: Int64] = [:]
            _ = try db.copyIn("""
                COPY \(events) (pair, side, topic, partition, kafka_offset, source_offset, event_id, ts_ms, fields) FROM STDIN
                """) { writer in
                next = try scan(EventRowWriter(pair: pair, fieldNames: compared.map(\.field), writer: writer))
            }
            for (scanned, offset) in next {
                _ = try db.query("""
                    INSERT INTO \(cursors) (pair, side, topic, partition, next_offset, scanned_at) VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (pair, side, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, scanned_at = EXCLUDED.scanned_at
                    """, [pair, String(scanned.side.rawValue), scanned.partition.topic, String(scanned.partition.partition), String(offset),
                          isoTime(startedAt)])
            }
        }
        // Fresh statistics, or the planner takes a just-filled table for an empty one and joins it row by row.
        if analyze { try self.analyze() }
    }

    /// Refreshes the planner's statistics of the stored events.
    func analyze() throws {
        try db.execute("ANALYZE \(events)")
    }

    /// Runs the committed query for `[from, to)` into a session table. The query's own errors come back
    /// with the server's message.
    func loadCommitted(query: String, from: Date, to: Date) throws {
        var body = query.trimmingCharacters(in: .whitespacesAndNewlines)
        while body.hasSuffix(";") { body = String(body.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
        if !readOnly {  // read-only: made before the transaction turned READ ONLY
            try db.execute("DROP TABLE IF EXISTS pg_temp.rb_committed; \(committedTableDDL)")
        }
        let selected = compared.map { ", q.\"\($0.column)\"::text" }.joined()
            + [amountColumn, currencyColumn].map { $0.map { ", q.\"\($0)\"::text" } ?? ", NULL::text" }.joined()
        _ = try db.query(
            "INSERT INTO rb_committed SELECT q.event_id::text, q.committed_at::timestamptz\(selected) FROM (\n\(body)\n) AS q",
            [isoTime(from), isoTime(to)])
        try db.execute(readOnly ? "ANALYZE rb_committed" : "CREATE INDEX ON rb_committed (event_id); ANALYZE rb_committed")
    }

    /// Joins each committed payment of `[from, to)` to its records, in Postgres, and counts them.
    ///
    /// A payment with exactly one target record whose compared fields equal the row's text has nothing to
    /// report (``PaymentCheck`` would find nothing), so it never leaves Postgres; every other payment is
    /// kept for ``forEachSuspectPayment(_:)``.
    /// - Returns: payments in the window, and how many of them have a target record.
    func checkCommittedPayments(from: Date, to: Date) throws -> (committed: Int, inTarget: Int) {
        let same = compared.isEmpty ? "true"
            : compared.indices.map { "(e.fields->>$\($0 + 4)) IS NOT DISTINCT FROM c.v\($0)" }.joined(separator: " AND ")
        if !readOnly {
            try db.execute("DROP TABLE IF EXISTS pg_temp.rb_checked; \(checkedTableDDL)")
        }
        _ = try db.query("""
            INSERT INTO rb_checked
            SELECT c.event_id, c.committed_at, count(e.event_id) FILTER (WHERE e.side = 1),
                   coalesce(bool_and(\(same)) FILTER (WHERE e.side = 1), true)
            FROM rb_committed c LEFT JOIN \(events) e ON e.pair = $1 AND e.event_id = c.event_id
            WHERE c.committed_at >= $2 AND c.committed_at < $3 AND c.event_id IS NOT NULL
            GROUP BY c.event_id, c.committed_at
            """, [pair, isoTime(from), isoTime(to)] + compared.map(\.field))
        let counts = try db.query("SELECT count(*), count(*) FILTER (WHERE in_target > 0) FROM rb_checked").rows.first
        return (counts?[0].flatMap(Int.init) ?? 0, counts?[1].flatMap(Int.init) ?? 0)
    }

    /// Each payment ``checkCommittedPayments(from:to:)`` kept, with every scanned record of its event, one at a time.
    func forEachSuspectPayment(_ body: (CommittedPayment, [EventCopy]) throws -> Void) throws {
        let values = compared.indices.map { ", c.v\($0)" }.joined()
        let fields = compared.indices.map { ", e.fields->>$\($0 + 2)" }.joined()
        let sql = """
            SELECT c.event_id, (extract(epoch FROM c.committed_at) * 1000)::bigint\(values), c.amount, c.currency,
                   e.side, e.topic, e.partition, e.kafka_offset, e.source_offset\(fields)
            FROM rb_checked k
            JOIN rb_committed c ON c.event_id = k.event_id AND c.committed_at = k.committed_at
            LEFT JOIN \(events) e ON e.pair = $1 AND e.event_id = c.event_id
            WHERE NOT (k.in_target = 1 AND k.same)
            ORDER BY c.event_id, c.committed_at, e.side, e.topic, e.partition, e.kafka_offset
            """
        let count = compared.count
        var current: CommittedPayment?
        var copies: [EventCopy] = []
        try db.forEachRow(sql, [pair] + compared.map(\.field)) { row in
            let payment = CommittedPayment(
                eventID: row[0] ?? "", committedAt: row[1].flatMap(Int64.init) ?? 0, values: Array(row[2..<(2 + count)]),
                amount: row[2 + count], currency: row[3 + count])
            if payment != current {
                if let current { try body(current, copies) }
                current = payment
                copies.removeAll(keepingCapacity: true)
            }
            let base = 4 + count
            if let side = row[base].flatMap(Int.init).flatMap(ClusterSide.init(rawValue:)), let topic = row[base + 1],
               let partition = row[base + 2].flatMap(Int32.init), let offset = row[base + 3].flatMap(Int64.init) {
                copies.append(EventCopy(
                    side: side, topic: topic, partition: partition, offset: offset,
                    sourceOffset: row[base + 4].flatMap(Int64.init), fields: Array(row[(base + 5)...])))
            }
        }
        if let current { try body(current, copies) }
    }

    /// Source records whose timestamp is in `[from, to)` and whose event id has no row in the committed
    /// query's result (which covers a wider range than the window, see ``Reconciler``).
    func forEachOrphan(from: Date, to: Date, _ body: (Finding) throws -> Void) throws {
        let sql = """
            SELECT e.event_id, e.topic, e.partition, e.kafka_offset, e.ts_ms FROM \(events) e
            WHERE e.pair = $1 AND e.side = 0 AND e.ts_ms >= $2 AND e.ts_ms < $3
              AND NOT EXISTS (SELECT 1 FROM rb_committed c WHERE c.event_id = e.event_id)
            ORDER BY e.topic, e.partition, e.kafka_offset
            """
        try db.forEachRow(sql, [pair, String(milliseconds(from)), String(milliseconds(to))]) { row in
            let location = "\(row[1] ?? "?")/\(row[2] ?? "?")@\(row[3] ?? "?")"
            let published = row[4].flatMap(Int64.init).map { ISOTime.string(milliseconds: $0) } ?? "an unknown time"
            try body(Finding(
                kind: .orphan, eventID: row[0] ?? "", committedAt: nil, location: location,
                detail: "published at \(published); no committed row"))
        }
    }
}

/// Appends scanned records to the event index's COPY.
struct EventRowWriter {
    let pair: String
    let fieldNames: [String]
    let writer: PostgresCopyWriter

    func append(_ side: ClusterSide, _ record: KafkaRecord, sourceOffset: Int64?, event: PaymentEvent) throws {
        var json = "{"
        for (index, name) in fieldNames.enumerated() {
            if index > 0 { json += "," }
            json += JSONValue.quote(name) + ":" + (event.fields[index].map(JSONValue.quote) ?? "null")
        }
        json += "}"
        try writer.append([
            pair, String(side.rawValue), record.topic, String(record.partition), String(record.offset),
            sourceOffset.map(String.init), event.eventID, record.timestamp.map { String($0.milliseconds) }, json,
        ])
    }
}

func milliseconds(_ date: Date) -> Int64 {
    Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
}

/// ISO-8601 UTC with milliseconds, as Postgres accepts for `timestamptz`.
func isoTime(_ date: Date) -> String {
    ISOTime.string(milliseconds: milliseconds(date))
}
