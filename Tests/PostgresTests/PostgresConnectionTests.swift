import Foundation
import Postgres
import TestSupport
import XCTest

/// `query` with text parameters and text results: values go to the server and come back byte for byte.
final class PostgresConnectionTests: PostgresTestCase {
    /// Text that byte-level bugs would mangle. Compared as UTF-8 bytes, never as `String`s: Swift's `==` holds
    /// canonically equivalent strings equal, so a decomposed "é" would pass for a precomposed one.
    static let awkwardValues: [String] = [
        "",
        " ",
        "plain ASCII",
        "tab\there, newline\nthere, carriage return\r, backslash \\ and \\N and \\. and quotes ' \" $1 %s",
        "Z\u{FC}rich \u{2014} \u{6771}\u{4EAC} \u{2014} \u{1F1E8}\u{1F1ED} \u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}",
        "precomposed \u{E9} vs decomposed e\u{301}",
        "\u{FEFF}byte order mark, \u{200B}zero width, \u{7F} delete, \u{1} control",
        "\u{10FFFF} last code point",
    ]

    func testParametersRoundTripByteForByte() throws {
        let (db, _) = try SharedServer.freshDatabase()
        for value in Self.awkwardValues {
            let result = try db.query("SELECT $1::text AS v, octet_length($1::text) AS bytes", [value])
            XCTAssertEqual(result.columns, ["v", "bytes"])
            XCTAssertEqual(result.count, 1)
            XCTAssertEqual(result[row: 0, column: "v"].map { Array($0.utf8) }, Array(value.utf8), value)
            XCTAssertEqual(result[row: 0, column: "bytes"], "\(value.utf8.count)", "the server got exactly the bytes sent")
        }
    }

