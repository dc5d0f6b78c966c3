import CLibPQ
import Logging

/// What libpq's notice receiver needs: the connection's logger. Immutable, so it may be read
/// from whichever thread libpq calls the receiver on.
final class NoticeContext: Sendable {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }
}

/// Routes server notices (`NOTICE`, `WARNING`, …) to the connection's logger instead of
/// libpq's default of printing them on stderr.
let noticeReceiver: PQnoticeReceiver = { context, result in
    guard let context, let result else { return }
    let logger = Unmanaged<NoticeContext>.fromOpaque(context).takeUnretainedValue().logger
    let severity = errorField(result, DiagnosticField.severity) ?? "NOTICE"
    let message = errorField(result, DiagnosticField.messagePrimary) ?? ""
    var metadata: Logger.Metadata = ["severity": "\(severity)"]
    if let sqlState = errorField(result, DiagnosticField.sqlState) { metadata["sqlstate"] = "\(sqlState)" }
    let level: Logger.Level = severity == "WARNING" ? .warning : .debug
    logger.log(level: level, "PostgreSQL \(severity.lowercased()): \(message)", metadata: metadata)
}
