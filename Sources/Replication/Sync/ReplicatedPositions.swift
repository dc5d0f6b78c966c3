import Kafka
import Synchronization

/// Per source partition, up to where the target holds the records for good, and the waits parked on it: what
/// `GET /v1/replicated` answers from.
///
/// The engine is the only writer: ``advance(_:target:to:)`` after a poll round that acknowledged records of a
/// partition (single mode: delivery reports of the idempotent acks=all producer; group mode: after the commit of
/// the partition's transaction), ``publish(_:)`` about once a second with every owned partition and its state, and
/// ``close(_:)`` when the run ends. A position only counts acknowledgements of the target: it is the partition's
/// ``PartitionProgress/durableUpTo``.
///
/// A wait parks no thread: ``wait(for:offset:_:)`` keeps the completion in a list per partition sorted by offset, and
/// the engine's ``advance(_:target:to:)`` calls the completions whose offset it passed, oldest offset first, after
/// letting go of the lock. Each completion is called exactly once: by an advance, a state change, ``close(_:)``, or
/// never when ``cancel(_:)`` took it back (its caller then answers the timeout itself).
///
/// Thread-safe (one lock). Completions run on the engine's thread (or the caller's) after the lock is let go: they
/// must be cheap and must not block (fulfilling a promise of an event loop is).
package final class ReplicatedPositions: Sendable {
    /// Whether a partition is being copied.
    package enum State: Sendable, Equatable {
        /// Copied: its position moves on as the target acknowledges.
        case copying
        /// Stopped (a gap in the source): its position does not move until an operator acts; why, in words.
        case stopped(String)
    }

    /// A source partition's replicated position.
    package struct Position: Sendable, Equatable {
        /// The source partition.
        package var source: TopicPartition
        /// Where its records go.
        package var target: TopicPartition
        /// Exclusive: source offset `O` is in the target for good iff `O < replicatedUpTo`.
        package var replicatedUpTo: Int64
        /// Copying or stopped.
        package var state: State

        /// Creates a position.
        package init(source: TopicPartition, target: TopicPartition, replicatedUpTo: Int64, state: State = .copying) {
            self.source = source
            self.target = target
            self.replicatedUpTo = replicatedUpTo
            self.state = state
        }
    }

    /// What is known about a partition now.
    package enum Lookup: Sendable, Equatable {
        /// The bridge cannot answer (not started yet, or stopped); why, in words.
        case unavailable(String)
        /// This instance does not copy the partition.
        case notHere
        /// This instance copies it.
        case position(Position)
    }

    /// How a wait ended.
    package enum Outcome: Sendable, Equatable {
        /// The target acknowledged the record (HTTP 200).
        case replicated(Position)
        /// The bridge cannot answer for the partition, or stopped copying it before the record was acknowledged
        /// (HTTP 503); why, and the position when known.
        case unavailable(String, Position?)
        /// This instance does not copy the partition (HTTP 404).
        case notHere
    }

    /// What ``wait(for:offset:_:)`` did.
    package enum Registration: Sendable, Equatable {
        /// Answered at once; the completion is not called.
        case decided(Outcome)
        /// Parked under this id; the completion will be called, unless ``cancel(_:)`` takes it back first.
        case parked(UInt64)
    }

    private struct Waiter {
        let id: UInt64
        let offset: Int64
        let complete: @Sendable (Outcome) -> Void
    }

    private struct Entry {
        var position: Position
        /// Sorted by offset, oldest wait first among equal offsets.
        var waiters: [Waiter] = []
    }

    private struct Store {
        /// Set once the engine published its first picture (single mode: after the first discovery; group mode:
        /// after the first assignment).
        var started = false
        /// Why the bridge stopped answering, once it did.
        var closed: String?
        var entries: [TopicPartition: Entry] = [:]
        var waiting: [UInt64: TopicPartition] = [:]
        var nextID: UInt64 = 1
    }

    private let store = Mutex(Store())

    /// Creates an empty table: every wait is answered `unavailable` until the engine publishes.
    package init() {}

    /// Waits parked now.
    package var parked: Int { store.withLock { $0.waiting.count } }

    /// What is known about `source` now.
    package func lookup(_ source: TopicPartition) -> Lookup {
        store.withLock { store in
            if let closed = store.closed { return .unavailable(closed) }
            guard store.started else { return .unavailable(Self.notStarted) }
            guard let entry = store.entries[source] else { return .notHere }
            return .position(entry.position)
        }
    }

    /// Answers at once whether the record at `offset` of `source` is in the target, or parks `complete` until it
    /// is, the partition stops, or the bridge closes.
    package func wait(for source: TopicPartition, offset: Int64, _ complete: @escaping @Sendable (Outcome) -> Void) -> Registration {
        store.withLock { store in
            if let closed = store.closed { return .decided(.unavailable(closed, store.entries[source]?.position)) }
            guard store.started else { return .decided(.unavailable(Self.notStarted, nil)) }
            guard var entry = store.entries[source] else { return .decided(.notHere) }
            if offset < entry.position.replicatedUpTo { return .decided(.replicated(entry.position)) }
            if case .stopped(let why) = entry.position.state { return .decided(.unavailable(why, entry.position)) }
            let id = store.nextID
            store.nextID += 1
            store.entries[source] = nil  // keeps the waiters array uniquely referenced while it grows
            entry.waiters.insert(Waiter(id: id, offset: offset, complete: complete), at: Self.insertionIndex(of: offset, in: entry.waiters))
            store.entries[source] = entry
            store.waiting[id] = source
            return .parked(id)
        }
    }

    /// Takes back a parked wait (its timeout ran out, its client went away).
    /// - Returns: `true` when it was still parked: its completion will never be called; `false` when it was
    ///   completed already (or is being completed now).
    @discardableResult
    package func cancel(_ id: UInt64) -> Bool {
        store.withLock { store in
            guard let source = store.waiting.removeValue(forKey: id) else { return false }
            if let index = store.entries[source]?.waiters.firstIndex(where: { $0.id == id }) {
                store.entries[source]!.waiters.remove(at: index)
            }
            return true
        }
    }

    /// The engine: the target now holds every source offset of `source` below `upTo` for good. Cheap when nothing
    /// moved. Waits below `upTo` are completed, oldest offset first.
    package func advance(_ source: TopicPartition, target: TopicPartition, to upTo: Int64) {
        let (woken, position): ([Waiter], Position?) = store.withLock { store in
            guard store.closed == nil else { return ([], nil) }
            guard var entry = store.entries[source] else {
                // A partition the once-a-second picture has not shown yet (just assigned): known from now on.
                if store.started {
                    store.entries[source] = Entry(position: Position(source: source, target: target, replicatedUpTo: upTo))
                }
                return ([], nil)
            }
            guard upTo > entry.position.replicatedUpTo else { return ([], nil) }
            store.entries[source] = nil
            entry.position.replicatedUpTo = upTo
            let woken = Self.takeWaiters(&entry, &store.waiting) { $0.offset < upTo }
            store.entries[source] = entry
            return (woken, entry.position)
        }
        guard let position else { return }
        for waiter in woken { waiter.complete(.replicated(position)) }
    }

    /// The engine, about once a second: every partition this instance copies (or holds stopped at a gap), with its
    /// position and state. A partition missing from `positions` is no longer copied here (handed over, fenced,
    /// gone): its waits are answered `unavailable`, and later ones `notHere`. Positions never move back.
    package func publish(_ positions: [Position]) {
        var completions: [(Waiter, Outcome)] = []
        store.withLock { store in
            guard store.closed == nil else { return }
            store.started = true
            var seen = Set<TopicPartition>()
            for position in positions {
                seen.insert(position.source)
                var entry = store.entries.removeValue(forKey: position.source) ?? Entry(position: position)
                entry.position.target = position.target
                entry.position.replicatedUpTo = max(entry.position.replicatedUpTo, position.replicatedUpTo)
                entry.position.state = position.state
                let current = entry.position
                for waiter in Self.takeWaiters(&entry, &store.waiting, { $0.offset < current.replicatedUpTo }) {
                    completions.append((waiter, .replicated(current)))
                }
                if case .stopped(let why) = current.state {
                    for waiter in Self.takeWaiters(&entry, &store.waiting, { _ in true }) {
                        completions.append((waiter, .unavailable(why, current)))
                    }
                }
                store.entries[position.source] = entry
            }
            for source in store.entries.keys where !seen.contains(source) {
                var entry = store.entries.removeValue(forKey: source)!
                let why = "this instance no longer copies \(source) (handed over to another instance, or no longer replicated)"
                for waiter in Self.takeWaiters(&entry, &store.waiting, { _ in true }) {
                    completions.append((waiter, .unavailable(why, entry.position)))
                }
            }
        }
        for (waiter, outcome) in completions { waiter.complete(outcome) }
    }

    /// The engine's run ended (shut down, or failed): every parked wait, and every later one, is answered
    /// `unavailable` with `why`. Never `replicated`: what the target acknowledged was answered before.
    package func close(_ why: String) {
        var completions: [(Waiter, Position)] = []
        store.withLock { store in
            guard store.closed == nil else { return }
            store.closed = why
            for source in Array(store.entries.keys) {
                var entry = store.entries[source]!
                for waiter in Self.takeWaiters(&entry, &store.waiting, { _ in true }) { completions.append((waiter, entry.position)) }
                store.entries[source] = entry
            }
        }
        for (waiter, position) in completions { waiter.complete(.unavailable(why, position)) }
    }

    static let notStarted = "the bridge is not ready yet (it has not started copying)"

    /// Removes the leading waiters that `wake` accepts (waiters are sorted by offset, so a prefix), and forgets
    /// their ids.
    private static func takeWaiters(_ entry: inout Entry, _ waiting: inout [UInt64: TopicPartition], _ wake: (Waiter) -> Bool) -> [Waiter] {
        var count = 0
        while count < entry.waiters.count, wake(entry.waiters[count]) { count += 1 }
        guard count > 0 else { return [] }
        let woken = Array(entry.waiters.prefix(count))
        entry.waiters.removeFirst(count)
        for waiter in woken { waiting[waiter.id] = nil }
        return woken
    }

    /// Where a wait for `offset` goes: after every wait for the same or a lower offset.
    private static func insertionIndex(of offset: Int64, in waiters: [Waiter]) -> Int {
        var low = 0
        var high = waiters.count
        while low < high {
            let middle = (low + high) / 2
            if waiters[middle].offset <= offset { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
