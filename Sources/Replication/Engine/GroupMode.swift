import Foundation
import Kafka
import Logging
import Synchronization
import Topology

// Group mode (`instances.mode: group`): the source cluster's group coordinator assigns the partitions; each owned
// partition is written in transactions by its own producer, whose `transactional.id`
// (`regionbridge.<pair>.<source topic>.<partition>`) is the same in every instance. `initTransactions` in a new
// owner bumps the producer epoch: the broker then refuses every write of an earlier owner and aborts the
// transaction it left open. What to do after each failure is decided by ``TransactionDecision``.
extension ReplicationEngine {
    /// Subscribes to the selected source topics whose target topics exist, when that set changed.
    func subscribe(_ topics: [String]) throws(ReplicationError) {
        guard topics != subscribed, !topics.isEmpty else { return }
        do { try consumer.subscribe(topics) } catch {
            throw ReplicationError(.sourceUnavailable, "cannot join consumer group \(topology.consumerGroup): \(error)")
        }
        subscribed = topics
        logger.info("joined consumer group \(topology.consumerGroup) in \(topology.source.region) for \(topics.joined(separator: ", ")) (cooperative-sticky, session timeout \(topology.instances.sessionTimeout))")
        publishState()
    }

    /// After a rebalance inside a poll, the batch is dropped and every owned partition is read again from the next
    /// offset to copy. librdkafka's batch consume can drop records it had already collected when a rebalance lands
    /// in the middle of a batch, while their partition's fetch position has moved past them (seen on tansu: one
    /// record lost per kept partition); reading again from the engine's own position makes that harmless, and
    /// `PartitionProgress.accept` skips whatever is delivered twice.
    func rewind() throws(ReplicationError) {
        rebalancedDuringPoll = false
        let seeks = table.slots.compactMap { slot -> (TopicPartition, StartOffset)? in
            guard slot.takesRecords else { return nil }
            return (slot.source, slot.progress.next.map { .offset($0) } ?? .beginning)
        }
        do {
            try consumer.seek(seeks, timeout: options.requestTimeout)
            // librdkafka keeps a partition paused across a revocation and a new assignment: one this instance had
            // paused (waiting for room, or dropped when fenced) and now owns again must fetch.
            try consumer.resume(seeks.map(\.0))
            // Assigned but not taken over yet: nothing of them is read until the take-over succeeds.
            if !waitingForTakeOver.isEmpty { try consumer.pause(waitingForTakeOver) }
        } catch {
            throw ReplicationError(.sourceUnavailable, "cannot read the owned partitions again after a rebalance: \(error)")
        }
    }

    /// The partition whose owner runs the group-offset sync, offset syncs and checkpoints: partition 0 of the
    /// first replicated topic. Leadership moves with that partition.
    var syncLeaderPartition: TopicPartition? { subscribed.first.map { TopicPartition($0, 0) } }

    /// Answers the group coordinator (inside `consumer.poll` or `close`): takes over assigned partitions, hands
    /// revoked ones back.
    func rebalanced(_ event: RebalanceEvent) -> [(TopicPartition, StartOffset)] {
        if case .failed = event {} else {
            rebalancedDuringPoll = true
            voidTakeOverRetry()
        }
        switch event {
        case .assigned(let sources):
            everAssigned = true
            guard !sources.isEmpty else { return [] }
            let starts: [(TopicPartition, StartOffset)]
            do throws(ReplicationError) {
                starts = try takeOverOrWait(sources.sorted())
            } catch {
                logger.error("cannot take over \(sources.sorted().map(\.description).joined(separator: ", ")): \(error)")
                rebalanceFailure = rebalanceFailure ?? error
                return []
            }
            logOwnership("the group assigned \(sources.sorted().map(\.description).joined(separator: ", "))")
            reportOwned()
            publishState()
            // Those waiting for their take-over are assigned too (the group counts them as this instance's), and
            // paused right after this poll (``rewind()``); where they start is set when the take-over succeeds.
            return starts + sources.filter(waitingForTakeOver.contains).map { ($0, .end) }
        case .revoked(let sources, let lost):
            guard !sources.isEmpty else { return [] }
            waitingForTakeOver.removeAll(where: sources.contains)
            release(sources.sorted(), lost: lost)
            logOwnership("the group \(lost ? "found lost" : "revoked") \(sources.sorted().map(\.description).joined(separator: ", "))")
            reportOwned()
            publishState()
            return []
        case .failed(let error):
            warn("group", "consumer group \(topology.consumerGroup): \(error)")
            return []
        }
    }

