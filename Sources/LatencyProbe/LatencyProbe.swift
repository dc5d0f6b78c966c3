import ArgumentParser
import Foundation
import Histogram
import Kafka
import Logging

/// `latencyprobe`: measures replication latency on a target topic, and checks a finished copy for exactly-once.
@main
struct LatencyProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latencyprobe",
        abstract: "Benchmark helper: replication latency on a target topic, and an exactly-once check of a copy.",
        subcommands: [Latency.self, Check.self, Progress.self],
        defaultSubcommand: Latency.self)
}

/// Milliseconds with two decimals, from microseconds.
private func ms(_ micros: UInt64) -> String { String(format: "%.2f", Double(micros) / 1000) }

private func partitions(of topic: String, bootstrap: String, logger: Logger, wait: Duration = .seconds(30)) throws -> [TopicPartition] {
    let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: bootstrap, clientID: "regionbridge-latencyprobe"), logger: logger)
    let deadline = ContinuousClock.now + wait
    while true {
        if let found = try admin.topics(timeout: .seconds(10)).first(where: { $0.name == topic }), !found.partitions.isEmpty {
            return found.partitions.map { TopicPartition(topic, $0) }
        }
        if ContinuousClock.now > deadline { throw ValidationError("topic \(topic) not found at \(bootstrap) within \(wait)") }
        Thread.sleep(forTimeInterval: 0.1)
    }
}

/// Records, per record read, the time from its timestamp (the source producer's CreateTime, kept by the bridge)
/// until this consumer holds it, and prints percentiles as JSON.
struct Latency: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consumes a topic from its end and prints percentiles of (now - record timestamp) as JSON.")

    @Option(help: "Bootstrap servers of the cluster to read (the bridge's target).")
    var bootstrap: String

    @Option(help: "Topic to read (the target topic).")
    var topic: String

    @Option(help: "Stop after this many records.")
    var records = 100_000

    @Option(help: "Stop after this many seconds in all.")
    var timeout = 120.0

    @Option(help: "Stop when no record arrived for this many seconds after the first one.")
    var idle = 5.0

    @Option(help: "Where to start: end (only new records) or beginning.")
    var from = "end"

    @Option(help: "fetch.wait.max.ms of the probe's consumer (how long the broker may hold an empty fetch).")
    var fetchWaitMs = 5

    @Option(help: ArgumentHelp("Also write each record's key and arrival time (microseconds since the epoch), one per line, to FILE.", valueName: "FILE"))
    var arrivals: String?

    func run() throws {
        let logger = Logger(label: "latencyprobe")
        let start: StartOffset
        switch from {
        case "end": start = .end
        case "beginning": start = .beginning
        default: throw ValidationError("--from must be end or beginning")
        }
        let assigned = try partitions(of: topic, bootstrap: bootstrap, logger: logger)
        let consumer = try KafkaConsumer(
            configuration: KafkaClientConfiguration(
                bootstrapServers: bootstrap,
                properties: ["fetch.wait.max.ms": String(fetchWaitMs), "fetch.error.backoff.ms": "10"],
                clientID: "regionbridge-latencyprobe"),
            groupID: "regionbridge-latencyprobe", logger: logger)
        defer { consumer.close() }
        try consumer.assign(assigned.map { ($0, start) })
        FileHandle.standardError.write(Data("latencyprobe: reading \(topic) (\(assigned.count) partitions) from the \(from)\n".utf8))

        var arrivalLines = ""
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var negative = 0
        var withoutTimestamp = 0
        var count = 0
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(timeout * 1000))
        var lastRecord: ContinuousClock.Instant?
        var stopReason = "records"
        while count < records {
            let now = clock.now
            if now > deadline { stopReason = "timeout"; break }
            if let lastRecord, now - lastRecord > .milliseconds(Int(idle * 1000)) { stopReason = "idle"; break }
            // One record per call: librdkafka's batch consume waits until the batch is full or the timeout
            // passes, which would add that wait to every latency measured.
            let batch = consumer.poll(maxRecords: 1, timeout: .milliseconds(100))
            if batch.records.isEmpty { continue }
            let nowMicros = Int64(Date().timeIntervalSince1970 * 1_000_000)
            lastRecord = clock.now
            for record in batch.records where count < records {
                count += 1
                if arrivals != nil, let key = record.key {
                    arrivalLines += "\(String(decoding: key, as: UTF8.self))\t\(nowMicros)\n"
                }
                guard let timestamp = record.timestamp else { withoutTimestamp += 1; continue }
                let latency = nowMicros - timestamp.milliseconds * 1000
                if latency < 0 { negative += 1 }
                _ = histogram.record(UInt64(max(0, latency)))
            }
            for error in batch.errors {
                FileHandle.standardError.write(Data("latencyprobe: \(error.error)\n".utf8))
            }
        }
        if let arrivals { try arrivalLines.write(toFile: arrivals, atomically: true, encoding: .utf8) }
        let measured = histogram.totalCount
        print("""
            {"topic":"\(topic)","count":\(count),"measured":\(measured),"stop":"\(stopReason)",\
            "p50_ms":\(ms(histogram.valueAtPercentile(50))),"p90_ms":\(ms(histogram.valueAtPercentile(90))),\
            "p99_ms":\(ms(histogram.valueAtPercentile(99))),"p999_ms":\(ms(histogram.valueAtPercentile(99.9))),\
            "max_ms":\(ms(histogram.max)),"mean_ms":\(String(format: "%.2f", histogram.mean / 1000)),\
            "negative":\(negative),"without_timestamp":\(withoutTimestamp),\
            "definition":"consume time at the probe minus the record's source CreateTime"}
            """)
    }
}

