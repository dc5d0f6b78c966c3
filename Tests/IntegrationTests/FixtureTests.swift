import Foundation
import Glibc
import Postgres
import TestSupport
import XCTest

/// The fixtures themselves, against real tansu and PostgreSQL processes.
final class FixtureTests: XCTestCase {
    // MARK: - tansu

    func testTansuAcceptsRefusesAfterKillAndAcceptsAfterRestart() throws {
        let broker = try TansuBroker(name: "fixture")
        XCTAssertEqual(broker.bootstrap, "127.0.0.1:\(broker.port)")
        XCTAssertTrue(broker.isRunning)
        XCTAssertTrue(canConnectToLoopback(port: broker.port), broker.logTail())

        broker.kill()
        XCTAssertFalse(broker.isRunning)
        XCTAssertFalse(canConnectToLoopback(port: broker.port), "port still accepts after kill()")

        try broker.restart()
        XCTAssertTrue(broker.isRunning)
        XCTAssertTrue(canConnectToLoopback(port: broker.port), broker.logTail())

        broker.stop()
        XCTAssertFalse(broker.isRunning)
        XCTAssertFalse(canConnectToLoopback(port: broker.port), "port still accepts after stop()")
    }

    func testFrozenBrokerIsStillRunningAndThawsToAcceptAgain() throws {
        let broker = try TansuBroker(name: "freeze")
        broker.freeze()
        XCTAssertTrue(broker.isRunning)
        broker.thaw()
        XCTAssertTrue(canConnectToLoopback(port: broker.port))
        // stop() must also end a frozen broker: SIGTERM waits until the process runs again.
        broker.freeze()
        broker.stop()
        XCTAssertFalse(broker.isRunning)
    }

    func testTwoBrokersGetDifferentPortsAndBothAccept() throws {
        let first = try TansuBroker(name: "first")
        let second = try TansuBroker(name: "second")
        XCTAssertNotEqual(first.port, second.port)
        XCTAssertTrue(canConnectToLoopback(port: first.port))
        XCTAssertTrue(canConnectToLoopback(port: second.port))
        XCTAssertNotEqual(first.logURL, second.logURL)
    }

    func testFreeLoopbackPortNeverRepeats() throws {
        let ports = try (0..<50).map { _ in try freeLoopbackPort() }
        XCTAssertEqual(Set(ports).count, ports.count)
        XCTAssertTrue(ports.allSatisfy { (1...65_535).contains($0) })
    }

