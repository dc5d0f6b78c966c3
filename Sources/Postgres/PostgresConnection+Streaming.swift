import CLibPQ
import Foundation
import Logging

extension PostgresConnection {
    /// Runs one query and hands each row to `body` as it arrives, so memory does not grow
    /// with the size of the result.
    ///
    /// Uses `PQsendQueryParams` with libpq's single-row mode: libpq holds one row at a time.
    /// `batch` is the most rows the client may hold at once; it must be positive. libpq 15
    /// (what this project builds against) only offers single-row mode, so today at most one
    /// row is held whatever `batch` is; the parameter lets callers state the bound so that a
    /// chunked mode (libpq 17's `PQsetChunkedRowsMode`) can use it without an API change.
    ///
    /// When `body` throws, the query is cancelled on the server, the rest of the result is
    /// discarded, and `body`'s error is rethrown; inside a transaction the cancellation aborts
    /// that transaction. `body` must not use this connection (doing so throws a `.query`
    /// ``PostgresError``); other connections are fine.
    ///
    /// Blocks the calling thread until the whole result is consumed.
    ///
    /// - Throws: ``PostgresError`` when the query fails (rows already delivered stay
    ///   delivered), or whatever `body` throws.
    package func forEachRow(
        _ sql: String,
        _ parameters: [String?] = [],
        batch: Int = 10_000,
        _ body: ([String?]) throws -> Void
    ) throws {
        precondition(batch > 0, "forEachRow batch must be positive, got \(batch)")
        lock.lock()
        defer { lock.unlock() }
        guard !isStreaming else {
            throw PostgresError(
                kind: .query,
                message: "connection is busy streaming a result; use another connection inside forEachRow",
                dsn: redactedDSN)
        }
        isStreaming = true
        defer { isStreaming = false }

        try validate(parameters)
        let sent = withCStrings(parameters) { values in
            PQsendQueryParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        guard sent == 1 else { throw error(from: nil) }
        if PQsetSingleRowMode(conn) != 1 {
            logger.warning("PostgreSQL single-row mode unavailable; the whole result will be buffered")
        }

        var queryError: PostgresError?
        var bodyError: (any Error)?
        // Always read until PQgetResult returns nil so the connection is idle afterwards.
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            guard queryError == nil, bodyError == nil else { continue }
            switch PQresultStatus(result) {
            case PGRES_SINGLE_TUPLE, PGRES_TUPLES_OK:
                let fieldCount = PQnfields(result)
                for row in 0..<PQntuples(result) {
                    do {
                        try body(decodeRow(result, row: row, fieldCount: fieldCount))
                    } catch {
                        bodyError = error
                        cancelRunningQuery()
                        break
                    }
                }
            case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                break
            default:
                do {
                    _ = try completedRows(result)
                } catch {
                    queryError = error
                }
            }
        }
        if let bodyError { throw bodyError }
        if let queryError { throw queryError }
    }

    /// Asks the server to cancel the statement in progress (best effort; a request that
    /// arrives after the statement finished is ignored by the server).
    private func cancelRunningQuery() {
        guard let cancel = PQgetCancel(conn) else { return }
        defer { PQfreeCancel(cancel) }
        var buffer = [CChar](repeating: 0, count: 256)
        if PQcancel(cancel, &buffer, Int32(buffer.count)) != 1 {
            let reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            logger.warning("could not cancel PostgreSQL query: \(reason)")
        }
    }
}
