import Foundation

/// Whether a value read from a record equals the value of a column, as a payment's fields are compared.
///
/// Texts equal as written match. Otherwise two decimal numbers match when they are the same number
/// (`12.5` in JSON and `12.50` from a `numeric` column), and booleans match across spellings
/// (`true`/`t`, `false`/`f`). A missing value matches only a NULL.
package enum FieldValue {
    package static func matches(record: String?, row: String?) -> Bool {
        guard let record, let row else { return record == nil && row == nil }
        if record == row { return true }
        if let a = decimal(record), let b = decimal(row) { return a == b }
        if let a = boolean(record), let b = boolean(row) { return a == b }
        return false
    }

    private static func decimal(_ text: String) -> Decimal? {
        guard text.wholeMatch(of: /-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/) != nil else { return nil }
        return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }

    private static func boolean(_ text: String) -> Bool? {
        switch text {
        case "true", "t": true
        case "false", "f": false
        default: nil
        }
    }
}
