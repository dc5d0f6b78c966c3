import Foundation
import Postgres
import TestSupport
import XCTest

/// Connection failures name their cause without the password; statement failures carry the server's
/// SQLSTATE, primary message and detail (DiagnosticField) and leave the connection usable.
final class PostgresErrorTests: PostgresTestCase {
    /// Every way an error reaches a log or a terminal must be free of `secret`.
    private func assertNoSecret(_ error: PostgresError, _ secret: String, file: StaticString = #filePath, line: UInt = #line) {
        var dumped = ""
        dump(error, to: &dumped)
        let renderings = [
            "description": error.description,
            "String(describing:)": String(describing: error),
            "String(reflecting:)": String(reflecting: error),
            "interpolation": "\(error)",
            "localizedDescription": error.localizedDescription,
            "dump": dumped,
            "message": error.message,
            "redactedDSN": error.redactedDSN,
        ]
        for (name, text) in renderings {
            XCTAssertFalse(text.contains(secret), "\(name) shows the password: \(text)", file: file, line: line)
        }
    }

    func testMissingDatabaseNamesItAndRedactsKeyValuePassword() throws {
        let cluster = try SharedServer.cluster()
        let secret = "kvS3cret-9f2"
        let dsn = "host=127.0.0.1 port=\(cluster.port) user=postgres password=\(secret) dbname=no_such_db"
        let error = try XCTUnwrap(thrownPostgresError { try PostgresConnection.connect(dsn) })
        XCTAssertEqual(error.kind, .connection)
        XCTAssertTrue(error.message.contains(#"database "no_such_db" does not exist"#), error.message)
        XCTAssertEqual(error.redactedDSN, "host=127.0.0.1 port=\(cluster.port) user=postgres password=*** dbname=no_such_db")
        XCTAssertTrue(error.description.hasPrefix("PostgreSQL connection error: "), error.description)
        XCTAssertTrue(error.description.hasSuffix("[dsn: \(error.redactedDSN)]"), error.description)
        XCTAssertNil(error.sqlState, "a failed connection has no statement result")
        assertNoSecret(error, secret)
    }

    func testRefusedConnectionNamesItAndRedactsURIPassword() throws {
        let port = try freeLoopbackPort()  // nothing listens there
        let secret = "uriS3cret-7a1"
        let dsn = "postgresql://postgres:\(secret)@127.0.0.1:\(port)/postgres?connect_timeout=5"
        let error = try XCTUnwrap(thrownPostgresError { try PostgresConnection.connect(dsn) })
        XCTAssertEqual(error.kind, .connection)
        XCTAssertTrue(error.message.contains("Connection refused"), error.message)
        XCTAssertEqual(error.redactedDSN, "postgresql://postgres:***@127.0.0.1:\(port)/postgres?connect_timeout=5")
        assertNoSecret(error, secret)
    }

    func testQuotedPasswordAndUnknownOptionAreRedacted() throws {
        let secret = "quoted s3cret"
        let dsn = "host=127.0.0.1 password = '\(secret)' no_such_option=1"
        let error = try XCTUnwrap(thrownPostgresError { try PostgresConnection.connect(dsn) })
        XCTAssertEqual(error.kind, .connection)
        XCTAssertTrue(error.message.contains(#"invalid connection option "no_such_option""#), error.message)
        XCTAssertEqual(error.redactedDSN, "host=127.0.0.1 password = *** no_such_option=1")
        assertNoSecret(error, secret)
        assertNoSecret(error, "s3cret")
    }

    /// libpq quotes a URI component it cannot percent-decode in its error message: with a `%` in the password
    /// that component is the password itself.
    func testPasswordThatLibpqEchoesIsRedactedFromTheMessage() throws {
        let secret = "50%off-S3cret"
        let dsn = "postgresql://postgres:\(secret)@127.0.0.1:5432/postgres"
        let error = try XCTUnwrap(thrownPostgresError { try PostgresConnection.connect(dsn) })
        XCTAssertEqual(error.kind, .connection)
        XCTAssertTrue(error.message.contains("invalid percent-encoded token"), error.message)
        XCTAssertEqual(error.redactedDSN, "postgresql://postgres:***@127.0.0.1:5432/postgres")
        assertNoSecret(error, secret)
        assertNoSecret(error, "S3cret")
    }

    func testMissingTableCarriesSQLStateAndMessage() throws {
        let (db, _) = try SharedServer.freshDatabase()
        let error = try XCTUnwrap(thrownPostgresError { try db.query("SELECT * FROM no_such_table") })
        XCTAssertEqual(error.kind, .query)
        XCTAssertEqual(error.sqlState, "42P01")
        XCTAssertEqual(error.message, #"relation "no_such_table" does not exist"#)
        XCTAssertNil(error.detail)
        XCTAssertTrue(error.description.contains(#"PostgreSQL query error: relation "no_such_table" does not exist [SQLSTATE 42P01]"#),
                      error.description)
        XCTAssertEqual(try db.query("SELECT 1 AS one").rows, [["1"]], "the connection stays usable")
    }

    func testUniqueViolationCarriesDetail() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int PRIMARY KEY)")
        _ = try db.query("INSERT INTO t VALUES ($1)", ["1"])
        let error = try XCTUnwrap(thrownPostgresError { try db.query("INSERT INTO t VALUES ($1)", ["1"]) })
        XCTAssertEqual(error.kind, .query)
        XCTAssertEqual(error.sqlState, "23505")
        XCTAssertEqual(error.message, #"duplicate key value violates unique constraint "t_pkey""#)
        XCTAssertEqual(error.detail, "Key (id)=(1) already exists.")
        XCTAssertTrue(error.description.contains("(detail: Key (id)=(1) already exists.) [SQLSTATE 23505]"), error.description)
    }

    func testRaisedExceptionKeepsItsOwnSQLStateMessageAndDetail() throws {
        let (db, _) = try SharedServer.freshDatabase()
        let error = try XCTUnwrap(thrownPostgresError {
            try db.execute("DO $$ BEGIN RAISE EXCEPTION 'custom failure: %', 7 USING ERRCODE = 'RB001', DETAIL = 'line two'; END $$")
        })
        XCTAssertEqual(error.kind, .query)
        XCTAssertEqual(error.sqlState, "RB001")
        XCTAssertEqual(error.message, "custom failure: 7")
        XCTAssertEqual(error.detail, "line two")
    }

    func testExecuteRunsStatementsInOneImplicitTransaction() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int)")
        let error = try XCTUnwrap(thrownPostgresError {
            try db.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); INSERT INTO t VALUES ('x')")
        })
        XCTAssertEqual(error.sqlState, "22P02")
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").rows, [["0"]], "a failed statement takes none with it")
    }

    func testCopyThroughQueryIsRefusedAndTheConnectionRecovers() throws {
        let (db, _) = try SharedServer.freshDatabase()
        try db.execute("CREATE TABLE t (id int)")
        let error = try XCTUnwrap(thrownPostgresError { try db.query("COPY t FROM STDIN") })
        XCTAssertEqual(error.kind, .query)
        XCTAssertEqual(error.message, "COPY is not supported by this client")
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").rows, [["0"]])
    }
}
