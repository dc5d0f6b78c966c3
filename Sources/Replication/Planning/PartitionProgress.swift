import Kafka

/// The copy state of one source partition: what was read, what is in flight, where the log ended.
///
/// Pure bookkeeping; the engine feeds it what the clients report.
public struct PartitionProgress: Sendable, Equatable {
    /// Where its records go.
    public let target: TopicPartition
    /// Next source offset expected; `nil` until a record or the log end is seen when reading from the beginning.
    public private(set) var next: Int64?
    /// The source log end offset last reported by a fetch (partition EOF).
    public private(set) var end: Int64?
    /// Records sent to the target and not yet acknowledged.
    public private(set) var inFlight = 0
    /// Records acknowledged by the target in this run.
    public private(set) var copied: Int64 = 0
    /// Source offset of the last record the target acknowledged.
    public private(set) var lastDelivered: Int64?
    /// The last acknowledged record's source and target offsets.
    public private(set) var lastPair: OffsetPair?
    /// Where copying started in this run: every source offset before it was already in the target.
    public private(set) var resumedAt: Int64
    /// Set when the partition is stopped because source records were lost.
    public var gap: SourceGap?

    /// Starts tracking a partition that resumes at `start`.
    public init(target: TopicPartition, start: StartOffset) {
        self.target = target
        if case .offset(let offset) = start { next = offset }
        resumedAt = next ?? 0
    }

    /// Takes a record at `offset`; `false` when it was seen already (re-delivered after a seek) and must be skipped.
    public mutating func accept(offset: Int64) -> Bool {
        if let next, offset < next { return false }
        next = offset + 1
        return true
    }

    /// A record was sent to the target.
    /// - Parameter timestamp: its source timestamp (milliseconds), for how far behind the target is.
    public mutating func sent(timestamp: Int64? = nil) {
        inFlight += 1
        pending.append(timestamp ?? Int64.max)
    }

    /// Source timestamps of the records in flight, oldest first (deliveries come back in send order).
    private var pending = TimestampQueue()

    /// The source timestamp (milliseconds) of the oldest record sent and not yet acknowledged.
    public var oldestInFlightTimestamp: Int64? {
        pending.first.flatMap { $0 == Int64.max ? nil : $0 }
    }

    /// The target acknowledged the record copied from `sourceOffset`, written at `targetOffset`.
    public mutating func delivered(sourceOffset: Int64, targetOffset: Int64) {
        inFlight -= 1
        pending.removeFirst()
        copied += 1
        if sourceOffset >= (lastDelivered ?? sourceOffset) {
            lastDelivered = sourceOffset
            lastPair = OffsetPair(source: sourceOffset, target: targetOffset)
        }
    }

    /// Every source offset below this is in the target (or was deliberately not copied, as looped records are).
    /// A consumer position at or below it translates safely.
    public var replicatedUpTo: Int64 {
        var position = max(resumedAt, (lastDelivered ?? -1) + 1)
        if inFlight == 0, let next {
            position = max(position, next)
            if let end, end >= next { position = max(position, end) }
        }
        return position
    }

    /// A fetch reached the end of the source log at `offset`.
    public mutating func reachedEnd(_ offset: Int64) {
        end = max(end ?? offset, offset)
    }

    /// Copying restarts from `start` (after an accepted gap).
    public mutating func restart(at start: StartOffset) {
        gap = nil
        end = nil
        if case .offset(let offset) = start { next = offset } else { next = nil }
        resumedAt = next ?? 0
    }

    /// Every record up to the last known log end is acknowledged by the target.
    public var isCaughtUp: Bool {
        guard gap == nil, inFlight == 0, let end else { return false }
        return next.map { end >= $0 } ?? true
    }
}

/// A FIFO of timestamps with O(1) amortised append and removal at the front.
struct TimestampQueue: Sendable, Equatable {
    private var items: [Int64] = []
    private var head = 0

    var first: Int64? { head < items.count ? items[head] : nil }

    mutating func append(_ value: Int64) { items.append(value) }

    mutating func removeFirst() {
        guard head < items.count else { return }
        head += 1
        if head > 1024, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
