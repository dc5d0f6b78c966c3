import Topology
import XCTest

/// The optional `reconcile:` section.
final class ReconcileSectionTests: XCTestCase {
    private func document(_ extra: String) -> String {
        TopologyTests.document(include: #"["payments", "ledger"]"#, appending: extra)
    }

    func testTheSectionIsOptionalAndParsesWithDefaultsAndVariables() throws {
        XCTAssertNil(try TopologyLoader.parse(yaml: document("")).reconcile)
        let topology = try TopologyLoader.parse(yaml: document("""
            reconcile:
              postgres_dsn: "host=db dbname=payments user=rb password=${PGPASSWORD}"
              committed_query: |
                SELECT event_id, committed_at, amount FROM payments WHERE committed_at >= $1 AND committed_at < $2
              topics: [payments]
              compare: {currency: currency_code, amount: amount_minor}
            """), environment: ["PGPASSWORD": "s3cret"])
        let settings = try XCTUnwrap(topology.reconcile)
        XCTAssertEqual(settings.postgresDSN.reveal(), "host=db dbname=payments user=rb password=s3cret")
        XCTAssertEqual(settings.topics, ["payments"])
        XCTAssertEqual(settings.eventID, .key)
        XCTAssertEqual(settings.stateSchema, "regionbridge")
        XCTAssertEqual(settings.compare, [FieldComparison(field: "amount", column: "amount_minor"), FieldComparison(field: "currency", column: "currency_code")])
    }

    func testEventIDLocations() {
        XCTAssertEqual(EventIDLocation("key"), .key)
        XCTAssertEqual(EventIDLocation("header:event-id"), .header("event-id"))
        XCTAssertEqual(EventIDLocation("json:id"), .json("id"))
        XCTAssertNil(EventIDLocation("json:"))
        XCTAssertNil(EventIDLocation("value"))
        XCTAssertEqual(EventIDLocation.header("x").description, "header:x")
    }

    func testEveryProblemIsReportedWithItsLineAndKey() {
        XCTAssertEqual(reported(document("""
            reconcile:
              postgres_dsn: ""
              committed_query: "SELECT event_id, committed_at FROM payments"
              topics: [payments, refunds]
              event_id: value
              compare: {amount: "amount; DROP TABLE payments"}
              state_schema: Bad-Schema
              grace: 30s
            """)), [
            Reported(11, "reconcile.postgres_dsn", #"postgres_dsn must be a libpq connection string, such as "host=db dbname=payments user=app""#),
            Reported(12, "reconcile.committed_query", "committed_query must use $1 (window start) and $2 (window end) and return event_id and committed_at"),
            Reported(13, "reconcile.topics[1]", "topic refunds is not replicated by this topology (see topics.include and topics.exclude)"),
            Reported(14, "reconcile.event_id", "event_id must be key, header:<name> or json:<field>"),
            Reported(15, "reconcile.compare.amount", "compare.amount must name a column of committed_query (letters, digits, _)"),
            Reported(16, "reconcile.state_schema", "state_schema must be a Postgres schema name (lower-case letters, digits, _)"),
            Reported(17, "reconcile.grace", "unknown key"),
        ])
        XCTAssertEqual(reported(document("reconcile: {topics: []}")), [
            Reported(10, "reconcile.postgres_dsn", "missing required key"),
            Reported(10, "reconcile.committed_query", "missing required key"),
            Reported(10, "reconcile.topics", "expected a non-empty list of source topics, found a list"),
        ])
    }
}

/// The value-at-risk columns and the `continuous:` subsection that makes `run` reconcile by itself.
final class ContinuousReconcileSectionTests: XCTestCase {
    private func document(_ extra: String) -> String {
        TopologyTests.document(include: #"["payments", "ledger"]"#, appending: """
            reconcile:
              postgres_dsn: "host=db dbname=payments"
              committed_query: "SELECT event_id, committed_at FROM p WHERE committed_at >= $1 AND committed_at < $2"
              topics: [payments]
            \(extra)
            """)
    }

    func testAmountCurrencyAndContinuousAreOptionalWithDefaults() throws {
        let plain = try XCTUnwrap(TopologyLoader.parse(yaml: document("")).reconcile)
        XCTAssertNil(plain.amountColumn)
        XCTAssertNil(plain.currencyColumn)
        XCTAssertNil(plain.continuous)

        let full = try XCTUnwrap(TopologyLoader.parse(yaml: document("""
              amount: amount_eur
              currency: ccy
              continuous: {}
            """)).reconcile)
        XCTAssertEqual(full.amountColumn, "amount_eur")
        XCTAssertEqual(full.currencyColumn, "ccy")
        XCTAssertEqual(full.continuous, ContinuousReconcileSettings(interval: .seconds(30), lookback: .seconds(900), maxAge: .seconds(60)))

        let tuned = try XCTUnwrap(TopologyLoader.parse(yaml: document("""
              continuous: {interval: 5s, lookback: 1h, max_age: 20s}
            """)).reconcile)
        XCTAssertEqual(tuned.continuous, ContinuousReconcileSettings(interval: .seconds(5), lookback: .seconds(3600), maxAge: .seconds(20)))
    }

    func testBadValuesAreReportedWithTheirKey() {
        XCTAssertEqual(reported(document("""
              amount: "amount; --"
              continuous: {interval: 0s, lookback: 30s, max_age: 1m, every: 2s}
            """)), [
            Reported(14, "reconcile.amount", "amount must name a column of committed_query (letters, digits, _)"),
            Reported(15, "reconcile.continuous.interval", "interval must be a duration greater than zero, such as 10s or 30s"),
            Reported(15, "reconcile.continuous.lookback", "lookback must be longer than max_age: no payment would be old enough to count"),
            Reported(15, "reconcile.continuous.every", "unknown key"),
        ])
        XCTAssertEqual(reported(document("  currency: ccy")), [
            Reported(14, "reconcile.currency", "currency needs amount: the currency of which column?"),
        ])
    }
}
