import CRdKafka
import Logging
import Synchronization

/// The object behind a client's configuration opaque: librdkafka's callbacks (certificate verification, errors,
/// rebalances) find their Swift state through it. The client keeps it alive until after `rd_kafka_destroy`.
///
/// `@unchecked Sendable`: the certificate callback runs on librdkafka's broker threads and the error callback on
/// whichever thread polls; the only mutable state, the refusal recorder, is behind a `Mutex`.
final class ClientCallbacks: @unchecked Sendable {
    /// What refused this client lately.
    let refusals = RefusalRecorder()
    private let rebalance: RebalanceBox?
    private let secrets: [String]
    private let logger: Logger

    init(rebalance: RebalanceBox?, secrets: [String], logger: Logger) {
        self.rebalance = rebalance
        self.secrets = secrets
        self.logger = logger
    }

    /// Sets the opaque and the callbacks on `conf`. The certificate callback only where TLS is used: it keeps
    /// OpenSSL's verdict unchanged (returning 1 would turn verification, host name check included, off).
    func install(on conf: OpaquePointer, tls: Bool) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            guard let opaque else { return }
            let callbacks = Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            callbacks.error(rd_kafka_resp_err_t(err), reason.map { String(cString: $0) } ?? "")
        }
        if tls {
            rd_kafka_conf_set_ssl_cert_verify_cb(conf) { _, brokerName, _, x509Error, depth, _, _, errstr, errstrSize, opaque in
                guard let x509Error else { return 0 }
                guard let opaque else { return x509Error.pointee == 0 ? 1 : 0 }
                let callbacks = Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                let broker = brokerName.map { String(cString: $0) }
                let verified = callbacks.refusals.certificateVerified(x509Error: x509Error.pointee, depth: depth, broker: broker)
                if !verified, let errstr, errstrSize > 0 {
                    let text = "certificate at depth \(depth): X509 verification error \(x509Error.pointee)"
                    let bytes = Array(text.utf8.prefix(errstrSize - 1))
                    for (index, byte) in bytes.enumerated() { errstr[index] = CChar(bitPattern: byte) }
                    errstr[bytes.count] = 0
                }
                return verified ? 1 : 0
            }
        }
        if rebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { handle, err, list, opaque in
                guard let handle, let opaque else { return }
                Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue().rebalance?.rebalance(handle, err, list)
            }
        }
    }

    /// A client error that is not a delivery or consumer error (connection failures, `_ALL_BROKERS_DOWN`): it is
    /// noted when it is a refusal. The failure it causes is reported by the call that fails, so it is logged
    /// only at debug level here.
    private func error(_ err: rd_kafka_resp_err_t, _ reason: String) {
        let text = RDKafkaClient.masking(reason, secrets)
        refusals.noteError(err, text)
        logger.debug("\(text)", metadata: ["rdkafka": "\(String(cString: rd_kafka_err2name(err)))"])
    }
}

/// The latest refusal a client met, from librdkafka's certificate verification and error callbacks, until a
/// connection or request succeeds again.
///
/// Refusals recur while they last (librdkafka reconnects at least every `reconnect.backoff.max.ms`, 10 s by
/// default), so one not seen again for ``freshness`` is forgotten.
package final class RefusalRecorder: Sendable {
    /// How long a refusal not seen again still counts.
    static let freshness: Duration = .seconds(30)

    private struct Seen {
        var refusal: ConnectionRefusal
        var at: ContinuousClock.Instant
    }

    private struct State {
        var latest: Seen?
        /// A certificate verdict, kept apart: the `_SSL` error that follows it carries no cause of its own.
        var certificate: Seen?
    }

    private let state = Mutex(State())

    package init() {}

    /// The refusal seen in the last ``freshness``, if nothing succeeded since.
    package var current: ConnectionRefusal? {
        state.withLock { state in
            guard let found = state.latest, ContinuousClock.now - found.at < Self.freshness else { return nil }
            return found.refusal
        }
    }

    /// Something succeeded: the cluster accepts this client now.
    package func clear() {
        state.withLock { $0 = State() }
    }

    /// Notes OpenSSL's verdict on one certificate of a broker's chain; `true` when it verified.
    func certificateVerified(x509Error: Int32, depth: Int32, broker: String?) -> Bool {
        guard let cause = ConnectionRefusal.Cause(x509Error: x509Error) else {
            // The broker's own certificate (depth 0) verified: a certificate refusal seen before is over.
            if depth == 0 {
                state.withLock { state in
                    state.certificate = nil
                    if state.latest?.refusal.cause.isCertificate == true { state.latest = nil }
                }
            }
            return true
        }
        let refusal = ConnectionRefusal(
            cause: cause, broker: broker,
            detail: "OpenSSL verification error \(x509Error) on the certificate at depth \(depth) of \(broker ?? "the broker")'s chain")
        let seen = Seen(refusal: refusal, at: .now)
        state.withLock { $0 = State(latest: seen, certificate: seen) }
        return false
    }

    /// Notes a client error when it is a refusal.
    func noteError(_ err: rd_kafka_resp_err_t, _ text: String) {
        guard let cause = ConnectionRefusal.Cause(err, text: text) else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            // `_SSL` after a failed certificate verification: the verdict says more than the handshake error.
            if cause == .tlsHandshake, let verdict = state.certificate, now - verdict.at < .seconds(5) {
                state.latest = Seen(refusal: verdict.refusal, at: now)
            } else {
                state.latest = Seen(refusal: ConnectionRefusal(cause: cause, detail: text), at: now)
            }
        }
    }
}