    /// Logs what this instance owns after a change, in one line: `<why>; owns N partition(s): a/0, b/1`.
    func logOwnership(_ why: String) {
        let owned = table.copying.map(\.source).sorted()
        logger.notice("\(why); owns \(owned.count) partition(s): \(owned.map(\.description).joined(separator: ", "))")
    }

    /// Takes over what it can of `sources`. One whose take-over fails because the target does not answer
    /// (``TakeOverDecision/retryLater``: the fence timed out, or the target's tails could not be read) is
    /// put in ``waitingForTakeOver``: it stays assigned and paused, and ``retryTakeOver()`` tries again every
    /// couple of seconds. Stopping the instance instead would hand the partitions to another instance, which
    /// cannot reach the target either.
    /// - Returns: where each partition taken over starts.
    /// - Throws: a failure that waiting does not mend (a fatal or non-retriable fence error, a lost target).
    private func takeOverOrWait(_ sources: [TopicPartition]) throws(ReplicationError) -> [(TopicPartition, StartOffset)] {
        var fence = Self.fence(sources, topology: topology, config: targetConfig, timeout: rebalanceBudget, logger: logger)
        if let fatal = fence.fatal { throw fatal }
        var starts: [(TopicPartition, StartOffset)] = []
        if !fence.fenced.isEmpty {
            do throws(ReplicationError) {
                let found = try Discovery.starts(of: fence.fenced.map(\.source), reader: targetReader, topology: topology)
                starts = try install(fence.fenced, found)
            } catch where error.cluster == .target {
                // The target does not answer, or refuses the bridge (a certificate expired, a permission revoked):
                // the partitions wait, as in an outage, and the probe's alert says which.
                fence.waiting += fence.fenced.map(\.source)
                fence.cause = fence.cause ?? error.message
            }
        }
        wait(fence.waiting, cause: fence.cause)
        return starts
    }

    /// Partitions whose take-over must wait for the target: they stay assigned and paused, and are tried again in 2 s.
    private func wait(_ waiting: [TopicPartition], cause: String?) {
        guard !waiting.isEmpty else { return }
        waitingForTakeOver = Array(Set(waitingForTakeOver).union(waiting)).sorted()
        nextTakeOver = ContinuousClock.now + .seconds(2)
        warn("take-over", "\(waiting.map(\.description).joined(separator: ", ")): assigned by the group, but \(cause ?? "the target does not answer"); they stay assigned here, paused, and their take-over is tried again every 2 s: copying of them waits for the target")
    }

