import Kafka
import Replication
import XCTest

/// Group-mode transitions of one owned partition's transactional writer, without a broker.
final class TransactionLifecycleTests: XCTestCase {
    private func error(_ code: KafkaError.Code, fatal: Bool = false, retriable: Bool = false, abort: Bool = false) -> KafkaError {
        var error = KafkaError(code: code, message: "\(code)", isFatal: fatal, isRetriable: retriable)
        error.requiresAbort = abort
        return error
    }

    func testATransactionBeginsWithTheFirstRecordAndCommitsOnceEveryRecordIsAcknowledged() {
        var writer = TransactionLifecycle()
        XCTAssertEqual(writer.recordReady(), .begin)
        writer.began()
        XCTAssertEqual(writer.state, .open)
        XCTAssertEqual(writer.recordReady(), .send)
        XCTAssertEqual(writer.commitDue(acknowledged: false), .none, "records in flight: the commit waits for the next round")
        XCTAssertEqual(writer.commitDue(acknowledged: true), .commit)
        XCTAssertEqual(writer.committed(), .none)
        XCTAssertEqual(writer.state, .idle)
        XCTAssertEqual(writer.commitDue(acknowledged: true), .none, "nothing open, nothing to commit")
    }

    func testARevokedPartitionCommitsBeforeItGoes() {
        var writer = TransactionLifecycle()
        writer.began()
        XCTAssertEqual(writer.revoked(lost: false), .commit)
        XCTAssertEqual(writer.committed(), .none)
        writer.handedOver()
        XCTAssertEqual(writer.state, .handedOver)
        XCTAssertEqual(writer.recordReady(), .hold)
    }

    func testALostPartitionLeavesItsTransactionToTheNextOwnersFence() {
        var writer = TransactionLifecycle()
        writer.began()
        XCTAssertEqual(writer.revoked(lost: true), .leaveOpen, "another instance may own it already: no abort, no commit")
        XCTAssertEqual(writer.state, .handedOver)
        var idle = TransactionLifecycle()
        XCTAssertEqual(idle.revoked(lost: true), .release)
    }

    func testAFencedWriterDropsThePartitionAndNeverWritesAgain() {
        var writer = TransactionLifecycle()
        writer.began()
        let decision = TransactionDecision.afterWrite(error(.fenced, fatal: true), producerFatal: error(.fenced, fatal: true))
        XCTAssertEqual(decision, .dropFenced)
        XCTAssertEqual(writer.failed(decision), .drop)
        XCTAssertEqual(writer.recordReady(), .hold)
        XCTAssertEqual(writer.commitDue(acknowledged: true), .none)
        XCTAssertEqual(writer.revoked(lost: false), .none, "already dropped")
    }

    func testACommitThatTimesOutIsRetriedWhileCopyingWaits() {
        var writer = TransactionLifecycle()
        writer.began()
        let decision = TransactionDecision.afterCommit(error(.timedOut, retriable: true), producerFatal: nil)
        XCTAssertEqual(decision, .retryCommit)
        XCTAssertEqual(writer.failed(decision), .pause)
        XCTAssertEqual(writer.recordReady(), .hold, "no record goes into a transaction whose commit is pending")
        XCTAssertEqual(writer.failed(decision), .none, "still pending: already paused")
        XCTAssertEqual(writer.commitDue(acknowledged: false), .commit, "the retry does not wait for acknowledgements")
        XCTAssertEqual(writer.committed(), .resume)
        XCTAssertEqual(writer.recordReady(), .begin)
    }

    func testACommitWhoseOutcomeIsUnknownStopsTheInstance() {
        var writer = TransactionLifecycle()
        writer.began()
        let decision = TransactionDecision.afterCommit(error(.librdkafka), producerFatal: nil)
        XCTAssertEqual(decision, .outcomeUnknown)
        XCTAssertEqual(writer.failed(decision), .stop(.outcomeUnknown))
        XCTAssertEqual(writer.state, .failed)
    }

