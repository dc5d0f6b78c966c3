import Foundation
import Glibc

/// What a finished process printed and how it ended.
package struct ProcessResult: Sendable, Equatable {
    /// The exit status, or 128 + the signal number when a signal ended the process (as a
    /// shell reports it).
    package var exitCode: Int32
    /// Everything written to standard output, decoded as UTF-8.
    package var stdout: String
    /// Everything written to standard error, decoded as UTF-8.
    package var stderr: String

    /// Creates a result.
    package init(exitCode: Int32, stdout: String, stderr: String) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs `executable` with `arguments` to completion and returns its exit code and output.
///
/// Standard output and error go to temporary files rather than pipes, so neither a large
/// output nor a daemon the process leaves behind holding a pipe open can block the caller.
/// Standard input is `/dev/null`; descriptors above 2 are not inherited. Blocks the calling
/// thread.
///
/// - Parameters:
///   - environment: The whole environment of the process; `nil` inherits this process's.
///   - currentDirectory: The working directory; `nil` inherits this process's.
///   - timeout: When the process runs longer, it is killed with SIGKILL and this throws.
/// - Throws: ``FixtureError`` when the process cannot start or times out (with the output so far).
package func runProcess(
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
    let child = try ChildProcess.spawn(
        executable, arguments, environment: environment, currentDirectory: currentDirectory,
        stdoutPath: stdoutURL.path, stderrPath: stderrURL.path)
    let token = FixtureRegistry.registerProcess(pid: child.pid, signal: SIGKILL, marker: executable.path)
    defer { FixtureRegistry.unregisterProcess(token) }

    func output(_ url: URL) -> String {
        String(decoding: FileManager.default.contents(atPath: url.path) ?? Data(), as: UTF8.self)
    }
    guard let exitCode = child.wait(timeout: timeout) else {
        child.send(SIGKILL)
        _ = child.wait(timeout: .seconds(10))
        throw FixtureError("""
            \(executable.lastPathComponent) \(arguments.joined(separator: " ")) timed out after \(timeout) and was killed
            stdout: \(output(stdoutURL))
            stderr: \(output(stderrURL))
            """)
    }
    return ProcessResult(exitCode: exitCode, stdout: output(stdoutURL), stderr: output(stderrURL))
}
