import Foundation
import Glibc

/// A throwaway tansu broker (Kafka-compatible, in-memory storage) listening on a free
/// loopback port.
///
/// Tansu keeps all data in memory: after ``kill()``/``stop()`` and ``restart()`` the broker is
/// empty. It creates topics on first produce (4 partitions). Standard output and error go
/// to ``logURL``, appended across restarts.
///
/// The broker process is killed in `deinit`, and when the test process exits if the broker
/// outlived its owner. `@unchecked Sendable`: the only mutable state, the current process,
/// is guarded by a lock, so a test may kill or freeze the broker from another task.
package final class TansuBroker: @unchecked Sendable {
    /// A label used in the temporary folder name and in errors.
    package let name: String
    /// The TCP port on 127.0.0.1, the same across restarts.
    package let port: Int
    /// The Kafka bootstrap address, `127.0.0.1:<port>`.
    package var bootstrap: String { "127.0.0.1:\(port)" }
    /// The broker's combined stdout/stderr log.
    package let logURL: URL

    /// The port the broker names in its metadata: its own, or that of a TLS terminator in front of it.
    package let advertisedPort: Int
    private let extraArguments: [String]
    private let executable: URL
    private let folder: URL
    private let folderToken: UInt64
    private let lock = NSLock()
    private var process: BackgroundProcess?

    /// Starts a broker on a free port and waits (up to 10 s) until it accepts TCP connections.
    ///
    /// - Throws: ``FixtureError`` when tansu is missing (see ``RepoPaths/tansu``) or does not
    ///   start; the message includes the end of its log.
    /// - Parameters:
    ///   - advertisedPort: the port clients are told to connect to (a ``TLSTerminator``'s); default the broker's own.
    ///   - extraArguments: more `tansu broker` options (`--authentication`).
    package init(name: String = "tansu", advertisedPort: Int? = nil, extraArguments: [String] = []) throws {
        self.name = name
        self.extraArguments = extraArguments
        executable = try RepoPaths.tansu
        folder = try makeTemporaryDirectory(prefix: "regionbridge-tansu-\(name)")
        folderToken = FixtureRegistry.registerDirectory(folder)
        logURL = folder.appendingPathComponent("tansu.log")
        // Another process can take a free port before tansu binds it: then try another port.
        var attempt = 0
        while true {
            attempt += 1
            let candidate = try freeLoopbackPort()
            do {
                let started = try Self.launch(
                    executable, port: candidate, advertisedPort: advertisedPort ?? candidate, extraArguments: extraArguments, logURL: logURL, name: name)
                port = candidate
                self.advertisedPort = advertisedPort ?? candidate
                process = started
                return
            } catch {
                if attempt >= 3 {
                    try? FileManager.default.removeItem(at: folder)
                    FixtureRegistry.unregisterDirectory(folderToken)
                    throw error
                }
            }
        }
    }

    deinit {
        lock.withLock {
            if let process {
                process.kill(signal: SIGKILL)
                _ = process.waitForExit(timeout: .seconds(10))
            }
            process = nil
        }
        try? FileManager.default.removeItem(at: folder)
        FixtureRegistry.unregisterDirectory(folderToken)
    }

    /// True while the broker process exists (a frozen broker is running).
    package var isRunning: Bool {
        lock.withLock { process?.isRunning ?? false }
    }

    /// Kills the broker with SIGKILL and waits for it to exit: an abrupt crash.
    package func kill() {
        lock.withLock {
            guard let process else { return }
            process.kill(signal: SIGKILL)
            _ = process.waitForExit(timeout: .seconds(10))
            self.process = nil
        }
    }

    /// Stops the broker with SIGTERM, then SIGKILL if it is still running after 5 s.
    package func stop() {
        lock.withLock {
            guard let process else { return }
            process.stop(gracePeriod: .seconds(5))
            self.process = nil
        }
    }

    /// Suspends the broker with SIGSTOP: the port still accepts connections (the kernel
    /// completes them) but the broker answers nothing until ``thaw()``.
    package func freeze() {
        lock.withLock { process?.kill(signal: SIGSTOP) }
    }

    /// Resumes a broker suspended by ``freeze()`` with SIGCONT.
    package func thaw() {
        lock.withLock { process?.kill(signal: SIGCONT) }
    }

    /// Stops the broker if it is running and starts a new, empty one on the same port,
    /// waiting until it accepts connections.
    ///
    /// - Throws: ``FixtureError`` when it does not come back within 10 s.
    package func restart() throws {
        stop()
        try lock.withLock {
            // The old listener may take a moment to release the port; retry for a while.
            let deadline = ContinuousClock.now + .seconds(10)
            while true {
                do {
                    process = try Self.launch(
                        executable, port: port, advertisedPort: advertisedPort, extraArguments: extraArguments, logURL: logURL, name: name)
                    return
                } catch {
                    guard ContinuousClock.now < deadline else { throw error }
                    usleep(200_000)
                }
            }
        }
    }

    /// The last `lines` lines of the broker's log.
    package func logTail(lines: Int = 40) -> String {
        TestSupport.logTail(logURL, lines: lines)
    }

    /// Starts tansu on `port` and waits until the port accepts connections.
    private static func launch(
        _ executable: URL, port: Int, advertisedPort: Int, extraArguments: [String], logURL: URL, name: String
    ) throws -> BackgroundProcess {
        let listener = "tcp://127.0.0.1:\(port)"
        let process = try BackgroundProcess(
            executable,
            ["broker", "--listener-url", listener, "--advertised-listener-url", "tcp://127.0.0.1:\(advertisedPort)"] + extraArguments,
            stdoutURL: logURL,
            stderrURL: logURL)
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            guard process.isRunning else {
                let code = process.waitForExit(timeout: .seconds(1)).map(String.init) ?? "?"
                throw FixtureError("""
                    tansu broker \(name) exited with status \(code) before listening on \(listener); log \(logURL.path) ends:
                    \(TestSupport.logTail(logURL))
                    """)
            }
            if canConnectToLoopback(port: port, timeout: .milliseconds(200)) && process.isRunning {
                return process
            }
            guard ContinuousClock.now < deadline else {
                process.kill(signal: SIGKILL)
                _ = process.waitForExit(timeout: .seconds(5))
                throw FixtureError("""
                    tansu broker \(name) did not accept connections on \(listener) within 10 s; log \(logURL.path) ends:
                    \(TestSupport.logTail(logURL))
                    """)
            }
            usleep(20_000)
        }
    }
}