    func testAHandOverCommitThatTimesOutCannotWaitForAnotherRound() {
        var writer = TransactionLifecycle()
        writer.began()
        XCTAssertEqual(writer.revoked(lost: false), .commit)
        XCTAssertEqual(writer.failed(.retryCommit, final: true), .stop(.outcomeUnknown))
    }

    func testAnAbortableFailureAbortsAndCopiesAgainFromTheTarget() {
        var writer = TransactionLifecycle()
        writer.began()
        let decision = TransactionDecision.afterCommit(error(.librdkafka, abort: true), producerFatal: nil)
        XCTAssertEqual(decision, .abortAndRestart)
        XCTAssertEqual(writer.failed(decision), .abortAndRestart)
        XCTAssertEqual(writer.recordReady(), .begin, "the next record opens a new transaction")
    }

    func testATakeOverThatCannotReachTheTargetWaitsAndOneThatCannotSucceedStops() {
        XCTAssertEqual(TakeOverDecision(afterInit: error(.timedOut, retriable: true)), .retryLater, "the fence timed out (target paused)")
        XCTAssertEqual(TakeOverDecision(afterInit: error(.timedOut)), .retryLater)
        XCTAssertEqual(TakeOverDecision(afterInit: error(.librdkafka, retriable: true)), .retryLater, "coordinator not available, say")
        XCTAssertEqual(TakeOverDecision(afterInit: error(.librdkafka)), .stopInstance, "transactional.id not authorised, say")
        XCTAssertEqual(TakeOverDecision(afterInit: error(.timedOut, fatal: true, retriable: true)), .stopInstance, "a fatal error never waits")
    }

    func testDecisionsFollowNumericCodesNotNames() {
        XCTAssertEqual(TransactionDecision.afterWrite(error(.purged), producerFatal: nil), .ignore)
        XCTAssertEqual(TransactionDecision.afterWrite(error(.purged), producerFatal: error(.fatal, fatal: true)), .stopInstance)
        for code in [KafkaError.Code.messageTimedOut, .timedOut, .outOfOrderSequence, .unknownProducerID, .gaplessGuarantee, .invalidState] {
            XCTAssertEqual(TransactionDecision.afterWrite(error(code), producerFatal: nil), .abortAndRestart, "\(code)")
        }
        XCTAssertEqual(TransactionDecision.afterWrite(error(.recordRefused), producerFatal: nil), .refusedRecord)
        XCTAssertEqual(TransactionDecision.afterWrite(error(.librdkafka), producerFatal: nil), .abortAndRestart,
                       "an error that is not about the record itself is copied again, never reported as a refused record")
        XCTAssertEqual(TransactionDecision.afterBegin(error(.fenced), producerFatal: nil), .dropFenced)
        XCTAssertEqual(TransactionDecision.afterBegin(error(.invalidState), producerFatal: nil), .stopInstance)
        XCTAssertEqual(TransactionDecision.afterCommit(error(.librdkafka, fatal: true), producerFatal: error(.librdkafka, fatal: true)), .stopInstance)
    }

    func testSingleModeReplacesItsProducerForEverythingButARefusedRecord() {
        XCTAssertEqual(WriteFailureDecision(error(.purged)), .ignore, "purged once the producer turned fatal")
        for code in [KafkaError.Code.messageTimedOut, .timedOut, .outOfOrderSequence, .unknownProducerID, .gaplessGuarantee, .fatal] {
            XCTAssertEqual(WriteFailureDecision(error(code)), .replaceProducer, "\(code): the producer's state, not the record")
        }
        XCTAssertEqual(WriteFailureDecision(error(.librdkafka, fatal: true)), .replaceProducer, "a fatal client error")
        XCTAssertEqual(WriteFailureDecision(error(.recordRefused)), .refusedRecord)
        XCTAssertEqual(WriteFailureDecision(error(.recordRefused, fatal: true)), .refusedRecord, "a refusal stays one, fatal or not")
        XCTAssertEqual(WriteFailureDecision(error(.librdkafka)), .refusedRecord, "another broker error about this record, as before")
    }
}
