/// Parses a duration written as one or more `<digits><unit>` parts with units `ms`, `s`, `m`
/// and `h`, e.g. `250ms`, `5s`, `2m`, `1h` or `1m30s`; nil for anything else, or on overflow.
package func parseDuration(_ text: String) -> Duration? {
    let units: [(suffix: String, milliseconds: Int)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
    var rest = Substring(text)
    var total = 0
    repeat {
        let digits = rest.prefix { $0.isASCII && $0.isWholeNumber }
        guard let count = Int(digits),
              let unit = units.first(where: { rest.dropFirst(digits.count).hasPrefix($0.suffix) })
        else { return nil }
        let (part, partOverflow) = count.multipliedReportingOverflow(by: unit.milliseconds)
        let (sum, sumOverflow) = total.addingReportingOverflow(part)
        guard !partOverflow, !sumOverflow else { return nil }
        total = sum
        rest = rest.dropFirst(digits.count + unit.suffix.count)
    } while !rest.isEmpty
    return .milliseconds(total)
}

extension Duration {
    /// The duration in seconds, as a floating-point number (`1.5` for 1500 ms).
    package var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
