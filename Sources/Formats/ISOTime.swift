import Foundation

/// ISO-8601 UTC times with second precision, e.g. `2026-01-31T12:00:00Z`, and milliseconds when they are not zero.
///
/// Foundation's `Date.ISO8601FormatStyle` does the calendar work. The milliseconds are kept as an integer and
/// written here: formatting a `Date` with fractional seconds truncates its binary value, which turns
/// `…00.123` into `…00.122`.
package enum ISOTime {
    private static let seconds = Date.ISO8601FormatStyle()
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    package static func string(_ date: Date) -> String {
        string(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    package static func string(milliseconds: Int64) -> String {
        let (whole, fraction) = floorDivision(milliseconds, by: 1000)
        let text = seconds.format(Date(timeIntervalSince1970: TimeInterval(whole)))
        guard fraction != 0 else { return text }
        let digits = String(fraction)
        return text.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Reads a time written by ``string(_:)`` (with or without milliseconds); nil for anything else.
    package static func date(_ text: String) -> Date? {
        (try? seconds.parse(text)) ?? (try? fractional.parse(text))
    }

    private static func floorDivision(_ value: Int64, by divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
