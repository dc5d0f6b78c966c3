import ArgumentParser
import Foundation
import Replication

/// `regionbridge`: cross-region Kafka replication for disaster recovery.
@main
struct RegionBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regionbridge",
        abstract: "Copies Kafka topics from one region's cluster to another's, record for record, exactly once.",
        discussion: """
            Exit codes: \(ExitCode.allCases.map(\.description).joined(separator: ", ")); see the README.
            """,
        subcommands: [
            RunCommand.self, LagCommand.self, TranslateOffsetsCommand.self, FailoverCommand.self, FailbackCommand.self, ReconcileCommand.self,
            DrillCommand.self, WaitReplicatedCommand.self,
            TopologyCommand.self, VersionCommand.self,
        ])

    /// Parses and runs a command, mapping every failure to a documented exit code and a message on stderr.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("regionbridge: \(OutputScrubber.scrub(failure.message))\n".utf8))
            Foundation.exit(failure.exitCode.code)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((OutputScrubber.scrub(fullMessage(for: error)) + "\n").utf8))
            // Usage errors exit 2, as every other configuration error does.
            Foundation.exit(code == .validationFailure ? ExitCode.usage.code : code.rawValue)
        }
    }
}

/// The one list of exit codes (Replication's ``Replication/ExitCode``), preferred here over ArgumentParser's type
/// of the same name.
typealias ExitCode = Replication.ExitCode

/// A failure to report on stderr with a given exit code.
struct CommandFailure: Error {
    var exitCode: ExitCode
    var message: String
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Prints the versions of regionbridge and librdkafka.")

    func run() {
        print("regionbridge 0.1.0 (librdkafka \(KafkaVersion.runtime))")
    }
}
