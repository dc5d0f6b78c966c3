import Foundation
import Kafka

/// What an owned source partition's copy may do now.
enum SlotState: Equatable {
    /// Reading from the source and writing to the target.
    case copying
    /// Source records were deleted before they were copied; the partition waits for `--accept-gap`.
    case stoppedAtGap(SourceGap)
    /// The source topic was deleted or is no longer selected; its target copy is kept.
    case vanished
    /// Group mode: handed to another instance (revoked or lost).
    case handedOver
    /// Group mode: a newer owner fenced this instance's writer; never written again unless assigned back.
    case fenced

    var isCopying: Bool { self == .copying }
}

/// One owned source partition: its target, its copy progress, the producer that writes it, and its state.
///
/// A class, so the copy loop mutates it in place: no per-record copy of the progress, no dictionary write-back.
/// Only the copy loop's thread touches it.
final class PartitionSlot {
    /// Position in ``PartitionTable/slots``; with ``generation``, what a delivery report's id names.
    let index: Int
    let source: TopicPartition
    let target: TopicPartition
    /// `<region>/<topic>/<partition>/`: the provenance header value without the offset, built once.
    let provenancePrefix: [UInt8]
    /// Bumped whenever the slot starts over (taken over again, restarted after an aborted transaction or an
    /// accepted gap): delivery reports of records sent before carry the old generation and are ignored.
    private(set) var generation: UInt32 = 0
    var state: SlotState = .copying
    var progress: PartitionProgress
    /// When the source log end reached which offset: the clock for seconds behind.
    var ends = EndOffsetHistory()
    /// The producer that writes this partition (shared in single mode, its own in group mode) and its topic.
    var producer: KafkaProducer?
    var topic: ProducerTopic?
    /// Group mode: the partition's transactional writer state.
    var transaction: TransactionState?
    /// What earlier ownerships of this partition copied in this run (group mode: assigned, handed over, back).
    var earlier: PartitionSummary?
    /// The source log end from the last ListOffsets sample (see ``BackgroundWork``).
    var sampledEnd: Int64?
    /// Acknowledgements counted since the observer was last told.
    var unreported = (count: 0, bytes: 0, timestamp: Int64?.none)

    init(index: Int, source: TopicPartition, target: TopicPartition, sourceRegion: String, progress: PartitionProgress,
         producer: KafkaProducer, topic: ProducerTopic) {
        self.index = index
        self.source = source
        self.target = target
        self.provenancePrefix = Array("\(sourceRegion)/\(source.topic)/\(source.partition)/".utf8)
        self.progress = progress
        self.producer = producer
        self.topic = topic
    }

    /// When the slot last started over (taken over, restarted): cached watermarks before it may be stale.
    private(set) var startedAt = ContinuousClock.now

    /// The producer's queue was full: the partition's fetching is paused until there is room again.
    var waitsForRoom = false
    /// Single mode: the producer was replaced; the partition waits to learn where it resumes (the target's tail).
    private(set) var awaitsResume = false

    /// Records of the partition are copied now: it is owned, it does not wait for room in the producer's queue,
    /// and (group mode) no commit of it is pending.
    var takesRecords: Bool {
        state.isCopying && !waitsForRoom && !awaitsResume && transaction?.lifecycle.state != .commitPending
    }

    /// Group mode: a transaction of the partition is open.
    var hasOpenTransaction: Bool { transaction?.lifecycle.hasOpenTransaction == true }

