import Foundation

/// Where the repository and the executables the integration tests need are.
package enum RepoPaths {
    /// The repository root: the nearest folder above this source file that holds
    /// `Package.swift`.
    package static var root: URL {
        findRoot()
    }

    /// The tansu broker binary: `$REGIONBRIDGE_TANSU` when set, else `<root>/.tools/bin/tansu`.
    ///
    /// - Throws: ``FixtureError`` when the file is missing or not executable.
    package static var tansu: URL {
        get throws(FixtureError) {
            let environment = ProcessInfo.processInfo.environment
            if let override = environment["REGIONBRIDGE_TANSU"], !override.isEmpty {
                return try requireExecutable(URL(fileURLWithPath: override), what: "tansu (REGIONBRIDGE_TANSU)")
            }
            return try requireExecutable(
                root.appendingPathComponent(".tools/bin/tansu"), what: "tansu")
        }
    }

    /// The built `regionbridge` executable: `$REGIONBRIDGE_BIN` when set, else the one next to
    /// the running test bundle (the build folder SwiftPM used), else `<root>/.build/debug/regionbridge`.
    ///
    /// - Throws: ``FixtureError`` when none of these exists.
    package static var regionbridge: URL {
        get throws(FixtureError) { try builtExecutable("regionbridge", override: "REGIONBRIDGE_BIN") }
    }

    /// The built `loadgen` executable, found like `regionbridge` (`$REGIONBRIDGE_LOADGEN` overrides).
    package static var loadgen: URL {
        get throws(FixtureError) { try builtExecutable("loadgen", override: "REGIONBRIDGE_LOADGEN") }
    }

    /// Debian's `prometheus` server (installed by scripts/setup.sh): `$REGIONBRIDGE_PROMETHEUS` when set, else
    /// the first `prometheus` on `PATH`.
    package static var prometheus: URL {
        get throws(FixtureError) { try onPath("prometheus", override: "REGIONBRIDGE_PROMETHEUS") }
    }

    /// Debian's `promtool` (from the same package): `$REGIONBRIDGE_PROMTOOL` when set, else the first on `PATH`.
    package static var promtool: URL {
        get throws(FixtureError) { try onPath("promtool", override: "REGIONBRIDGE_PROMTOOL") }
    }

    private static func onPath(_ name: String, override variable: String) throws(FixtureError) -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let override = environment[variable], !override.isEmpty {
            return try requireExecutable(URL(fileURLWithPath: override), what: "\(name) (\(variable))")
        }
        for folder in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin"] {
            let candidate = URL(fileURLWithPath: folder).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw FixtureError("\(name) not found on PATH: run scripts/setup.sh (it installs Debian's prometheus package)")
    }

    private static func builtExecutable(_ name: String, override variable: String) throws(FixtureError) -> URL {
        do {
            let environment = ProcessInfo.processInfo.environment
            if let override = environment[variable], !override.isEmpty {
                return try requireExecutable(URL(fileURLWithPath: override), what: "\(name) (\(variable))")
            }
            var folders = [Bundle.main.bundleURL]
            if let executable = Bundle.main.executableURL {
                folders.append(executable.deletingLastPathComponent())
            }
            folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
            for folder in folders {
                let candidate = folder.appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) {
                    return candidate
                }
            }
            return try requireExecutable(root.appendingPathComponent(".build/debug/\(name)"), what: name)
        }
    }

    /// Walks up from `file` to the folder that holds `Package.swift`.
    private static func findRoot(from file: String = #filePath) -> URL {
        var folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                return folder
            }
            folder.deleteLastPathComponent()
        }
        // This file lives at Tests/TestSupport/RepoPaths.swift.
        return URL(fileURLWithPath: file).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    private static func requireExecutable(_ url: URL, what: String) throws(FixtureError) -> URL {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw FixtureError("\(what) not found at \(url.path): run `make test` or scripts/setup.sh")
        }
        return url
    }
}
