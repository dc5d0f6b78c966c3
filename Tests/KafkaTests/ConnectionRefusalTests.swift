import Kafka
import XCTest

/// What a refusal is, decided on numbers: OpenSSL's certificate verdicts, librdkafka's error codes and the TLS
/// alert inside OpenSSL's packed error number. The texts are librdkafka 2.8.0's, as seen on this machine.
final class ConnectionRefusalTests: XCTestCase {
    func testCertificateVerdicts() {
        XCTAssertNil(ConnectionRefusal.Cause(x509Error: 0))
        XCTAssertEqual(ConnectionRefusal.Cause(x509Error: 20), .untrustedCertificate)  // unable to get local issuer
        XCTAssertEqual(ConnectionRefusal.Cause(x509Error: 19), .untrustedCertificate)  // self-signed in the chain
        XCTAssertEqual(ConnectionRefusal.Cause(x509Error: 10), .expiredCertificate)
        XCTAssertEqual(ConnectionRefusal.Cause(x509Error: 9), .notYetValidCertificate)
        XCTAssertEqual(ConnectionRefusal.Cause(x509Error: 62), .hostNameMismatch)
        XCTAssertEqual(ConnectionRefusal.Cause(x509Error: 64), .hostNameMismatch)  // IP address mismatch
        XCTAssertEqual(ConnectionRefusal.Cause(x509Error: 23), .badCertificate)  // revoked
    }

    func testLibrdkafkaErrorCodes() {
        let verifyFailed = "ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed"
        XCTAssertEqual(ConnectionRefusal.Cause(errorCode: -181, text: verifyFailed), .tlsHandshake)
        XCTAssertEqual(ConnectionRefusal.Cause(errorCode: -169, text: "SASL SCRAM authentication failed"), .authentication)
        XCTAssertEqual(ConnectionRefusal.Cause(errorCode: 58, text: ""), .authentication)  // SASL_AUTHENTICATION_FAILED
        for code: Int32 in [29, 30, 31, 53] {  // topic, group, cluster, transactional id authorization failed
            XCTAssertEqual(ConnectionRefusal.Cause(errorCode: code, text: ""), .authorization, "\(code)")
        }
        XCTAssertNil(ConnectionRefusal.Cause(errorCode: -187, text: "1/1 brokers are down"))
        XCTAssertNil(ConnectionRefusal.Cause(errorCode: -185, text: ""))  // _TIMED_OUT: an outage
    }

    func testATransportFailureIsARefusalOnlyWithATLSAlertFromTheBroker() {
        let required = "ssl://127.0.0.1:9093/bootstrap: Receive failed: error:0A00045C:SSL routines::tlsv13 alert certificate required: SSL alert number 116"
        XCTAssertEqual(ConnectionRefusal.Cause(errorCode: -195, text: required), .clientCertificateRefused)
        let unknownCA = "Receive failed: error:0A000418:SSL routines::tlsv1 alert unknown ca: SSL alert number 48"
        XCTAssertEqual(ConnectionRefusal.Cause(errorCode: -195, text: unknownCA), .clientCertificateRefused)
        let handshake = "SSL handshake failed: error:0A000410:SSL routines::sslv3 alert handshake failure: SSL alert number 40"
        XCTAssertEqual(ConnectionRefusal.Cause(errorCode: -181, text: handshake), .tlsHandshake)
        XCTAssertNil(ConnectionRefusal.Cause(errorCode: -195, text: "Connect to ipv4#127.0.0.1:9093 failed: Connection refused"))
        XCTAssertNil(ConnectionRefusal.Cause(errorCode: -195, text: "error:0A000086:SSL routines::certificate verify failed"))
        XCTAssertNil(ConnectionRefusal.Cause(errorCode: -195, text: "Disconnected (after 0ms in state UP)"))
    }

    func testTheMessageSaysTheCauseTheDetailAndWhatToCheck() {
        let refusal = ConnectionRefusal(cause: .expiredCertificate, detail: "OpenSSL verification error 10")
        XCTAssertEqual(
            refusal.description,
            "the broker's TLS certificate has expired (OpenSSL verification error 10): renew the broker's certificate (or check this machine's clock)")
        for cause in ConnectionRefusal.Cause.allCases {
            let text = ConnectionRefusal(cause: cause, detail: "").description
            XCTAssertFalse(text.contains("()"), text)
            XCTAssertTrue(text.contains(": "), text)
        }
    }
}
