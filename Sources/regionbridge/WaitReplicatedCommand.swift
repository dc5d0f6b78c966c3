import ArgumentParser
import Foundation
import Kafka
import Replication
import Topology

/// `regionbridge wait-replicated`: whether a source record is in the target yet, from the two clusters alone.
struct WaitReplicatedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-replicated",
        abstract: "Waits until a source record is in the target cluster, reading the target's tail (no bridge needed).",
        discussion: """
            Reads the newest regionbridge.source offset of the source partition in its target partition (committed \
            records only), again every 200 ms, until it is at or after --offset. \
            Exit codes: 0 the record is in the target; 3 it is not by --timeout; 1 a cluster could not be read; \
            2 usage or configuration error, or a topic or partition the pair does not replicate.
            """)

    @OptionGroup var options: TopologyOptions

    @Option(help: "The source topic.")
    var topic: String

    @Option(help: "The source partition.")
    var partition: Int32

    @Option(help: "The source offset of the record.")
    var offset: Int64

    @Option(help: "How long to wait, e.g. 5s (0s: look once).")
    var timeout: DurationArgument = DurationArgument(argument: "5s")!

    @Option(help: "Timeout of one metadata request or partition read, e.g. 10s.")
    var requestTimeout: DurationArgument = DurationArgument(argument: "10s")!

    func validate() throws {
        guard partition >= 0 else { throw ValidationError("--partition must be 0 or more") }
        guard offset >= 0 else { throw ValidationError("--offset must be 0 or more") }
    }

    func run() throws {
        let topology = try options.load()
        let logger = options.bootstrapLogging()
        let start = ContinuousClock.now
        let deadline = start + timeout.duration
        let check: ReplicatedCheck
        do { check = try ReplicatedCheck(clients: ClusterClients(topology: topology, logger: logger), timeout: requestTimeout.duration) } catch {
            throw CommandFailure(exitCode: error.exitCode, message: error.message)
        }
        let source = TopicPartition(topic, partition)
        let target: TopicPartition
        switch check.target(of: source) {
        case .success(let found): target = found
        case .failure(.unknown(let why)): throw CommandFailure(exitCode: .usage, message: why)
        case .failure(.unavailable(let why)): throw CommandFailure(exitCode: .runtime, message: why)
        case .failure(.refused(let why)): throw CommandFailure(exitCode: .usage, message: why)
        }
        var last: Int64?
        var unavailable: String?
        while true {
            switch check.lastCopied(source, in: target) {
            case .success(let found):
                last = found
                unavailable = nil
            case .failure(.refused(let why)):
                throw CommandFailure(exitCode: .usage, message: why)
            case .failure(let problem):
                if case .unavailable(let why) = problem { unavailable = why }
            }
            if let last, last >= offset {
                print("replicated: \(source)@\(offset) is in target \(target) (newest copied source offset \(last)), after \(Self.milliseconds(ContinuousClock.now - start)) ms")
                return
            }
            if ContinuousClock.now >= deadline { break }
            Thread.sleep(forTimeInterval: min(0.2, max(0, (deadline - ContinuousClock.now).seconds)))
        }
        let held = last.map { "the newest copied source offset there is \($0)" } ?? "it holds no record of that partition yet"
        let because = unavailable.map { "; the last read failed: \($0)" } ?? ""
        throw CommandFailure(exitCode: .rpoViolated, message: "not replicated: \(source)@\(offset) is not in target \(target) after \(timeout.duration): \(held)\(because)")
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
