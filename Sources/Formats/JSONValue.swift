import Foundation

/// An ordered JSON object.
package struct JSONObject: Sendable, Equatable {
    package var members: [(String, JSONValue)]

    package init(_ members: [(String, JSONValue)]) { self.members = members }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.map(\.0) == rhs.members.map(\.0) && lhs.members.map(\.1) == rhs.members.map(\.1)
    }
}

/// A JSON value written with keys in the order given, so output is byte-for-byte stable.
///
/// Kept by hand rather than `JSONEncoder`: on Swift 6.3.1 (Linux, swift-foundation) `JSONEncoder` writes a keyed
/// container's keys in hash order, which differs from one process to the next (measured 2026-12-01: three runs of
/// the same six-key object gave three orders). `.sortedKeys` would be stable but would reorder the reports'
/// documented fields, and `.prettyPrinted` writes `"key" : value`, not the `"key": value` the reports have always had.
package indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case string(String)
    case integer(Int64)
    /// Seconds, written with at most three decimals (`61`, `0.25`, `12.345`).
    case seconds(Double)
    case array([JSONValue])
    case object(JSONObject)

    package func render(pretty: Bool, indent: String) -> String {
        let inner = indent + "  "
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
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

    package static func seconds(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let milliseconds = Int64((value * 1000).rounded())
        let (whole, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        if fraction == 0 { return String(whole) }
        var decimals = String(format: "%03d", Int(abs(fraction)))
        while decimals.hasSuffix("0") { decimals.removeLast() }
        return (milliseconds < 0 && whole == 0 ? "-" : "") + "\(whole).\(decimals)"
    }

    package static func quote(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
            return "\"" + text + "\""
        }
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
