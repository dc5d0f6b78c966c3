import ArgumentParser
import Replication
import Foundation
import Logging
import Topology

/// Options every command that reads a topology shares.
struct TopologyOptions: ParsableArguments {
    @Option(name: .long, help: "The region-pair topology file (YAML).")
    var topology: String

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    /// Loads the topology, turning every problem into exit code 2 with file, line and key. Its secrets' values are
    /// scrubbed from every log line and error message from then on (``OutputScrubber``).
    func load() throws(CommandFailure) -> Topology {
        do {
            let loaded = try TopologyLoader.load(file: topology)
            OutputScrubber.register(loaded)
            return loaded
        } catch {
            throw CommandFailure(exitCode: ExitCode.usage, message: "invalid topology:\n\(error)")
        }
    }

    /// Sends logs to stderr (stdout is for command output), with the topology's secrets scrubbed.
    func bootstrapLogging() -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = ScrubbingLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        return Logger(label: "regionbridge")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Parses durations such as `500ms`, `30s`, `2m`.
struct DurationArgument: ExpressibleByArgument {
    var duration: Duration

    init?(argument: String) {
        guard let duration = parseDuration(argument) else { return nil }
        self.duration = duration
    }
}
