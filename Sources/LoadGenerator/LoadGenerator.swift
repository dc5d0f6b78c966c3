import ArgumentParser
import Foundation
import Kafka
import Logging

/// `loadgen`: writes payment- and ledger-like records into a cluster, for the demo and the benchmark.
@main
struct LoadGenerator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Creates a topic if needed and writes JSON payment or ledger events to it, round-robin over its partitions.")

    @Option(help: "Bootstrap servers of the cluster.")
    var bootstrap: String

    @Option(help: "Topic to write.")
    var topic: String

    @Option(help: "Partitions of the topic when it has to be created.")
    var partitions = 3

    @Option(help: "Records to write.")
    var records = 10_000

    @Option(help: "Approximate size of each value in bytes (the JSON is padded up to it).")
    var size = 200

    @Option(help: "Event kind: payment or ledger.")
    var kind = "payment"

    @Option(help: "First event number (so that repeated runs write new ids).")
    var first = 1

    @Option(help: "Records per second (0: as fast as possible).")
    var rate = 0

    @Option(help: "Confirm each record with the bridge's GET /v1/replicated at this http://HOST:PORT after its produce acknowledgement, and report the wait.")
    var confirm: String?

    @Option(help: "The timeout parameter of each confirmation, e.g. 10s.")
    var confirmTimeout = "10s"

    @Option(help: "Confirmations in flight at most.")
    var confirmConcurrency = 256

    @Flag(help: "Print one line per confirmation.")
    var printConfirmations = false

    func run() throws {
        let logger = Logger(label: "loadgen")
        let config = KafkaClientConfiguration(bootstrapServers: bootstrap, clientID: "regionbridge-loadgen")
        let admin = try KafkaAdmin(configuration: config, logger: logger)
        if try !admin.topics(timeout: .seconds(10)).contains(where: { $0.name == topic }) {
            let errors = try admin.createTopics([NewTopic(name: topic, partitions: partitions)], timeout: .seconds(10))
            if let error = errors[topic], error.code != .topicAlreadyExists { throw error }
        }
        var count = 0
        for _ in 0..<100 {
            count = try admin.topics(timeout: .seconds(10)).first { $0.name == topic }?.partitions.count ?? 0
            if count > 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard count > 0 else { throw ValidationError("topic \(topic) has no partitions") }

        let producer = try KafkaProducer(configuration: config, logger: logger)
        let deliveries = Deliveries(producer: producer, logger: logger)
        if let confirm {
            guard let confirmer = ReplicatedConfirmer(
                url: confirm, timeout: confirmTimeout, concurrency: confirmConcurrency, printEach: printConfirmations)
            else { throw ValidationError("--confirm \(confirm): expected http://HOST:PORT") }
            deliveries.confirmer = confirmer
            deliveries.topic = topic
            deliveries.kind = kind
        }
        let start = Date()
        for index in 0..<records {
            let number = first + index
            let value = Array(event(number).utf8)
            let key = Array("\(kind)-\(String(format: "%09d", number))".utf8)
            while true {
                do {
                    try producer.send(
                        topic: topic, partition: Int32(index % count), key: key, value: value,
                        headers: [KafkaHeader(name: "event-type", value: Array(kind.utf8))],
                        timestamp: Int64(Date().timeIntervalSince1970 * 1000), id: UInt64(number))
                    deliveries.pending += 1
                    break
                } catch {
                    guard error.code == .queueFull else { throw error }
                    deliveries.collect(.milliseconds(10))
                }
            }
            if rate > 0 {
                let due = start.addingTimeInterval(Double(index + 1) / Double(rate))
                let wait = due.timeIntervalSinceNow
                if wait > 0 { deliveries.collect(.milliseconds(Int(wait * 1000))) }
            }
            if index % 1000 == 0 { deliveries.collect(.zero) }
        }
        while deliveries.pending > 0 { deliveries.collect(.milliseconds(100)) }
        guard deliveries.failures == 0 else { throw ValidationError("\(deliveries.failures) records were not written") }
        let seconds = Date().timeIntervalSince(start)
        if let confirmer = deliveries.confirmer {
            let confirmations = confirmer.finish()
            print("confirmed with /v1/replicated: \(ReplicatedConfirmer.summary(confirmations))")
            let refused = confirmations.filter { $0.status != 200 }.count
            if refused > 0 { throw ValidationError("\(refused) records were not confirmed by /v1/replicated") }
        }
        print("wrote \(records) \(kind) records to \(topic) (\(count) partitions) in \(String(format: "%.2f", seconds)) s")
    }

    private func event(_ number: Int) -> String {
        let base: String
        if kind == "ledger" {
            base = #"{"entry_id":"led-\#(number)","account":"acct-\#(number % 97)","amount_minor":\#(number % 10_000),"direction":"\#(number % 2 == 0 ? "debit" : "credit")","pad":""#
        } else {
            base = #"{"event_id":"pay-\#(String(format: "%09d", number))","amount":"\#(number % 10_000).\#(String(format: "%02d", number % 100))","currency":"\#(["USD", "EUR", "GBP"][number % 3])","pad":""#
        }
        let padding = max(0, size - base.utf8.count - 2)
        return base + String(repeating: "x", count: padding) + "\"}"
    }
}

/// Counts records in flight and failed writes.
private final class Deliveries {
    let producer: KafkaProducer
    let logger: Logger
    var pending = 0
    var failures = 0
    /// With `--confirm`: asks `/v1/replicated` about each acknowledged record.
    var confirmer: ReplicatedConfirmer?
    var topic = ""
    var kind = ""

    init(producer: KafkaProducer, logger: Logger) {
        self.producer = producer
        self.logger = logger
    }

    func collect(_ timeout: Duration) {
        for report in producer.poll(timeout: timeout).deliveries {
            pending -= 1
            if let error = report.error {
                failures += 1
                logger.error("record \(report.id) not written: \(error)")
            } else if let confirmer {
                confirmer.confirm(
                    topic: topic, partition: report.partition, offset: report.offset, key: "\(kind)-\(String(format: "%09d", Int(report.id)))", acknowledgedAt: ContinuousClock.now)
            }
        }
    }
}
