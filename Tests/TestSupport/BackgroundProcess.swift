import Foundation
import Glibc

/// A process running in the background for a test, with standard output and error in log
/// files, for example the `regionbridge` binary that a test later kills with SIGKILL.
///
/// The process is killed (SIGKILL) when the object is deinitialised, and is registered so
/// that it is also killed when the test process exits. Standard input is `/dev/null`.
/// `@unchecked Sendable`: every stored property is immutable after `init`, and the
/// `Process` is only queried after launch (Foundation synchronises its exit status).
public final class BackgroundProcess: @unchecked Sendable {
    /// The executable that was started.
    public let executable: URL
    /// Its arguments.
    public let arguments: [String]
    /// The file that receives standard output.
    public let stdoutURL: URL
    /// The file that receives standard error (may be the same file as ``stdoutURL``).
    public let stderrURL: URL
    /// The process id.
    public let pid: Int32

    private let process: Process
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
    public init(
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

        let stdoutHandle = try openLogForAppending(stdoutURL)
        let stderrHandle = stderrURL == stdoutURL ? stdoutHandle : try openLogForAppending(stderrURL)
        defer {
            try? stdoutHandle.close()
            if stderrHandle !== stdoutHandle { try? stderrHandle.close() }
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        self.process = process
        do {
            try process.run()
        } catch {
            if let ownedFolder { try? FileManager.default.removeItem(at: ownedFolder) }
            throw FixtureError("cannot start \(executable.path): \(error)")
        }
        pid = process.processIdentifier
        registryToken = FixtureRegistry.registerProcess(pid: pid, signal: SIGKILL, marker: executable.path)
    }

    deinit {
        if process.isRunning {
            _ = Glibc.kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        FixtureRegistry.unregisterProcess(registryToken)
        if let ownedFolder { try? FileManager.default.removeItem(at: ownedFolder) }
    }

    /// True until the process has exited and been reaped.
    public var isRunning: Bool {
        process.isRunning
    }

    /// Sends `signal` (SIGKILL by default) to the process; does nothing once it has exited.
    public func kill(signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// Waits up to `timeout` for the process to exit.
    ///
    /// - Returns: The exit status (128 + signal number when a signal ended it), or `nil` when
    ///   it is still running after `timeout`.
    public func waitForExit(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            usleep(5_000)
        }
        process.waitUntilExit()
        FixtureRegistry.unregisterProcess(registryToken)
        return shellExitCode(process)
    }

    /// Asks the process to stop with SIGTERM (after SIGCONT, in case it is stopped), and
    /// kills it with SIGKILL when it has not exited after `gracePeriod`.
    ///
    /// - Returns: The exit status, as ``waitForExit(timeout:)`` reports it.
    @discardableResult
    public func stop(gracePeriod: Duration = .seconds(5)) -> Int32? {
        kill(signal: SIGTERM)
        kill(signal: SIGCONT)
        if let code = waitForExit(timeout: gracePeriod) { return code }
        kill(signal: SIGKILL)
        kill(signal: SIGCONT)
        return waitForExit(timeout: .seconds(10))
    }

    /// Everything written to standard output so far.
    public var stdoutText: String {
        String(decoding: FileManager.default.contents(atPath: stdoutURL.path) ?? Data(), as: UTF8.self)
    }

    /// Everything written to standard error so far.
    public var stderrText: String {
        String(decoding: FileManager.default.contents(atPath: stderrURL.path) ?? Data(), as: UTF8.self)
    }
}