    /// The blocking part of a take-over: one transactional producer per partition, all at once, each fencing every
    /// earlier writer of its partition (`initTransactions` with the partition's `transactional.id`). Touches no
    /// engine state, so a retry runs it off the copy thread.
    static func fence(
        _ sources: [TopicPartition], topology: Topology, config: KafkaClientConfiguration, timeout: Duration, logger: Logger
    ) -> FenceOutcome {
        let ids = sources.map { "\(topology.consumerGroup).\($0.topic).\($0.partition)" }
        let outcomes = Mutex<[Int: Result<KafkaProducer, KafkaError>]>([:])
        DispatchQueue.concurrentPerform(iterations: sources.count) { index in
            let outcome: Result<KafkaProducer, KafkaError>
            do throws(KafkaError) {
                let producer = try KafkaProducer(
                    configuration: config, defaults: copyProducerDefaults, transactionalID: ids[index], logger: logger)
                try producer.initTransactions(timeout: timeout)
                outcome = .success(producer)
            } catch {
                outcome = .failure(error)
            }
            outcomes.withLock { $0[index] = outcome }
        }
        let results = outcomes.withLock { $0 }
        var fence = FenceOutcome()
        for index in sources.indices {
            switch results[index]! {
            case .success(let producer):
                fence.fenced.append(Fenced(source: sources[index], id: ids[index], producer: producer))
            case .failure(let error) where TakeOverDecision(afterInit: error) == .retryLater:
                fence.waiting.append(sources[index])
                fence.cause = fence.cause ?? "cannot fence earlier writers (\(error))"
            case .failure(let error):
                fence.fatal = fence.fatal ?? ReplicationError(.targetUnavailable, "cannot fence earlier writers of \(Discovery.targetPartition(of: sources[index], topology: topology)) (transactional.id \(ids[index])): \(error)")
            }
        }
        return fence
    }

    /// Starts, off the copy thread, another try at the partitions waiting for their take-over: the fence (up to
    /// ``rebalanceBudget``) and the target tails (on a reader of its own, up to `--request-timeout`) while the target
    /// does not answer. The copy loop goes on meanwhile (commits of the other partitions included), and installs what the
    /// try found at its next round (``finishTakeOverRetry()``).
    func retryTakeOver() {
        guard takeOverRetry == nil, !waitingForTakeOver.isEmpty, ContinuousClock.now >= nextTakeOver else { return }
        let retry = TakeOverRetry(sources: waitingForTakeOver)
        takeOverRetry = retry
        let (topology, config, timeout, logger) = (topology, targetConfig, rebalanceBudget, logger)
        let readers = retryReaders
        let thread = Thread {
            var fence = Self.fence(retry.sources, topology: topology, config: config, timeout: timeout, logger: logger)
            retry.fenceEnded()
            var starts: [PartitionStart] = []
            if fence.fatal == nil, !fence.fenced.isEmpty {
                do throws(ReplicationError) {
                    let sources = fence.fenced.map(\.source)
                    starts = try readers.read { reader throws(ReplicationError) in
                        try Discovery.starts(of: sources, reader: reader, topology: topology)
                    }
                } catch where error.cluster == .target {
                    fence.waiting += fence.fenced.map(\.source)
                    fence.cause = fence.cause ?? error.message
                    fence.fenced = []
                } catch {
                    fence.fatal = error
                }
            }
            retry.finish(fence, starts: starts)
        }
        thread.name = "regionbridge-take-over"
        thread.start()
    }

    /// Before the group's assignment changes here, waits for the fence of a take-over retry in flight to end (its
    /// fence is bounded by ``rebalanceBudget`` too) and throws the retry's outcome away (its producers close; the
    /// partitions still waiting are tried again). So no fence of this instance runs while another takes over: a
    /// partition revoked here is let go only once the fence ended, and the next owner's fence comes after it (the
    /// newest epoch is the next owner's); one assigned here again is fenced anew. A fence that has not ended within
    /// the budget (it should have timed out) is left to end alone, and logged.
    private func voidTakeOverRetry() {
        guard let retry = takeOverRetry else { return }
        takeOverRetry = nil
        nextTakeOver = ContinuousClock.now
        if !retry.waitUntilFenceEnded(timeout: rebalanceBudget + .seconds(1)) {
            logger.warning("\(retry.sources.map(\.description).joined(separator: ", ")): a take-over retry's fence did not end within \(rebalanceBudget) at a rebalance; it is left to end alone and its result is thrown away")
        }
    }

