import Kafka
import Reconciliation
import Topology
import XCTest

final class PaymentCheckTests: XCTestCase {
    private let compare = [FieldComparison(field: "amount", column: "amount_minor"), FieldComparison(field: "currency", column: "currency")]
    private let payment = CommittedPayment(eventID: "pay-1", committedAt: 1_800_000_000_000, values: ["1250", "EUR"])

    private func copy(_ side: ClusterSide, _ offset: Int64, sourceOffset: Int64? = nil, fields: [String?] = ["1250", "EUR"]) -> EventCopy {
        EventCopy(
            side: side, topic: side == .source ? "payments" : "us-east.payments", partition: 2, offset: offset,
            sourceOffset: sourceOffset ?? (side == .source ? offset : nil), fields: fields)
    }

    func testAPaymentInTheTargetOnceWithItsValuesHasNoFinding() {
        XCTAssertEqual(PaymentCheck.check(payment, copies: [copy(.source, 7), copy(.target, 3, sourceOffset: 7)], compare: compare), [])
    }

    func testMissingPaymentsAreClassifiedBySource() {
        let notReplicated = PaymentCheck.check(payment, copies: [copy(.source, 7)], compare: compare)
        XCTAssertEqual(notReplicated.map(\.kind), [.notReplicated])
        XCTAssertEqual(notReplicated.first?.location, "payments/2@7")
        XCTAssertEqual(notReplicated.first?.committedAt, 1_800_000_000_000)

        let neverPublished = PaymentCheck.check(payment, copies: [], compare: compare)
        XCTAssertEqual(neverPublished.map(\.kind), [.neverPublished])
        XCTAssertNil(neverPublished.first?.location)
        XCTAssertTrue(FindingKind.notReplicated.breaksRPO && FindingKind.neverPublished.breaksRPO && FindingKind.mismatch.breaksRPO)
        XCTAssertFalse(FindingKind.duplicate.breaksRPO || FindingKind.orphan.breaksRPO)
    }

    func testAChangedAmountInTheTargetIsAMismatchNamingFieldAndValues() {
        let findings = PaymentCheck.check(
            payment, copies: [copy(.source, 7), copy(.target, 3, sourceOffset: 7, fields: ["1350", "EUR"])], compare: compare)
        XCTAssertEqual(findings.map(\.kind), [.mismatch])
        XCTAssertEqual(findings.first?.detail, "amount: record 1350, row amount_minor 1250")
        XCTAssertEqual(findings.first?.location, "us-east.payments/2@3")
    }

    func testAMissingPaymentWhosePublishedRecordIsWrongIsBothMissingAndMismatched() {
        let findings = PaymentCheck.check(payment, copies: [copy(.source, 7, fields: ["1250", nil])], compare: compare)
        XCTAssertEqual(findings.map(\.kind), [.notReplicated, .mismatch])
        XCTAssertEqual(findings.last?.detail, "currency: record (none), row currency EUR")
    }

    func testDuplicatesTellACopiedTwiceRecordFromAPublishedTwiceEvent() {
        let copiedTwice = PaymentCheck.check(
            payment, copies: [copy(.source, 7), copy(.target, 3, sourceOffset: 7), copy(.target, 4, sourceOffset: 7)], compare: compare)
        XCTAssertEqual(copiedTwice.map(\.kind), [.duplicate])
        XCTAssertEqual(copiedTwice.first?.detail, "2 records in the target; the same source record was copied more than once")
        XCTAssertEqual(copiedTwice.first?.location, "us-east.payments/2@3, us-east.payments/2@4")

        let publishedTwice = PaymentCheck.check(
            payment, copies: [copy(.source, 7), copy(.source, 8), copy(.target, 3, sourceOffset: 7), copy(.target, 4, sourceOffset: 8)],
            compare: compare)
        XCTAssertEqual(publishedTwice.first?.detail, "2 records in the target, copied from 2 published in the source")
    }

    func testFieldValuesCompareNumbersAndBooleansByValue() {
        XCTAssertTrue(FieldValue.matches(record: "12.5", row: "12.50"))
        XCTAssertTrue(FieldValue.matches(record: "1e2", row: "100"))
        XCTAssertFalse(FieldValue.matches(record: "12.5", row: "12.51"))
        XCTAssertFalse(FieldValue.matches(record: "12abc", row: "12"))
        XCTAssertTrue(FieldValue.matches(record: "true", row: "t"))
        XCTAssertTrue(FieldValue.matches(record: nil, row: nil))
        XCTAssertFalse(FieldValue.matches(record: nil, row: "EUR"))
        XCTAssertFalse(FieldValue.matches(record: "eur", row: "EUR"))
    }

    func testTallyCountsEverythingButKeepsTheFirstExamplesOfEachClass() {
        var tally = FindingTally(limit: 2)
        for n in 0..<5 {
            tally.add(Finding(kind: .notReplicated, eventID: "p\(n)", committedAt: nil, location: nil, detail: ""))
        }
        tally.add(Finding(kind: .orphan, eventID: "o", committedAt: nil, location: nil, detail: ""))
        XCTAssertEqual(tally.count(.notReplicated), 5)
        XCTAssertEqual(tally.examples[.notReplicated]?.map(\.eventID), ["p0", "p1"])
        XCTAssertEqual(tally.violations, 5)
        XCTAssertEqual(tally.count(.orphan), 1)
    }
}

final class PaymentEventTests: XCTestCase {
    private func record(key: String? = nil, value: String?, headers: [KafkaHeader] = []) -> KafkaRecord {
        KafkaRecord(topic: "payments", partition: 0, offset: 5, key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) }, headers: headers)
    }

    func testTheEventIDComesFromKeyHeaderOrJSONField() {
        let value = #"{"event_id":"evt-9","amount":1250,"currency":"EUR","meta":{"a":[1,{"b":"}"}]},"note":"say \"hi\"\n"}"#
        let byKey = PaymentEventReader(eventID: .key, compared: ["amount", "currency"])
        XCTAssertEqual(byKey.event(in: record(key: "pay-1", value: value)), PaymentEvent(eventID: "pay-1", fields: ["1250", "EUR"]))
        XCTAssertNil(byKey.event(in: record(value: value)))

        let byHeader = PaymentEventReader(eventID: .header("event-id"), compared: [])
        XCTAssertEqual(byHeader.event(in: record(value: nil, headers: [KafkaHeader(name: "event-id", value: Array("h-1".utf8))]))?.eventID, "h-1")

        let byJSON = PaymentEventReader(eventID: .json("event_id"), compared: ["note", "meta", "missing"])
        XCTAssertEqual(byJSON.event(in: record(value: value)), PaymentEvent(eventID: "evt-9", fields: ["say \"hi\"\n", #"{"a":[1,{"b":"}"}]}"#, nil]))
        XCTAssertNil(byJSON.event(in: record(value: "not json")))
    }

    func testJSONFieldsRejectMalformedObjectsAndUnescapeUnicode() {
        XCTAssertNil(JSONFields.extract(["a"], from: Array(#"{"a":1"#.utf8)))
        XCTAssertNil(JSONFields.extract(["a"], from: Array(#"["a"]"#.utf8)))
        let expected: [String: String?] = ["a": "é😀", "b": nil]
        XCTAssertEqual(JSONFields.extract(["a", "b"], from: Array(#" { "a" : "\u00e9\ud83d\ude00" , "b" : null } "#.utf8)), expected)
        XCTAssertEqual(JSONFields.extract(["n"], from: Array(#"{"n":-12.50e1}"#.utf8)), ["n": "-12.50e1"])
    }
}
