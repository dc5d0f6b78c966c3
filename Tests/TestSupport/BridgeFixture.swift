import Foundation

/// A region pair for tests: a topology file naming two clusters, and ways to run the bridge binary on it.
package struct BridgeFixture: Sendable {
    /// The topology file.
    package let topologyURL: URL

    /// Writes a topology for `source` → `target`; `groups` is the YAML of the groups section, `extra` more
    /// top-level YAML lines (an `instances:` or `reconcile:` section, for example).
    package init(
        pair: String = "us-east-to-eu-west", sourceRegion: String = "us-east", source: String,
        targetRegion: String = "eu-west", target: String, include: [String], rename: String = "prefix",
        discoveryInterval: String = "1s", groups: String = "{include: [\".*\"], sync_interval: 1s}", extra: String = "",
        sourceProperties: String = "{}", targetProperties: String = "{}"
    ) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regionbridge-topology-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        topologyURL = folder.appendingPathComponent("\(pair).yaml")
        let patterns = include.map { "\"\($0.replacingOccurrences(of: "\\", with: "\\\\"))\"" }.joined(separator: ", ")
        let yaml = """
            pair: \(pair)
            source:
              region: \(sourceRegion)
              bootstrap_servers: "\(source)"
              properties: \(sourceProperties)
            target:
              region: \(targetRegion)
              bootstrap_servers: "\(target)"
              properties: \(targetProperties)
            topics:
              include: [\(patterns)]
              rename: \(rename)
              discovery_interval: \(discoveryInterval)
            groups: \(groups)
            \(extra)

            """
        try yaml.write(to: topologyURL, atomically: true, encoding: .utf8)
    }

    /// Runs `regionbridge run --until-caught-up` to completion.
    package func runUntilCaughtUp(_ extra: [String] = [], timeout: Duration = .seconds(180)) throws -> ProcessResult {
        try runProcess(
            RepoPaths.regionbridge,
            ["run", "--topology", topologyURL.path, "--until-caught-up", "--request-timeout", "10s"] + extra,
            timeout: timeout)
    }

    /// Starts `regionbridge run` in the background.
    package func start(_ extra: [String] = []) throws -> BackgroundProcess {
        try BackgroundProcess(RepoPaths.regionbridge, ["run", "--topology", topologyURL.path, "--request-timeout", "10s"] + extra)
    }
}
