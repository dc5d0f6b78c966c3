import CRdKafka
import Logging

/// Owns one `rd_kafka_t` and its log queue, and frees them in `deinit`.
///
/// `@unchecked Sendable`: librdkafka documents every `rd_kafka_*` call on a handle as
/// thread-safe; the Swift state here is immutable after creation.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind { case producer, consumer }

    let handle: OpaquePointer
    private let logQueue: OpaquePointer
    let logger: Logger
    let kind: Kind
    /// The object librdkafka's callbacks reach through the configuration's opaque pointer; kept alive until after
    /// `rd_kafka_destroy`, which may still call back into it while it closes a consumer.
    private let callbacks: ClientCallbacks
    /// The values of the configuration's secret properties: librdkafka's log lines and errors can quote them
    /// (an unparsable `sasl.oauthbearer.config`, a keystore path), so they are masked before anything is printed.
    private let secrets: [String]
    /// The bridge's name for the client (the `client.id` unless a cluster's properties set another), under which
    /// ``KafkaClientCensus`` counts it.
    let clientID: String

    private init(
        handle: OpaquePointer, logQueue: OpaquePointer, kind: Kind, logger: Logger, callbacks: ClientCallbacks, secrets: [String], clientID: String
    ) {
        self.handle = handle
        self.logQueue = logQueue
        self.kind = kind
        self.logger = logger
        self.callbacks = callbacks
        self.secrets = secrets
        self.clientID = clientID
        KafkaClientCensus.created(clientID)
    }

    /// The secret property values of a configuration, longest first (so a value containing another is masked whole).
    static func secretValues(of configuration: KafkaClientConfiguration) -> [String] {
        configuration.properties.filter { SecretProperties.isSecret($0.key) && !$0.value.isEmpty }.map(\.value)
            .sorted { $0.count > $1.count }
    }

    /// `text` with every secret value of `secrets` replaced by `******`.
    static func masking(_ text: String, _ secrets: [String]) -> String {
        secrets.reduce(text) { $0.replacing($1, with: "******") }
    }

    deinit {
        rd_kafka_queue_destroy(logQueue)
        rd_kafka_destroy(handle)
        KafkaClientCensus.destroyed(clientID)
    }

    /// Creates a client; `properties` are applied last, so callers' settings override defaults.
    /// - Parameters:
    ///   - events: event types routed to the main queue (`RD_KAFKA_EVENT_*`), 0 for none.
    ///   - rebalance: a consumer's rebalance handler, called through the configuration's opaque.
    static func make(
        kind: Kind, configuration: KafkaClientConfiguration, defaults: [String: String],
        overrides: [String: String] = [:], events: Int32 = 0, logger: Logger, rebalance: RebalanceBox? = nil
    ) throws(KafkaError) -> RDKafkaClient {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .clientCreation, message: "rd_kafka_conf_new failed")
        }
        var settings = Self.baseDefaults.merging(defaults) { $1 }
        settings["bootstrap.servers"] = configuration.bootstrapServers
        settings["client.id"] = configuration.clientID
        settings["log.queue"] = "true"
        for (key, value) in configuration.properties { settings[key] = value }
        for (key, value) in overrides { settings[key] = value }
        do {
            for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
                try set(conf, key, value, optional: Self.baseDefaults[key] == value)
            }
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
        if events != 0 { rd_kafka_conf_set_events(conf, Int32(events)) }
        let secrets = secretValues(of: configuration)
        let callbacks = ClientCallbacks(rebalance: rebalance, secrets: secrets, logger: logger)
        let tls = settings["security.protocol"]?.lowercased().hasSuffix("ssl") ?? false
        callbacks.install(on: conf, tls: tls)

        var errstr = [CChar](repeating: 0, count: 512)
        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)  // not taken over when rd_kafka_new fails
            throw KafkaError(code: .clientCreation, message: "cannot create Kafka client: \(masking(errstr.nulTerminatedString, secrets))")
        }
        let logQueue = rd_kafka_queue_new(handle)!
        rd_kafka_set_log_queue(handle, logQueue)
        return RDKafkaClient(
            handle: handle, logQueue: logQueue, kind: kind, logger: logger, callbacks: callbacks, secrets: secrets,
            clientID: configuration.clientID)
    }

    /// Defaults of every client, under the kind's own defaults and the user's properties.
    ///
    /// `enable.metrics.push=false`: no KIP-714 client telemetry to the brokers. The bridge exports its own metrics,
    /// and with telemetry on, `rd_kafka_destroy` waits up to a second per client for a last push (seen here:
    /// seven clients made a 2-second run take 9 seconds to exit). Ignored by a librdkafka without the property.
    static let baseDefaults: [String: String] = ["enable.metrics.push": "false"]

    /// Sets one property; an `optional` one that this librdkafka does not know is skipped.
    private static func set(_ conf: OpaquePointer, _ key: String, _ value: String, optional: Bool = false) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
        if result == RD_KAFKA_CONF_UNKNOWN && optional { return }
        guard result == RD_KAFKA_CONF_OK else {
            // librdkafka's message may quote the value: drop it for secrets.
            let detail = SecretProperties.isSecret(key) ? "invalid value" : errstr.nulTerminatedString
            throw KafkaError(code: .configuration, message: "Kafka property \(key): \(detail)")
        }
    }

    /// Forwards librdkafka's queued log lines to swift-log without blocking.
    func drainLogs() {
        while let event = rd_kafka_queue_poll(logQueue, 0) {
            defer { rd_kafka_event_destroy(event) }
            guard rd_kafka_event_type(event) == RD_KAFKA_EVENT_LOG else { continue }
            var facility: UnsafePointer<CChar>?
            var text: UnsafePointer<CChar>?
            var level: Int32 = 0
            guard rd_kafka_event_log(event, &facility, &text, &level) == 0, let text else { continue }
            let line = Self.masking(String(cString: text), secrets)
            let fac = facility.map { String(cString: $0) } ?? "-"
            // The gapless guarantee is chosen on purpose; librdkafka warns that it is experimental on every start.
            let expected = fac == "CONFWARN" && line.contains("enable.gapless.guarantee")
            logger.log(level: expected ? .debug : Self.logLevel(syslog: level), "\(line)", metadata: ["rdkafka": "\(fac)"])
        }
    }

    /// Maps a syslog severity (librdkafka's log levels) to swift-log.
    static func logLevel(syslog: Int32) -> Logger.Level {
        switch syslog {
        case ...2: return .critical
        case 3: return .error
        case 4: return .warning
        case 5: return .notice
        case 6: return .info
        default: return .debug
        }
    }

    /// What refused this client lately (a certificate, credentials, a permission), until something succeeds.
    var refusals: RefusalRecorder { callbacks.refusals }

    /// librdkafka's fatal error, if the instance has hit one.
    func fatalError() -> KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &errstr, errstr.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return .rdkafka(err, message: errstr.nulTerminatedString, isFatal: true)
    }

    /// Low and high watermarks as the leader answers them now (ListOffsets).
    func queryWatermarks(topic: String, partition: Int32, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        // A refusal (certificate, credentials) is named after the first short try, not after `timeout`.
        let deadline = ContinuousClock.now + timeout
        var err = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, min(timeout, .seconds(2)).milliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let refusal = refusals.current { throw .refused(refusal) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, deadline - ContinuousClock.now > .milliseconds(100) {
            err = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, (deadline - ContinuousClock.now).milliseconds)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if let refusal = refusals.current { throw .refused(refusal) }
            throw .rdkafka(err, message: "cannot read offsets of \(topic)/\(partition): \(String(cString: rd_kafka_err2str(err)))")
        }
        return (low, high)
    }
}

/// The version of librdkafka loaded at run time, e.g. `2.8.0`.
package var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }

extension Duration {
    /// Whole milliseconds, clamped to `Int32` for librdkafka's timeouts.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }
}

extension Array where Element == CChar {
    /// The text of a NUL-terminated error buffer filled in by librdkafka.
    var nulTerminatedString: String {
        withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
