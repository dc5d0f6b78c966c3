import Logging
import Synchronization
import Topology

/// The values of the loaded topology's secrets, taken out of every log line and error message this process
/// writes, whatever produced the text.
///
/// Secrets are held as `Secret` values and never described, so the bridge's own text cannot show them; this is
/// the second line of defence for text made elsewhere: librdkafka's log lines and errors can quote a property's
/// value (`Unrecognized sasl.oauthbearer.config beginning at: ...`), and so could a server's error message.
enum OutputScrubber {
    /// What a secret's value is replaced with.
    static let replacement = Secret.redacted
    /// Values shorter than this are not looked for: they would mangle ordinary text, and are no real secrets.
    static let minimumLength = 4

    private static let values = Mutex<[String]>([])

    /// Looks for the topology's secret values from now on: the secret cluster properties, and the password in
    /// `reconcile.postgres_dsn` (not the whole connection string, which errors show with its password redacted).
    static func register(_ topology: Topology) {
        let dsn = topology.reconcile.map { passwords(inDSN: $0.postgresDSN.reveal()) } ?? []
        register(texts: topology.source.properties.secrets.map { $0.reveal() } + topology.target.properties.secrets.map { $0.reveal() } + dsn)
    }

    /// Looks for these values from now on (longest first, so that one value inside another goes too).
    static func register(texts: [String]) {
        let texts = Set(texts.filter { $0.count >= minimumLength })
        values.withLock { $0 = texts.sorted { $0.count > $1.count } }
    }

    /// The passwords in a libpq connection string: `password=...` (quoted or not), `scheme://user:password@`, and a
    /// `password` URI parameter.
    static func passwords(inDSN dsn: String) -> [String] {
        var found: [String] = []
        for match in dsn.matches(of: #/(?:^|\s)password\s*=\s*(?:'((?:[^'\\]|\\.|'')*)'|(\S+))/#.ignoresCase()) {
            if let quoted = match.output.1 {
                found.append(String(quoted).replacing("\\'", with: "'").replacing("''", with: "'"))
            } else if let plain = match.output.2 {
                found.append(String(plain))
            }
        }
        for match in dsn.matches(of: #/postgres(?:ql)?://[^:@/\s]*:([^@\s]*)@/#.ignoresCase()) { found.append(String(match.output.1)) }
        for match in dsn.matches(of: #/[?&]password=([^&#\s]*)/#.ignoresCase()) { found.append(String(match.output.1)) }
        return found
    }

    /// `text` with every registered secret value replaced by `******`.
    static func scrub(_ text: String) -> String {
        let secrets = values.withLock { $0 }
        guard !secrets.isEmpty else { return text }
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: replacement)
        }
        return result
    }

    static func scrub(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): .string(scrub(text))
        case .stringConvertible(let convertible): .string(scrub(convertible.description))
        case .array(let values): .array(values.map(scrub))
        case .dictionary(let values): .dictionary(values.mapValues(scrub))
        }
    }
}

/// A log handler that hands every event to `inner` with registered secret values scrubbed from the message,
/// the metadata (its own, the provider's and the event's) and the error.
struct ScrubbingLogHandler: LogHandler {
    private var inner: any LogHandler
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// Wraps `inner`, which should carry no metadata of its own (this handler merges and scrubs it).
    init(_ inner: any LogHandler) {
        self.inner = inner
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        var scrubbed = event
        scrubbed.message = "\(OutputScrubber.scrub(event.message.description))"
        scrubbed.metadata = merged.isEmpty ? nil : merged.mapValues(OutputScrubber.scrub)
        if let error = event.error { scrubbed.error = ScrubbedError(text: OutputScrubber.scrub("\(error)")) }
        inner.log(event: scrubbed)
    }
}

/// An error reduced to its scrubbed text.
private struct ScrubbedError: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}
