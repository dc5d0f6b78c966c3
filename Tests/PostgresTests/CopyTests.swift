import Foundation
import Postgres
import XCTest

/// `copyIn`: the rows written are the rows stored, text escaped for COPY's text format; a COPY that fails
/// part-way, on the client or on the server, stores nothing.
final class CopyTests: PostgresTestCase {
    private struct Stop: Error, Equatable {}

    private func bytes(_ rows: [[String?]]) -> [[[UInt8]?]] {
        rows.map { $0.map { $0.map { Array($0.utf8) } } }
    }

    func testStoresExactlyTheRowsWritten() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int PRIMARY KEY, a text, b text)")
        let texts: [String?] = PostgresConnectionTests.awkwardValues + [
            nil,
            "\\N",  // the text backslash-N, not NULL
            "\\.",  // COPY's old end-of-data marker, as data
            "a\tb\tc",
            "line1\nline2\r\nline3\n",
            "\\\\\\",
            "\u{B}vertical tab and \u{C} form feed and \u{8} backspace",
        ]
        var rows: [[String?]] = []
        for (index, text) in texts.enumerated() {
            rows.append(["\(index)", text, text.map { "b:" + $0 }])
        }
        // A small buffer so the rows go out in several PQputCopyData calls.
        let stored = try db.copyIn("COPY t (id, a, b) FROM STDIN", flushBytes: 64) { writer in
            for row in rows { try writer.append(row) }
        }
        XCTAssertEqual(stored, rows.count)
        let back = try db.query("SELECT id::text, a, b FROM t ORDER BY t.id").rows
        XCTAssertEqual(bytes(back), bytes(rows))
        XCTAssertEqual(try db.query("SELECT count(*) FROM t WHERE a IS NULL").rows, [["1"]])
    }

    func testManyRowsInOneCopy() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int, v text)")
        let count = 50_000
        let stored = try db.copyIn("COPY t FROM STDIN", flushBytes: 4096) { writer in
            for id in 1...count { try writer.append(["\(id)", "v\t\(id)\n"]) }
        }
        XCTAssertEqual(stored, count)
        let summary = try db.query("SELECT count(*), min(id), max(id), count(DISTINCT id), bool_and(v = 'v' || chr(9) || id || chr(10)) FROM t")
        XCTAssertEqual(summary.rows, [["\(count)", "1", "\(count)", "\(count)", "t"]])
    }

    func testClientFailurePartWayStoresNothing() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int)")
        let error = thrownError {
            try db.copyIn("COPY t FROM STDIN", flushBytes: 16) { writer in
                for id in 1...1_000 { try writer.append(["\(id)"]) }  // already sent: 16-byte flushes
                throw Stop()
            }
        }
        XCTAssertEqual(error as? Stop, Stop(), "body's own error is rethrown, got \(String(describing: error))")
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").rows, [["0"]])
        XCTAssertEqual(try db.copyIn("COPY t FROM STDIN") { try $0.append(["1"]) }, 1, "the connection is usable again")
    }

    func testServerRejectingARowPartWayStoresNothing() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int)")
        let error = try XCTUnwrap(thrownPostgresError {
            try db.copyIn("COPY t FROM STDIN", flushBytes: 16) { writer in
                for id in 1...2_000 { try writer.append([id == 1_500 ? "fifteen hundred" : "\(id)"]) }
            }
        })
        XCTAssertEqual(error.kind, .query)
        XCTAssertEqual(error.sqlState, "22P02")
        XCTAssertEqual(error.message, #"invalid input syntax for type integer: "fifteen hundred""#)
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").rows, [["0"]])
    }

    func testNonCopyStatementIsRefused() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int)")
        let error = try XCTUnwrap(thrownPostgresError { try db.copyIn("INSERT INTO t VALUES (1)") { _ in } })
        XCTAssertEqual(error.message, "copyIn needs a COPY ... FROM STDIN statement")
        let missing = try XCTUnwrap(thrownPostgresError { try db.copyIn("COPY no_such_table FROM STDIN") { _ in } })
        XCTAssertEqual(missing.sqlState, "42P01")
    }
}