    /// The longest each step of the group's rebalance answer may wait for the target (a retry's fence in flight, the
    /// fence, the target's tails): half the session timeout, at most `--request-timeout`. The three steps then stay
    /// within `max.poll.interval.ms` (3 × `session_timeout`). Partitions whose take-over does not finish within it
    /// wait and are retried off the copy thread.
    var rebalanceBudget: Duration { min(options.requestTimeout, topology.instances.sessionTimeout / 2) }

    /// Installs what the take-over retry found, once it finished: the partitions it fenced copy on from their start,
    /// those it could not wait again. (A rebalance meanwhile voided it first: ``voidTakeOverRetry()``.)
    func finishTakeOverRetry() throws(ReplicationError) {
        guard let retry = takeOverRetry, let (fence, found) = retry.outcome else { return }
        takeOverRetry = nil
        if let fatal = fence.fatal { throw fatal }
        waitingForTakeOver.removeAll(where: retry.sources.contains)
        var waiting = fence.waiting
        var cause = fence.cause
        var starts: [(TopicPartition, StartOffset)] = []
        do throws(ReplicationError) {
            starts = try install(fence.fenced, found)
        } catch where error.cluster == .target {
            waiting += fence.fenced.map(\.source)
            cause = cause ?? error.message
        }
        wait(waiting, cause: cause)
        guard !starts.isEmpty else { return }
        do {
            try consumer.readFrom(starts)
        } catch {
            throw ReplicationError(.sourceUnavailable, "cannot start copying \(starts.map(\.0.description).joined(separator: ", ")) after taking them over: \(error)")
        }
        logOwnership("took over \(starts.map(\.0.description).joined(separator: ", ")) once the target answered")
        reportOwned()
        publishState()
    }

    /// With every earlier writer of the partitions fenced (one producer each) and their target tails read (`found`:
    /// each source resumes right after the last record any owner committed, and no earlier owner can write after
    /// that), makes their slots.
    private func install(_ fenced: [Fenced], _ found: [PartitionStart]) throws(ReplicationError) -> [(TopicPartition, StartOffset)] {
        var result: [(TopicPartition, StartOffset)] = []
        for (index, start) in found.enumerated() {
            let producer = fenced[index].producer
            producer.signal(signal)
            let topic: ProducerTopic
            do { topic = try producer.topic(named: start.target.topic) } catch {
                throw ReplicationError(.targetUnavailable, "cannot open target topic \(start.target.topic): \(error)")
            }
            let resume = ResumePoint.start(afterLastCopied: start.lastCopied)
            let progress = PartitionProgress(target: start.target, start: resume, transactional: true)
            let slot = table.slot(for: start.source) { slotIndex in
                PartitionSlot(
                    index: slotIndex, source: start.source, target: start.target, sourceRegion: topology.source.region,
                    progress: progress, producer: producer, topic: topic)
            }
            if slot.progress.copied > 0 || slot.earlier != nil { slot.earlier = slot.summary }
            slot.startOver(progress, producer: producer, topic: topic)
            slot.transaction = TransactionState(transactionalID: fenced[index].id)
            restartedInBatch.insert(slot.index)
            result.append((start.source, resume))
            self.logger.info("took over \(start.source) -> \(start.target): earlier writers fenced, copying from \(start.lastCopied.map { "offset \($0 + 1) (after \($0), the last copied)" } ?? "the log start")")
        }
        return result
    }

