import Foundation
import Kafka
import Monitoring
import Replication
import XCTest

/// `/v1/replicated` requests parsed and answers rendered, without a server.
final class ReplicatedRequestTests: XCTestCase {
    private func get(_ query: String) -> Result<ReplicatedRequest, ReplicatedRequestError> {
        ReplicatedRequest.parse(method: "GET", uri: "/v1/replicated?\(query)", body: [])
    }

    private func post(_ json: String) -> Result<ReplicatedRequest, ReplicatedRequestError> {
        ReplicatedRequest.parse(method: "POST", uri: "/v1/replicated", body: Array(json.utf8))
    }

    private func parameter(_ result: Result<ReplicatedRequest, ReplicatedRequestError>, file: StaticString = #filePath, line: UInt = #line) -> String? {
        guard case .failure(let error) = result else {
            XCTFail("expected a refusal, got \(result)", file: file, line: line)
            return nil
        }
        XCTAssertEqual(error.status, 400, file: file, line: line)
        return error.parameter
    }

    func testAGetNamesOneRecordWithTheDefaultTimeout() throws {
        let request = try get("topic=payments&partition=2&offset=41").get()
        XCTAssertEqual(request, ReplicatedRequest(records: [.init(topic: "payments", partition: 2, offset: 41)], timeout: .seconds(5)))
        XCTAssertEqual(try get("offset=0&timeout=250ms&partition=0&topic=pay.ments_v2-x").get().timeout, .milliseconds(250))
        XCTAssertEqual(try get("topic=pay%2Ements&partition=0&offset=1&timeout=30s").get().records[0].topic, "pay.ments")
        XCTAssertEqual(try ReplicatedRequest.parse(method: "HEAD", uri: "/v1/replicated?topic=a&partition=0&offset=0", body: []).get().records.count, 1)
    }

    func testABadGetNamesTheParameter() {
        XCTAssertEqual(parameter(get("partition=0&offset=1")), "topic")
        XCTAssertEqual(parameter(get("topic=payments&offset=1")), "partition")
        XCTAssertEqual(parameter(get("topic=payments&partition=0")), "offset")
        XCTAssertEqual(parameter(get("topic=&partition=0&offset=1")), "topic")
        XCTAssertEqual(parameter(get("topic=pay/ments&partition=0&offset=1")), "topic")
        XCTAssertEqual(parameter(get("topic=payments&partition=-1&offset=1")), "partition")
        XCTAssertEqual(parameter(get("topic=payments&partition=2147483648&offset=1")), "partition")
        XCTAssertEqual(parameter(get("topic=payments&partition=x&offset=1")), "partition")
        XCTAssertEqual(parameter(get("topic=payments&partition=0&offset=abc")), "offset")
        XCTAssertEqual(parameter(get("topic=payments&partition=0&offset=-3")), "offset")
        XCTAssertEqual(parameter(get("topic=payments&partition=0&offset=1&timeout=2")), "timeout")
        XCTAssertEqual(parameter(get("topic=payments&partition=0&offset=1&timeout=31s")), "timeout")
        XCTAssertEqual(parameter(get("topic=payments&partition=0&offset=1&offset=2")), "offset")
        XCTAssertEqual(parameter(get("topic=payments&partition=0&ofset=1")), "ofset")
        guard case .failure(let error) = get("topic=payments&partition=0&offset=1&timeout=1m") else { return XCTFail() }
        XCTAssertEqual(error.description, "timeout: 1m is more than the maximum of 30s")
    }

