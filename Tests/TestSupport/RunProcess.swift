import Dispatch
import Foundation
import Glibc

/// What a finished process printed and how it ended.
public struct ProcessResult: Sendable, Equatable {
    /// The exit status, or 128 + the signal number when a signal ended the process (as a
    /// shell reports it).
    public var exitCode: Int32
    /// Everything written to standard output, decoded as UTF-8.
    public var stdout: String
    /// Everything written to standard error, decoded as UTF-8.
    public var stderr: String

    /// Creates a result.
    public init(exitCode: Int32, stdout: String, stderr: String) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs `executable` with `arguments` to completion and returns its exit code and output.
///
/// Standard output and error go to temporary files rather than pipes, so neither a large
/// output nor a daemon the process leaves behind holding the pipe open can block the caller.
/// Standard input is `/dev/null`. Blocks the calling thread.
///
/// - Parameters:
///   - environment: The whole environment of the process; `nil` inherits this process's.
///   - currentDirectory: The working directory; `nil` inherits this process's.
///   - timeout: When the process runs longer, it is killed with SIGKILL and this throws.
/// - Throws: ``FixtureError`` when the process cannot start or times out (with the output so far).
public func runProcess(
    _ executable: URL,
    _ arguments: [String],
    environment: [String: String]? = nil,
    currentDirectory: URL? = nil,
    timeout: Duration = .seconds(120)
) throws -> ProcessResult {
    let folder = try makeTemporaryDirectory(prefix: "regionbridge-run")
    defer { try? FileManager.default.removeItem(at: folder) }
    let stdoutURL = folder.appendingPathComponent("stdout")
    let stderrURL = folder.appendingPathComponent("stderr")
    let stdoutHandle = try openLogForAppending(stdoutURL)
    let stderrHandle = try openLogForAppending(stderrURL)

    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = stdoutHandle
    process.standardError = stderrHandle
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    do {
        try process.run()
    } catch {
        try? stdoutHandle.close()
        try? stderrHandle.close()
        throw FixtureError("cannot start \(executable.path): \(error)")
    }
    try? stdoutHandle.close()
    try? stderrHandle.close()
    let token = FixtureRegistry.registerProcess(pid: process.processIdentifier, signal: SIGKILL, marker: executable.path)
    defer { FixtureRegistry.unregisterProcess(token) }

    func output(_ url: URL) -> String {
        String(decoding: FileManager.default.contents(atPath: url.path) ?? Data(), as: UTF8.self)
    }
    if exited.wait(timeout: .now() + timeout.timeInterval) == .timedOut {
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw FixtureError("""
            \(executable.lastPathComponent) \(arguments.joined(separator: " ")) timed out after \(timeout) and was killed
            stdout: \(output(stdoutURL))
            stderr: \(output(stderrURL))
            """)
    }
    process.waitUntilExit()
    return ProcessResult(
        exitCode: shellExitCode(process),
        stdout: output(stdoutURL),
        stderr: output(stderrURL))
}

/// The exit status of a finished process, or 128 + signal when a signal ended it.
func shellExitCode(_ process: Process) -> Int32 {
    process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
}

/// Opens (creating if needed) `url` for writing at its end.
func openLogForAppending(_ url: URL) throws -> FileHandle {
    if !FileManager.default.fileExists(atPath: url.path) {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw FixtureError("cannot create \(url.path)")
        }
    }
    do {
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        return handle
    } catch {
        throw FixtureError("cannot open \(url.path) for writing: \(error)")
    }
}
