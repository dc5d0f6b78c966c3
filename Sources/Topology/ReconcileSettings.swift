/// How `regionbridge reconcile` proves that every committed payment reached the target region:
/// the `reconcile:` section of a topology file.
///
/// ```yaml
/// reconcile:
///   postgres_dsn: "host=db.internal dbname=payments user=regionbridge password=${PGPASSWORD}"
///   committed_query: |
///     SELECT event_id, committed_at, amount, currency FROM payments
///     WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2
///   topics: [payments]            # source topics that carry these events
///   event_id: key                 # key | header:<name> | json:<field>   (default key)
///   compare: {amount: amount, currency: currency}   # JSON field of the record -> query column
///   state_schema: regionbridge    # where the scan cursor and event index live (default regionbridge)
///   amount: amount                # optional: committed_query's column with the payment amount
///   currency: currency            # optional: its currency column
///   continuous:                   # optional; without it `run` does not touch Postgres
///     interval: 30s               # how often `run` reconciles incrementally
///     lookback: 15m               # the window checked each time
///     max_age: 60s                # missing from the target for longer than this: an RPO violation
/// ```
package struct ReconcileSettings: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// libpq connection string, `${VAR}` already expanded. It may hold a password, so it is a ``Secret``:
    /// only the connection to Postgres reveals it.
    package var postgresDSN: Secret
    /// SQL returning `event_id` and `committed_at` (plus the compared columns) for `$1 <= committed_at < $2`.
    package var committedQuery: String
    /// Source topics whose records are the events of committed rows.
    package var topics: [String]
    /// Where a record carries its event id.
    package var eventID: EventIDLocation
    /// JSON field of the record value → column of the query, compared for every committed row; sorted by field.
    package var compare: [FieldComparison]
    /// Postgres schema holding the scan cursor and the event index (created if missing). Default `regionbridge`.
    package var stateSchema: String
    /// Column of the committed query holding the payment's amount (a plain decimal), for the value at risk.
    package var amountColumn: String?
    /// Column of the committed query holding the amount's currency; amounts are summed per currency.
    package var currencyColumn: String?
    /// How `run` reconciles by itself; nil when it does not (then `run` never touches Postgres).
    package var continuous: ContinuousReconcileSettings?

    /// Creates settings; the defaults are those of a section that leaves the optional keys out.
    package init(
        postgresDSN: Secret, committedQuery: String, topics: [String], eventID: EventIDLocation = .key,
        compare: [FieldComparison] = [], stateSchema: String = "regionbridge", amountColumn: String? = nil,
        currencyColumn: String? = nil, continuous: ContinuousReconcileSettings? = nil
    ) {
        self.postgresDSN = postgresDSN
        self.committedQuery = committedQuery
        self.topics = topics
        self.eventID = eventID
        self.compare = compare.sorted { $0.field < $1.field }
        self.stateSchema = stateSchema
        self.amountColumn = amountColumn
        self.currencyColumn = currencyColumn
        self.continuous = continuous
    }

    /// The settings without the connection string (shown as `******`).
    package var description: String {
        "ReconcileSettings(postgres_dsn: \(postgresDSN), topics: \(topics), event_id: \(eventID), "
            + "compare: \(compare.map { "\($0.field)=\($0.column)" }), state_schema: \(stateSchema), "
            + "amount: \(amountColumn ?? "-"), currency: \(currencyColumn ?? "-"), continuous: \(continuous.map { "\($0)" } ?? "off"))"
    }

    package var debugDescription: String { description }
}

/// The `reconcile.continuous` subsection: `run` reconciles the recent window by itself.
package struct ContinuousReconcileSettings: Sendable, Equatable, CustomStringConvertible {
    /// How often `run` checks. Default 30 s.
    package var interval: Duration
    /// How far back each check looks: payments committed in `[now − lookback, now)`. Default 15 min.
    package var lookback: Duration
    /// A committed payment missing from the target for longer than this is an RPO violation. Default 60 s.
    package var maxAge: Duration

    package init(interval: Duration = .seconds(30), lookback: Duration = .seconds(900), maxAge: Duration = .seconds(60)) {
        self.interval = interval
        self.lookback = lookback
        self.maxAge = maxAge
    }

    package var description: String { "every \(interval), lookback \(lookback), max_age \(maxAge)" }
}

/// One field compared between a record's JSON value and a row of the committed query.
package struct FieldComparison: Sendable, Equatable {
    /// Top-level field of the record's JSON value.
    package var field: String
    /// Column of the committed query.
    package var column: String

    package init(field: String, column: String) {
        self.field = field
        self.column = column
    }
}

/// Where a record holds the id of the event it carries.
package enum EventIDLocation: Sendable, Equatable, CustomStringConvertible {
    /// The record key, as UTF-8 text.
    case key
    /// The last header with this name, as UTF-8 text.
    case header(String)
    /// A top-level field of the record's JSON value (a string, or a number as written).
    case json(String)

    /// Parses `key`, `header:<name>` or `json:<field>`; nil for anything else.
    package init?(_ text: String) {
        if text == "key" {
            self = .key
        } else if text.hasPrefix("header:"), text.count > 7 {
            self = .header(String(text.dropFirst(7)))
        } else if text.hasPrefix("json:"), text.count > 5 {
            self = .json(String(text.dropFirst(5)))
        } else {
            return nil
        }
    }

    /// The form written in a topology file.
    package var description: String {
        switch self {
        case .key: "key"
        case .header(let name): "header:\(name)"
        case .json(let field): "json:\(field)"
        }
    }
}