    func testRepoPathsFindTheRepositoryAndTansu() throws {
        let root = RepoPaths.root
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path))
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: try RepoPaths.tansu.path))
        // SwiftPM builds the executable next to the test bundle, whatever the scratch path.
        let regionbridge = try RepoPaths.regionbridge
        XCTAssertEqual(regionbridge.lastPathComponent, "regionbridge")
        XCTAssertEqual(
            regionbridge.deletingLastPathComponent().standardizedFileURL.path,
            Bundle.main.bundleURL.standardizedFileURL.path)
    }

    // MARK: - PostgreSQL

    func testPostgresRoundTripsParametersIncludingNullAndQuotes() throws {
        let cluster = try PostgresCluster()
        try cluster.createDatabase("fixture's db")
        let connection = try cluster.connect(database: "fixture's db")
        try connection.execute("""
            CREATE TABLE items (id integer PRIMARY KEY, name text, note text);
            CREATE TABLE IF NOT EXISTS items (id integer);
            """)
        let insert = "INSERT INTO items (id, name, note) VALUES ($1, $2, $3)"
        XCTAssertEqual(try connection.query(insert, ["1", "O'Brien; DROP TABLE items --", nil]).affectedRows, 1)
        XCTAssertEqual(try connection.query(insert, ["2", "", "ünïcødé \"quoted\""]).affectedRows, 1)

        let rows = try connection.query("SELECT id, name, note FROM items WHERE id >= $1 ORDER BY id", ["0"])
        XCTAssertEqual(rows.columns, ["id", "name", "note"])
        XCTAssertEqual(rows.rows, [
            ["1", "O'Brien; DROP TABLE items --", nil],
            ["2", "", "ünïcødé \"quoted\""],
        ])
        XCTAssertEqual(rows[row: 0, column: "name"], "O'Brien; DROP TABLE items --")
        XCTAssertNil(rows[row: 0, column: "note"])
        XCTAssertEqual(rows.affectedRows, 2)
    }

    func testConnectionDefaultsApplyUnlessTheDSNSetsThem() throws {
        let cluster = try PostgresCluster()
        let defaults = [("application_name", "from-defaults"), ("connect_timeout", "7")]
        let plain = try PostgresConnection.connect(cluster.dsn, defaults: defaults)
        XCTAssertEqual(try plain.query("SHOW application_name").rows, [["from-defaults"]])
        XCTAssertEqual(try plain.query("SHOW client_encoding").rows, [["UTF8"]])
        let overridden = try PostgresConnection.connect(cluster.dsn + " application_name=from-dsn client_encoding=LATIN1", defaults: defaults)
        XCTAssertEqual(try overridden.query("SHOW application_name").rows, [["from-dsn"]], "the DSN wins over the defaults")
        XCTAssertEqual(try overridden.query("SHOW client_encoding").rows, [["UTF8"]], "the encoding is always UTF-8")
    }

    func testBrokenQueryThrowsServerMessageAndSQLState() throws {
        let cluster = try PostgresCluster()
        let connection = try cluster.connect()
        do {
            _ = try connection.query("SELECT * FROM nope")
            XCTFail("query on a missing table succeeded")
        } catch {
            XCTAssertEqual(error.kind, .query)
            XCTAssertEqual(error.sqlState, "42P01")
            XCTAssertEqual(error.message, #"relation "nope" does not exist"#)
            XCTAssertTrue(error.description.contains(#"relation "nope" does not exist"#), error.description)
            XCTAssertTrue(error.description.contains("42P01"), error.description)
        }
        do {
            try connection.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)")
            XCTFail("duplicate key succeeded")
        } catch {
            XCTAssertEqual(error.sqlState, "23505")
            XCTAssertNotNil(error.detail)
        }
        // The connection is still usable after errors.
        XCTAssertEqual(try connection.query("SELECT 1 + $1::int AS two", ["1"]).rows, [["2"]])
    }

    func testConnectingToStoppedServerFailsWithoutRevealingPassword() throws {
        let cluster = try PostgresCluster()
        try cluster.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives restart')")
        try cluster.stop()
        XCTAssertFalse(cluster.isRunning)

        let keyValue = "host=127.0.0.1 port=\(cluster.port) user=postgres password=s3cret dbname=postgres"
        let uri = "postgresql://postgres:s3cret@127.0.0.1:\(cluster.port)/postgres?password=s3cret"
        for dsn in [keyValue, uri] {
            do {
                _ = try PostgresConnection.connect(dsn)
                XCTFail("connected to a stopped server")
            } catch {
                XCTAssertEqual(error.kind, .connection)
                XCTAssertFalse(error.description.contains("s3cret"), error.description)
                XCTAssertFalse(error.redactedDSN.contains("s3cret"), error.redactedDSN)
                XCTAssertTrue(error.description.contains("\(cluster.port)"), error.description)
                XCTAssertFalse(error.message.isEmpty)
            }
        }

        try cluster.start()
        XCTAssertTrue(cluster.isRunning)
        XCTAssertEqual(try cluster.connect().query("SELECT v FROM kept").rows, [["survives restart"]])
        // The URI form connects too (trust auth ignores the password).
        let viaURI = try PostgresConnection.connect(uri)
        XCTAssertEqual(try viaURI.query("SHOW client_encoding").rows, [["UTF8"]])
    }

    func testRedactionCoversKeyValueAndURIForms() {
        XCTAssertEqual(
            redactPassword(inDSN: "host=h password=s3cret user=u"), "host=h password=*** user=u")
        XCTAssertEqual(
            redactPassword(inDSN: "host=h PASSWORD = 'it\\'s s3cret' user=u"), "host=h PASSWORD = *** user=u")
        XCTAssertEqual(
            redactPassword(inDSN: "postgresql://user:s3cret@host:5432/db"), "postgresql://user:***@host:5432/db")
        XCTAssertEqual(
            redactPassword(inDSN: "postgres://user:p%40ss@host/db?sslmode=disable&password=s3cret"),
            "postgres://user:***@host/db?sslmode=disable&password=***")
        XCTAssertEqual(redactPassword(inDSN: "host=h user=u"), "host=h user=u")
    }

    func testForEachRowStreamsFiftyThousandRows() throws {
        let cluster = try PostgresCluster()
        let connection = try cluster.connect()
        var count = 0
        var sum = 0
        var nulls = 0
        try connection.forEachRow(
            "SELECT i, CASE WHEN i % 1000 = 0 THEN NULL ELSE 'x' END FROM generate_series(1, $1::int) AS i",
            ["50000"]
        ) { row in
            count += 1
            sum += Int(row[0] ?? "") ?? 0
            if row[1] == nil { nulls += 1 }
        }
        XCTAssertEqual(count, 50_000)
        XCTAssertEqual(sum, 50_000 * 50_001 / 2)
        XCTAssertEqual(nulls, 50)

        // Empty results, errors, and a body that throws leave the connection usable.
        var none = 0
        try connection.forEachRow("SELECT 1 WHERE false", []) { _ in none += 1 }
        XCTAssertEqual(none, 0)
        XCTAssertThrowsError(try connection.forEachRow("SELECT * FROM nope", []) { _ in }) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42P01")
        }
        struct Stop: Error {}
        var seen = 0
        XCTAssertThrowsError(
            try connection.forEachRow("SELECT i FROM generate_series(1, 10000000) AS i", []) { _ in
                seen += 1
                if seen == 10 { throw Stop() }
            }
        ) { error in
            XCTAssertTrue(error is Stop, "\(error)")
        }
        XCTAssertEqual(seen, 10)
        // Re-entering the same connection from the body is refused, not deadlocked.
        XCTAssertThrowsError(try connection.forEachRow("SELECT 1", []) { _ in _ = try connection.query("SELECT 2") })
        XCTAssertEqual(try connection.query("SELECT 'still usable'").rows, [["still usable"]])
    }

    // MARK: - Processes

    func testRunProcessCapturesOutputAndExitCode() throws {
        let result = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "echo out; echo err >&2; exit 3"])
        XCTAssertEqual(result, ProcessResult(exitCode: 3, stdout: "out\n", stderr: "err\n"))
    }

    func testRunProcessHandlesLargeOutputAndTimeouts() throws {
        let large = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "head -c 3000000 /dev/zero | tr '\\0' a"])
        XCTAssertEqual(large.exitCode, 0)
        XCTAssertEqual(large.stdout.utf8.count, 3_000_000)

        let start = ContinuousClock.now
        XCTAssertThrowsError(
            try runProcess(URL(fileURLWithPath: "/bin/sleep"), ["30"], timeout: .milliseconds(300)))
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(10))
    }

    func testBackgroundProcessLogsAndDiesBySIGKILL() throws {
        let process = try BackgroundProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "echo started; echo warn >&2; exec sleep 30"])
        XCTAssertGreaterThan(process.pid, 0)
        let deadline = ContinuousClock.now + .seconds(5)
        while process.stderrText.isEmpty || process.stdoutText.isEmpty, ContinuousClock.now < deadline {
            usleep(10_000)
        }
        XCTAssertEqual(process.stdoutText, "started\n")
        XCTAssertEqual(process.stderrText, "warn\n")
        XCTAssertTrue(process.isRunning)
        XCTAssertNil(process.waitForExit(timeout: .milliseconds(100)))

        process.kill(signal: SIGKILL)
        XCTAssertEqual(process.waitForExit(timeout: .seconds(5)), 128 + SIGKILL)
        XCTAssertFalse(process.isRunning)
    }
}