    /// Hands partitions back, all at once: their open transactions are committed together (or, when the group
    /// says they were lost, left: another instance may own them and have fenced this writer already, and its
    /// fence aborts the transaction), then their producers go.
    ///
    /// A commit waits for its records' acknowledgements, served here, for at most ``handOverWait`` in all; a
    /// transaction whose records the target has not acknowledged by then (it does not answer) is abandoned
    /// without waiting more: the next owner's fence aborts it and the next owner copies its records again. After
    /// the shutdown's drain (``closing``) nothing is waited for: the drain already had its time.
    private func release(_ sources: [TopicPartition], lost: Bool) {
        let slots = sources.compactMap { table[$0] }.filter { $0.state.isCopying || $0.isStoppedAtGap }
        var committing: [PartitionSlot] = []
        var leftOpen: [TopicPartition] = []
        for slot in slots {
            guard var transaction = slot.transaction else { continue }
            let action = transaction.lifecycle.revoked(lost: lost)
            slot.transaction = transaction
            switch action {
            case .commit: committing.append(slot)
            case .leaveOpen: leftOpen.append(slot.source)
            default: break
            }
        }
        if !leftOpen.isEmpty {
            logger.notice("\(leftOpen.map(\.description).joined(separator: ", ")): open transaction left to be aborted by the next owner (assignment lost); its records are copied again")
        }
        if !committing.isEmpty {
            var failure: ReplicationError?
            if !closing {
                let deadline = ContinuousClock.now + handOverWait
                do throws(ReplicationError) {
                    try flush(committing, until: deadline)
                    let ready = committing.filter { ($0.producer?.queueLength ?? 1) == 0 }
                    try commit(ready, timeout: max(.milliseconds(100), min(options.requestTimeout, deadline - ContinuousClock.now)), final: true)
                } catch {
                    failure = error
                }
            }
            let abandoned = committing.filter(\.hasOpenTransaction).map(\.source)
            if !abandoned.isEmpty {
                let why = failure.map { "\($0)" } ?? (closing
                    ? "the bridge is stopping and the drain did not finish"
                    : "the target acknowledged not all of their records within \(handOverWait)")
                logger.notice("\(abandoned.map(\.description).joined(separator: ", ")): open transaction abandoned on hand-over (\(why)); the next owner's fence aborts it and the next owner copies its records again")
            }
        }
        for slot in slots {
            slot.retire(.handedOver)
            options.observer?.released(partition: slot.source)
        }
    }

    /// The most a hand-over waits for the target to acknowledge and commit what the partitions had open.
    var handOverWait: Duration { min(options.drainTimeout, .seconds(10)) }

    /// Group mode: opens the slot's transaction when none is open; `false` when the record cannot be sent now.
    func transactionReady(_ slot: PartitionSlot) throws(ReplicationError) -> Bool {
        guard var transaction = slot.transaction else { return true }
        switch transaction.lifecycle.recordReady() {
        case .send:
            return true
        case .begin:
            guard let producer = slot.producer else { return false }
            do throws(KafkaError) {
                try producer.beginTransaction()
            } catch {
                try fail(slot, TransactionDecision.afterBegin(error, producerFatal: producer.fatalError), error: error, sourceOffset: slot.progress.next ?? -1)
                return false
            }
            transaction.lifecycle.began()
            slot.transaction = transaction
            return true
        default:
            return false
        }
    }

    /// The commit round, every `commit_interval`: each open transaction whose records are all acknowledged is
    /// committed (all at once). One whose records are still in flight (the target is slow or does not answer)
    /// waits for the next round, so a target outage holds the transaction open instead of stopping the instance.
    func commitRound() throws(ReplicationError) {
        let open = table.slots.filter { $0.state.isCopying && $0.hasOpenTransaction }
        guard !open.isEmpty else { return }
        // Wait for acknowledgements only while the target gives them: during an outage, waiting 200 ms every
        // 100 ms kept the copy loop polling without a pause (a quarter of a core, measured in a 6-minute freeze).
        let answering = ContinuousClock.now - lastAcknowledgement < .seconds(1)
        try flush(open, until: ContinuousClock.now + (answering ? .milliseconds(200) : .zero))
        let due = open.filter { slot in
            slot.transaction?.lifecycle.commitDue(acknowledged: (slot.producer?.queueLength ?? 1) == 0) == .commit
        }
        try commit(due, timeout: min(options.requestTimeout, .seconds(5)), final: false)
    }

