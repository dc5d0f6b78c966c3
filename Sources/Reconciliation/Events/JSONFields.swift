/// Reads chosen top-level fields of a JSON object without building the whole document: a record
/// is scanned once, nested values are skipped over, and only the wanted fields become strings.
///
/// Strings are unescaped; numbers, `true` and `false` are returned as written; `null` becomes `nil`;
/// nested objects and arrays are returned as their raw JSON text.
package enum JSONFields {
    /// The wanted fields present in `bytes`, or nil when `bytes` is not a well-formed JSON object
    /// (up to the end of the object). A field that occurs twice keeps its last value.
    package static func extract(_ wanted: Set<String>, from bytes: [UInt8]) -> [String: String?]? {
        var scanner = Scanner(bytes: bytes)
        return scanner.object(wanted)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func object(_ wanted: Set<String>) -> [String: String?]? {
            skipSpace()
            guard consume(UInt8(ascii: "{")) else { return nil }
            var found: [String: String?] = [:]
            skipSpace()
            if consume(UInt8(ascii: "}")) { return found }
            while true {
                skipSpace()
                guard let name = string() else { return nil }
                skipSpace()
                guard consume(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                let start = index
                if wanted.contains(name) {
                    if peek == UInt8(ascii: "\"") {
                        guard let text = string() else { return nil }
                        found[name] = .some(text)
                    } else {
                        guard skipValue() else { return nil }
                        let raw = String(decoding: bytes[start..<index], as: UTF8.self)
                        found[name] = raw == "null" ? .some(nil) : .some(raw)
                    }
                } else {
                    guard skipValue() else { return nil }
                }
                skipSpace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "}")) ? found : nil
            }
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        /// Skips one value of any kind; false when it is malformed.
        mutating func skipValue() -> Bool {
            guard let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while let next = peek {
                    switch next {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                    default:
                        break
                    }
                    index += 1
                    if depth == 0 { return true }
                }
                return false
            default:
                let start = index
                while let next = peek, !(next == UInt8(ascii: ",") || next == UInt8(ascii: "}") || next == UInt8(ascii: "]")
                    || next == 0x20 || next == 0x09 || next == 0x0A || next == 0x0D) {
                    index += 1
                }
                return index > start
            }
        }

        mutating func skipString() -> Bool {
            guard consume(UInt8(ascii: "\"")) else { return false }
            while let byte = peek {
                index += 1
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    return true
                }
            }
            return false
        }

        /// A string value, unescaped; nil when malformed.
        mutating func string() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var plain = true
            while let byte = peek, byte != UInt8(ascii: "\"") {
                if byte == UInt8(ascii: "\\") {
                    plain = false
                    index += 1
                }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let body = bytes[start..<index]
            index += 1
            return plain ? String(decoding: body, as: UTF8.self) : unescape(body)
        }

        func unescape(_ body: ArraySlice<UInt8>) -> String? {
            var scalars = String.UnicodeScalarView()
            var utf8: [UInt8] = []
            var i = body.startIndex
            func flush() {
                if !utf8.isEmpty {
                    scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                    utf8.removeAll()
                }
            }
            var pendingHigh: UInt32?
            while i < body.endIndex {
                let byte = body[i]
                guard byte == UInt8(ascii: "\\") else {
                    utf8.append(byte)
                    i += 1
                    continue
                }
                i += 1
                guard i < body.endIndex else { return nil }
                let escaped = body[i]
                i += 1
                let simple: UInt8? = switch escaped {
                case UInt8(ascii: "\""): UInt8(ascii: "\"")
                case UInt8(ascii: "\\"): UInt8(ascii: "\\")
                case UInt8(ascii: "/"): UInt8(ascii: "/")
                case UInt8(ascii: "b"): 0x08
                case UInt8(ascii: "f"): 0x0C
                case UInt8(ascii: "n"): 0x0A
                case UInt8(ascii: "r"): 0x0D
                case UInt8(ascii: "t"): 0x09
                default: nil
                }
                if let simple {
                    utf8.append(simple)
                    continue
                }
                guard escaped == UInt8(ascii: "u"), i + 4 <= body.endIndex,
                      let code = UInt32(String(decoding: body[i..<(i + 4)], as: UTF8.self), radix: 16)
                else { return nil }
                i += 4
                flush()
                if (0xD800..<0xDC00).contains(code) {
                    pendingHigh = code
                    continue
                }
                if (0xDC00..<0xE000).contains(code), let high = pendingHigh {
                    pendingHigh = nil
                    guard let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)) else { return nil }
                    scalars.append(scalar)
                    continue
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            }
            flush()
            return String(scalars)
        }
    }
}
