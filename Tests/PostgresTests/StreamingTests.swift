import Foundation
import Postgres
import XCTest

/// `forEachRow`: every row, in order, handed over as it arrives (single-row mode), the query cancelled when
/// the body throws, re-entry refused.
final class StreamingTests: PostgresTestCase {
    private struct Stop: Error, Equatable {}

    func testHundredThousandRowsInOrder() throws {
        let (db, _) = try SharedServer.freshDatabase()
        var expected = 1
        var mismatches = 0
        try db.forEachRow("SELECT g, 'row ' || g, NULL::text FROM generate_series(1, $1::int) g ORDER BY g", ["100000"]) { row in
            if row != ["\(expected)", "row \(expected)", nil] { mismatches += 1 }
            expected += 1
        }
        XCTAssertEqual(expected - 1, 100_000)
        XCTAssertEqual(mismatches, 0)
    }

    /// The first row reaches `body` while the server is still producing the second (which sleeps 30 s): a client
    /// that waited for the whole result would take 60 s. Throwing from `body` cancels the sleeping query.
    /// PostgreSQL 15 holds small rows in its 8 kB send buffer until it fills or the query ends; a notice is
    /// flushed at once, with whatever precedes it, so `slow` raises one before it sleeps.
    func testRowsArriveBeforeTheQueryEndsAndThrowingCancels() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("""
            CREATE FUNCTION slow(g int) RETURNS int LANGUAGE plpgsql AS $$
            BEGIN IF g > 1 THEN RAISE NOTICE 'sleeping before row %', g; PERFORM pg_sleep(30); END IF; RETURN g; END $$
            """)
        let start = Date()
        var firstRowAfter: TimeInterval?
        var delivered: [String?] = []
        let error = thrownError {
            try db.forEachRow("SELECT slow(g) FROM generate_series(1, 3) g") { row in
                firstRowAfter = Date().timeIntervalSince(start)
                delivered.append(row[0])
                throw Stop()
            }
        }
        let total = Date().timeIntervalSince(start)
        XCTAssertEqual(error as? Stop, Stop(), "body's error is rethrown, got \(String(describing: error))")
        XCTAssertEqual(delivered, ["1"])
        XCTAssertLessThan(try XCTUnwrap(firstRowAfter), 10, "the first row waited for the rest of the result")
        XCTAssertLessThan(total, 15, "the query was not cancelled")
        XCTAssertEqual(try db.query("SELECT 1").rows, [["1"]], "the connection is idle and usable afterwards")
    }

    func testQueryErrorAfterSomeRowsKeepsThemDelivered() throws {
        let (db, _) = try SharedServer.freshDatabase()
        var delivered: [[String?]] = []
        let error = try XCTUnwrap(thrownPostgresError {
            try db.forEachRow("SELECT g, 10 / (3 - g) FROM generate_series(1, 5) g") { delivered.append($0) }
        })
        XCTAssertEqual(delivered, [["1", "5"], ["2", "10"]])
        XCTAssertEqual(error.kind, .query)
        XCTAssertEqual(error.sqlState, "22012")
        XCTAssertEqual(error.message, "division by zero")
        XCTAssertEqual(try db.query("SELECT 2").rows, [["2"]])
    }

    func testUsingTheConnectionInsideTheBodyIsRefused() throws {
        let (db, _) = try SharedServer.freshDatabase()
        var inner: [PostgresError] = []
        var rows = 0
        try db.forEachRow("SELECT generate_series(1, 3)") { _ in
            rows += 1
            do throws(PostgresError) { _ = try db.query("SELECT 1") } catch { inner.append(error) }
        }
        XCTAssertEqual(rows, 3)
        XCTAssertEqual(inner.map(\.kind), [.query, .query, .query])
        XCTAssertEqual(inner.first?.message, "connection is busy streaming a result; use another connection inside forEachRow")
        var others: [String] = []
        try db.forEachRow("SELECT 1") { _ in
            do { try db.execute("SELECT 1") } catch { others.append("execute: \((error as? PostgresError)?.message ?? "\(error)")") }
            do { _ = try db.copyIn("COPY (SELECT 1) TO STDOUT") { _ in } } catch { others.append("copyIn: \((error as? PostgresError)?.message ?? "\(error)")") }
            do { try db.forEachRow("SELECT 1") { _ in } } catch { others.append("forEachRow: \((error as? PostgresError)?.message ?? "\(error)")") }
        }
        XCTAssertEqual(others, [
            "execute: connection is busy streaming a result; use another connection inside forEachRow",
            "copyIn: connection is busy streaming a result; use another connection",
            "forEachRow: connection is busy streaming a result; use another connection inside forEachRow",
        ])
        XCTAssertEqual(try db.query("SELECT 3").rows, [["3"]])
    }

    func testParametersAndEmptyResult() throws {
        let (db, _) = try SharedServer.freshDatabase()
        var rows: [[String?]] = []
        try db.forEachRow("SELECT $1::text, $2::text", ["\u{1F600}\t\\", nil]) { rows.append($0) }
        XCTAssertEqual(rows.map { $0.map { $0.map { Array($0.utf8) } } }, [[Array("\u{1F600}\t\\".utf8), nil]])
        var none = 0
        try db.forEachRow("SELECT 1 WHERE false") { _ in none += 1 }
        XCTAssertEqual(none, 0)
        let error = try XCTUnwrap(thrownPostgresError { try db.forEachRow("SELECT $1::text", ["a\u{0}b"]) { _ in } })
        XCTAssertEqual(error.message, "parameter $1 contains a NUL byte, which PostgreSQL text cannot hold")
    }
}
