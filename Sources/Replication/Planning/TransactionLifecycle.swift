/// Group mode: one owned partition's transactional writer as a state machine. The engine feeds it what happens
/// (a record to send, a commit round, a failure, the group taking the partition away) and carries out the action
/// it answers; it does no I/O, so every transition is tested without a broker.
///
/// ```
///            begin           commit round (all acknowledged)
///   idle ───────────▶ open ─────────────────────────────────▶ idle
///                      │  commit timed out: retry next round
///                      ▼
///                commitPending ──committed──▶ idle (copying resumes where it stood)
///   open/commitPending ──revoked──▶ handedOver (committed first)      ──lost──▶ handedOver (left open)
///   any ──fenced──▶ fenced (never written again unless assigned back)
/// ```
package struct TransactionLifecycle: Equatable, Sendable {
    /// Where the writer stands.
    package enum State: Equatable, Sendable {
        /// No transaction open: the next record begins one.
        case idle
        /// A transaction is open and records go into it.
        case open
        /// A commit did not finish and is retried at the next round; nothing is sent meanwhile.
        case commitPending
        /// The group gave the partition to another instance.
        case handedOver
        /// A newer owner fenced this writer.
        case fenced
        /// The instance stops (a failure it cannot survive).
        case failed
    }

    /// What the engine does next.
    package enum Action: Equatable, Sendable {
        /// Nothing.
        case none
        /// Call `beginTransaction`, then report ``began()``.
        case begin
        /// Send the record.
        case send
        /// Do not send the record now (it is read again later).
        case hold
        /// Commit the open transaction now.
        case commit
        /// Stop fetching the partition until the pending commit goes through.
        case pause
        /// The pending commit went through: read on from the next offset to copy.
        case resume
        /// Abort the transaction and copy again from what the target holds.
        case abortAndRestart
        /// Drop the partition: stop fetching it and let its producer go.
        case drop
        /// Leave the open transaction as it is (the next owner's fence aborts it) and let the partition go.
        case leaveOpen
        /// Let the partition go (nothing is open).
        case release
        /// Stop the instance with this decision's error.
        case stop(TransactionDecision)
    }

    /// Where the writer stands now.
    package private(set) var state: State = .idle

    /// A writer that owns its partition and has no transaction open.
    package init() {}

    /// A transaction is open (or a commit of it pending).
    package var hasOpenTransaction: Bool { state == .open || state == .commitPending }

    /// The writer still owns its partition.
    package var owns: Bool { state == .idle || state == .open || state == .commitPending }

    /// A record is ready to send.
    package mutating func recordReady() -> Action {
        switch state {
        case .idle: return .begin
        case .open: return .send
        case .commitPending, .handedOver, .fenced, .failed: return .hold
        }
    }

    /// `beginTransaction` succeeded.
    package mutating func began() {
        if state == .idle { state = .open }
    }

    /// The commit round came. `acknowledged`: every record sent in the transaction is acknowledged.
    package func commitDue(acknowledged: Bool) -> Action {
        switch state {
        case .open: return acknowledged ? .commit : .none
        case .commitPending: return .commit
        default: return .none
        }
    }

    /// `commitTransaction` succeeded.
    package mutating func committed() -> Action {
        switch state {
        case .commitPending:
            state = .idle
            return .resume
        case .open:
            state = .idle
            return .none
        default:
            return .none
        }
    }

    /// A begin, a write or a commit failed, and ``TransactionDecision`` decided what that means.
    /// - Parameter final: the commit was the last before a hand-over or shutdown: it cannot wait for another round.
    package mutating func failed(_ decision: TransactionDecision, final: Bool = false) -> Action {
        guard owns else { return .none }
        switch decision {
        case .ignore:
            return .none
        case .retryCommit where final:
            state = .failed
            return .stop(.outcomeUnknown)
        case .retryCommit:
            let wasPending = state == .commitPending
            state = .commitPending
            return wasPending ? .none : .pause
        case .abortAndRestart:
            state = .idle
            return .abortAndRestart
        case .dropFenced:
            state = .fenced
            return .drop
        case .refusedRecord, .stopInstance, .outcomeUnknown:
            state = .failed
            return .stop(decision)
        }
    }

    /// The group took the partition away. `lost`: this instance had already dropped out of the group (another may
    /// own the partition and have fenced this writer).
    package mutating func revoked(lost: Bool) -> Action {
        guard owns else { return .none }
        let open = hasOpenTransaction
        if open && !lost { return .commit }
        state = .handedOver
        return open ? .leaveOpen : .release
    }

    /// The hand-over's commit is done (or given up after an abort): the partition goes.
    package mutating func handedOver() {
        state = .handedOver
    }
}