    func testAPostNamesManyRecords() throws {
        let request = try post(#"{"records": [{"topic": "payments", "partition": 0, "offset": 7}, {"topic": "ledger", "partition": 3, "offset": 12345678901234}], "timeout": "2s"}"#).get()
        XCTAssertEqual(request.records, [.init(topic: "payments", partition: 0, offset: 7), .init(topic: "ledger", partition: 3, offset: 12_345_678_901_234)])
        XCTAssertEqual(request.timeout, .seconds(2))
        XCTAssertTrue(request.isBatch)
        XCTAssertEqual(try post(#"{"records": [{"topic": "a", "partition": 0, "offset": 0}]}"#).get().timeout, .seconds(5))
    }

    func testABadPostNamesTheField() {
        XCTAssertEqual(parameter(post("")), "body")
        XCTAssertEqual(parameter(post("{")), "body")
        XCTAssertEqual(parameter(post("[]")), "body")
        XCTAssertEqual(parameter(post(#"{"timeout": "2s"}"#)), "records")
        XCTAssertEqual(parameter(post(#"{"records": []}"#)), "records")
        XCTAssertEqual(parameter(post(#"{"records": {}}"#)), "records")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": "a", "partition": 0, "offset": 0}], "timout": "2s"}"#)), "timout")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": "a", "partition": 0, "offset": 0}, {"topic": "a", "partition": 0}]}"#)), "records[1].offset")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": "a", "partition": true, "offset": 0}]}"#)), "records[0].partition")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": "a", "partition": 0, "offset": 1.5}]}"#)), "records[0].offset")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": "a", "partition": 0, "offset": "1"}]}"#)), "records[0].offset")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": 5, "partition": 0, "offset": 1}]}"#)), "records[0].topic")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": "a", "partition": 0, "offset": 1, "key": "x"}]}"#)), "records[0].key")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": "a", "partition": 0, "offset": 1}], "timeout": 2}"#)), "timeout")
        XCTAssertEqual(parameter(post(#"{"records": [{"topic": "a", "partition": 0, "offset": 1}], "timeout": "45s"}"#)), "timeout")
    }

    func testOtherMethodsAre405() {
        guard case .failure(let error) = ReplicatedRequest.parse(method: "DELETE", uri: "/v1/replicated", body: []) else { return XCTFail() }
        XCTAssertEqual(error.status, 405)
        XCTAssertEqual(ReplicatedAnswer.response(to: error).status, 405)
    }

    // MARK: - Answers

    private let position = ReplicatedPositions.Position(
        source: TopicPartition("payments", 2), target: TopicPartition("us-east.payments", 2), replicatedUpTo: 42)

    private func text(_ response: MonitoringResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    func testAReplicatedRecordIs200WithSourceTargetAndPosition() {
        let request = ReplicatedRequest(records: [.init(topic: "payments", partition: 2, offset: 41)])
        let response = ReplicatedAnswer.response(to: request, waits: [.replicated(position)], waitedMilliseconds: 3)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.contentType, "application/json")
        XCTAssertEqual(text(response), #"{"replicated":true,"source":{"topic":"payments","partition":2,"offset":41},"target":{"topic":"us-east.payments","partition":2},"replicated_up_to":42,"waited_ms":3}"# + "\n")
    }

    func testEveryOtherOutcomeIsNotReplicated() {
        let request = ReplicatedRequest(records: [.init(topic: "payments", partition: 2, offset: 50)], timeout: .seconds(2))
        let timedOut = ReplicatedAnswer.response(to: request, waits: [.timedOut(position)], waitedMilliseconds: 2001)
        XCTAssertEqual(timedOut.status, 504)
        XCTAssertEqual(text(timedOut), #"{"replicated":false,"source":{"topic":"payments","partition":2,"offset":50},"target":{"topic":"us-east.payments","partition":2},"replicated_up_to":42,"waited_ms":2001,"error":"not acknowledged by the target within 2s"}"# + "\n")
        XCTAssertEqual(ReplicatedAnswer.response(to: request, waits: [.unavailable("stopped", position)], waitedMilliseconds: 1).status, 503)
        XCTAssertEqual(ReplicatedAnswer.response(to: request, waits: [.abandoned], waitedMilliseconds: 1).status, 503)
        let notHere = ReplicatedAnswer.response(to: request, waits: [.notHere], waitedMilliseconds: 0)
        XCTAssertEqual(notHere.status, 404)
        XCTAssertTrue(text(notHere).contains(#""owner":null"#), text(notHere))
        for response in [timedOut, notHere] { XCTAssertTrue(text(response).hasPrefix(#"{"replicated":false"#)) }
        let bad = ReplicatedAnswer.response(to: ReplicatedRequestError(parameter: "offset", "missing"))
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(text(bad), #"{"error":"offset: missing","parameter":"offset"}"# + "\n")
    }

    func testABatchIs200OnlyWhenEveryRecordIsReplicated() {
        let records: [ReplicatedRequest.Record] = [.init(topic: "payments", partition: 2, offset: 10), .init(topic: "payments", partition: 2, offset: 60)]
        let request = ReplicatedRequest(records: records, timeout: .seconds(1), isBatch: true)
        let partly = ReplicatedAnswer.response(to: request, waits: [.replicated(position), .timedOut(position)], waitedMilliseconds: 1000)
        XCTAssertEqual(partly.status, 504)
        XCTAssertTrue(text(partly).contains(#""not_replicated":[{"topic":"payments","partition":2,"offset":60}]"#), text(partly))
        XCTAssertTrue(text(partly).hasPrefix(#"{"replicated":false,"records":[{"replicated":true"#), text(partly))
        let all = ReplicatedAnswer.response(to: request, waits: [.replicated(position), .replicated(position)], waitedMilliseconds: 4)
        XCTAssertEqual(all.status, 200)
        XCTAssertTrue(text(all).contains(#""not_replicated":[],"waited_ms":4}"#), text(all))
        XCTAssertEqual(ReplicatedAnswer.response(to: request, waits: [.notHere, .timedOut(position)], waitedMilliseconds: 0).status, 404)
        XCTAssertEqual(ReplicatedAnswer.response(to: request, waits: [.replicated(position), .unavailable("closed", nil)], waitedMilliseconds: 0).status, 503)
    }
}