    /// Shutdown: commits every open transaction, waiting up to `timeout` for their records and retrying a commit
    /// that times out. Reading stops first (every partition is paused), and the consumer is still polled, so that a
    /// partition the group has meanwhile given to another instance (this one was paused, say) is let go with its
    /// transaction left to the new owner's fence rather than committed against it.
    /// - Returns: `true` when no transaction is left open.
    func commitAll(timeout: Duration) throws(ReplicationError) -> Bool {
        let deadline = ContinuousClock.now + timeout
        try? consumer.pause(table.copying.map(\.source))
        while true {
            consumer.poll(into: batch, timeout: .zero)
            batch.release()  // records are not copied while draining: the next owner reads them again
            let open = table.slots.filter { $0.state.isCopying && $0.hasOpenTransaction }
            if open.isEmpty { return true }
            if ContinuousClock.now >= deadline { return false }
            try flush(open, until: min(deadline, ContinuousClock.now + .milliseconds(200)))
            let ready = open.filter { ($0.producer?.queueLength ?? 1) == 0 }
            try commit(ready, timeout: min(options.requestTimeout, max(.milliseconds(100), deadline - ContinuousClock.now)), final: false)
            if ready.isEmpty { signal.wait(timeout: .milliseconds(10)) }
        }
    }

    /// Reads the slots' delivery reports until their records are all acknowledged or `deadline` passes.
    private func flush(_ slots: [PartitionSlot], until deadline: ContinuousClock.Instant) throws(ReplicationError) {
        while slots.contains(where: { $0.state.isCopying && ($0.producer?.queueLength ?? 0) > 0 }), ContinuousClock.now < deadline {
            for slot in slots {
                guard let producer = slot.producer, producer.queueLength > 0 else { continue }
                try poll(producer, timeout: .zero)
            }
            if slots.contains(where: { ($0.producer?.queueLength ?? 0) > 0 }) {
                signal.wait(timeout: min(.milliseconds(5), max(.zero, deadline - ContinuousClock.now)))
            }
        }
    }

    /// Commits the slots' transactions, all at once; each outcome is then acted on.
    /// - Parameter final: a hand-over or shutdown: a commit that times out cannot wait for another round.
    private func commit(_ slots: [PartitionSlot], timeout: Duration, final: Bool) throws(ReplicationError) {
        let committing = slots.filter { $0.hasOpenTransaction && $0.producer != nil }
        guard !committing.isEmpty else { return }
        let producers = committing.map { $0.producer! }
        let outcomes = Mutex<[Int: KafkaError]>([:])
        let commitOne: @Sendable (Int) -> Void = { index in
            do throws(KafkaError) { try producers[index].commitTransaction(timeout: timeout) } catch {
                outcomes.withLock { $0[index] = error }
            }
        }
        if committing.count == 1 { commitOne(0) } else { DispatchQueue.concurrentPerform(iterations: committing.count, execute: commitOne) }
        let failures = outcomes.withLock { $0 }
        for (index, slot) in committing.enumerated() {
            guard let error = failures[index] else {
                slot.progress.committed()
                options.positions?.advance(slot.source, target: slot.target, to: slot.progress.durableUpTo)
                if var transaction = slot.transaction {
                    let action = transaction.lifecycle.committed()
                    slot.transaction = transaction
                    if action == .resume { resume(slot) }
                }
                continue
            }
            let decision = TransactionDecision.afterCommit(error, producerFatal: producers[index].fatalError)
            try fail(slot, decision, error: error, sourceOffset: slot.progress.oldestInFlight ?? -1, final: final)
        }
        try pollDeliveries()
    }

