import Foundation
import Glibc

/// A throwaway Prometheus server (Debian's `prometheus`) on a free loopback port, with its own configuration
/// and storage in a temporary folder: it scrapes `targets` every `interval` and evaluates `rulesFile` as often.
/// Stopped (SIGTERM, then SIGKILL) and its folder removed in `deinit`, or by ``stop()``.
package final class PrometheusServer: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable; BackgroundProcess is Sendable.
    /// The HTTP port on 127.0.0.1.
    package let port: Int
    /// The server's combined log.
    package let logURL: URL
    private let folder: URL
    private let folderToken: UInt64
    private let process: BackgroundProcess

    /// Writes the configuration and starts the server, waiting (up to 20 s) until it is ready.
    /// - Parameters:
    ///   - rulesFile: a plain Prometheus rules file (`groups:`), copied into the server's folder.
    ///   - targets: `host:port` of each `/metrics` endpoint to scrape.
    ///   - interval: scrape and rule-evaluation interval.
    /// - Throws: ``FixtureError`` when prometheus is missing or does not become ready; the message has its log.
    package init(rulesFile: URL, targets: [String], interval: Duration = .seconds(1)) throws {
        let executable = try RepoPaths.prometheus
        folder = try makeTemporaryDirectory(prefix: "regionbridge-prometheus")
        folderToken = FixtureRegistry.registerDirectory(folder)
        logURL = folder.appendingPathComponent("prometheus.log")
        let rules = folder.appendingPathComponent("rules.yaml")
        try FileManager.default.copyItem(at: rulesFile, to: rules)
        let seconds = "\(Int(interval.timeInterval * 1000))ms"
        let config = """
            global:
              scrape_interval: \(seconds)
              scrape_timeout: \(seconds)
              evaluation_interval: \(seconds)
            rule_files: ["\(rules.path)"]
            scrape_configs:
              - job_name: regionbridge
                static_configs:
                  - targets: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))]

            """
        let configURL = folder.appendingPathComponent("prometheus.yml")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        var attempt = 0
        while true {
            attempt += 1
            let candidate = try freeLoopbackPort()
            let started = try BackgroundProcess(executable, [
                "--config.file=\(configURL.path)", "--storage.tsdb.path=\(folder.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(candidate)", "--log.level=warn",
            ], stdoutURL: logURL, stderrURL: logURL)
            let deadline = ContinuousClock.now + .seconds(20)
            var ready = false
            while started.isRunning, ContinuousClock.now < deadline {
                if (try? httpGet("http://127.0.0.1:\(candidate)/-/ready", timeout: .seconds(1)))?.status == 200 {
                    ready = true
                    break
                }
                usleep(100_000)
            }
            if ready {
                port = candidate
                process = started
                return
            }
            started.stop(gracePeriod: .seconds(2))
            if attempt >= 3 {
                let log = TestSupport.logTail(logURL)
                try? FileManager.default.removeItem(at: folder)
                FixtureRegistry.unregisterDirectory(folderToken)
                throw FixtureError("prometheus did not become ready on 127.0.0.1:\(candidate); its log ends:\n\(log)")
            }
        }
    }

    deinit {
        process.stop(gracePeriod: .seconds(5))
        try? FileManager.default.removeItem(at: folder)
        FixtureRegistry.unregisterDirectory(folderToken)
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s).
    package func stop() { process.stop(gracePeriod: .seconds(5)) }

    /// The alerts Prometheus holds now (`/api/v1/alerts`): each one's labels and state (`pending` or `firing`).
    /// Resolved alerts are not listed.
    package func alerts() throws -> [(labels: [String: String], state: String)] {
        let (status, body) = try httpGet("http://127.0.0.1:\(port)/api/v1/alerts")
        guard status == 200,
              let document = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let data = document["data"] as? [String: Any], let alerts = data["alerts"] as? [[String: Any]]
        else { throw FixtureError("prometheus /api/v1/alerts answered \(status): \(body)") }
        return alerts.map { alert in
            ((alert["labels"] as? [String: String]) ?? [:], alert["state"] as? String ?? "?")
        }
    }

    /// The value of an instant query's first sample, nil when the query returns nothing.
    package func query(_ expression: String) throws -> Double? {
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
        let (status, body) = try httpGet("http://127.0.0.1:\(port)/api/v1/query?query=\(encoded)")
        guard status == 200,
              let document = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let data = document["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
        else { throw FixtureError("prometheus query \(expression) answered \(status): \(body)") }
        guard let value = result.first?["value"] as? [Any], value.count == 2, let text = value[1] as? String else { return nil }
        return Double(text)
    }

    /// The last lines of the server's log.
    package func logTail(lines: Int = 30) -> String { TestSupport.logTail(logURL, lines: lines) }
}
