/// A value that must never be shown: a password, a client secret, a private key, a connection string that
/// carries a password.
///
/// Its `description`, `debugDescription`, `dump` and `Mirror` show `******`, never the value, so a secret can
/// sit inside any configuration type that is logged, interpolated or reflected (swift-service-lifecycle logs
/// services with their default description). The value leaves it only through ``reveal()``, at the one
/// place that hands it to librdkafka or libpq.
package struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// What every secret shows instead of its value.
    package static let redacted = "******"

    private let value: String

    /// Wraps `value`.
    package init(_ value: String) { self.value = value }

    /// The value itself. Call it only where the value is handed to a client library (a librdkafka
    /// configuration, a libpq connection), never to build text that is logged, printed or thrown.
    package func reveal() -> String { value }

    /// `******`.
    package var description: String { Self.redacted }

    /// `Secret(******)`.
    package var debugDescription: String { "Secret(\(Self.redacted))" }

    /// A mirror without children: reflection (`dump`, `Mirror`) never reaches the value.
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
