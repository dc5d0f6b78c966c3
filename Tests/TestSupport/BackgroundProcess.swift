import Foundation
import Glibc

/// A process running in the background for a test, with standard output and error in log
/// files, for example the `regionbridge` binary that a test later kills with SIGKILL.
///
/// The process is killed (SIGKILL) when the object is deinitialised, and is registered so
/// that it is also killed when the test process exits. Standard input is `/dev/null`.
/// Sendable: every stored property is immutable, and the child's exit status is behind a mutex.
package final class BackgroundProcess: Sendable {
    /// The executable that was started.
    package let executable: URL
    /// Its arguments.
    package let arguments: [String]
    /// The file that receives standard output.
    package let stdoutURL: URL
    /// The file that receives standard error (may be the same file as ``stdoutURL``).
    package let stderrURL: URL
    /// The process id.
    package let pid: Int32

    private let child: ChildProcess
    private let registryToken: UInt64
    /// The folder this object created for the logs, removed in `deinit`; `nil` when the
    /// caller chose the log files.
    private let ownedFolder: URL?

    /// Starts `executable`.
    ///
    /// - Parameters:
    ///   - environment: The whole environment; `nil` inherits this process's.
    ///   - currentDirectory: The working directory; `nil` inherits this process's.
    ///   - stdoutURL: Where standard output goes (appended). `nil`: a new temporary folder's
    ///     `stdout.log`, removed with this object.
    ///   - stderrURL: Where standard error goes (appended); may equal `stdoutURL`. `nil`: that
    ///     folder's `stderr.log`.
    /// - Throws: ``FixtureError`` when the logs cannot be created or the process cannot start.
    package init(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: URL? = nil,
        stdoutURL: URL? = nil,
        stderrURL: URL? = nil
    ) throws {
        self.executable = executable
        self.arguments = arguments
        var ownedFolder: URL?
        if stdoutURL == nil || stderrURL == nil {
            ownedFolder = try makeTemporaryDirectory(prefix: "regionbridge-\(executable.lastPathComponent)")
        }
        self.ownedFolder = ownedFolder
        let stdoutURL = stdoutURL ?? ownedFolder!.appendingPathComponent("stdout.log")
        let stderrURL = stderrURL ?? ownedFolder!.appendingPathComponent("stderr.log")
        self.stdoutURL = stdoutURL
        self.stderrURL = stderrURL

        do {
            child = try ChildProcess.spawn(
                executable, arguments, environment: environment, currentDirectory: currentDirectory,
                stdoutPath: stdoutURL.path, stderrPath: stderrURL.path)
        } catch {
            if let ownedFolder { try? FileManager.default.removeItem(at: ownedFolder) }
            throw error
        }
        pid = child.pid
        registryToken = FixtureRegistry.registerProcess(pid: pid, signal: SIGKILL, marker: executable.path)
    }

    deinit {
        if child.poll() == nil {
            child.send(SIGKILL)
            _ = child.wait(timeout: .seconds(10))
        }
        FixtureRegistry.unregisterProcess(registryToken)
        if let ownedFolder { try? FileManager.default.removeItem(at: ownedFolder) }
    }

    /// True until the process has exited (a stopped process is running).
    package var isRunning: Bool {
        child.poll() == nil
    }

    /// Sends `signal` (SIGKILL by default) to the process; does nothing once it has exited.
    package func kill(signal: Int32 = SIGKILL) {
        child.send(signal)
    }

    /// Waits up to `timeout` for the process to exit.
    ///
    /// - Returns: The exit status (128 + signal number when a signal ended it), or `nil` when
    ///   it is still running after `timeout`.
    package func waitForExit(timeout: Duration) -> Int32? {
        guard let code = child.wait(timeout: timeout) else { return nil }
        FixtureRegistry.unregisterProcess(registryToken)
        return code
    }

    /// Asks the process to stop with SIGTERM (then SIGCONT, so a stopped process acts on it), and
    /// kills it with SIGKILL when it has not exited after `gracePeriod`.
    ///
    /// - Returns: The exit status, as ``waitForExit(timeout:)`` reports it.
    @discardableResult
    package func stop(gracePeriod: Duration = .seconds(5)) -> Int32? {
        kill(signal: SIGTERM)
        kill(signal: SIGCONT)
        if let code = waitForExit(timeout: gracePeriod) { return code }
        kill(signal: SIGKILL)
        kill(signal: SIGCONT)
        return waitForExit(timeout: .seconds(10))
    }

    /// Everything written to standard output so far.
    package var stdoutText: String {
        String(decoding: FileManager.default.contents(atPath: stdoutURL.path) ?? Data(), as: UTF8.self)
    }

    /// Everything written to standard error so far.
    package var stderrText: String {
        String(decoding: FileManager.default.contents(atPath: stderrURL.path) ?? Data(), as: UTF8.self)
    }
}
