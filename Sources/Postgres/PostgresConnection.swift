import CLibPQ
import Foundation
import Logging

/// One connection to a PostgreSQL server through libpq, with text parameters and text results.
///
/// **Blocking.** Every method blocks the calling thread until the server answers (or, for
/// ``connect(_:logger:)``, until the connection is made or fails). Async callers must not call
/// these from the cooperative thread pool for long work; hop to a dedicated thread or
/// executor first.
///
/// **Thread safety.** The type is `@unchecked Sendable` because every libpq call on the
/// underlying `PGconn` happens while an internal lock is held: statements issued from
/// different threads run one after another, never interleaved. The only other stored state
/// is immutable. Calling back into the same connection from inside a
/// ``forEachRow(_:_:batch:_:)`` body throws a `.query` error instead of deadlocking.
///
/// The connection is closed (`PQfinish`) when the object is deinitialised.
package final class PostgresConnection: @unchecked Sendable {
    /// The owned `PGconn`; only used while `lock` is held (or in `deinit`).
    let conn: OpaquePointer
    /// The connection string with passwords redacted, for errors and logs.
    package let redactedDSN: String
    /// Where connection events and server notices are logged.
    package let logger: Logger
    /// Serialises every libpq call on `conn`. Recursive so that re-entry from a
    /// ``forEachRow(_:_:batch:_:)`` body is detected (via `isStreaming`) rather than deadlocking.
    let lock = NSRecursiveLock()
    /// True while ``forEachRow(_:_:batch:_:)`` owns the connection; guarded by `lock`.
    var isStreaming = false
    /// Retained context handed to libpq's notice receiver; released after `PQfinish`.
    private let noticeContext: Unmanaged<NoticeContext>

    private init(conn: OpaquePointer, redactedDSN: String, logger: Logger) {
        self.conn = conn
        self.redactedDSN = redactedDSN
        self.logger = logger
        self.noticeContext = Unmanaged.passRetained(NoticeContext(logger: logger))
        PQsetNoticeReceiver(conn, noticeReceiver, noticeContext.toOpaque())
    }

    deinit {
        PQfinish(conn)
        noticeContext.release()
    }

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - dsn: A libpq connection string, either key/value
    ///     (`host=127.0.0.1 port=5432 user=postgres dbname=app`) or a URI
    ///     (`postgresql://user:password@host:5432/app`). The client encoding is always UTF-8.
    ///   - defaults: libpq connection parameters (keyword, value) that apply unless the DSN sets
    ///     them, e.g. `("connect_timeout", "10")`. Default none.
    ///   - logger: Receives connection events and server notices (warnings at `.warning`,
    ///     other notices at `.debug`).
    /// - Throws: ``PostgresError`` of kind `.connection` with libpq's message and the DSN
    ///   with its password redacted.
    package static func connect(
        _ dsn: String,
        defaults: [(String, String)] = [],
        logger: Logger = Logger(label: "regionbridge.postgres")
    ) throws(PostgresError) -> PostgresConnection {
        // libpq processes the keywords in order, the last value of a repeated one winning: `defaults`
        // come first, so the DSN overrides them; `dbname` with expand_dbname=1 takes the whole connection
        // string; `client_encoding` comes last, so it overrides any encoding set in the DSN.
        let pgconn = withCStrings(defaults.map(\.0) + ["dbname", "client_encoding", nil]) { keywords in
            withCStrings(defaults.map(\.1) + [dsn, "UTF8", nil]) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let pgconn else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection", dsn: dsn)
        }
        guard PQstatus(pgconn) == CONNECTION_OK else {
            let message = libpqErrorMessage(pgconn)
            PQfinish(pgconn)
            throw PostgresError(kind: .connection, message: message, dsn: dsn)
        }
        let connection = PostgresConnection(conn: pgconn, redactedDSN: redactPassword(inDSN: dsn), logger: logger)
        logger.debug("connected to PostgreSQL", metadata: [
            "dsn": "\(connection.redactedDSN)",
            "server_version": "\(PQserverVersion(pgconn))",
        ])
        return connection
    }

    /// Runs one statement with `$1`, `$2`, … text parameters (`PQexecParams`) and returns
    /// its whole result.
    ///
    /// Parameters are sent as text with types inferred by the server; `nil` is SQL NULL.
    /// Only one statement is allowed. Results are decoded as text; use
    /// ``forEachRow(_:_:batch:_:)`` for results too large to hold in memory.
    ///
    /// - Throws: ``PostgresError`` of kind `.query` when the server rejects the statement,
    ///   `.connection` when the connection is lost.
    package func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresRows {
        try withExclusiveConnection { conn throws(PostgresError) in
            try validate(parameters)
            let result = withCStrings(parameters) { values in
                PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
            defer { PQclear(result) }
            return try completedRows(result)
        }
    }

    /// Runs one or more `;`-separated statements without parameters (`PQexec`), for DDL and
    /// other commands whose result is not needed.
    ///
    /// Unless the text has explicit transaction control, the statements run in one implicit
    /// transaction: when one fails, none take effect.
    ///
    /// - Throws: ``PostgresError`` of kind `.query` when a statement fails, `.connection`
    ///   when the connection is lost.
    package func execute(_ sql: String) throws(PostgresError) {
        try withExclusiveConnection { conn throws(PostgresError) in
            let result = PQexec(conn, sql)
            defer { PQclear(result) }
            _ = try completedRows(result)
        }
    }

    // MARK: - Internals shared with the streaming extension

    /// Runs `body` with the lock held, refusing re-entry from a streaming callback.
    func withExclusiveConnection<Result>(
        _ body: (OpaquePointer) throws(PostgresError) -> Result
    ) throws(PostgresError) -> Result {
        lock.lock()
        defer { lock.unlock() }
        guard !isStreaming else {
            throw PostgresError(
                kind: .query,
                message: "connection is busy streaming a result; use another connection inside forEachRow",
                dsn: redactedDSN)
        }
        return try body(conn)
    }

    /// Rejects parameters PostgreSQL text cannot carry, before anything is sent.
    func validate(_ parameters: [String?]) throws(PostgresError) {
        for (index, parameter) in parameters.enumerated() where parameter?.utf8.contains(0) == true {
            throw PostgresError(
                kind: .query,
                message: "parameter $\(index + 1) contains a NUL byte, which PostgreSQL text cannot hold",
                dsn: redactedDSN)
        }
    }

    /// Decodes a finished result, or throws the error it carries. Does not clear `result`.
    func completedRows(_ result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        guard let result else { throw error(from: nil) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return decodeRows(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abandonCopy()
            throw PostgresError(kind: .query, message: "COPY is not supported by this client", dsn: redactedDSN)
        default:
            throw error(from: result)
        }
    }

    /// Builds an error from a failed result, or from the connection when there is no result.
    func error(from result: OpaquePointer?) -> PostgresError {
        let kind: PostgresError.Kind = PQstatus(conn) == CONNECTION_BAD ? .connection : .query
        guard let result else {
            return PostgresError(kind: kind, message: libpqErrorMessage(conn), dsn: redactedDSN)
        }
        let primary = errorField(result, DiagnosticField.messagePrimary)
        let fallback = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
        var message = (primary ?? fallback).trimmingCharacters(in: .whitespacesAndNewlines)
        if message.isEmpty { message = libpqErrorMessage(conn) }
        return PostgresError(
            kind: kind,
            message: message,
            sqlState: errorField(result, DiagnosticField.sqlState),
            detail: errorField(result, DiagnosticField.messageDetail),
            dsn: redactedDSN)
    }

    /// Ends a COPY the server started so the connection is usable again, then drains results.
    private func abandonCopy() {
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COPY_IN, PGRES_COPY_BOTH:
                _ = PQputCopyEnd(conn, "COPY is not supported by this client")
            case PGRES_COPY_OUT:
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(conn, &buffer, 0) > 0 {
                    PQfreemem(buffer)
                    buffer = nil
                }
            default:
                break
            }
        }
    }
}

