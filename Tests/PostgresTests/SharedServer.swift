import Foundation
import Logging
import Postgres
import TestSupport
import XCTest

/// One PostgreSQL 15 server per test class (initdb costs about a second), started in the class's `setUp` and
/// stopped in its `tearDown`; every test works in a database of its own, so tests do not see each other's tables.
class PostgresTestCase: XCTestCase {
    override class func setUp() {
        super.setUp()
        SharedServer.start()
    }

    override class func tearDown() {
        SharedServer.stop()
        super.tearDown()
    }
}

/// The running class's server. XCTest runs one class at a time.
enum SharedServer {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: Result<PostgresCluster, any Error>?

    static func start() {
        let started = Result { try PostgresCluster() }
        lock.withLock { current = started }
    }

    static func stop() {
        let running = lock.withLock {
            defer { current = nil }
            return current
        }
        try? running?.get().stop()
    }

    static func cluster() throws -> PostgresCluster {
        guard let current = lock.withLock({ current }) else {
            throw FixtureError("no PostgreSQL server: the test class must be a PostgresTestCase")
        }
        return try current.get()
    }

    /// A new, empty database and a connection to it (the connection's logger is `logger`).
    static func freshDatabase(logger: Logger = Logger(label: "postgres-tests")) throws -> (PostgresConnection, String) {
        let cluster = try cluster()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try cluster.createDatabase(name)
        return (try PostgresConnection.connect(cluster.dsn(database: name), logger: logger), name)
    }
}

/// The error `body` throws, or a test failure when it throws none.
func thrownError<T>(
    _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
) -> (any Error)? {
    do {
        _ = try body()
        XCTFail("expected an error, none was thrown", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

/// The ``PostgresError`` `body` throws, or a test failure when it throws none or another error.
func thrownPostgresError<T>(
    _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
) -> PostgresError? {
    guard let error = thrownError(body, file: file, line: line) else { return nil }
    guard let postgresError = error as? PostgresError else {
        XCTFail("expected a PostgresError, got \(type(of: error)): \(error)", file: file, line: line)
        return nil
    }
    return postgresError
}

/// Records every log entry, for the notice tests.
final class CapturedLog: @unchecked Sendable {
    struct Entry: Equatable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var stored: [Entry] = []

    var entries: [Entry] { lock.withLock { stored } }

    func append(_ entry: Entry) { lock.withLock { stored.append(entry) } }

    /// A logger at `.trace` writing here.
    func logger() -> Logger {
        Logger(label: "postgres-tests.captured") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append(Entry(
                level: event.level,
                message: "\(event.message)",
                metadata: (event.metadata ?? [:]).mapValues { "\($0)" }))
        }
    }
}
