import Postgres
import XCTest

/// `redactPassword(inDSN:)` on its own: every documented form, and DSNs without a password left alone.
final class DSNRedactionTests: XCTestCase {
    func testForms() {
        let cases: [(String, String)] = [
            ("host=h user=u password=secret dbname=d", "host=h user=u password=*** dbname=d"),
            ("password=secret host=h", "password=*** host=h"),
            ("host=h PASSWORD = secret", "host=h PASSWORD = ***"),
            ("host=h password='it''s a secret' dbname=d", "host=h password=*** dbname=d"),
            (#"host=h password='it\'s a secret' dbname=d"#, "host=h password=*** dbname=d"),
            ("postgresql://u:secret@h:5432/d", "postgresql://u:***@h:5432/d"),
            ("postgres://u:secret@h/d", "postgres://u:***@h/d"),
            ("POSTGRESQL://u:secret@h/d", "POSTGRESQL://u:***@h/d"),
            ("postgresql://u@h/d?password=secret&sslmode=disable", "postgresql://u@h/d?password=***&sslmode=disable"),
            ("postgresql://u@h/d?sslmode=disable&password=secret", "postgresql://u@h/d?sslmode=disable&password=***"),
        ]
        for (dsn, expected) in cases {
            XCTAssertEqual(redactPassword(inDSN: dsn), expected, dsn)
        }
    }

    func testWithoutPasswordUnchanged() {
        for dsn in [
            "host=127.0.0.1 port=5432 user=postgres dbname=app",
            "postgresql://postgres@127.0.0.1:5432/app?sslmode=disable",
            "host=h passwordfile=x",
            "",
        ] {
            XCTAssertEqual(redactPassword(inDSN: dsn), dsn)
        }
    }
}
