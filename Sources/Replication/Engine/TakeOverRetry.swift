import Foundation
import Kafka
import Synchronization
import Topology

/// A partition whose earlier writers a new transactional producer fenced.
struct Fenced {
    var source: TopicPartition
    /// The partition's `transactional.id`.
    var id: String
    var producer: KafkaProducer
}

/// What fencing a set of partitions found.
struct FenceOutcome {
    var fenced: [Fenced] = []
    /// Partitions whose fence the target did not answer (or refused for now): their take-over waits.
    var waiting: [TopicPartition] = []
    /// Why they wait, in words (the first failure).
    var cause: String?
    /// A failure that waiting does not mend (a fatal or non-retriable fence error).
    var fatal: ReplicationError?
}

/// A take-over tried again on a thread of its own while the copy loop goes on; the copy loop picks its outcome up.
///
/// @unchecked Sendable: the retry's thread writes the outcome once, under the lock; the copy thread reads it under
/// the lock and only then touches the producers in it (the retry's thread no longer does).
final class TakeOverRetry: @unchecked Sendable {
    /// The partitions tried.
    let sources: [TopicPartition]
    private let done = Mutex<(FenceOutcome, [PartitionStart])?>(nil)
    private let fenced = DispatchSemaphore(value: 0)

    init(sources: [TopicPartition]) {
        self.sources = sources
    }

    /// The retry's thread: its fence ended (every `initTransactions` of it returned); what follows reads only.
    func fenceEnded() {
        fenced.signal()
    }

    /// The retry's thread: what it found.
    func finish(_ fence: FenceOutcome, starts: [PartitionStart]) {
        done.withLock { $0 = (fence, starts) }
    }

    /// Blocks until the retry's fence ended or `timeout` passed; whether it ended.
    func waitUntilFenceEnded(timeout: Duration) -> Bool {
        guard fenced.wait(timeout: .now() + timeout.seconds) == .success else { return false }
        fenced.signal()
        return true
    }

    /// What the retry found, once it finished.
    var outcome: (FenceOutcome, [PartitionStart])? { done.withLock { $0 } }
}

/// The target readers of take-over retries: one kept spare between retries. A retry reads with the spare one when it
/// is free, or with a new one when an earlier retry (left to end alone at a rebalance) still reads; a reader whose
/// read failed is not kept.
///
/// @unchecked Sendable: a reader is used by one retry thread at a time (taken out of the lock, given back after).
final class RetryReaders: @unchecked Sendable {
    private let make: () throws(KafkaError) -> TargetReader
    private let lock = NSLock()
    private var spare: TargetReader?

    init(make: @escaping () throws(KafkaError) -> TargetReader) {
        self.make = make
    }

    /// Runs `body` with a reader no other thread uses meanwhile.
    func read<T>(_ body: (TargetReader) throws(ReplicationError) -> T) throws(ReplicationError) -> T {
        var reader = lock.withLock { spare.take() }
        if reader == nil {
            do { reader = try make() } catch {
                throw ReplicationError(.targetUnavailable, "cannot read the target's tails: \(error)")
            }
        }
        let result = try body(reader!)
        lock.withLock { spare = reader }
        return result
    }
}
