import Foundation

/// A sum of decimal amounts written as text (`12.50`), shown with as many decimals as the most precise amount
/// summed: `12.50 + 3 = 15.50`, not `15.5`.
package struct AmountSum: Sendable, Equatable, CustomStringConvertible {
    /// The exact sum.
    package private(set) var total: Decimal = 0
    /// The most decimals of any amount summed.
    package private(set) var scale = 0

    /// An empty sum (0).
    package init() {}

    /// Adds an amount; returns false (and adds nothing) when `text` is not a plain decimal number.
    @discardableResult
    package mutating func add(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.wholeMatch(of: /[-+]?[0-9]+(\.[0-9]+)?/) != nil, let value = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")) else {
            return false
        }
        total += value
        scale = max(scale, trimmed.split(separator: ".").dropFirst().first?.count ?? 0)
        return true
    }

    /// The sum with `scale` decimals, e.g. `15.50`.
    package var description: String {
        var value = total
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, scale, .plain)
        let text = NSDecimalNumber(decimal: rounded).stringValue
        guard scale > 0 else { return text }
        let parts = text.split(separator: ".", maxSplits: 1)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        return "\(parts[0]).\(fraction)\(String(repeating: "0", count: scale - fraction.count))"
    }
}
