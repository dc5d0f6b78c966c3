import Foundation
import Glibc
import Synchronization

/// A child process started with `posix_spawn` and reaped with `waitpid` by this object alone.
///
/// Used instead of Foundation's `Process`, whose Linux implementation notices a child's exit
/// only when every holder of an inherited descriptor has closed it, so a tool that leaves a
/// daemon behind (`pg_ctl start`) never appears to finish. Here the child gets only
/// descriptors 0–2 (everything from 3 up is closed), and exit is observed with `waitpid`.
///
/// Because only this object reaps the pid, and signals are sent under the same lock that
/// records the reaping, a signal never reaches a recycled pid.
final class ChildProcess: Sendable {
    /// The process id.
    let pid: pid_t
    /// The shell-style exit code once reaped; guarded by the mutex.
    private let exitCode = Mutex<Int32?>(nil)

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Starts `executable` with standard input from /dev/null and standard output and error
    /// appended to the given files (created if needed; the same path may be given twice).
    static func spawn(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String]?,
        currentDirectory: URL?,
        stdoutPath: String,
        stderrPath: String
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let outputFlags = O_WRONLY | O_CREAT | O_APPEND
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, outputFlags, 0o644)
        if stderrPath == stdoutPath {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, outputFlags, 0o644)
        }
        guard let closeFrom = GlibcSpawnExtensions.addCloseFrom, let changeDirectory = GlibcSpawnExtensions.addChangeDirectory
        else {
            throw FixtureError("glibc lacks posix_spawn_file_actions_addclosefrom_np/addchdir_np (needs glibc 2.34)")
        }
        guard closeFrom(&actions, 3) == 0 else { throw FixtureError("posix_spawn_file_actions_addclosefrom_np failed") }
        if let currentDirectory {
            guard changeDirectory(&actions, currentDirectory.path) == 0 else {
                throw FixtureError("posix_spawn_file_actions_addchdir_np failed")
            }
        }

        // Default signal dispositions (the Swift runtime ignores SIGPIPE) and an empty mask.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { variables in
            variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { envp?.forEach { free($0) } }

        var pid: pid_t = 0
        let result: Int32
        if let envp {
            result = posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp)
        } else {
            result = posix_spawn(&pid, executable.path, &actions, &attributes, argv, environ)
        }
        guard result == 0 else {
            throw FixtureError("cannot start \(executable.path): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid)
    }

    /// The exit code (128 + signal when a signal ended it) if the process has exited, reaping
    /// it; `nil` while it runs.
    func poll() -> Int32? {
        exitCode.withLock { code in
            if let code { return code }
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                let signal = status & 0x7F
                code = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
            } else if reaped < 0 && errno == ECHILD {
                code = -1  // reaped elsewhere; the status is unknown
            }
            return code
        }
    }

    /// Waits up to `timeout` for the process to exit; returns its exit code or `nil`.
    func wait(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let code = poll() { return code }
            guard ContinuousClock.now < deadline else { return nil }
            usleep(2_000)
        }
    }

    /// Sends `signal` unless the process has already been reaped.
    func send(_ signal: Int32) {
        exitCode.withLock { code in
            if code == nil { _ = Glibc.kill(pid, signal) }
        }
    }
}

/// glibc's GNU extensions to posix_spawn, which Swift's Glibc module does not import (they need
/// `_GNU_SOURCE`), looked up at run time. Both exist since glibc 2.34 (Debian bookworm: 2.36).
private enum GlibcSpawnExtensions {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np`: close every descriptor from `n` up in the child.
    static let addCloseFrom: AddCloseFrom? = lookUp("posix_spawn_file_actions_addclosefrom_np")
    /// `posix_spawn_file_actions_addchdir_np`: change directory in the child.
    static let addChangeDirectory: AddChangeDirectory? = lookUp("posix_spawn_file_actions_addchdir_np")

    private static func lookUp<Function>(_ name: String) -> Function? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }
}