/// Decodes every row of `result` as text; SQL NULL becomes `nil`.
func decodeRows(_ result: OpaquePointer) -> PostgresRows {
    let fieldCount = PQnfields(result)
    let columns = (0..<fieldCount).map { String(cString: PQfname(result, $0)) }
    let rows = (0..<PQntuples(result)).map { decodeRow(result, row: $0, fieldCount: fieldCount) }
    let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) }
    return PostgresRows(columns: columns, rows: rows, affectedRows: affected)
}

/// Decodes one row of `result`.
func decodeRow(_ result: OpaquePointer, row: Int32, fieldCount: Int32) -> [String?] {
    (0..<fieldCount).map { column in
        PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
    }
}

/// One diagnostic field of an error result, or `nil` when absent.
func errorField(_ result: OpaquePointer, _ code: Int32) -> String? {
    PQresultErrorField(result, code).map { String(cString: $0) }
}

/// libpq's last error message for `conn`, trimmed.
func libpqErrorMessage(_ conn: OpaquePointer) -> String {
    let text = PQerrorMessage(conn).map { String(cString: $0) } ?? ""
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return trimmed.isEmpty ? "unknown libpq error" : trimmed
}

/// Calls `body` with NUL-terminated copies of `strings` (`nil` stays a null pointer); the
/// copies live only for the call.
func withCStrings<Result>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> Result) -> Result {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { string in
        string.map { value in
            guard let copy = strdup(value) else { fatalError("out of memory copying a PostgreSQL parameter") }
            return copy
        }
    }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}
