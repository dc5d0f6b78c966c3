import Foundation
import Kafka
import Logging
import Synchronization

/// What the background thread found, for the copy loop to act on.
enum BackgroundResult {
    /// Single mode: start copying these partitions, each at its start (the target's tail was read).
    case startCopying([PartitionStart])
    /// Single mode: these source partitions are gone (topic deleted or no longer selected).
    case vanished([TopicPartition])
    /// Group mode: subscribe to these source topics (every target partition they need exists).
    case subscribe([String])
    /// The source log ends from one ListOffsets round, and when it was taken (monotonic seconds).
    case sourceEnds([TopicPartition: Int64], at: Double)
    /// A target partition holds less than it acknowledged: the target lost records.
    case targetLost(String)
    /// Single mode: where each partition resumes after the producer was replaced (the target's tails were read).
    case resume([PartitionStart])
    /// A target partition looked at after a suspicious acknowledgement holds everything it acknowledged.
    case targetKept(TopicPartition, String)
    /// The target could not be read to check these source partitions' copies; the engine may ask again.
    case logCheckUnanswered([TopicPartition])
    /// A source partition's log no longer holds the next offset to copy.
    case gap(SourceGap)
    /// A cluster answered or did not.
    case reachable(ClusterRole, Bool)
    /// Something failed that replication survives: log it (at most once a minute per key).
    case warning(key: String, message: String)
    /// Something failed that replication cannot survive.
    case failed(ReplicationError)
}

/// Where a newly owned partition starts copying, from the last record of it the target holds.
struct PartitionStart {
    var source: TopicPartition
    var target: TopicPartition
    var lastCopied: Int64?
}

/// Why the copy loop asks the background to look at the target's logs.
enum LogCheckReason: Equatable {
    /// Writes went unacknowledged for a while (some brokers that came back empty never acknowledge again).
    case stalledWrites
    /// A delivery report came back at or below an offset acknowledged before (a re-sent write, or a lost log).
    case lowAcknowledgement
}

/// A request from the copy loop.
enum BackgroundRequest {
    /// Look at the target's logs: do they still hold the last record each acknowledged for good?
    case logCheck([AcknowledgedWrite], reason: LogCheckReason)
    /// Single mode: read where each of these source partitions resumes (the target's tails), asking again every
    /// 2 s until the target answers.
    case resumePoints([TopicPartition])
    /// Read the source watermarks of a partition whose position fell outside its log.
    case gapCheck(TopicPartition, wanted: Int64)
}

/// The engine's blocking work, on its own thread, so that the copy loop only moves records and reads delivery
/// reports: topic discovery (metadata, creating and growing target topics, reading the tails of new target
/// partitions), sampling the source log ends for lag, the target loss check, and gap lookups.
///
/// Results go to a mailbox that the copy loop empties; posting wakes the copy loop through its ``ReadySignal``.
final class BackgroundWork: @unchecked Sendable {
    // @unchecked Sendable: mutable state is behind `mailbox` and `inbox`; the clients are used only by the
    // background thread once it runs (and by `discover` on the copy thread before it starts).
    private let discovery: Discovery
    private let sourceRegion: String
    private let sourceAdmin: KafkaAdmin
    private let targetReaderFactory: () throws(KafkaError) -> TargetReader
    private let signal: ReadySignal
    private let requestTimeout: Duration
    private let discoveryInterval: Duration
    private let logger: Logger
    private let mailbox = Mutex<[BackgroundResult]>([])
    private let inbox = Mutex<Inbox>(Inbox())
    private struct Inbox {
        var requests: [BackgroundRequest] = []
        /// Requests to take again once their time has come.
        var later: [(at: ContinuousClock.Instant, request: BackgroundRequest)] = []
        var owned: [TopicPartition] = []
        var discoverNow = false
    }
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(
        discovery: Discovery, sourceRegion: String, sourceAdmin: KafkaAdmin, targetReader: @escaping () throws(KafkaError) -> TargetReader,
        signal: ReadySignal,
        requestTimeout: Duration, discoveryInterval: Duration, logger: Logger
    ) {
        self.discovery = discovery
        self.sourceRegion = sourceRegion
        self.sourceAdmin = sourceAdmin
        self.targetReaderFactory = targetReader
        self.signal = signal
        self.requestTimeout = requestTimeout
        self.discoveryInterval = discoveryInterval
        self.logger = logger
    }

