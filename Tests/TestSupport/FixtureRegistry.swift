import Foundation
import Glibc
import Synchronization

/// Process-wide record of every process and temporary directory the fixtures created, so that
/// whatever a test leaks (a fixture held by an `XCTestCase` property is never deinitialised,
/// for instance) is killed and removed when the test process exits.
///
/// An `atexit` handler, installed on first use, signals the survivors and removes the
/// directories. It cannot run when the test process itself is killed or crashes.
enum FixtureRegistry {
    /// A process to signal at exit.
    struct ProcessEntry: Sendable {
        /// The process id.
        let pid: pid_t
        /// The signal that ends it: SIGKILL for our own children, SIGQUIT for a postmaster
        /// (immediate shutdown, which also ends its backends).
        let signal: Int32
        /// Text that must appear in `/proc/<pid>/cmdline`, so a recycled pid is never signalled.
        let marker: String
    }

    private struct State: Sendable {
        var nextToken: UInt64 = 1
        var processes: [UInt64: ProcessEntry] = [:]
        var directories: [UInt64: String] = [:]
    }

    private static let state = Mutex(State())

    /// Installs the exit handler exactly once (Swift runs a static initialiser once).
    private static let exitHandlerInstalled: Bool = {
        atexit { FixtureRegistry.cleanUpAtExit() }
        return true
    }()

    /// Records a running process; returns a token for ``unregisterProcess(_:)``.
    static func registerProcess(pid: pid_t, signal: Int32, marker: String) -> UInt64 {
        _ = exitHandlerInstalled
        return state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.processes[token] = ProcessEntry(pid: pid, signal: signal, marker: marker)
            return token
        }
    }

    /// Forgets a process once it is known to have exited.
    static func unregisterProcess(_ token: UInt64) {
        state.withLock { _ = $0.processes.removeValue(forKey: token) }
    }

    /// Records a directory to remove at exit; returns a token for ``unregisterDirectory(_:)``.
    static func registerDirectory(_ url: URL) -> UInt64 {
        _ = exitHandlerInstalled
        return state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.directories[token] = url.path
            return token
        }
    }

    /// Forgets a directory its owner has removed.
    static func unregisterDirectory(_ token: UInt64) {
        state.withLock { _ = $0.directories.removeValue(forKey: token) }
    }

    /// True when `pid` is alive and its command line contains `marker`.
    static func isAlive(pid: pid_t, marker: String) -> Bool {
        guard pid > 0, Glibc.kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let commandLine = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return commandLine.contains(marker)
    }

    /// Signals surviving processes, waits briefly for them, then removes the directories.
    private static func cleanUpAtExit() {
        let (processes, directories) = state.withLock { state in
            let taken = (Array(state.processes.values), Array(state.directories.values))
            state.processes.removeAll()
            state.directories.removeAll()
            return taken
        }
        var signalled: [ProcessEntry] = []
        for entry in processes where isAlive(pid: entry.pid, marker: entry.marker) {
            _ = Glibc.kill(entry.pid, entry.signal)
            _ = Glibc.kill(entry.pid, SIGCONT)  // a frozen process must run to act on SIGQUIT
            signalled.append(entry)
        }
        // Up to 3 s for them to go, so their files can be removed.
        for _ in 0..<300 where signalled.contains(where: { isAlive(pid: $0.pid, marker: $0.marker) }) {
            usleep(10_000)
        }
        for path in directories {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
