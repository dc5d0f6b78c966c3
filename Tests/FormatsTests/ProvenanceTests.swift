import Formats
import XCTest

final class ProvenanceTests: XCTestCase {
    func testHeaderValueRoundTrips() {
        let provenance = Provenance(region: "us-east", topic: "payment-events", partition: 3, offset: 1_234_567)
        XCTAssertEqual(String(decoding: provenance.headerValue, as: UTF8.self), "us-east/payment-events/3/1234567")
        XCTAssertEqual(Provenance(headerValue: provenance.headerValue), provenance)
    }

    func testTopicWithDotsAndDashesParses() {
        let parsed = Provenance(headerValue: Array("eu-west/us-east.ledger_events-v2/0/0".utf8))
        XCTAssertEqual(parsed, Provenance(region: "eu-west", topic: "us-east.ledger_events-v2", partition: 0, offset: 0))
    }

    func testMalformedValuesAreRejected() {
        for text in ["", "us-east/t/0", "us-east/t/0/x", "us-east/t/-1/5", "us-east/t/0/-5", "/t/0/1", "us-east//0/1", "a/b/c/1/2"] {
            XCTAssertNil(Provenance(headerValue: Array(text.utf8)), text)
        }
    }

    func testIsFromMatchesRegionTopicAndPartition() {
        let provenance = Provenance(region: "us-east", topic: "payments", partition: 2, offset: 9)
        XCTAssertTrue(provenance.isFrom(region: "us-east", topic: "payments", partition: 2))
        XCTAssertFalse(provenance.isFrom(region: "eu-west", topic: "payments", partition: 2))
        XCTAssertFalse(provenance.isFrom(region: "us-east", topic: "payments", partition: 1))
        XCTAssertFalse(provenance.isFrom(region: "us-east", topic: "ledger", partition: 2))
    }
}
