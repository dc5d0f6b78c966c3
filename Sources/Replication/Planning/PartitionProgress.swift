import DequeModule
import Kafka

/// The copy progress of one source partition: what was read, what is in flight, where the log ended.
///
/// Pure bookkeeping; the engine feeds it what the clients report. Delivery reports of the idempotent
/// (and transactional) producer come back in send order per partition, so the records in flight are a FIFO of
/// source offsets: an acknowledgement is always for the oldest one.
package struct PartitionProgress: Sendable, Equatable {
    /// Where its records go.
    package let target: TopicPartition
    /// Next source offset expected; `nil` until a record or the log end is seen when reading from the beginning.
    package private(set) var next: Int64?
    /// The source log end offset last reported by a fetch (partition EOF).
    package private(set) var end: Int64?
    /// Source offsets of the records sent to the target and not yet acknowledged, oldest first.
    private var inFlightOffsets = Deque<Int64>()
    /// Records acknowledged by the target in this run.
    package private(set) var copied: Int64 = 0
    /// Source offset of the last record the target acknowledged.
    package private(set) var lastDelivered: Int64?
    /// The last acknowledged record's source and target offsets, among those whose target offset is known.
    package private(set) var lastPair: OffsetPair?
    /// Where copying started in this run: every source offset before it was already in the target.
    package private(set) var resumedAt: Int64
    /// Written in transactions: an acknowledgement counts only once its transaction commits (``committed()``);
    /// until then ``rollBack(to:)`` can take it back.
    package let transactional: Bool
    /// What was acknowledged and durable at the last commit (transactional only).
    private var durable = Durable()

    private struct Durable: Sendable, Equatable {
        var copied: Int64 = 0
        var lastDelivered: Int64?
        var lastPair: OffsetPair?
    }

    /// Starts tracking a partition that resumes at `start`.
    /// - Parameter transactional: written in transactions (group mode). Default `false`.
    package init(target: TopicPartition, start: StartOffset, transactional: Bool = false) {
        self.target = target
        self.transactional = transactional
        if case .offset(let offset) = start { next = offset }
        resumedAt = next ?? 0
    }

    /// Records sent to the target and not yet acknowledged.
    package var inFlight: Int { inFlightOffsets.count }

    /// Takes a record at `offset`; `false` when it was seen already (re-delivered after a seek) and must be skipped.
    package mutating func accept(offset: Int64) -> Bool {
        if let next, offset < next { return false }
        next = offset + 1
        return true
    }

    /// The record at `offset`, accepted last, was not sent after all: it is expected again.
    package mutating func putBack(offset: Int64) {
        if let next, next == offset + 1 { self.next = offset }
    }

    /// The source offset of the oldest record in flight.
    package var oldestInFlight: Int64? { inFlightOffsets.first }

    /// The record at source `offset` (accepted last) was sent to the target.
    package mutating func sent(offset: Int64) {
        inFlightOffsets.append(offset)
    }

    /// The target acknowledged the oldest record in flight, writing it at `targetOffset` (-1 when the target
    /// did not say where: the write succeeded, its offset is unknown).
    /// - Returns: that record's source offset, or `nil` when nothing was in flight.
    @discardableResult
    package mutating func delivered(targetOffset: Int64) -> Int64? {
        guard let sourceOffset = inFlightOffsets.popFirst() else { return nil }
        copied += 1
        lastDelivered = sourceOffset
        if targetOffset >= 0 { lastPair = OffsetPair(source: sourceOffset, target: targetOffset) }
        return sourceOffset
    }

    /// The open transaction committed: everything acknowledged so far is durable (transactional only).
    package mutating func committed() {
        durable = Durable(copied: copied, lastDelivered: lastDelivered, lastPair: lastPair)
    }

    /// The open transaction was aborted: what was acknowledged since the last commit is taken back, and copying
    /// restarts at `start` (after the last record the target holds).
    package mutating func rollBack(to start: StartOffset) {
        copied = durable.copied
        lastDelivered = durable.lastDelivered
        lastPair = durable.lastPair
        restart(at: start)
    }

    /// Every source offset below this is in the target for good: acknowledged, and in transactional mode also
    /// committed. A consumer position at or below it translates safely.
    package var durableUpTo: Int64 {
        guard transactional, inFlight > 0 || lastDelivered != durable.lastDelivered else { return replicatedUpTo }
        return max(resumedAt, (durable.lastDelivered ?? -1) + 1)
    }

    /// The last acknowledged and durable record's source and target offsets.
    package var durablePair: OffsetPair? { transactional ? durable.lastPair : lastPair }

    /// Every source offset below this is acknowledged by the target (or was deliberately not copied, as looped
    /// records are).
    package var replicatedUpTo: Int64 {
        var position = max(resumedAt, (lastDelivered ?? -1) + 1)
        if let oldest = inFlightOffsets.first { return max(position, oldest) }
        if let next {
            position = max(position, next)
            if let end, end >= next { position = max(position, end) }
        }
        return position
    }

    /// A fetch reached the end of the source log at `offset`.
    package mutating func reachedEnd(_ offset: Int64) {
        end = max(end ?? offset, offset)
    }

    /// Copying restarts from `start` (after an accepted gap): what was in flight is forgotten.
    package mutating func restart(at start: StartOffset) {
        end = nil
        inFlightOffsets.removeAll()
        if case .offset(let offset) = start { next = offset } else { next = nil }
        resumedAt = next ?? 0
    }

    /// Every record up to the last known log end is acknowledged by the target.
    package var isCaughtUp: Bool {
        guard inFlightOffsets.isEmpty, let end else { return false }
        return next.map { end >= $0 } ?? true
    }
}
