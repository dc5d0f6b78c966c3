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
public struct ReconcileSettings: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// libpq connection string, `${VAR}` already expanded. It may hold a password, so it is a ``Secret``:
    /// only the connection to Postgres reveals it.
    public var postgresDSN: Secret
    /// SQL returning `event_id` and `committed_at` (plus the compared columns) for `$1 <= committed_at < $2`.
    public var committedQuery: String
    /// Source topics whose records are the events of committed rows.
    public var topics: [String]
    /// Where a record carries its event id.
    public var eventID: EventIDLocation
    /// JSON field of the record value → column of the query, compared for every committed row; sorted by field.
    public var compare: [FieldComparison]
    /// Postgres schema holding the scan cursor and the event index (created if missing). Default `regionbridge`.
    public var stateSchema: String
    /// Column of the committed query holding the payment's amount (a plain decimal), for the value at risk.
    public var amountColumn: String?
    /// Column of the committed query holding the amount's currency; amounts are summed per currency.
    public var currencyColumn: String?
    /// How `run` reconciles by itself; nil when it does not (then `run` never touches Postgres).
    public var continuous: ContinuousReconcileSettings?

    /// Creates settings; the defaults are those of a section that leaves the optional keys out.
    public init(
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
    public var description: String {
        "ReconcileSettings(postgres_dsn: \(postgresDSN), topics: \(topics), event_id: \(eventID), "
            + "compare: \(compare.map { "\($0.field)=\($0.column)" }), state_schema: \(stateSchema), "
            + "amount: \(amountColumn ?? "-"), currency: \(currencyColumn ?? "-"), continuous: \(continuous.map { "\($0)" } ?? "off"))"
    }

    public var debugDescription: String { description }
}

/// The `reconcile.continuous` subsection: `run` reconciles the recent window by itself.
public struct ContinuousReconcileSettings: Sendable, Equatable, CustomStringConvertible {
    /// How often `run` checks. Default 30 s.
    public var interval: Duration
    /// How far back each check looks: payments committed in `[now − lookback, now)`. Default 15 min.
    public var lookback: Duration
    /// A committed payment missing from the target for longer than this is an RPO violation. Default 60 s.
    public var maxAge: Duration

    public init(interval: Duration = .seconds(30), lookback: Duration = .seconds(900), maxAge: Duration = .seconds(60)) {
        self.interval = interval
        self.lookback = lookback
        self.maxAge = maxAge
    }

    public var description: String { "every \(interval), lookback \(lookback), max_age \(maxAge)" }
}

/// One field compared between a record's JSON value and a row of the committed query.
public struct FieldComparison: Sendable, Equatable {
    /// Top-level field of the record's JSON value.
    public var field: String
    /// Column of the committed query.
    public var column: String

    public init(field: String, column: String) {
        self.field = field
        self.column = column
    }
}

/// Where a record holds the id of the event it carries.
public enum EventIDLocation: Sendable, Equatable, CustomStringConvertible {
    /// The record key, as UTF-8 text.
    case key
    /// The last header with this name, as UTF-8 text.
    case header(String)
    /// A top-level field of the record's JSON value (a string, or a number as written).
    case json(String)

    /// Parses `key`, `header:<name>` or `json:<field>`; nil for anything else.
    public init?(_ text: String) {
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
    public var description: String {
        switch self {
        case .key: "key"
        case .header(let name): "header:\(name)"
        case .json(let field): "json:\(field)"
        }
    }
}