    /// Starts the thread.
    func start() {
        started.store(true, ordering: .releasing)
        let thread = Thread { [self] in
            loop()
            done.signal()
        }
        thread.name = "regionbridge-background"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Stops the thread and waits for its current job, at most 2 s: a job that waits on a cluster that does not
    /// answer ends by itself within a request timeout, and its results are not read any more.
    func stop() {
        stopped.store(true, ordering: .releasing)
        wake.signal()
        guard started.load(ordering: .acquiring) else { return }
        _ = done.wait(timeout: .now() + .seconds(2))
    }

    /// Takes every result posted so far.
    func takeResults() -> [BackgroundResult] {
        mailbox.withLock { results in
            defer { results.removeAll(keepingCapacity: true) }
            return results
        }
    }

    /// Asks for a job.
    func request(_ request: BackgroundRequest) {
        inbox.withLock { $0.requests.append(request) }
        wake.signal()
    }

    /// Asks for `request` again once `delay` has passed (the loop takes it then).
    private func retryLater(_ request: BackgroundRequest, after delay: Duration) {
        inbox.withLock { $0.later.append((ContinuousClock.now + delay, request)) }
    }

    /// The source partitions the copy loop owns now (for discovery and end sampling).
    func owned(_ partitions: [TopicPartition]) {
        inbox.withLock { $0.owned = partitions }
    }

    /// Runs discovery at once rather than at the next interval.
    func discoverSoon() {
        inbox.withLock { $0.discoverNow = true }
        wake.signal()
    }

    private func post(_ results: [BackgroundResult]) {
        guard !results.isEmpty else { return }
        mailbox.withLock { $0.append(contentsOf: results) }
        signal.signal()
    }

    private func loop() {
        let clock = ContinuousClock()
        var nextDiscovery = clock.now + discoveryInterval
        var nextSample = clock.now
        while !stopped.load(ordering: .acquiring) {
            let (requests, owned, discoverNow) = inbox.withLock { inbox in
                defer { inbox.requests.removeAll(); inbox.discoverNow = false }
                let now = ContinuousClock.now
                let due = inbox.later.filter { $0.at <= now }.map(\.request)
                inbox.later.removeAll { $0.at <= now }
                return (inbox.requests + due, inbox.owned, inbox.discoverNow)
            }
            for request in requests { post(run(request)) }
            if discoverNow || clock.now >= nextDiscovery {
                post(discovery.run(owned: Set(owned), initial: false))
                nextDiscovery = clock.now + discoveryInterval
            }
            if clock.now >= nextSample {
                post(sampleSourceEnds(owned))
                nextSample = clock.now + .seconds(1)
            }
            _ = wake.wait(timeout: .now() + .milliseconds(200))
        }
    }

    /// One ListOffsets round over the owned partitions: the source log ends, for records and seconds behind
    /// while the copy loop cannot fetch (the target does not take writes, so the consumer's queue is full).
    private func sampleSourceEnds(_ owned: [TopicPartition]) -> [BackgroundResult] {
        guard !owned.isEmpty else { return [] }
        let timeout = min(requestTimeout, .seconds(5))
        do {
            let ends = try sourceAdmin.endOffsets(owned, timeout: timeout)
            return [.sourceEnds(ends, at: MonotonicTime.seconds()), .reachable(.source, true)]
        } catch {
            return [.reachable(.source, false)]
        }
    }

    private func run(_ request: BackgroundRequest) -> [BackgroundResult] {
        switch request {
        case .logCheck(let acknowledged, let reason):
            return checkTargetLog(acknowledged, reason: reason)
        case .resumePoints(let sources):
            do {
                return [.resume(try discovery.starts(of: sources, reader: targetReaderFactory())), .reachable(.target, true)]
            } catch {
                retryLater(request, after: .seconds(2))
                return [.warning(key: "resume", message: "cannot read the target's tails to resume \(sources.count) partition(s) after replacing the producer (\(error)); trying again every 2 s"), .reachable(.target, false)]
            }
        case .gapCheck(let partition, let wanted):
            do {
                let marks = try sourceAdmin.queryWatermarks(partition, timeout: requestTimeout)
                return [.gap(SourceGap(partition: partition, wanted: wanted, logStart: marks.low, logEnd: marks.high))]
            } catch {
                return [.warning(key: "gap:\(partition)", message: "cannot read the log bounds of source \(partition) (its position \(wanted) is outside the log): \(error); retrying")]
            }
        }
    }

    /// Whether each target partition still holds what it acknowledged, decided from its log
    /// (``TargetLogVerdict``): its end, its newest copied record and the record at the acknowledged offset.
    /// Reads with a fresh client each time: a long-lived one can keep metadata of a broker that restarted empty
    /// and never fetch again.
    /// - Parameter reason: why the engine asked; a look after a suspicious acknowledgement reports what it found
    ///   either way, one after stalled writes only a loss.
    private func checkTargetLog(_ acknowledged: [AcknowledgedWrite], reason: LogCheckReason) -> [BackgroundResult] {
        guard !acknowledged.isEmpty else { return [] }
        let reader: TargetReader
        do { reader = try targetReaderFactory() } catch {
            return [.warning(key: "log-check", message: "cannot create a client to check the target's partitions: \(error)"), .logCheckUnanswered(acknowledged.map(\.source))]
        }
        var results: [BackgroundResult] = []
        for write in acknowledged.sorted(by: { $0.target < $1.target }) {
            let verdict: TargetLogVerdict
            let figures: String
            do {
                let source = SourcePartition(region: sourceRegion, partition: write.source)
                let tail = try reader.lastCopied(in: write.target, from: source)
                var atAcknowledged: Int64?
                if write.targetOffset >= tail.low, write.targetOffset < tail.end,
                   let record = try reader.firstRecord(in: write.target, from: write.targetOffset), record.offset == write.targetOffset {
                    atAcknowledged = source.provenanceOffset(record)
                }
                verdict = TargetLogVerdict.judge(write, end: tail.end, atAcknowledged: atAcknowledged, newestCopied: tail.lastCopied)
                figures = "its log ends at offset \(tail.end) and its newest copied record is source offset \(tail.lastCopied.map(String.init) ?? "none")"
            } catch {
                results += [
                    .warning(key: "log-check", message: "cannot read target \(write.target) to check that it kept what it acknowledged (\(error)); looking again later"),
                    .reachable(.target, false), .logCheckUnanswered([write.source]),
                ]
                continue
            }
            switch verdict {
            case .lost(let cause):
                return [.targetLost(TargetLogVerdict.lossMessage(cause, source: write.source))]
            case .kept where reason == .lowAcknowledgement:
                results.append(.targetKept(write.source, "target \(write.target) keeps every record it acknowledged: \(figures), at or past source offset \(write.sourceOffset) acknowledged at offset \(write.targetOffset); copying goes on"))
            case .kept:
                break
            }
        }
        return results.isEmpty ? [.reachable(.target, true)] : results
    }
}

/// Seconds on a monotonic clock, for the lag samples.
enum MonotonicTime {
    static func seconds() -> Double {
        let now = ContinuousClock.now - start
        return Double(now.components.seconds) + Double(now.components.attoseconds) / 1e18
    }

    private static let start = ContinuousClock.now
}
