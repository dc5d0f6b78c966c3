import Kafka

/// Group mode: what an owned partition's transactional writer does after a failure, decided on librdkafka's
/// numeric error codes (``KafkaError/Code``), never on their names.
///
/// Pure: the engine feeds it the error and the producer's fatal error, and carries out the answer.
package enum TransactionDecision: Equatable, Sendable {
    /// Ignore it: a record purged from an aborted transaction, reported after the abort.
    case ignore
    /// Commit again at the next round: the commit timed out or the coordinator did not answer, and librdkafka
    /// lets a timed-out commit be retried (the retry decides its outcome). Copying of the partition waits.
    case retryCommit
    /// Abort the transaction and copy again from what the target holds: the transaction failed, the producer lives.
    case abortAndRestart
    /// A newer owner fenced this writer: drop the partition and never write it again unless the group assigns it back.
    case dropFenced
    /// The target refused a record for good (``KafkaError/Code/recordRefused``: too large, not authorised, ...):
    /// stop with exit 6.
    case refusedRecord
    /// The producer failed for good for another reason: stop the instance (the group hands its partitions on).
    case stopInstance
    /// The commit neither succeeded nor failed for good, and it cannot be retried: its outcome is unknown, so
    /// neither writing on nor aborting is safe. Stop the instance; the next owner's fence settles it.
    case outcomeUnknown
    /// After `beginTransaction` failed.
    package static func afterBegin(_ error: KafkaError, producerFatal: KafkaError?) -> TransactionDecision {
        if isFenced(error, producerFatal) { return .dropFenced }
        if error.isFatal || producerFatal != nil { return .stopInstance }
        if error.requiresAbort { return .abortAndRestart }
        return .stopInstance
    }

    /// After `commitTransaction` failed.
    package static func afterCommit(_ error: KafkaError, producerFatal: KafkaError?) -> TransactionDecision {
        if isFenced(error, producerFatal) { return .dropFenced }
        if error.isFatal || producerFatal != nil { return .stopInstance }
        if error.requiresAbort { return .abortAndRestart }
        if error.isRetriable || error.code == .timedOut { return .retryCommit }
        return .outcomeUnknown
    }

    /// After a record's delivery failed, or the producer reported an error event, inside a transaction.
    package static func afterWrite(_ error: KafkaError, producerFatal: KafkaError?) -> TransactionDecision {
        if error.code == .purged, producerFatal == nil { return .ignore }
        if isFenced(error, producerFatal) { return .dropFenced }
        if error.isFatal || producerFatal != nil { return .stopInstance }
        // A record the broker refuses for good would be refused again after an abort; anything else failed the
        // transaction, not the record, and copying it again from what the target holds is safe.
        return error.code == .recordRefused ? .refusedRecord : .abortAndRestart
    }

    private static func isFenced(_ error: KafkaError, _ producerFatal: KafkaError?) -> Bool {
        error.isFenced || producerFatal?.isFenced == true
    }
}

/// Group mode: what a take-over does after fencing the earlier writers (`initTransactions`) failed.
package enum TakeOverDecision: Equatable, Sendable {
    /// Try again later: the target did not answer in time (a retriable error or a timeout). The partition stays
    /// assigned to this instance, paused, until a take-over succeeds.
    case retryLater
    /// Stop the instance: waiting does not mend it (a fatal error, a refused `transactional.id`, a bad setting).
    case stopInstance

    /// Decided on librdkafka's numeric codes and flags.
    package init(afterInit error: KafkaError) {
        self = !error.isFatal && (error.isRetriable || error.code == .timedOut) ? .retryLater : .stopInstance
    }
}

/// Single mode: what a failed write of the shared idempotent producer calls for, decided on librdkafka's numeric
/// error codes (``KafkaError/Code``).
///
/// With the gapless guarantee any write that cannot be completed makes the producer fatal, whatever the cause.
/// Only a record the target refused for good stops the bridge (exit 6): everything else is the producer's own
/// state (a record timed out in its queue after a long outage, the sequence lost with the broker), which a new
/// producer resuming after the last record the target holds replaces, exactly once by design.
package enum WriteFailureDecision: Equatable, Sendable {
    /// A record librdkafka purged from the queue once the producer turned fatal: the fatal error says why.
    case ignore
    /// The target refused the record for good (too large, not authorised, ...): stop with exit 6.
    case refusedRecord
    /// Replace the producer and resume every partition from the target's tail.
    case replaceProducer

    /// After a delivery report with an error, or a failed enqueue.
    package init(_ error: KafkaError) {
        switch error.code {
        case .purged: self = .ignore
        case .recordRefused: self = .refusedRecord
        case .messageTimedOut, .timedOut, .outOfOrderSequence, .unknownProducerID, .gaplessGuarantee, .fatal:
            self = .replaceProducer
        default:
            // Another broker error about this record (the producer turns fatal after it too, by the gapless
            // guarantee) is a refusal; a fatal error of the client itself is not.
            self = error.isFatal ? .replaceProducer : .refusedRecord
        }
    }
}
