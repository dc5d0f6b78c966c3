import Foundation
import Glibc
import Postgres

/// A throwaway PostgreSQL 15 server for one test: its own data folder under a temporary
/// folder, listening only on 127.0.0.1 at a free port, with its unix socket in that folder,
/// trust authentication and `fsync=off`.
///
/// initdb refuses to run as root, so when the tests run as root the temporary folder is
/// created under `/tmp`, given to the `postgres` user, and initdb/pg_ctl run as that user via
/// `runuser -u postgres --`. The superuser is `postgres`.
///
/// `deinit` stops the server and removes the folder; a server that outlives its owner is
/// shut down (SIGQUIT) when the test process exits. `@unchecked Sendable`: the mutable
/// state (the postmaster's pid) is guarded by a lock.
package final class PostgresCluster: @unchecked Sendable {
    /// Where initdb, pg_ctl and postgres are: `$REGIONBRIDGE_PG_BIN` or the Debian location.
    package static var binaries: URL {
        let override = ProcessInfo.processInfo.environment["REGIONBRIDGE_PG_BIN"] ?? ""
        return URL(fileURLWithPath: override.isEmpty ? "/usr/lib/postgresql/15/bin" : override)
    }

    /// The TCP port on 127.0.0.1, the same across ``stop()``/``start()``.
    package let port: Int
    /// The temporary folder holding the data folder, the socket and the log.
    package let folder: URL
    /// The data folder (`PGDATA`).
    package var dataDirectory: URL { folder.appendingPathComponent("data") }
    /// The server log.
    package var logURL: URL { folder.appendingPathComponent("postgres.log") }
    /// A libpq connection string for the `postgres` database as the `postgres` superuser.
    package var dsn: String { dsn(database: "postgres") }

    private let folderToken: UInt64
    private let lock = NSLock()
    /// The running postmaster and its registry token; guarded by `lock`.
    private var postmaster: (pid: pid_t, token: UInt64)?

    /// Creates the cluster with initdb and starts it, waiting until it accepts connections.
    ///
    /// - Throws: ``FixtureError`` when the PostgreSQL binaries are missing or the server does
    ///   not start (with the end of its log).
    /// - Parameter tls: serve TLS (`ssl = on`) with this certificate and key (files copied into the cluster's folder).
    package init(tls: (certificate: String, key: String)? = nil) throws {
        let initdb = Self.binaries.appendingPathComponent("initdb")
        guard FileManager.default.isExecutableFile(atPath: initdb.path) else {
            throw FixtureError("PostgreSQL 15 not found at \(Self.binaries.path): run `make test` or scripts/setup.sh")
        }
        let base = geteuid() == 0 ? URL(fileURLWithPath: "/tmp") : FileManager.default.temporaryDirectory
        folder = try makeTemporaryDirectory(prefix: "regionbridge-pg", in: base)
        folderToken = FixtureRegistry.registerDirectory(folder)
        do {
            try Self.giveToPostgresUser(folder)
            try Self.runAsServerUser(initdb, [
                "-D", folder.appendingPathComponent("data").path, "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
            ], in: folder)
            // Another process can take a free port before the server binds it: try another.
            var attempt = 0
            while true {
                attempt += 1
                let candidate = try freeLoopbackPort()
                try Self.configure(folder: folder, port: candidate, tls: tls)
                do {
                    postmaster = try Self.startServer(folder: folder)
                    port = candidate
                    break
                } catch {
                    if attempt >= 3 { throw error }
                }
            }
        } catch {
            try? FileManager.default.removeItem(at: folder)
            FixtureRegistry.unregisterDirectory(folderToken)
            throw error
        }
    }

    deinit {
        try? stop()
        lock.withLock {
            // pg_ctl stop failed: shut the server down immediately.
            if let postmaster {
                _ = Glibc.kill(postmaster.pid, SIGQUIT)
                for _ in 0..<500 where FixtureRegistry.isAlive(pid: postmaster.pid, marker: dataDirectory.path) {
                    usleep(10_000)
                }
                FixtureRegistry.unregisterProcess(postmaster.token)
            }
        }
        try? FileManager.default.removeItem(at: folder)
        FixtureRegistry.unregisterDirectory(folderToken)
    }

    /// A libpq connection string for `database` as the `postgres` superuser over TCP.
    package func dsn(database: String) -> String {
        "host=127.0.0.1 port=\(port) user=postgres dbname=\(Self.connectionValue(database))"
    }

    /// `value` as a libpq key/value connection-string value: quoted, with backslashes and `'`
    /// escaped, when it is empty or holds spaces, quotes or backslashes.
    private static func connectionValue(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\\" }) else {
            return value
        }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return "'\(escaped)'"
    }

    /// True while the postmaster process is alive.
    package var isRunning: Bool {
        lock.withLock {
            guard let postmaster else { return false }
            return FixtureRegistry.isAlive(pid: postmaster.pid, marker: dataDirectory.path)
        }
    }

    /// Starts the server again after ``stop()``, with the same data and port; does nothing
    /// when it is running.
    ///
    /// - Throws: ``FixtureError`` when it does not start (for example, the port was taken).
    package func start() throws {
        try lock.withLock {
            if let postmaster, FixtureRegistry.isAlive(pid: postmaster.pid, marker: dataDirectory.path) { return }
            postmaster = try Self.startServer(folder: folder)
        }
    }

    /// Stops the server with `pg_ctl stop -m fast` (disconnects clients, shuts down
    /// cleanly) and waits for it; does nothing when it is not running.
    ///
    /// - Throws: ``FixtureError`` when pg_ctl fails.
    package func stop() throws {
        try lock.withLock {
            guard let running = postmaster else { return }
            if FixtureRegistry.isAlive(pid: running.pid, marker: dataDirectory.path) {
                try Self.runAsServerUser(Self.binaries.appendingPathComponent("pg_ctl"), [
                    "stop", "-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60",
                ], in: folder)
            }
            FixtureRegistry.unregisterProcess(running.token)
            postmaster = nil
        }
    }

    /// Opens a connection to `database` as the `postgres` superuser.
    package func connect(database: String = "postgres") throws(PostgresError) -> PostgresConnection {
        try PostgresConnection.connect(dsn(database: database))
    }

    /// Creates a database named `name` (quoted as an identifier).
    package func createDatabase(_ name: String) throws(PostgresError) {
        let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try execute("CREATE DATABASE \(quoted)")
    }

    /// Creates database `name` with the reference payments schema (deploy/postgres/payments.sql) and connects to it.
    package func paymentsDatabase(_ name: String = "payments") throws -> PostgresConnection {
        try createDatabase(name)
        let db = try connect(database: name)
        try db.execute(String(contentsOf: RepoPaths.root.appendingPathComponent("deploy/postgres/payments.sql"), encoding: .utf8))
        return db
    }

    /// Runs `sql` (one or more statements) in `database` on a new connection.
    package func execute(_ sql: String, database: String = "postgres") throws(PostgresError) {
        try connect(database: database).execute(sql)
    }

    // MARK: - Server management

    /// Writes the listening settings into postgresql.conf (later lines override earlier ones).
    private static func configure(folder: URL, port: Int, tls: (certificate: String, key: String)?) throws {
        var tlsSettings = ""
        if let tls {
            let certificate = folder.appendingPathComponent("server.crt")
            let key = folder.appendingPathComponent("server.key")
            for (from, to) in [(tls.certificate, certificate), (tls.key, key)] {
                try? FileManager.default.removeItem(at: to)
                try FileManager.default.copyItem(at: URL(fileURLWithPath: from), to: to)
                if geteuid() == 0, let user = getpwnam("postgres") { _ = chown(to.path, user.pointee.pw_uid, user.pointee.pw_gid) }
                _ = chmod(to.path, 0o600)
            }
            tlsSettings = "ssl = on\nssl_cert_file = '\(certificate.path)'\nssl_key_file = '\(key.path)'\n"
        }
        let settings = """

            # regionbridge test fixture
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(folder.path)'
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            \(tlsSettings)
            """
        let conf = folder.appendingPathComponent("data/postgresql.conf")
        do {
            let handle = try FileHandle(forWritingTo: conf)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(settings.utf8))
        } catch {
            throw FixtureError("cannot write \(conf.path): \(error)")
        }
    }

    /// Starts the server with pg_ctl, waits until it accepts connections, and registers the
    /// postmaster for shutdown at exit.
    private static func startServer(folder: URL) throws -> (pid: pid_t, token: UInt64) {
        let data = folder.appendingPathComponent("data")
        let log = folder.appendingPathComponent("postgres.log")
        do {
            try runAsServerUser(binaries.appendingPathComponent("pg_ctl"), [
                "start", "-D", data.path, "-l", log.path, "-w", "-t", "60",
            ], in: folder)
        } catch {
            throw FixtureError("\(error)\nserver log \(log.path) ends:\n\(logTail(log))")
        }
        let pidFile = data.appendingPathComponent("postmaster.pid")
        let firstLine = (try? String(contentsOf: pidFile, encoding: .utf8))?.split(separator: "\n").first
        guard let firstLine, let pid = pid_t(firstLine.trimmingCharacters(in: .whitespaces)) else {
            throw FixtureError("PostgreSQL started but \(pidFile.path) has no pid")
        }
        return (pid, FixtureRegistry.registerProcess(pid: pid, signal: SIGQUIT, marker: data.path))
    }

    /// Runs a PostgreSQL tool, as the `postgres` user when this process is root.
    private static func runAsServerUser(_ tool: URL, _ arguments: [String], in folder: URL) throws {
        let result: ProcessResult
        if geteuid() == 0 {
            result = try runProcess(
                URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", tool.path] + arguments,
                currentDirectory: folder, timeout: .seconds(90))
        } else {
            result = try runProcess(tool, arguments, currentDirectory: folder, timeout: .seconds(90))
        }
        guard result.exitCode == 0 else {
            throw FixtureError("""
                \(tool.lastPathComponent) \(arguments.joined(separator: " ")) failed with status \(result.exitCode)
                \(result.stdout)\(result.stderr)
                """)
        }
    }

    /// When root, hands `folder` to the `postgres` user so initdb and the server can use it.
    private static func giveToPostgresUser(_ folder: URL) throws {
        guard geteuid() == 0 else { return }
        guard let user = getpwnam("postgres") else {
            throw FixtureError("running as root but there is no `postgres` user: run scripts/setup.sh")
        }
        guard chown(folder.path, user.pointee.pw_uid, user.pointee.pw_gid) == 0,
              chmod(folder.path, 0o700) == 0
        else {
            throw FixtureError("cannot give \(folder.path) to postgres: \(String(cString: strerror(errno)))")
        }
    }
}
