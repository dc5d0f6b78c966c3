/// A cluster that answers but refuses this client: its TLS certificate is not trusted, the client's credentials
/// are wrong, or the client is not allowed to do what it asked. Waiting does not mend it; a person must change a
/// certificate, a password or an ACL.
///
/// Decided from numbers only: OpenSSL's certificate verification result (`X509_V_ERR_*`, handed over by
/// librdkafka's certificate verification callback) and librdkafka's error codes (`_SSL`, `_AUTHENTICATION`,
/// the broker's `*_AUTHORIZATION_FAILED`). librdkafka's text is kept as the detail, never matched.
package struct ConnectionRefusal: Sendable, Equatable, CustomStringConvertible {
    /// What was refused, in a form callers can switch on.
    package enum Cause: String, Sendable, Equatable, CaseIterable {
        /// The broker's certificate chain does not lead to a CA the client trusts (`ssl.ca.location`).
        case untrustedCertificate = "untrusted_certificate"
        /// The broker's certificate (or one in its chain) has expired.
        case expiredCertificate = "expired_certificate"
        /// The broker's certificate (or one in its chain) is not valid yet.
        case notYetValidCertificate = "certificate_not_yet_valid"
        /// The broker's certificate does not name the host the client connected to.
        case hostNameMismatch = "host_name_mismatch"
        /// The broker's certificate was refused for another reason (revoked, wrong purpose, bad signature).
        case badCertificate = "bad_certificate"
        /// The broker refused the client's certificate, or required one the client did not send (mutual TLS).
        case clientCertificateRefused = "client_certificate_refused"
        /// The TLS handshake failed without a certificate verdict: a TLS 1.2 broker that wants a client
        /// certificate, or the two sides share no protocol version or cipher.
        case tlsHandshake = "tls_handshake"
        /// SASL authentication failed: wrong user name or password, or a mechanism the broker does not offer.
        case authentication = "authentication"
        /// The broker refused an operation for lack of permission: topic, group, transactional id or cluster.
        case authorization = "authorization"
    }

    /// What was refused.
    package var cause: Cause
    /// The broker the refusal came from, as librdkafka names it (`ssl://127.0.0.1:9093/bootstrap`), if known.
    package var broker: String?
    /// librdkafka's own words (secrets masked), for the operator; never used to decide anything.
    package var detail: String

    package init(cause: Cause, broker: String? = nil, detail: String) {
        self.cause = cause
        self.broker = broker
        self.detail = detail
    }

    /// The cause in plain words.
    package var summary: String {
        switch cause {
        case .untrustedCertificate: "the broker's TLS certificate is not signed by a CA this client trusts"
        case .expiredCertificate: "the broker's TLS certificate has expired"
        case .notYetValidCertificate: "the broker's TLS certificate is not valid yet"
        case .hostNameMismatch: "the broker's TLS certificate does not name the host the client connected to"
        case .badCertificate: "the broker's TLS certificate was refused"
        case .clientCertificateRefused: "the broker refused this client's TLS certificate, or requires one it did not get"
        case .tlsHandshake: "the TLS handshake failed"
        case .authentication: "SASL authentication failed"
        case .authorization: "the cluster refused the operation: not authorised"
        }
    }

    /// What the operator should check.
    package var advice: String {
        switch cause {
        case .untrustedCertificate: "check ssl.ca.location: it must hold the CA that signed the broker's certificate"
        case .expiredCertificate, .notYetValidCertificate:
            "renew the broker's certificate (or check this machine's clock)"
        case .hostNameMismatch:
            "connect to a name or address the certificate lists (bootstrap_servers and the brokers' advertised listeners), or fix the certificate's subject alternative names"
        case .badCertificate: "check the broker's certificate chain and ssl.ca.location"
        case .clientCertificateRefused:
            "check ssl.certificate.location and ssl.key.location: the broker requires a client certificate signed by a CA it trusts, and valid now"
        case .tlsHandshake:
            "check the client certificate and key (ssl.certificate.location, ssl.key.location) against the CA the broker trusts, and security.protocol"
        case .authentication: "check sasl.mechanism, sasl.username and sasl.password"
        case .authorization: "check the ACLs of this client's principal"
        }
    }

    /// `<summary> (<detail>): <advice>`.
    package var description: String {
        "\(summary)\(detail.isEmpty ? "" : " (\(detail))"): \(advice)"
    }
}

extension ConnectionRefusal.Cause {
    /// A verdict on the broker's certificate (from OpenSSL's verification on this side).
    package var isCertificate: Bool {
        switch self {
        case .untrustedCertificate, .expiredCertificate, .notYetValidCertificate, .hostNameMismatch, .badCertificate: true
        default: false
        }
    }

    /// The cause for an OpenSSL certificate verification result (`X509_V_ERR_*`); nil for 0 (verified).
    ///
    /// The values are OpenSSL's (`openssl/x509_vfy.h`, stable across OpenSSL 1.1 and 3).
    package init?(x509Error: Int32) {
        switch x509Error {
        case 0: return nil
        case 2, 18, 19, 20, 21: self = .untrustedCertificate  // issuer unknown, self-signed, no local issuer, leaf unverifiable
        case 10, 12: self = .expiredCertificate  // certificate, CRL has expired
        case 9, 11: self = .notYetValidCertificate  // certificate, CRL not yet valid
        case 62, 63, 64: self = .hostNameMismatch  // host name, e-mail, IP address mismatch
        default: self = .badCertificate
        }
    }
}
