import Kafka
import Topology
import Logging

// Single mode: the shared idempotent producer failed for good. With the gapless guarantee that happens whenever a
// write cannot be completed: a record timed out in the queue (an outage longer than a `message.timeout.ms` set in
// the cluster's properties), the producer lost its sequence with the broker (OUT_OF_ORDER_SEQUENCE_NUMBER), and so
// on. None of that loses what the target acknowledged, so the bridge does not stop for it: it makes a new producer
// and every partition resumes right after the last record the target holds, which is exactly once by design (the
// same as a restart of the process, without the restart).
extension ReplicationEngine {
    /// At most this many replacements within ``replacementWindow``; one more stops the run (a producer that fails
    /// at once every time is a configuration problem, not an outage).
    static let replacementLimit = 5
    static let replacementWindow: Duration = .seconds(600)

    /// `true` while `producer` is the one the partitions are written through (not one already replaced).
    func isCurrent(_ producer: KafkaProducer) -> Bool { producers.contains { $0 === producer } }

    /// Replaces the failed producer: every copying partition stops reading, its records in flight are forgotten
    /// (their reports carry the slot's old generation), and the background reads where each resumes
    /// (``BackgroundRequest/resumePoints(_:)``); ``resume(_:)`` starts them again from there.
    /// - Parameter at: the record whose report said so, when one did.
    func replaceProducer(_ failed: KafkaProducer, because error: KafkaError, at record: String? = nil) throws(ReplicationError) {
        guard isCurrent(failed) else { return }
        // A permission the target denies (the producer id or transactional id, InitProducerId's
        // CLUSTER_AUTHORIZATION_FAILED or TRANSACTIONAL_ID_AUTHORIZATION_FAILED) fails every new producer alike.
        if let cause = ConnectionRefusal.Cause(errorCode: error.rawCode, text: error.message) {
            let refusal = ConnectionRefusal(cause: cause, detail: error.description)
            throw ReplicationError(
                .targetRefused,
                "target cluster \(topology.target.region) at \(topology.target.bootstrapServers) refuses this client: \(refusal). Nothing was lost: the next start resumes after the last record the target holds")
        }
        let now = ContinuousClock.now
        replacements = replacements.filter { now - $0 < Self.replacementWindow } + [now]
        let cause = "target producer failed\(record.map { " at \($0)" } ?? ""): \(error)"
        guard replacements.count <= Self.replacementLimit else {
            throw ReplicationError(.fatal, "\(cause). It was replaced \(Self.replacementLimit) times within \(Self.replacementWindow) and failed again; start the bridge again once the cause is fixed, it resumes after the last record the target holds")
        }
        let producer: KafkaProducer
        do { producer = try KafkaProducer(configuration: targetConfig, defaults: Self.copyProducerDefaults, logger: logger) } catch {
            throw ReplicationError(.fatal, "\(cause); a new producer cannot be made: \(error)")
        }
        producer.signal(signal)
        producers = [producer]
        targetTopics.removeAll()
        roomAt = nil
        var restarting: [TopicPartition] = []
        for slot in table.slots where slot.state.isCopying || slot.isStoppedAtGap {
            let topic: ProducerTopic
            do { topic = try targetTopic(slot.target.topic, producer: producer) } catch {
                throw ReplicationError(.fatal, "\(cause); the new producer cannot open target topic \(slot.target.topic): \(error)")
            }
            guard slot.state.isCopying else {
                // Stopped at a gap: nothing in flight; it writes through the new producer if the gap is accepted.
                slot.producer = producer
                slot.topic = topic
                continue
            }
            slot.awaitResume(producer: producer, topic: topic)
            restarting.append(slot.source)
        }
        try? consumer.pause(restarting)
        logger.warning("\(cause). Nothing the target acknowledged is lost: a new producer takes over, and \(restarting.count) partition(s) resume right after the last record the target holds (replacement \(replacements.count) of at most \(Self.replacementLimit) within \(Self.replacementWindow))")
        options.observer?.error(kind: "producer_replaced")
        background.request(.resumePoints(restarting))
    }

    /// The target's tails were read after a replacement: each partition that still waits copies on from there.
    func resume(_ starts: [PartitionStart]) {
        var seeks: [(TopicPartition, StartOffset)] = []
        for start in starts {
            guard let slot = table[start.source], slot.state.isCopying, slot.awaitsResume else { continue }
            let resume = ResumePoint.start(afterLastCopied: start.lastCopied)
            var progress = slot.progress
            progress.restart(at: resume)
            slot.startOver(progress)
            restartedInBatch.insert(slot.index)
            seeks.append((start.source, resume))
        }
        guard !seeks.isEmpty else { return }
        do {
            try consumer.readFrom(seeks)
        } catch {
            warn("resume", "cannot read on after replacing the target producer: \(error)")
        }
        logger.notice("resumed \(seeks.map { "\($0.0) at \($0.1)" }.joined(separator: ", ")) after replacing the target producer")
    }
}
