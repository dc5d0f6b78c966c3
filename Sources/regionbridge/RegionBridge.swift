import ArgumentParser
import Foundation

/// `regionbridge`: cross-region Kafka replication for disaster recovery.
@main
struct RegionBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regionbridge",
        abstract: "Copies Kafka topics from one region's cluster to another's, record for record, exactly once.",
        discussion: """
            Exit codes: 0 done; 1 runtime error (a cluster unreachable, ...); 2 usage or configuration error; 3 RPO=0 violated (reconcile); \
            4 refused (failover, failback); \
            5 source records were deleted before they were copied (see --accept-gap); 6 the target refused a record; 7 the target lost records it had; \
            8 NOT READY (drill: the pair could not fail over cleanly now; every cause is printed).
            """,
        subcommands: [
            RunCommand.self, LagCommand.self, TranslateOffsetsCommand.self, FailoverCommand.self, FailbackCommand.self, ReconcileCommand.self,
            DrillCommand.self,
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
            FileHandle.standardError.write(Data("regionbridge: \(failure.message)\n".utf8))
            Foundation.exit(failure.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            // Usage errors exit 2, as every other configuration error does.
            Foundation.exit(code == .validationFailure ? ExitCodes.usage : code.rawValue)
        }
    }
}

/// The process exit codes, documented in the README.
enum ExitCodes {
    static let runtime: Int32 = 1
    static let usage: Int32 = 2
    static let refused: Int32 = 4
    /// `drill`: the pair is NOT READY to fail over.
    static let notReady: Int32 = 8
}

/// A failure to report on stderr with a given exit code.
struct CommandFailure: Error {
    var exitCode: Int32
    var message: String
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Prints the versions of regionbridge and librdkafka.")

    func run() {
        print("regionbridge 0.1.0 (librdkafka \(KafkaVersion.runtime))")
    }
}