    /// The delivery-report id of a record sent now: the slot and its generation.
    var deliveryID: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(index)) }

    /// Starts the slot over with a new progress (and producer); later delivery reports of earlier records are
    /// ignored.
    func startOver(_ progress: PartitionProgress, producer: KafkaProducer? = nil, topic: ProducerTopic? = nil) {
        generation &+= 1
        startedAt = ContinuousClock.now
        sampledEnd = nil
        self.progress = progress
        state = .copying
        waitsForRoom = false
        awaitsResume = false
        if let producer { self.producer = producer }
        if let topic { self.topic = topic }
    }

    /// Single mode: the producer was replaced. Records in flight are forgotten (their reports carry the old
    /// generation), and nothing is copied until ``startOver(_:producer:topic:)`` says where to resume.
    func awaitResume(producer: KafkaProducer, topic: ProducerTopic) {
        generation &+= 1
        waitsForRoom = false
        awaitsResume = true
        self.producer = producer
        self.topic = topic
    }

    /// The partition is no longer copied here (gone, handed over, fenced): it lets its producer go, and delivery
    /// reports of its records still in flight are ignored (they carry the old generation).
    func retire(_ state: SlotState) {
        generation &+= 1
        self.state = state
        waitsForRoom = false
        awaitsResume = false
        transaction = nil
        producer = nil
        topic = nil
    }

    /// The source log end as best known: from fetch responses, partition ends and ListOffsets samples.
    /// Whether librdkafka's cached watermarks of the partition can be believed: not in the first 10 s after it
    /// (re)started here, when they may still be those of an earlier assignment (below the log's true end).
    func trustsCachedWatermarks(at now: ContinuousClock.Instant) -> Bool {
        now - startedAt >= .seconds(10)
    }

    func sourceEnd(cachedHigh: Int64?) -> Int64 {
        max(cachedHigh ?? 0, progress.end ?? 0, sampledEnd ?? 0, progress.next ?? 0)
    }

    /// What this slot copied in this run, with what earlier ownerships copied.
    var summary: PartitionSummary {
        PartitionSummary(
            source: source, target: target, copied: progress.copied + (earlier?.copied ?? 0),
            lastCopiedOffset: progress.lastDelivered ?? earlier?.lastCopiedOffset, sourceEnd: progress.end ?? earlier?.sourceEnd)
    }
}

/// Group mode: a partition's transactional writer.
struct TransactionState {
    /// `regionbridge.<pair>.<source topic>.<partition>`, the same in every instance.
    let transactionalID: String
    /// Where its transaction stands.
    var lifecycle = TransactionLifecycle()
}

/// The owned partitions, each in a dense slot.
///
/// The copy loop finds a record's slot by the consumer's topic index and the partition number (two array
/// reads); control paths find it by `TopicPartition`. Slots are never removed: a partition handed over keeps its
/// slot (for the summary), and gets it back if it is assigned again.
final class PartitionTable {
    private(set) var slots: [PartitionSlot] = []
    private var bySource: [TopicPartition: Int] = [:]
    /// Consumer topic index → partition number → slot index (-1: none).
    private var byTopicIndex: [[Int]] = []

    /// The slot of a source partition, if it has one.
    subscript(source: TopicPartition) -> PartitionSlot? {
        bySource[source].map { slots[$0] }
    }

    /// The slot a delivery report's id names, if it is still the same generation.
    func slot(deliveryID: UInt64) -> PartitionSlot? {
        let index = Int(UInt32(truncatingIfNeeded: deliveryID))
        guard index < slots.count else { return nil }
        let slot = slots[index]
        return UInt32(truncatingIfNeeded: deliveryID >> 32) == slot.generation ? slot : nil
    }

    /// The slot of a consumed record, by the consumer's topic index; `name` is asked only the first time a
    /// topic index is seen.
    func slot(topicIndex: Int, partition: Int32, name: (Int) -> String) -> PartitionSlot? {
        guard topicIndex >= 0 else { return nil }
        if topicIndex >= byTopicIndex.count || byTopicIndex[topicIndex].isEmpty {
            index(topicIndex: topicIndex, topic: name(topicIndex))
        }
        let row = byTopicIndex[topicIndex]
        let number = Int(partition)
        guard number >= 0, number < row.count, row[number] >= 0 else { return nil }
        return slots[row[number]]
    }

    /// Adds a slot for a partition that has none, or hands back its existing one (for the caller to start over).
    func slot(for source: TopicPartition, make: (Int) -> PartitionSlot) -> PartitionSlot {
        if let existing = self[source] { return existing }
        let slot = make(slots.count)
        slots.append(slot)
        bySource[source] = slot.index
        byTopicIndex = byTopicIndex.map { _ in [] }  // rebuilt lazily with the new slot
        return slot
    }

    private func index(topicIndex: Int, topic: String) {
        while byTopicIndex.count <= topicIndex { byTopicIndex.append([]) }
        var row: [Int] = []
        for slot in slots where slot.source.topic == topic {
            let number = Int(slot.source.partition)
            while row.count <= number { row.append(-1) }
            row[number] = slot.index
        }
        byTopicIndex[topicIndex] = row.isEmpty ? [-1] : row
    }

    /// Slots whose partitions are being copied.
    var copying: [PartitionSlot] { slots.filter { $0.state.isCopying } }
}
