import Formats
import Kafka
import Replication

/// How one record of a `/v1/replicated` request ended.
package enum RecordWait: Sendable, Equatable {
    /// The target acknowledged it.
    case replicated(ReplicatedPositions.Position)
    /// The timeout ran out first; the partition's position then, when known.
    case timedOut(ReplicatedPositions.Position?)
    /// The bridge cannot answer for the partition (not ready, stopped, partition stopped or handed over).
    case unavailable(String, ReplicatedPositions.Position?)
    /// This instance does not replicate the partition.
    case notHere
    /// The client went away before an answer.
    case abandoned

    init(_ outcome: ReplicatedPositions.Outcome) {
        switch outcome {
        case .replicated(let position): self = .replicated(position)
        case .unavailable(let why, let position): self = .unavailable(why, position)
        case .notHere: self = .notHere
        }
    }
}

/// The answer to a `/v1/replicated` request, rendered without any networking.
///
/// Status: 200 when every record is replicated; else 404 when a partition is not replicated here, 503 when the
/// bridge cannot answer for one, 504 when the timeout ran out first. Bodies are JSON (see the README).
package enum ReplicatedAnswer {
    /// The metrics outcome of an answer: `replicated`, `timeout`, `unavailable`, `not_found`, `bad_request`,
    /// `client_gone`.
    package static func outcome(of waits: [RecordWait]) -> String {
        if waits.contains(.abandoned) { return "client_gone" }
        if waits.contains(.notHere) { return "not_found" }
        if waits.contains(where: { if case .unavailable = $0 { return true } else { return false } }) { return "unavailable" }
        if waits.contains(where: { if case .timedOut = $0 { return true } else { return false } }) { return "timeout" }
        return "replicated"
    }

    /// The response to a request whose records ended as `waits` (in the request's order) after `waitedMilliseconds`.
    package static func response(to request: ReplicatedRequest, waits: [RecordWait], waitedMilliseconds: Int64) -> MonitoringResponse {
        let status = switch outcome(of: waits) {
        case "replicated": 200
        case "not_found": 404
        case "unavailable", "client_gone": 503
        default: 504
        }
        let waited = ("waited_ms", JSONValue.integer(waitedMilliseconds))
        guard request.isBatch else {
            var members = recordMembers(request.records[0], waits[0], timeout: request.timeout)
            members.insert(waited, at: members.firstIndex { $0.0 == "error" } ?? members.count)
            return json(status, .object(JSONObject(members)))
        }
        let notReplicated = zip(request.records, waits).compactMap { record, wait -> JSONValue? in
            if case .replicated = wait { return nil }
            return source(record)
        }
        var members: [(String, JSONValue)] = [
            ("replicated", .bool(status == 200)),
            ("records", .array(zip(request.records, waits).map { .object(JSONObject(recordMembers($0, $1, timeout: request.timeout))) })),
            ("not_replicated", .array(notReplicated)),
            waited,
        ]
        if status != 200 {
            members.append(("error", .string(batchError(status: status, count: notReplicated.count, total: request.records.count, timeout: request.timeout))))
        }
        return json(status, .object(JSONObject(members)))
    }

    /// The response to a request that could not be parsed: 400 (405 for a method) naming the parameter.
    package static func response(to error: ReplicatedRequestError) -> MonitoringResponse {
        json(error.status, .object(JSONObject([("error", .string(error.description)), ("parameter", .string(error.parameter))])))
    }

    private static func recordMembers(_ record: ReplicatedRequest.Record, _ wait: RecordWait, timeout: Duration) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        func position(_ position: ReplicatedPositions.Position?) {
            guard let position else { return }
            members.append(("target", .object(JSONObject([("topic", .string(position.target.topic)), ("partition", .integer(Int64(position.target.partition)))]))))
            members.append(("replicated_up_to", .integer(position.replicatedUpTo)))
        }
        switch wait {
        case .replicated(let at):
            members = [("replicated", .bool(true)), ("source", source(record))]
            position(at)
        case .timedOut(let at):
            members = [("replicated", .bool(false)), ("source", source(record))]
            position(at)
            members.append(("error", .string("not acknowledged by the target within \(text(timeout))")))
        case .unavailable(let why, let at):
            members = [("replicated", .bool(false)), ("source", source(record))]
            position(at)
            members.append(("error", .string(why)))
        case .notHere:
            members = [
                ("replicated", .bool(false)), ("source", source(record)), ("owner", .null),
                ("error", .string("this instance does not replicate \(record.topic)/\(record.partition): not a selected topic or partition, or (group mode) owned by another instance; ask the others")),
            ]
        case .abandoned:
            members = [("replicated", .bool(false)), ("source", source(record)), ("error", .string("the client went away"))]
        }
        return members
    }

    private static func source(_ record: ReplicatedRequest.Record) -> JSONValue {
        .object(JSONObject([("topic", .string(record.topic)), ("partition", .integer(Int64(record.partition))), ("offset", .integer(record.offset))]))
    }

    private static func batchError(status: Int, count: Int, total: Int, timeout: Duration) -> String {
        switch status {
        case 404: "\(count) of \(total) records are in partitions this instance does not replicate"
        case 503: "the bridge cannot answer for \(count) of \(total) records (see each record's error)"
        default: "\(count) of \(total) records not acknowledged by the target within \(text(timeout))"
        }
    }

    /// `2s`, `500ms`, `1.5s`.
    static func text(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : milliseconds < 1000 ? "\(milliseconds)ms" : "\(JSONValue.seconds(Double(milliseconds) / 1000))s"
    }

    private static func json(_ status: Int, _ value: JSONValue) -> MonitoringResponse {
        MonitoringResponse(status: status, contentType: "application/json", body: Array((value.render(pretty: false, indent: "") + "\n").utf8))
    }
}
