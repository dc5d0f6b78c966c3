import Foundation
import Kafka

/// The lag of every selected partition of a pair at one moment: what `regionbridge lag` prints.
///
/// Its JSON form (`--format json`) is stable and documented in docs/lag-json.md.
public struct LagReport: Sendable, Equatable {
    /// Name of the region pair.
    public var pair: String
    /// The source cluster's region.
    public var sourceRegion: String
    /// The target cluster's region.
    public var targetRegion: String
    /// When the figures were taken.
    public var at: Date
    /// One entry per selected source partition, ordered by topic then partition.
    public var partitions: [PartitionLag]

    /// Creates a report; `partitions` are sorted by source topic and partition.
    public init(pair: String, sourceRegion: String, targetRegion: String, at: Date, partitions: [PartitionLag]) {
        self.pair = pair
        self.sourceRegion = sourceRegion
        self.targetRegion = targetRegion
        self.at = at
        self.partitions = partitions.sorted { $0.source < $1.source }
    }

    /// Records behind, summed over all partitions.
    public var totalRecordsBehind: Int64 { partitions.reduce(0) { $0 + $1.recordsBehind } }

    /// The largest known seconds behind over all partitions; 0 when there are none.
    public var maxSecondsBehind: Double { partitions.compactMap(\.secondsBehind).max() ?? 0 }

    /// The report as one JSON object, keys sorted, numbers as integers where they are counts or offsets,
    /// seconds with millisecond precision, times in ISO-8601 UTC; absent values are `null`, never left out.
    public func json(pretty: Bool = true) -> String {
        let partitionObjects = partitions.map { lag in
            JSONObject([
                ("last_copied", lag.lastCopied.map { .integer($0) } ?? .null),
                ("oldest_pending_timestamp", lag.oldestPendingTimestamp.map { .string(ISOTime.string(milliseconds: $0)) } ?? .null),
                ("partition", .integer(Int64(lag.source.partition))),
                ("records_behind", .integer(lag.recordsBehind)),
                ("seconds_behind", lag.secondsBehind.map { .seconds($0) } ?? .null),
                ("source_end", .integer(lag.sourceEnd)),
                ("source_log_start", .integer(lag.sourceLogStart)),
                ("target_partition", .integer(Int64(lag.target.partition))),
                ("target_topic", .string(lag.target.topic)),
                ("topic", .string(lag.source.topic)),
            ])
        }
        let root = JSONObject([
            ("at", .string(ISOTime.string(at))),
            ("max_seconds_behind", .seconds(maxSecondsBehind)),
            ("pair", .string(pair)),
            ("partitions", .array(partitionObjects.map { .object($0) })),
            ("source_region", .string(sourceRegion)),
            ("target_region", .string(targetRegion)),
            ("total_records_behind", .integer(totalRecordsBehind)),
            ("version", .integer(1)),
        ])
        return JSONValue.object(root).render(pretty: pretty, indent: "")
    }
}

/// ISO-8601 UTC times with second precision, e.g. `2026-01-31T12:00:00Z`, and milliseconds when they are not zero.
enum ISOTime {
    static func string(_ date: Date) -> String {
        string(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    static func string(milliseconds: Int64) -> String {
        let seconds = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let whole = seconds.remainder < 0 ? seconds.quotient - 1 : seconds.quotient
        let fraction = seconds.remainder < 0 ? seconds.remainder + 1000 : seconds.remainder
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(whole)))
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let base = String(format: "%04d", parts.year ?? 0) + "-\(two(parts.month))-\(two(parts.day))T\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second))"
        return fraction == 0 ? base + "Z" : base + String(format: ".%03dZ", Int(fraction))
    }
}

/// An ordered JSON object.
struct JSONObject: Sendable, Equatable {
    var members: [(String, JSONValue)]

    init(_ members: [(String, JSONValue)]) { self.members = members }

    static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.map(\.0) == rhs.members.map(\.0) && lhs.members.map(\.1) == rhs.members.map(\.1)
    }
}

/// A JSON value written with keys in the order given, so output is byte-for-byte stable.
indirect enum JSONValue: Sendable, Equatable {
    case null
    case string(String)
    case integer(Int64)
    /// Seconds, written with at most three decimals (`61`, `0.25`, `12.345`).
    case seconds(Double)
    case array([JSONValue])
    case object(JSONObject)

    func render(pretty: Bool, indent: String) -> String {
        let inner = indent + "  "
        switch self {
        case .null: return "null"
        case .string(let text): return Self.quote(text)
        case .integer(let value): return String(value)
        case .seconds(let value): return Self.seconds(value)
        case .array(let items):
            if items.isEmpty { return "[]" }
            let rendered = items.map { $0.render(pretty: pretty, indent: inner) }
            return pretty
                ? "[\n" + rendered.map { inner + $0 }.joined(separator: ",\n") + "\n\(indent)]"
                : "[" + rendered.joined(separator: ",") + "]"
        case .object(let object):
            if object.members.isEmpty { return "{}" }
            let rendered = object.members.map { key, value in
                Self.quote(key) + (pretty ? ": " : ":") + value.render(pretty: pretty, indent: inner)
            }
            return pretty
                ? "{\n" + rendered.map { inner + $0 }.joined(separator: ",\n") + "\n\(indent)}"
                : "{" + rendered.joined(separator: ",") + "}"
        }
    }

    static func seconds(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let milliseconds = Int64((value * 1000).rounded())
        let (whole, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        if fraction == 0 { return String(whole) }
        var decimals = String(format: "%03d", Int(abs(fraction)))
        while decimals.hasSuffix("0") { decimals.removeLast() }
        return (milliseconds < 0 && whole == 0 ? "-" : "") + "\(whole).\(decimals)"
    }

    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
