import ArgumentParser
import Foundation
import Kafka
import Logging

/// `mockcluster`: runs librdkafka mock clusters for the benchmark, each with its own round-trip time.
///
/// Prints one line per cluster on stdout, its bootstrap servers, in the order of the `--cluster` options,
/// then runs until SIGTERM (or, with `--until-stdin-eof`, until its standard input closes).
@main
struct MockClusterHost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mockcluster",
        abstract: "Starts librdkafka mock clusters with a round-trip time on every broker and prints their bootstrap servers.",
        discussion: """
            SPEC is BROKERS/RTT_MS/TOPIC:PARTITIONS[,TOPIC:PARTITIONS...], e.g. 3/80/us-east.bench:3 starts \
            3 brokers that each delay every response by 80 ms, with topic us-east.bench of 3 partitions. \
            The mock has no CreateTopics: create every topic a client will use here.
            """)

    @Option(name: .customLong("cluster"), help: ArgumentHelp("One cluster (repeatable).", valueName: "SPEC"))
    var clusters: [String] = []

    @Flag(help: "Exit when standard input reaches end of file (default: run until SIGTERM).")
    var untilStdinEof = false

    func validate() throws {
        guard !clusters.isEmpty else { throw ValidationError("give at least one --cluster") }
        for spec in clusters { _ = try Spec(spec) }
    }

    func run() throws {
        let logger = Logger(label: "mockcluster")
        var running: [KafkaMockCluster] = []
        for text in clusters {
            let spec = try Spec(text)
            let cluster = try KafkaMockCluster(brokers: spec.brokers, logger: logger)
            for (topic, partitions) in spec.topics {
                try cluster.createTopic(topic, partitions: partitions)
            }
            for broker in 1...spec.brokers {
                try cluster.setRoundTrip(broker: Int32(broker), milliseconds: spec.roundTripMilliseconds)
            }
            running.append(cluster)
            FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        }
        if untilStdinEof {
            while readLine(strippingNewline: false) != nil {}
        } else {
            while true { Thread.sleep(forTimeInterval: 3600) }
        }
        withExtendedLifetime(running) {}
    }
}

/// A parsed `--cluster` value.
struct Spec {
    var brokers: Int
    var roundTripMilliseconds: Int
    var topics: [(String, Int)]

    init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let brokers = Int(parts[0]), brokers > 0, let rtt = Int(parts[1]), rtt >= 0 else {
            throw ValidationError("--cluster \(text): expected BROKERS/RTT_MS/TOPIC:PARTITIONS[,...]")
        }
        var topics: [(String, Int)] = []
        for entry in parts[2].split(separator: ",") {
            let pair = entry.split(separator: ":")
            guard pair.count == 2, !pair[0].isEmpty, let count = Int(pair[1]), count > 0 else {
                throw ValidationError("--cluster \(text): topic \(entry) is not TOPIC:PARTITIONS")
            }
            topics.append((String(pair[0]), count))
        }
        self.brokers = brokers
        self.roundTripMilliseconds = rtt
        self.topics = topics
    }
}
