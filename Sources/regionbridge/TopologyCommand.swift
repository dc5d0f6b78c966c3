import ArgumentParser
import Replication
import Topology

struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology", abstract: "Works with topology files.", subcommands: [Validate.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Checks a topology file: exit 0 when it is good, 2 with every problem's line and key when not.")

        @Argument(help: "The topology file.")
        var file: String

        func run() throws {
            let topology: Topology
            do {
                topology = try TopologyLoader.load(file: file)
            } catch {
                throw CommandFailure(exitCode: ExitCode.usage, message: "\(error)")
            }
            print("\(file): ok: pair \(topology.pair), \(topology.source.region) -> \(topology.target.region), \(topology.topics.include.count) include pattern(s), rename \(topology.topics.rename.rawValue)")
        }
    }
}
