import Formats
import Foundation
import Replication

/// How the drill writes its figures.
enum Figures {
    /// Seconds with at most three decimals and a unit: `0 s`, `1.25 s`.
    static func seconds(_ value: Double) -> String {
        "\(JSONValue.seconds(value)) s"
    }

    /// A span as a topology file writes it when it is a minute or more (`15m`, `1h30m`, `2m5s`), else in seconds.
    static func span(_ value: Double) -> String {
        guard value.isFinite else { return "unbounded" }
        guard value >= 60 else { return seconds(value) }
        let total = Int(value.rounded())
        let (hours, rest) = total.quotientAndRemainder(dividingBy: 3600)
        let (minutes, seconds) = rest.quotientAndRemainder(dividingBy: 60)
        return (hours > 0 ? "\(hours)h" : "") + (minutes > 0 ? "\(minutes)m" : "") + (seconds > 0 ? "\(seconds)s" : "")
    }

    /// `1 record`, `2 records`.
    static func count(_ value: some BinaryInteger, _ noun: String) -> String {
        "\(value) \(noun)\(value == 1 ? "" : "s")"
    }

    /// Amounts per currency, sorted by currency: `12.50 EUR, 3 USD`; a blank currency shows the bare amount.
    static func amounts(_ amounts: [String: String]) -> String {
        amounts.sorted { $0.key < $1.key }.map { currency, amount in
            currency.isEmpty ? amount : "\(amount) \(currency)"
        }.joined(separator: ", ")
    }
}