extension ConnectionRefusal.Cause {
    /// The cause for a librdkafka error, decided on its numeric code; nil when the error is not a refusal.
    ///
    /// `_TRANSPORT` is a refusal only when it carries a TLS alert the broker sent (TLS 1.3 checks the client's
    /// certificate after the handshake, so a missing or untrusted client certificate surfaces as a failed read):
    /// the alert is decided on OpenSSL's packed error number in the text (`error:0A00045C:`), never its words.
    package init?(errorCode: Int32, text: String) {
        self.init(rd_kafka_resp_err_t(rawValue: errorCode), text: text)
    }

    init?(_ err: rd_kafka_resp_err_t, text: String) {
        switch err {
        case RD_KAFKA_RESP_ERR__SSL:
            self = OpenSSLError.first(in: text)?.peerAlert.map(Self.init(tlsAlert:)) ?? .tlsHandshake
        case RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
             RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM, RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
            self = .authentication
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
             RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
             RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED:
            self = .authorization
        case RD_KAFKA_RESP_ERR__TRANSPORT:
            guard let alert = OpenSSLError.first(in: text)?.peerAlert else { return nil }
            self = Self(tlsAlert: alert)
        default:
            return nil
        }
    }

    /// The cause for a TLS alert the broker sent (RFC 8446 section 6): the certificate alerts mean it refused the
    /// client's certificate (or did not get one it requires).
    init(tlsAlert: Int) {
        switch tlsAlert {
        case 42, 43, 44, 45, 46, 48, 116: self = .clientCertificateRefused
        default: self = .tlsHandshake  // handshake_failure (40) included: a TLS 1.2 broker's answer to a missing client certificate too
        }
    }
}

/// An OpenSSL error number as librdkafka quotes it (`error:0A00045C:SSL routines::...`): the library in the high
/// bits, the reason in the low 23 (OpenSSL 3; 1.1 used 12 bits, and its alerts have the same reason numbers).
struct OpenSSLError: Equatable {
    let library: Int
    let reason: Int

    /// OpenSSL's `ERR_LIB_SSL`.
    static let sslLibrary = 20

    /// The TLS alert the peer sent, when this is `SSL routines` reason 1000 + alert (`SSL_AD_REASON_OFFSET`).
    var peerAlert: Int? {
        library == Self.sslLibrary && (1000..<1256).contains(reason) ? reason - 1000 : nil
    }

    /// The first `error:XXXXXXXX:` in `text`.
    static func first(in text: String) -> OpenSSLError? {
        guard let match = text.firstMatch(of: /error:([0-9A-Fa-f]{8}):/), let packed = UInt32(match.1, radix: 16) else {
            return nil
        }
        if packed & 0x8000_0000 != 0 { return nil }  // a system error (errno), not a library's
        return OpenSSLError(library: Int((packed >> 23) & 0xFF), reason: Int(packed & 0x7F_FFFF))
    }
}
