import Foundation
import Kafka
import Topology

/// A request to `/v1/replicated`, parsed and checked without any networking.
///
/// - `GET /v1/replicated?topic=T&partition=P&offset=O&timeout=2s` (also `HEAD`): one record.
/// - `POST /v1/replicated` with `{"records": [{"topic": "T", "partition": P, "offset": O}, ...], "timeout": "2s"}`:
///   many records at once.
///
/// `timeout` is optional (``defaultTimeout``), at most ``maximumTimeout``, written like `500ms`, `2s`, `1m`.
package struct ReplicatedRequest: Sendable, Equatable {
    /// One source record: topic, partition, offset.
    package struct Record: Sendable, Hashable {
        /// The source topic.
        package var topic: String
        /// The source partition.
        package var partition: Int32
        /// The source offset.
        package var offset: Int64

        /// Creates a record reference.
        package init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }

        /// The source partition.
        package var source: TopicPartition { TopicPartition(topic, partition) }
    }

    /// The records asked about, in the order given.
    package var records: [Record]
    /// How long to wait for all of them.
    package var timeout: Duration
    /// Whether the request was a POST (answered with the list form).
    package var isBatch: Bool

    /// Used when a request names no timeout: 5 s.
    package static let defaultTimeout: Duration = .seconds(5)
    /// The longest wait a request may ask for: 30 s.
    package static let maximumTimeout: Duration = .seconds(30)
    /// Most records in one POST: 10,000.
    package static let maximumRecords = 10_000

    /// Creates a request.
    package init(records: [Record], timeout: Duration = Self.defaultTimeout, isBatch: Bool = false) {
        self.records = records
        self.timeout = timeout
        self.isBatch = isBatch
    }

    /// Parses a request.
    /// - Parameters:
    ///   - method: the HTTP method (`GET`, `HEAD` or `POST`).
    ///   - uri: the request target, with its query string.
    ///   - body: the request body (POST).
    /// - Returns: the request, or the problem naming the parameter.
    package static func parse(method: String, uri: String, body: [UInt8]) -> Result<ReplicatedRequest, ReplicatedRequestError> {
        switch method {
        case "GET", "HEAD":
            return parseQuery(uri)
        case "POST":
            return parseBody(body)
        default:
            return .failure(ReplicatedRequestError(parameter: "method", "use GET with topic, partition, offset and timeout in the query, or POST with a JSON body", status: 405))
        }
    }

    // MARK: - GET

    private static func parseQuery(_ uri: String) -> Result<ReplicatedRequest, ReplicatedRequestError> {
        let query = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first ?? ""
        var values: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else {
                return .failure(ReplicatedRequestError(parameter: String(parts[0]), "bad percent-encoding"))
            }
            guard ["topic", "partition", "offset", "timeout"].contains(name) else {
                return .failure(ReplicatedRequestError(parameter: name, "unknown parameter; expected topic, partition, offset and timeout"))
            }
            guard values[name] == nil else { return .failure(ReplicatedRequestError(parameter: name, "given more than once")) }
            values[name] = value
        }
        do throws(ReplicatedRequestError) {
            guard let topicText = values["topic"] else { throw ReplicatedRequestError(parameter: "topic", "missing") }
            guard let partitionText = values["partition"] else { throw ReplicatedRequestError(parameter: "partition", "missing") }
            guard let offsetText = values["offset"] else { throw ReplicatedRequestError(parameter: "offset", "missing") }
            let record = Record(
                topic: try topic(topicText, parameter: "topic"),
                partition: try partition(Int64(partitionText), text: partitionText, parameter: "partition"),
                offset: try offset(Int64(offsetText), text: offsetText, parameter: "offset"))
            return .success(ReplicatedRequest(records: [record], timeout: try timeout(values["timeout"])))
        } catch {
            return .failure(error)
        }
    }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    // MARK: - POST

    private static func parseBody(_ body: [UInt8]) -> Result<ReplicatedRequest, ReplicatedRequestError> {
        guard !body.isEmpty else {
            return .failure(ReplicatedRequestError(parameter: "body", #"empty; expected {"records": [{"topic": ..., "partition": ..., "offset": ...}], "timeout": "2s"}"#))
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) } catch {
            return .failure(ReplicatedRequestError(parameter: "body", "not valid JSON"))
        }
        do throws(ReplicatedRequestError) {
            guard let object = json as? [String: Any] else { throw ReplicatedRequestError(parameter: "body", "expected a JSON object") }
            if let unknown = object.keys.sorted().first(where: { $0 != "records" && $0 != "timeout" }) {
                throw ReplicatedRequestError(parameter: unknown, "unknown field; expected records and timeout")
            }
            guard let list = object["records"] else { throw ReplicatedRequestError(parameter: "records", "missing") }
            guard let items = list as? [Any] else { throw ReplicatedRequestError(parameter: "records", "expected an array of {topic, partition, offset}") }
            guard !items.isEmpty else { throw ReplicatedRequestError(parameter: "records", "empty") }
            guard items.count <= maximumRecords else {
                throw ReplicatedRequestError(parameter: "records", "\(items.count) records; at most \(maximumRecords) in one request")
            }
            var records: [Record] = []
            records.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let name = "records[\(index)]"
                guard let fields = item as? [String: Any] else { throw ReplicatedRequestError(parameter: name, "expected an object {topic, partition, offset}") }
                if let unknown = fields.keys.sorted().first(where: { !["topic", "partition", "offset"].contains($0) }) {
                    throw ReplicatedRequestError(parameter: "\(name).\(unknown)", "unknown field; expected topic, partition and offset")
                }
                guard let topicValue = fields["topic"] else { throw ReplicatedRequestError(parameter: "\(name).topic", "missing") }
                guard let topicText = topicValue as? String else { throw ReplicatedRequestError(parameter: "\(name).topic", "expected a string") }
                guard let partitionValue = fields["partition"] else { throw ReplicatedRequestError(parameter: "\(name).partition", "missing") }
                guard let offsetValue = fields["offset"] else { throw ReplicatedRequestError(parameter: "\(name).offset", "missing") }
                records.append(Record(
                    topic: try topic(topicText, parameter: "\(name).topic"),
                    partition: try partition(integer(partitionValue), text: "\(partitionValue)", parameter: "\(name).partition"),
                    offset: try offset(integer(offsetValue), text: "\(offsetValue)", parameter: "\(name).offset")))
            }
            let timeoutText: String?
            switch object["timeout"] {
            case nil, is NSNull: timeoutText = nil
            case let text as String: timeoutText = text
            default: throw ReplicatedRequestError(parameter: "timeout", #"expected a string such as "2s" or "500ms""#)
            }
            return .success(ReplicatedRequest(records: records, timeout: try timeout(timeoutText), isBatch: true))
        } catch {
            return .failure(error)
        }
    }

    /// A JSON integer (not a boolean, not a fraction, not a string).
    private static func integer(_ value: Any) -> Int64? {
        // A JSON boolean is an NSNumber of type "c" (`is Bool` would also take the number 1).
        if let number = value as? NSNumber, String(cString: number.objCType) == "c" { return nil }
        return value as? Int64  // nil for a fraction or a number out of range
    }

    // MARK: - Values

    private static func topic(_ text: String, parameter: String) throws(ReplicatedRequestError) -> String {
        guard !text.isEmpty else { throw ReplicatedRequestError(parameter: parameter, "empty") }
        guard text.count <= 249, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }) else {
            throw ReplicatedRequestError(parameter: parameter, "not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)")
        }
        return text
    }

    private static func partition(_ value: Int64?, text: String, parameter: String) throws(ReplicatedRequestError) -> Int32 {
        guard let value, value >= 0, value <= Int64(Int32.max) else {
            throw ReplicatedRequestError(parameter: parameter, "expected a partition number (0 or more), got \(quoted(text))")
        }
        return Int32(value)
    }

    private static func offset(_ value: Int64?, text: String, parameter: String) throws(ReplicatedRequestError) -> Int64 {
        guard let value, value >= 0 else {
            throw ReplicatedRequestError(parameter: parameter, "expected a source offset (0 or more), got \(quoted(text))")
        }
        return value
    }

    private static func timeout(_ text: String?) throws(ReplicatedRequestError) -> Duration {
        guard let text else { return defaultTimeout }
        guard let duration = parseDuration(text) else {
            throw ReplicatedRequestError(parameter: "timeout", "expected a duration such as 2s or 500ms, got \(quoted(text))")
        }
        guard duration <= maximumTimeout else {
            throw ReplicatedRequestError(parameter: "timeout", "\(text) is more than the maximum of 30s")
        }
        return duration
    }

    private static func quoted(_ text: String) -> String {
        "\"" + String(text.prefix(64)) + (text.count > 64 ? "…" : "") + "\""
    }
}

/// Why a `/v1/replicated` request is refused: the parameter and the problem (HTTP 400, or 405 for a method).
package struct ReplicatedRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The parameter or field concerned, e.g. `offset` or `records[2].partition`.
    package var parameter: String
    /// What is wrong with it.
    package var problem: String
    /// The HTTP status: 400, or 405 for a method other than GET, HEAD and POST.
    package var status: Int

    /// Creates an error.
    package init(parameter: String, _ problem: String, status: Int = 400) {
        self.parameter = parameter
        self.problem = problem
        self.status = status
    }

    /// `<parameter>: <problem>`.
    package var description: String { "\(parameter): \(problem)" }
}
