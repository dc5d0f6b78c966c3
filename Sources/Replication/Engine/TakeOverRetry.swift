import Dispatch
import Kafka
import Logging
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
    private let finished = DispatchSemaphore(value: 0)

    init(sources: [TopicPartition]) {
        self.sources = sources
    }

    /// The retry's thread: what it found.
    func finish(_ fence: FenceOutcome, starts: [PartitionStart]) {
        done.withLock { $0 = (fence, starts) }
        finished.signal()
    }

    /// Blocks until the retry finished or `timeout` passed; whether it finished.
    func waitUntilFinished(timeout: Duration) -> Bool {
        guard finished.wait(timeout: .now() + timeout.seconds) == .success else {
            return false
        }
        finished.signal()
        return true
    }

    /// What the retry found, once it finished.
    var outcome: (FenceOutcome, [PartitionStart])? { done.withLock { $0 } }
}

/// The target reader of take-over retries: made at the first retry, used by one retry at a time (a retry starts only
/// after the previous one finished), dropped after a failed read so that the next retry starts with a new one.
///
/// @unchecked Sendable: the reader is used by one retry thread at a time, as said.
final class RetryReaders: @unchecked Sendable {
    private let make: () throws(KafkaError) -> TargetReader
    private var current: TargetReader?

    init(make: @escaping () throws(KafkaError) -> TargetReader) {
        self.make = make
    }

    func reader() throws(ReplicationError) -> TargetReader {
        if let current { return current }
        do {
            let reader = try make()
            current = reader
            return reader
        } catch {
            throw ReplicationError(.targetUnavailable, "cannot read the target's tails: \(error)")
        }
    }

    func drop() { current = nil }
}