    func testStoredValuesRoundTripWithNull() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        let values: [String?] = Self.awkwardValues + [nil]
        for (id, value) in values.enumerated() {
            let inserted = try db.query("INSERT INTO t (id, v) VALUES ($1, $2)", ["\(id)", value])
            XCTAssertEqual(inserted.affectedRows, 1)
            XCTAssertEqual(inserted.columns, [])
        }
        let result = try db.query("SELECT v, v IS NULL AS isnull FROM t ORDER BY id")
        XCTAssertEqual(result.affectedRows, values.count, "SELECT reports its row count")
        XCTAssertEqual(result.rows.map { $0[0].map { Array($0.utf8) } }, values.map { $0.map { Array($0.utf8) } })
        XCTAssertEqual(result.rows.map { $0[1] }, values.map { $0 == nil ? "t" : "f" })
    }

    func testNullParameterIsSQLNull() throws {
        let (db, _) = try SharedServer.freshDatabase()
        let result = try db.query("SELECT $1::text IS NULL, $2::text IS NULL, $1::text", [nil, ""])
        XCTAssertEqual(result.rows, [["t", "f", nil]])
    }

    func testLargeValueRoundTrips() throws {
        let (db, _) = try SharedServer.freshDatabase()
        // 8 MiB of text mixing 1-, 2-, 3- and 4-byte UTF-8 and the characters COPY and C strings care about.
        let unit = "abc\t\\\n\u{E9}\u{4EAC}\u{1F600}'\""
        let value = String(repeating: unit, count: (8 << 20) / unit.utf8.count)
        try db.execute("CREATE TABLE t (v text)")
        _ = try db.query("INSERT INTO t VALUES ($1)", [value])
        let result = try db.query("SELECT v, octet_length(v) FROM t")
        XCTAssertEqual(result.rows[0][1], "\(value.utf8.count)")
        let back = try XCTUnwrap(result.rows[0][0])
        XCTAssertTrue(Array(back.utf8) == Array(value.utf8), "an 8 MiB value came back changed")
    }

    func testNulByteIsRefusedBeforeSending() throws {
        let (db, _) = try SharedServer.freshDatabase()
        let error = try XCTUnwrap(thrownPostgresError { try db.query("SELECT $1::text, $2::text", ["fine", "nul\u{0}inside"]) })
        XCTAssertEqual(error.kind, .query)
        XCTAssertEqual(error.message, "parameter $2 contains a NUL byte, which PostgreSQL text cannot hold")
        XCTAssertNil(error.sqlState)
    }

    func testClientEncodingIsAlwaysUTF8() throws {
        let cluster = try SharedServer.cluster()
        let db = try PostgresConnection.connect(cluster.dsn + " client_encoding=LATIN1")
        XCTAssertEqual(try db.query("SHOW client_encoding").rows, [["UTF8"]])
        let value = "\u{6771}\u{4EAC} \u{1F600}"
        XCTAssertEqual(try db.query("SELECT $1::text", [value]).rows[0][0].map { Array($0.utf8) }, Array(value.utf8))
    }

    func testDefaultsApplyUnlessTheDSNSetsThem() throws {
        let cluster = try SharedServer.cluster()
        let defaults = [("application_name", "from-defaults"), ("connect_timeout", "7")]
        let plain = try PostgresConnection.connect(cluster.dsn, defaults: defaults)
        XCTAssertEqual(try plain.query("SHOW application_name").rows, [["from-defaults"]])
        let overridden = try PostgresConnection.connect(cluster.dsn + " application_name=from-dsn", defaults: defaults)
        XCTAssertEqual(try overridden.query("SHOW application_name").rows, [["from-dsn"]])
    }

    /// Statements from several threads on one connection run one after another, each getting its own result.
    func testConcurrentCallersGetTheirOwnResults() throws {
        let (db, _) = try SharedServer.freshDatabase()
        let mismatches = LockedList()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for index in 0..<200 {
                let value = "thread \(thread) statement \(index)"
                do {
                    let rows = try db.query("SELECT $1::text, $2::int * 2", [value, "\(index)"]).rows
                    if rows != [[value, "\(index * 2)"]] { mismatches.append("\(value): \(rows)") }
                } catch {
                    mismatches.append("\(value): \(error)")
                }
            }
        }
        XCTAssertEqual(mismatches.items, [])
    }

    func testTerminatedBackendIsAConnectionError() throws {
        let (db, name) = try SharedServer.freshDatabase()
        let pid = try XCTUnwrap(try db.query("SELECT pg_backend_pid()").rows[0][0])
        let admin = try SharedServer.cluster().connect(database: name)
        XCTAssertEqual(try admin.query("SELECT pg_terminate_backend($1::int)", [pid]).rows, [["t"]])
        let error = try XCTUnwrap(thrownPostgresError { try db.query("SELECT 1") })
        XCTAssertEqual(error.kind, .connection, "\(error)")
    }

    func testRowsAccessors() throws {
        let (db, _) = try SharedServer.freshDatabase()
        let result = try db.query("SELECT 1 AS a, NULL::text AS b, 'x' AS c UNION ALL SELECT 2, 'y', NULL")
        XCTAssertEqual(result.columns, ["a", "b", "c"])
        XCTAssertEqual(result.count, 2)
        XCTAssertEqual(result.columnIndex("c"), 2)
        XCTAssertNil(result.columnIndex("d"))
        XCTAssertEqual(result[row: 1, column: "b"], "y")
        XCTAssertNil(result[row: 0, column: "b"])
        try db.execute("CREATE TABLE t (id int)")
        XCTAssertNil(try db.query("CREATE TABLE u (id int)").affectedRows, "DDL reports no row count")
        XCTAssertEqual(try db.query("INSERT INTO t SELECT generate_series(1, 5)").affectedRows, 5)
        XCTAssertEqual(try db.query("UPDATE t SET id = id + 1 WHERE id > $1", ["2"]).affectedRows, 3)
        XCTAssertEqual(try db.query("DELETE FROM t").affectedRows, 5)
    }
}

/// Strings appended from several threads.
private final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    var items: [String] { lock.withLock { stored } }

    func append(_ item: String) { lock.withLock { stored.append(item) } }
}