/// Reads a source topic and its copy completely and checks that each target partition holds exactly the
/// source partition's offsets, in order, by their `regionbridge.source` headers.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exactly-once check: each target partition's regionbridge.source offsets must equal the source partition's offsets.")

    @Option(help: "Bootstrap servers of the source cluster.")
    var source: String

    @Option(help: "Source topic.")
    var sourceTopic: String

    @Option(help: "Bootstrap servers of the target cluster.")
    var target: String

    @Option(help: "Target topic.")
    var targetTopic: String

    @Option(help: "Give up reading after this many seconds.")
    var timeout = 600.0

    @Option(help: "fetch.wait.max.ms of the readers (a tansu broker answers no fetch whose wait is shorter than its scan of a large partition).")
    var fetchWaitMs = 10

    /// Offsets per partition as read; for the target, the source offsets named by the provenance headers.
    private func readAll(
        bootstrap: String, topic: String, logger: Logger, header: Bool
    ) throws -> (offsets: [Int32: [Int64]], malformed: Int, wrongPartition: Int) {
        let assigned = try partitions(of: topic, bootstrap: bootstrap, logger: logger)
        let consumer = try KafkaConsumer(
            configuration: KafkaClientConfiguration(
                bootstrapServers: bootstrap, properties: ["fetch.wait.max.ms": String(fetchWaitMs)], clientID: "regionbridge-check"),
            groupID: "regionbridge-check", logger: logger)
        defer { consumer.close() }
        try consumer.assign(assigned.map { ($0, .beginning) })
        var offsets: [Int32: [Int64]] = [:]
        for tp in assigned { offsets[tp.partition] = [] }
        var open = Set(assigned)
        var malformed = 0
        var wrongPartition = 0
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while !open.isEmpty {
            guard ContinuousClock.now < deadline else { throw ValidationError("could not read \(topic) to its end within \(timeout) s") }
            let batch = consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100))
            for record in batch.records {
                guard header else { offsets[record.partition, default: []].append(record.offset); continue }
                guard let value = record.lastHeader(named: "regionbridge.source")?.value else { malformed += 1; continue }
                let parts = value.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
                guard parts.count == 4, let partition = Int32(String(decoding: parts[2], as: UTF8.self)),
                      let offset = Int64(String(decoding: parts[3], as: UTF8.self))
                else { malformed += 1; continue }
                if partition != record.partition || String(decoding: parts[1], as: UTF8.self) != sourceTopic { wrongPartition += 1 }
                offsets[record.partition, default: []].append(offset)
            }
            for (tp, _) in batch.ends { open.remove(tp) }
            for error in batch.errors { throw error.error }
        }
        return (offsets, malformed, wrongPartition)
    }

    func run() throws {
        let logger = Logger(label: "latencyprobe.check")
        let src = try readAll(bootstrap: source, topic: sourceTopic, logger: logger, header: false)
        let dst = try readAll(bootstrap: target, topic: targetTopic, logger: logger, header: true)
        var totalLost = 0, totalDuplicated = 0, totalMisordered = 0, totalExtra = 0
        print("PARTITION  SOURCE-RECORDS  TARGET-RECORDS  LOST  DUPLICATED  OUT-OF-ORDER  UNKNOWN  EXACT")
        for partition in Set(src.offsets.keys).union(dst.offsets.keys).sorted() {
            let s = src.offsets[partition] ?? []
            let t = dst.offsets[partition] ?? []
            let sourceSet = Set(s)
            var seen = Set<Int64>()
            var duplicated = 0, misordered = 0, extra = 0
            var previous: Int64 = -1
            for offset in t {
                if !seen.insert(offset).inserted { duplicated += 1; continue }
                if !sourceSet.contains(offset) { extra += 1 }
                if offset < previous { misordered += 1 }
                previous = offset
            }
            let lost = s.reduce(0) { $0 + (seen.contains($1) ? 0 : 1) }
            let exact = s == t
            totalLost += lost; totalDuplicated += duplicated; totalMisordered += misordered; totalExtra += extra
            print(String(format: "%9d  %14d  %14d  %4d  %10d  %12d  %7d  %@", partition, s.count, t.count, lost, duplicated, misordered, extra, exact ? "yes" : "NO"))
        }
        let ok = totalLost == 0 && totalDuplicated == 0 && totalMisordered == 0 && totalExtra == 0
            && dst.malformed == 0 && dst.wrongPartition == 0 && src.offsets.keys.allSatisfy { src.offsets[$0] == dst.offsets[$0] }
        print("""
            {"source_records":\(src.offsets.values.reduce(0) { $0 + $1.count }),"target_records":\(dst.offsets.values.reduce(0) { $0 + $1.count }),\
            "lost":\(totalLost),"duplicated":\(totalDuplicated),"out_of_order":\(totalMisordered),"unknown":\(totalExtra),\
            "missing_header":\(dst.malformed),"wrong_partition":\(dst.wrongPartition),"exactly_once":\(ok)}
            """)
        if !ok { throw ExitCode(1) }
    }
}

