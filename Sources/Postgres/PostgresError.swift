/// An error from the PostgreSQL client: a failed connection or a failed statement.
///
/// The description carries the server's (or libpq's) message, the SQLSTATE when the server
/// sent one, and the connection string with any password replaced by `***`, so it is safe
/// to log.
package struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What failed.
    package enum Kind: String, Sendable, Equatable {
        /// Connecting failed, or the connection was lost while a statement ran.
        case connection
        /// The server rejected or failed a statement; the connection is still usable.
        case query
    }

    /// What failed.
    package let kind: Kind
    /// The primary message text (`DiagnosticField.messagePrimary`), or libpq's `PQerrorMessage`
    /// when there is no server result, trimmed of surrounding whitespace.
    package let message: String
    /// The five-character SQLSTATE code (for example `42P01`), when the server sent one.
    package let sqlState: String?
    /// The server's optional detail line (`DiagnosticField.messageDetail`).
    package let detail: String?
    /// The connection string with passwords redacted (see ``redactPassword(inDSN:)``).
    package let redactedDSN: String

    /// Creates an error; the DSN is redacted here, so callers may pass the raw one. Any password the DSN holds
    /// is also removed from `message` and `detail` (libpq may quote it when it cannot parse the DSN).
    package init(kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil, dsn: String) {
        self.kind = kind
        self.message = redactPasswords(of: dsn, in: message)
        self.sqlState = sqlState
        self.detail = detail.map { redactPasswords(of: dsn, in: $0) }
        self.redactedDSN = redactPassword(inDSN: dsn)
    }

    /// A one-line summary: kind, message, detail, SQLSTATE and the redacted DSN.
    package var description: String {
        var text = "PostgreSQL \(kind.rawValue) error: \(message)"
        if let detail, !detail.isEmpty { text += " (detail: \(detail))" }
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        text += " [dsn: \(redactedDSN)]"
        return text
    }
}