    /// A begin, write or commit of the slot failed: its lifecycle decides, and the engine carries that out.
    func fail(
        _ slot: PartitionSlot, _ decision: TransactionDecision, error: KafkaError, sourceOffset: Int64, final: Bool = false
    ) throws(ReplicationError) {
        guard var transaction = slot.transaction else { return }
        let action = transaction.lifecycle.failed(decision, final: final)
        slot.transaction = transaction
        let source = slot.source
        switch action {
        case .pause:
            warn("commit:\(source)", "\(source): the commit of its transaction did not finish (\(error)); retrying at the next commit round, copying of \(source) waits")
            try? consumer.pause([source])
        case .abortAndRestart:
            try abortAndRestart(slot, because: error)
        case .drop:
            drop(slot, "a newer owner fenced this instance's writer (\(error))")
        case .stop(.refusedRecord):
            throw ReplicationError(
                .targetRefusedRecord,
                "the target refused the record from source \(source) offset \(sourceOffset) (target \(slot.target)): \(error). Nothing after it was copied; fix the cause and start the bridge again")
        case .stop(.outcomeUnknown):
            // The commit neither succeeded nor failed for good (it timed out, or the coordinator was unreachable):
            // librdkafka may still complete it, so it cannot be aborted, and neither writing on nor resuming is
            // safe. A woken zombie ends up here too when its coordinator connection went stale while it was paused.
            throw ReplicationError(
                .targetUnavailable,
                "cannot commit the transaction of \(source): \(error). The outcome of that transaction is unknown, so this instance stops: the group hands its partitions to another instance, whose fence settles the transaction. Start this one again")
        case .stop:
            throw ReplicationError(.fatal, "the transactional writer of \(source) failed: \(slot.producer?.fatalError ?? error)")
        default:
            break
        }
    }

    /// The partition is not written here again unless the group assigns it back (a newer owner fenced this
    /// instance's writer, or its transaction could not be aborted).
    private func drop(_ slot: PartitionSlot, _ why: String) {
        let source = slot.source
        logger.warning("\(source): \(why); the partition is dropped here and not written again unless the group assigns it back")
        options.observer?.error(kind: "fenced")
        slot.retire(.fenced)
        try? consumer.pause([source])
        options.observer?.released(partition: source)
        reportOwned()
        publishState()
        logOwnership("dropped \(source)")
    }

    /// Aborts the slot's transaction and copies on from what the target holds.
    private func abortAndRestart(_ slot: PartitionSlot, because error: KafkaError) throws(ReplicationError) {
        let source = slot.source
        logger.warning("\(source): transaction failed (\(error)); aborting it and resuming from the target's tail")
        options.observer?.error(kind: "transaction")
        guard let producer = slot.producer else { return }
        do { try producer.abortTransaction(timeout: options.requestTimeout) } catch {
            // The abort did not finish: most often a woken zombie whose writer a newer owner fenced, whose
            // coordinator no longer completes it. The transaction stays open until the next take-over of the
            // partition fences this writer and aborts it, so nothing of it is ever read; the partition is dropped
            // here like a fenced one instead of stopping the instance.
            drop(slot, "its transaction could not be aborted (\(error)); the next owner's take-over aborts it")
            return
        }
        let start = try Discovery.starts(of: [source], reader: targetReader, topology: topology)[0]
        let resume = ResumePoint.start(afterLastCopied: start.lastCopied)
        do {
            try consumer.readFrom([(source, resume)])
        } catch {
            throw ReplicationError(.sourceUnavailable, "cannot restart \(source) after an aborted transaction: \(error)")
        }
        var progress = slot.progress
        progress.rollBack(to: resume)
        slot.startOver(progress)
        restartedInBatch.insert(slot.index)
    }

    /// A commit that had timed out went through: the partition copies on from where it stood.
    private func resume(_ slot: PartitionSlot) {
        let position: StartOffset = slot.progress.next.map { .offset($0) } ?? .beginning
        do {
            try consumer.readFrom([(slot.source, position)])
        } catch {
            warn("resume:\(slot.source)", "cannot resume \(slot.source) after its commit: \(error)")
        }
        restartedInBatch.insert(slot.index)
    }
}