/// Reads a topic from its beginning and counts its records until there are enough, and prints when the first one
/// and the last one arrived: the copy phase of a bridge run, without its start-up. It fetches (rather than asking
/// for offsets) so that a slow round trip to the cluster delays both times alike.
struct Progress: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counts a topic's records as they arrive until there are --records; prints when the first and the last arrived, as JSON.")

    @Option(help: "Bootstrap servers of the cluster to watch.")
    var bootstrap: String

    @Option(help: "Topic to watch.")
    var topic: String

    @Option(help: "Records to wait for.")
    var records: Int64

    @Option(help: "Give up after this many seconds.")
    var timeout = 300.0

    func run() throws {
        let logger = Logger(label: "latencyprobe.progress")
        let assigned = try partitions(of: topic, bootstrap: bootstrap, logger: logger)
        let consumer = try KafkaConsumer(
            configuration: KafkaClientConfiguration(
                bootstrapServers: bootstrap, properties: ["fetch.wait.max.ms": "5"], clientID: "regionbridge-progress"),
            groupID: "regionbridge-progress", logger: logger)
        defer { consumer.close() }
        try consumer.assign(assigned.map { ($0, .beginning) })
        FileHandle.standardError.write(Data("latencyprobe: watching \(topic)\n".utf8))
        let clock = ContinuousClock()
        let start = clock.now
        var first: Duration?
        var total: Int64 = 0
        while total < records {
            if clock.now - start > .milliseconds(Int(timeout * 1000)) { throw ValidationError("\(topic) reached \(total) of \(records) records in \(timeout) s") }
            let count = consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100)).records.count
            if count > 0, first == nil { first = clock.now - start }
            total += Int64(count)
        }
        let done = clock.now - start
        func seconds(_ d: Duration) -> String { String(format: "%.3f", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }
        print(#"{"records":\#(total),"first_s":\#(seconds(first ?? done)),"done_s":\#(seconds(done))}"#)
    }
}
