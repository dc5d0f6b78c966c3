import Foundation
import Glibc

/// A throw-away PKI made by `scripts/test-pki.sh` in a temporary folder: a CA, a CA that signed nothing, the
/// server's certificate (valid, expired, not yet valid, for the wrong host) and a client certificate with a
/// plain and an encrypted key. Removed with this object.
package final class TestPKI: @unchecked Sendable {
    /// The folder holding the files.
    package let folder: URL
    /// The password of `client-encrypted.key`.
    package let keyPassword: String
    private let folderToken: UInt64

    /// Makes the files (about half a second).
    package init(keyPassword: String = "changeit") throws {
        self.keyPassword = keyPassword
        folder = try makeTemporaryDirectory(prefix: "regionbridge-pki")
        folderToken = FixtureRegistry.registerDirectory(folder)
        let script = RepoPaths.root.appendingPathComponent("scripts/test-pki.sh")
        let made = try runProcess(URL(fileURLWithPath: "/bin/bash"), [script.path, folder.path, keyPassword], timeout: .seconds(60))
        guard made.exitCode == 0 else { throw FixtureError("scripts/test-pki.sh failed (\(made.exitCode)): \(made.stderr)") }
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
        FixtureRegistry.unregisterDirectory(folderToken)
    }

    /// The path of one of the files, e.g. `ca.pem`.
    package func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
}

/// Debian's stunnel in front of plaintext listeners: each service accepts TLS on a free loopback port with a
/// certificate and key, optionally requires a client certificate signed by `clientCA`, and forwards to a port.
///
/// tansu 0.6.0 cannot serve TLS itself (its `--cert` and `--key` options exclude each other, and it has no
/// client authentication), so the tests put this in front of it, with tansu advertising the terminator's port.
/// stunnel runs in the foreground as a child of the test and is killed in `deinit`.
package final class TLSTerminator: @unchecked Sendable {
    /// One TLS listener.
    package struct Service: Sendable {
        package var name: String
        package var certificate: String
        package var key: String
        /// Require a client certificate signed by this CA (mutual TLS); nil: none asked for.
        package var clientCA: String?
        /// Where plaintext connections go.
        package var forwardTo: Int
        /// The TLS port; chosen free when nil.
        package var port: Int?

        package init(name: String, certificate: String, key: String, clientCA: String? = nil, forwardTo: Int, port: Int? = nil) {
            self.name = name
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
            self.forwardTo = forwardTo
            self.port = port
        }
    }

    /// The TLS port of each service, by name.
    package private(set) var ports: [String: Int] = [:]
    private let folder: URL
    private let folderToken: UInt64
    private var process: BackgroundProcess?

    /// Starts stunnel with `services` and waits (up to 10 s) until every port accepts connections.
    package init(services: [Service]) throws {
        folder = try makeTemporaryDirectory(prefix: "regionbridge-stunnel")
        folderToken = FixtureRegistry.registerDirectory(folder)
        var config = "foreground = yes\npid =\n"
        for service in services {
            let port = try service.port ?? freeLoopbackPort()
            ports[service.name] = port
            config += "\n[\(service.name)]\naccept = 127.0.0.1:\(port)\nconnect = 127.0.0.1:\(service.forwardTo)\n"
            config += "cert = \(service.certificate)\nkey = \(service.key)\n"
            if let ca = service.clientCA { config += "CAfile = \(ca)\nverify = 2\n" }
        }
        let file = folder.appendingPathComponent("stunnel.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("stunnel.log")
        let stunnel = URL(fileURLWithPath: "/usr/bin/stunnel4")
        guard FileManager.default.isExecutableFile(atPath: stunnel.path) else {
            throw FixtureError("/usr/bin/stunnel4 not found: run scripts/setup.sh (it installs Debian's stunnel4)")
        }
        let started = try BackgroundProcess(stunnel, [file.path], stdoutURL: log, stderrURL: log)
        process = started
        let deadline = ContinuousClock.now + .seconds(10)
        for port in ports.values {
            while !canConnectToLoopback(port: port, timeout: .milliseconds(200)) {
                guard started.isRunning, ContinuousClock.now < deadline else {
                    started.kill(signal: SIGKILL)
                    throw FixtureError("stunnel did not listen on 127.0.0.1:\(port) within 10 s; log:\n\(logTail(log))")
                }
                usleep(20_000)
            }
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
        FixtureRegistry.unregisterDirectory(folderToken)
    }

    /// Stops stunnel (SIGTERM, then SIGKILL after 5 s).
    package func stop() {
        process?.stop(gracePeriod: .seconds(5))
        process = nil
    }
}
