import CRdKafka
import Foundation
import Synchronization

/// `rd_kafka_metadata` blocks until the cluster answers or its timeout passes, and cannot be cut short. This runs it
/// on a thread of its own while the caller watches for something that ends the wait sooner (a refusal); an
/// abandoned request ends by itself at its timeout and its answer is freed then.
final class MetadataRequest: @unchecked Sendable {
    // @unchecked Sendable: the answer is behind the mutex; the metadata it points to is read-only once returned.
    private let outcome = Mutex<(err: rd_kafka_resp_err_t, answer: MetadataAnswer?)?>(nil)
    private let answered = DispatchSemaphore(value: 0)

    /// Starts the request on a new thread.
    init(client: RDKafkaClient, timeout: Duration) {
        Thread { [self] in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(client.handle, 1, nil, &metadata, timeout.milliseconds)
            let answer = metadata.map(MetadataAnswer.init)
            outcome.withLock { $0 = (err, answer) }
            answered.signal()
        }.start()
    }

    /// Waits for the answer (returning as soon as it comes), calling `check` every 100 ms meanwhile; what `check`
    /// throws ends the wait.
    func wait(checking check: () throws(KafkaError) -> Void) throws(KafkaError) -> (err: rd_kafka_resp_err_t, answer: MetadataAnswer?) {
        while answered.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            try check()
        }
        return outcome.withLock { $0 }!
    }
}

/// One metadata answer, freed with this object.
final class MetadataAnswer: @unchecked Sendable {
    let pointer: UnsafePointer<rd_kafka_metadata>
    init(_ pointer: UnsafePointer<rd_kafka_metadata>) { self.pointer = pointer }
    deinit { rd_kafka_metadata_destroy(pointer) }
}
