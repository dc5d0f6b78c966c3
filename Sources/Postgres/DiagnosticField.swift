/// libpq's `PG_DIAG_*` error field codes (postgres_ext.h). They are character-literal macros,
/// which Swift does not import, so they are spelled out here.
enum DiagnosticField {
    /// `DiagnosticField.severity`: `ERROR`, `WARNING`, `NOTICE`, … never translated.
    static let severity = Int32(UInt8(ascii: "V"))
    /// `DiagnosticField.sqlState`: the five-character SQLSTATE code.
    static let sqlState = Int32(UInt8(ascii: "C"))
    /// `DiagnosticField.messagePrimary`: the primary human-readable message.
    static let messagePrimary = Int32(UInt8(ascii: "M"))
    /// `DiagnosticField.messageDetail`: an optional secondary message.
    static let messageDetail = Int32(UInt8(ascii: "D"))
}
