/// READY or NOT READY, from the checks alone: the pair is ready when no check failed.
package struct DrillVerdict: Sendable, Equatable {
    /// True when no check failed.
    package var ready: Bool
    /// The failed checks, in report order: every reason the pair is not ready.
    package var causes: [DrillCheck]
    /// Checks that pass with something to know.
    package var warnings: [DrillCheck]
    /// How many checks ran (skipped ones included).
    package var checkCount: Int

    /// Judges the checks.
    package init(_ checks: [DrillCheck]) {
        causes = checks.filter { $0.status == .fail }
        warnings = checks.filter { $0.status == .warn }
        ready = causes.isEmpty
        checkCount = checks.count
    }

    /// Process exit code of `regionbridge drill`: 0 READY, 8 NOT READY.
    package var exitCode: Int32 { ready ? 0 : Self.notReadyExitCode }

    /// The exit code for NOT READY.
    package static let notReadyExitCode: Int32 = 8

    /// `READY` or `NOT READY`.
    package var label: String { ready ? "READY" : "NOT READY" }

    /// One line: `READY: ...` or `NOT READY: n of m checks failed: ...` naming the first causes.
    package func line(pair: String, targetRegion: String) -> String {
        if ready {
            let noted = warnings.isEmpty ? "" : " (\(warnings.count) warning\(warnings.count == 1 ? "" : "s"))"
            return "READY: pair \(pair) could fail over to \(targetRegion) now; all \(checkCount) checks pass or do not apply\(noted)"
        }
        let named = causes.prefix(3).map { "\($0.subject): \($0.cause ?? $0.figure)" }.joined(separator: "; ")
        let more = causes.count > 3 ? "; and \(causes.count - 3) more" : ""
        return "NOT READY: \(causes.count) of \(checkCount) checks failed for pair \(pair): \(named)\(more)"
    }
}
