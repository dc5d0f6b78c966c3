import Foundation
import Logging
import Postgres
import XCTest

/// Server notices go to the connection's logger: warnings at `.warning`, other notices at `.debug`,
/// with the severity and SQLSTATE as metadata.
final class NoticeReceiverTests: PostgresTestCase {
    private func notices(_ log: CapturedLog) -> [CapturedLog.Entry] {
        log.entries.filter { $0.message.hasPrefix("PostgreSQL ") && $0.metadata["severity"] != nil }
    }

    func testNoticesAndWarningsReachTheLogger() throws {
        let log = CapturedLog()
        let (db, _) = try SharedServer.freshDatabase(logger: log.logger())
        try db.execute("DO $$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful: %', 'hot' USING ERRCODE = '01RB1'; END $$")
        XCTAssertEqual(notices(log), [
            .init(level: .debug, message: "PostgreSQL notice: hello 42", metadata: ["severity": "NOTICE", "sqlstate": "00000"]),
            .init(level: .warning, message: "PostgreSQL warning: careful: hot", metadata: ["severity": "WARNING", "sqlstate": "01RB1"]),
        ])
    }

    func testNoticesDuringQueriesStreamsAndCopies() throws {
        let log = CapturedLog()
        let (db, _) = try SharedServer.freshDatabase(logger: log.logger())
        try db.execute("""
            CREATE TABLE t (id int);
            CREATE FUNCTION shout(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'row %', n; RETURN n; END $$;
            CREATE FUNCTION on_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE WARNING 'copied %', NEW.id; RETURN NEW; END $$;
            CREATE TRIGGER t_notice BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION on_insert();
            """)
        _ = try db.query("SELECT shout($1::int)", ["1"])
        try db.forEachRow("SELECT shout(g) FROM generate_series(2, 3) g") { _ in }
        _ = try db.copyIn("COPY t FROM STDIN") { try $0.append(["4"]) }
        XCTAssertEqual(notices(log).map(\.message), [
            "PostgreSQL notice: row 1", "PostgreSQL notice: row 2", "PostgreSQL notice: row 3", "PostgreSQL warning: copied 4",
        ])
        XCTAssertEqual(notices(log).map(\.level), [.debug, .debug, .debug, .warning])
    }
}
